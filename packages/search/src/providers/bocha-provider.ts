import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { fetchHits } from "./fetch-hits.js";
import type { Freshness, ProviderHit, ProviderRequest, SearchProvider } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "bocha" }>;

/** Bocha web search (`POST /v1/web-search`): a Bing-compatible `data.webPages.value` list. */
const bochaResponse = z.object({
  data: z
    .object({
      webPages: z
        .object({
          value: z
            .array(
              z.object({
                url: z.string().nullish(),
                name: z.string().nullish(),
                snippet: z.string().nullish(),
                summary: z.string().nullish(),
                datePublished: z.string().nullish(),
              }),
            )
            .nullish(),
        })
        .nullish(),
    })
    .nullish(),
});

const FRESHNESS: Record<Freshness, string> = {
  day: "oneDay",
  week: "oneWeek",
  month: "oneMonth",
  year: "oneYear",
};

export class BochaProvider implements SearchProvider {
  readonly type = "bocha";
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
          count: Math.min(request.limit, 50),
          summary: false,
          freshness: request.freshness ? FRESHNESS[request.freshness] : "noLimit",
        },
        signal: request.signal,
      },
      {
        schema: bochaResponse,
        results: (body) => body.data?.webPages?.value,
        hit: (result) => ({
          url: result.url ?? "",
          title: plainText(result.name),
          snippet: plainText(result.snippet ?? result.summary),
          publishedAt: parseLooseDate(result.datePublished),
        }),
      },
      request.limit,
    );
  }
}
