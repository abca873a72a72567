import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { fetchHits, withQuery } from "./fetch-hits.js";
import type { Freshness, ProviderHit, ProviderRequest, SearchProvider } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "brave" }>;

/** Brave Search API (`GET /res/v1/web/search`): `web.results`. */
const braveResponse = z.object({
  web: z
    .object({
      results: z.array(
        z.object({
          url: z.string().nullish(),
          title: z.string().nullish(),
          description: z.string().nullish(),
          page_age: z.string().nullish(),
          age: z.string().nullish(),
        }),
      ),
    })
    .nullish(),
});

const FRESHNESS: Record<Freshness, string> = { day: "pd", week: "pw", month: "pm", year: "py" };

export class BraveProvider implements SearchProvider {
  readonly type = "brave";
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
          count: Math.min(request.limit, 20),
          freshness: request.freshness ? FRESHNESS[request.freshness] : undefined,
        }),
        headers: { "x-subscription-token": this.#config.apiKey },
        signal: request.signal,
      },
      {
        schema: braveResponse,
        results: (body) => body.web?.results,
        hit: (result) => ({
          url: result.url ?? "",
          title: plainText(result.title),
          snippet: plainText(result.description),
          publishedAt: parseLooseDate(result.page_age) ?? parseLooseDate(result.age),
        }),
      },
      request.limit,
    );
  }
}
