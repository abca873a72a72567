import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { fetchHits, withQuery } from "./fetch-hits.js";
import type { Freshness, ProviderHit, ProviderRequest, SearchProvider } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "bing" }>;

/** Bing Web Search v7 (`GET /v7.0/search`): `webPages.value`. */
const bingResponse = z.object({
  webPages: z
    .object({
      value: z.array(
        z.object({
          url: z.string().nullish(),
          name: z.string().nullish(),
          snippet: z.string().nullish(),
          datePublished: z.string().nullish(),
        }),
      ),
    })
    .nullish(),
});

const FRESHNESS: Record<Freshness, string | undefined> = {
  day: "Day",
  week: "Week",
  month: "Month",
  year: undefined,
};

export class BingProvider implements SearchProvider {
  readonly type = "bing";
  readonly id: string;
  readonly #config: Config;

  constructor(config: Config) {
    this.id = config.id;
    this.#config = config;
  }

  search(request: ProviderRequest): Promise<ProviderHit[]> {
    return fetchHits(
      {
        url: withQuery(this.#config.url, {
          q: request.query,
          count: Math.min(request.limit, 50),
          responseFilter: "Webpages",
          freshness: request.freshness ? FRESHNESS[request.freshness] : undefined,
          mkt: this.#config.market,
        }),
        headers: { "ocp-apim-subscription-key": this.#config.apiKey },
        signal: request.signal,
      },
      {
        schema: bingResponse,
        results: (body) => body.webPages?.value,
        hit: (result) => ({
          url: result.url ?? "",
          title: plainText(result.name),
          snippet: plainText(result.snippet),
          publishedAt: parseLooseDate(result.datePublished),
        }),
      },
      request.limit,
    );
  }
}
