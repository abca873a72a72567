import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { fetchHits } from "./fetch-hits.js";
import type { Freshness, ProviderHit, ProviderRequest, SearchProvider } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "serper" }>;

/** Serper (Google results, `POST /search`): `organic`. */
const serperResponse = z.object({
  organic: z
    .array(
      z.object({
        link: z.string().nullish(),
        title: z.string().nullish(),
        snippet: z.string().nullish(),
        date: z.string().nullish(),
      }),
    )
    .nullish(),
});

const TBS: Record<Freshness, string> = { day: "qdr:d", week: "qdr:w", month: "qdr:m", year: "qdr:y" };

export class SerperProvider implements SearchProvider {
  readonly type = "serper";
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
        headers: { "x-api-key": this.#config.apiKey },
        body: {
          q: request.query,
          num: Math.min(request.limit, 100),
          ...(request.freshness ? { tbs: TBS[request.freshness] } : {}),
        },
        signal: request.signal,
      },
      {
        schema: serperResponse,
        results: (body) => body.organic,
        hit: (result) => ({
          url: result.link ?? "",
          title: plainText(result.title),
          snippet: plainText(result.snippet),
          publishedAt: parseLooseDate(result.date),
        }),
      },
      request.limit,
    );
  }
}
