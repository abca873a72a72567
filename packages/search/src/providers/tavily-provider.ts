import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { fetchHits } from "./fetch-hits.js";
import type { ProviderHit, ProviderRequest, SearchProvider } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "tavily" }>;

/** Tavily (`POST /search`): `results`. */
const tavilyResponse = z.object({
  results: z.array(
    z.object({
      url: z.string().nullish(),
      title: z.string().nullish(),
      content: z.string().nullish(),
      published_date: z.string().nullish(),
    }),
  ),
});

export class TavilyProvider implements SearchProvider {
  readonly type = "tavily";
  readonly id: string;
  readonly #config: Config;

  constructor(config: Config) {
    this.id = config.id;
    this.#config = config;
  }

  search(request: ProviderRequest): Promise<ProviderHit[]> {
    return fetchHits(
      {
        url: this.#config.url,
        method: "POST",
        headers: { authorization: `Bearer ${this.#config.apiKey}` },
        body: {
          query: request.query,
          max_results: Math.min(request.limit, 20),
          topic: request.freshness === "day" || request.freshness === "week" ? "news" : "general",
          ...(request.freshness ? { time_range: request.freshness } : {}),
        },
        signal: request.signal,
        // 432/433: the plan's or the pay-as-you-go credit limit is used up.
        isRateLimited: (status) => status === 432 || status === 433,
      },
      {
        schema: tavilyResponse,
        results: (body) => body.results,
        hit: (result) => ({
          url: result.url ?? "",
          title: plainText(result.title),
          snippet: plainText(result.content),
          publishedAt: parseLooseDate(result.published_date),
        }),
      },
      request.limit,
    );
  }
}
