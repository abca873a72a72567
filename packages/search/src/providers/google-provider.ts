import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { callJson } from "./http-json.js";
import { parseWire } from "./parse-wire.js";
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

  async search(request: ProviderRequest): Promise<ProviderHit[]> {
    const url = new URL(this.#config.url);
    url.searchParams.set("key", this.#config.apiKey);
    url.searchParams.set("cx", this.#config.cx);
    url.searchParams.set("q", request.query);
    url.searchParams.set("num", String(Math.min(request.limit, 10)));
    if (request.freshness) url.searchParams.set("dateRestrict", DATE_RESTRICT[request.freshness]);
    const raw = await callJson({
      url: url.href,
      signal: request.signal,
      // Google answers quota exhaustion with 403 and a reason, not only 429.
      isRateLimited: (status, body) => status === 403 && QUOTA_REASONS.test(JSON.stringify(body ?? "")),
    });
    const body = parseWire(googleResponse, raw, url.href);
    return (body.items ?? []).slice(0, request.limit).map((item) => ({
      url: item.link ?? "",
      title: plainText(item.title),
      snippet: plainText(item.snippet),
      publishedAt: parseLooseDate(item.pagemap?.metatags?.[0]?.["article:published_time"]),
    }));
  }
}
