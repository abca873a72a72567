import type { SearchProviderConfig } from "@hearth/core";
import { BaiduProvider } from "./baidu-provider.js";
import { BingProvider } from "./bing-provider.js";
import { BochaProvider } from "./bocha-provider.js";
import { BraveProvider } from "./brave-provider.js";
import { CustomJsonProvider } from "./custom-json-provider.js";
import { GoogleProvider } from "./google-provider.js";
import type { SearchProvider } from "./search-provider.js";
import { SearxngProvider } from "./searxng-provider.js";
import { SerperProvider } from "./serper-provider.js";
import { TavilyProvider } from "./tavily-provider.js";

/** The adapter for one configured engine. */
export function createProvider(config: SearchProviderConfig): SearchProvider {
  switch (config.type) {
    case "searxng":
      return new SearxngProvider(config);
    case "baidu":
      return new BaiduProvider(config);
    case "bocha":
      return new BochaProvider(config);
    case "bing":
      return new BingProvider(config);
    case "brave":
      return new BraveProvider(config);
    case "tavily":
      return new TavilyProvider(config);
    case "serper":
      return new SerperProvider(config);
    case "google":
      return new GoogleProvider(config);
    case "custom":
      return new CustomJsonProvider(config);
  }
}
