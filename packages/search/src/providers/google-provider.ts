import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { withQuery } from "./http-json.js";
import { type EngineCall, JsonSearchProvider } from "./json-search-provider.js";
import { textFields } from "./parse-wire.js";
import type { Freshness, ProviderHit, ProviderRequest } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "google" }>;

const googleItem = textFields("link", "title", "snippet").extend({
  pagemap: z.object({ metatags: z.array(z.record(z.string(), z.unknown())).nullish() }).nullish(),
});
type GoogleItem = z.output<typeof googleItem>;

/** Google Programmable Search (Custom Search JSON API, `GET /customsearch/v1`): `items`, absent when none. */
const googleAnswer = z.object({ items: z.array(googleItem).nullish() });

const DATE_RESTRICT: Record<Freshness, string> = { day: "d1", week: "w1", month: "m1", year: "y1" };
const QUOTA_REASONS = /rateLimitExceeded|userRateLimitExceeded|dailyLimitExceeded|quotaExceeded/;

export class GoogleProvider extends JsonSearchProvider<Config, typeof googleAnswer, GoogleItem> {
  readonly type = "google";
  protected readonly answer = googleAnswer;

  protected call(request: ProviderRequest, config: Config): EngineCall {
    return {
      url: withQuery(config.url, {
        key: config.apiKey,
        cx: config.cx,
        q: request.query,
        num: Math.min(request.limit, 10),
        dateRestrict: request.freshness && DATE_RESTRICT[request.freshness],
      }),
      // Google answers quota exhaustion with 403 and a reason, not only 429.
      isRateLimited: (status, body) => status === 403 && QUOTA_REASONS.test(JSON.stringify(body ?? "")),
    };
  }

  protected results(answer: z.output<typeof googleAnswer>) {
    return answer.items;
  }

  protected hit(item: GoogleItem): ProviderHit {
    return {
      url: item.link ?? "",
      title: plainText(item.title),
      snippet: plainText(item.snippet),
      publishedAt: parseLooseDate(item.pagemap?.metatags?.[0]?.["article:published_time"]),
    };
  }
}
