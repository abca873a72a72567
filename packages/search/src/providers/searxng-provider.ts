import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { fetchHits, withQuery } from "./fetch-hits.js";
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

  search(request: ProviderRequest): Promise<ProviderHit[]> {
    return fetchHits(
      {
        url: withQuery(
          new URL("search", this.#config.url.endsWith("/") ? this.#config.url : `${this.#config.url}/`),
          {
            q: request.query,
            format: "json",
            time_range: request.freshness,
            engines: this.#config.engines,
            language: this.#config.language,
          },
        ),
        signal: request.signal,
      },
      {
        schema: searxngResponse,
        results: (body) => body.results,
        hit: (result) => ({
          url: result.url ?? "",
          title: plainText(result.title),
          snippet: plainText(result.content),
          publishedAt: parseLooseDate(result.publishedDate),
        }),
      },
      request.limit,
    );
  }
}
