import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { withQuery } from "./http-json.js";
import { type EngineCall, JsonSearchProvider } from "./json-search-provider.js";
import { textFields } from "./parse-wire.js";
import type { Freshness, ProviderHit, ProviderRequest } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "bing" }>;

const bingPage = textFields("url", "name", "snippet", "datePublished");
type BingPage = z.output<typeof bingPage>;

/** Bing Web Search v7 (`GET /v7.0/search`): `webPages.value`. */
const bingAnswer = z.object({ webPages: z.object({ value: z.array(bingPage) }).nullish() });

const FRESHNESS: Record<Freshness, string | undefined> = {
  day: "Day",
  week: "Week",
  month: "Month",
  year: undefined,
};

export class BingProvider extends JsonSearchProvider<Config, typeof bingAnswer, BingPage> {
  readonly type = "bing";
  protected readonly answer = bingAnswer;

  protected call(request: ProviderRequest, config: Config): EngineCall {
    return {
      url: withQuery(config.url, {
        q: request.query,
        count: Math.min(request.limit, 50),
        responseFilter: "Webpages",
        freshness: request.freshness && FRESHNESS[request.freshness],
        mkt: config.market,
      }),
      headers: { "ocp-apim-subscription-key": config.apiKey },
    };
  }

  protected results(answer: z.output<typeof bingAnswer>) {
    return answer.webPages?.value;
  }

  protected hit(page: BingPage): ProviderHit {
    return {
      url: page.url ?? "",
      title: plainText(page.name),
      snippet: plainText(page.snippet),
      publishedAt: parseLooseDate(page.datePublished),
    };
  }
}
