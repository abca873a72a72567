import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { fetchHits, withQuery } from "./fetch-hits.js";
import type { Freshness, ProviderHit, ProviderRequest, SearchProvider } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "google" }>;

/** Google Programmable Search (Custom Search JSON API, `GET /customsearch/v1`): `items`, absent when none. */
const googleResponse = z.object({
  items: z
    .array(
      z.object({
        link: z.string().nullish(),
        title: z.string().nullish(),
        snippet: z.string().nullish(),
        pagemap: z.object({ metatags: z.array(z.record(z.string(), z.unknown())).nullish() }).nullish(),
      }),
    )
    .nullish(),
});

const DATE_RESTRICT: Record<Freshness, string> = { day: "d1", week: "w1", month: "m1", year: "y1" };
const QUOTA_REASONS = /rateLimitExceeded|userRateLimitExceeded|dailyLimitExceeded|quotaExceeded/;

export class GoogleProvider implements SearchProvider {
  readonly type = "google";
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
          key: this.#config.apiKey,
          cx: this.#config.cx,
          q: request.query,
          num: Math.min(request.limit, 10),
          dateRestrict: request.freshness ? DATE_RESTRICT[request.freshness] : undefined,
        }),
        signal: request.signal,
        // Google answers quota exhaustion with 403 and a reason, not only 429.
        isRateLimited: (status, body) => status === 403 && QUOTA_REASONS.test(JSON.stringify(body ?? "")),
      },
      {
        schema: googleResponse,
        results: (body) => body.items,
        hit: (result) => ({
          url: result.link ?? "",
          title: plainText(result.title),
          snippet: plainText(result.snippet),
          publishedAt: parseLooseDate(result.pagemap?.metatags?.[0]?.["article:published_time"]),
        }),
      },
      request.limit,
    );
  }
}
