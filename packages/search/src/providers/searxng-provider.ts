import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { callJson } from "./http-json.js";
import { parseWire } from "./parse-wire.js";
import type { ProviderHit, ProviderRequest, SearchProvider } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "searxng" }>;

/** SearXNG's JSON API (`/search?format=json`; the instance must list `json` in search.formats). */
const searxngResponse = z.object({
  results: z.array(
    z.object({
      url: z.string().nullish(),
      title: z.string().nullish(),
      content: z.string().nullish(),
      publishedDate: z.string().nullish(),
    }),
  ),
});

export class SearxngProvider implements SearchProvider {
  readonly type = "searxng";
  readonly id: string;
  readonly #config: Config;

  constructor(config: Config) {
    this.id = config.id;
    this.#config = config;
  }

  async search(request: ProviderRequest): Promise<ProviderHit[]> {
    const url = new URL("search", this.#config.url.endsWith("/") ? this.#config.url : `${this.#config.url}/`);
    url.searchParams.set("q", request.query);
    url.searchParams.set("format", "json");
    if (request.freshness) url.searchParams.set("time_range", request.freshness);
    if (this.#config.engines) url.searchParams.set("engines", this.#config.engines);
    if (this.#config.language) url.searchParams.set("language", this.#config.language);
    const body = parseWire(
      searxngResponse,
      await callJson({ url: url.href, signal: request.signal }),
      url.href,
    );
    return body.results.slice(0, request.limit).map((result) => ({
      url: result.url ?? "",
      title: plainText(result.title),
      snippet: plainText(result.content),
      publishedAt: parseLooseDate(result.publishedDate),
    }));
  }
}
