import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { withQuery } from "./http-json.js";
import { type EngineCall, JsonSearchProvider } from "./json-search-provider.js";
import { textFields } from "./parse-wire.js";
import type { Freshness, ProviderHit, ProviderRequest } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "brave" }>;

const braveResult = textFields("url", "title", "description", "page_age", "age");
type BraveResult = z.output<typeof braveResult>;

/** Brave Search API (`GET /res/v1/web/search`): `web.results`. */
const braveAnswer = z.object({ web: z.object({ results: z.array(braveResult) }).nullish() });

const FRESHNESS: Record<Freshness, string> = { day: "pd", week: "pw", month: "pm", year: "py" };

export class BraveProvider extends JsonSearchProvider<Config, typeof braveAnswer, BraveResult> {
  readonly type = "brave";
  protected readonly answer = braveAnswer;

  protected call(request: ProviderRequest, config: Config): EngineCall {
    return {
      url: withQuery(config.url, {
        q: request.query,
        count: Math.min(request.limit, 20),
        freshness: request.freshness && FRESHNESS[request.freshness],
      }),
      headers: { "x-subscription-token": config.apiKey },
      rateLimitResetMs: exhaustedWindowResetMs,
    };
  }

  protected results(answer: z.output<typeof braveAnswer>) {
    return answer.web?.results;
  }

  protected hit(result: BraveResult): ProviderHit {
    return {
      url: result.url ?? "",
      title: plainText(result.title),
      snippet: plainText(result.description),
      publishedAt: parseLooseDate(result.page_age) ?? parseLooseDate(result.age),
    };
  }
}

/**
 * How long a Brave 429 lasts. X-RateLimit-Remaining and X-RateLimit-Reset list one value per window
 * of the plan, e.g. "0, 1985" and "1, 1419704": the second, then the month (Brave Search API,
 * "Response Headers"). The wait is until the windows used up reset: with the monthly quota spent,
 * the rest of the month, not a second. Without Remaining, the longest reset; when Remaining shows
 * every window with quota left, the call lost a race within the shortest one: its reset.
 */
function exhaustedWindowResetMs(headers: Headers): number | undefined {
  const resets = windowValues(headers.get("x-ratelimit-reset"));
  if (!resets) return undefined;
  const remaining = windowValues(headers.get("x-ratelimit-remaining"));
  const exhausted = resets.filter((_seconds, index) => remaining?.[index] === 0);
  const seconds =
    exhausted.length > 0 ? Math.max(...exhausted) : remaining ? Math.min(...resets) : Math.max(...resets);
  return Math.round(seconds * 1000);
}

/** A header's comma-separated numbers, one per window; undefined when absent or unreadable. */
function windowValues(header: string | null): number[] | undefined {
  const values = header?.split(",").map((value) => value.trim());
  return values?.every((value) => /^\d+(\.\d+)?$/.test(value)) ? values.map(Number) : undefined;
}
