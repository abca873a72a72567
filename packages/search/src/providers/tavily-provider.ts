import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { bearerPost, type EngineCall, JsonSearchProvider } from "./json-search-provider.js";
import { textFields } from "./parse-wire.js";
import type { ProviderHit, ProviderRequest } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "tavily" }>;

const tavilyResult = textFields("url", "title", "content", "published_date");
type TavilyResult = z.output<typeof tavilyResult>;

/** Tavily (`POST /search`): `results`. */
const tavilyAnswer = z.object({ results: z.array(tavilyResult) });

export class TavilyProvider extends JsonSearchProvider<Config, typeof tavilyAnswer, TavilyResult> {
  readonly type = "tavily";
  protected readonly answer = tavilyAnswer;

  protected call(request: ProviderRequest, config: Config): EngineCall {
    return {
      ...bearerPost(config, {
        query: request.query,
        max_results: Math.min(request.limit, 20),
        topic: request.freshness === "day" || request.freshness === "week" ? "news" : "general",
        ...(request.freshness ? { time_range: request.freshness } : {}),
      }),
      // 432/433: the plan's or the pay-as-you-go credit limit is used up.
      isRateLimited: (status) => status === 432 || status === 433,
    };
  }

  protected results(answer: z.output<typeof tavilyAnswer>) {
    return answer.results;
  }

  protected hit(result: TavilyResult): ProviderHit {
    return {
      url: result.url ?? "",
      title: plainText(result.title),
      snippet: plainText(result.content),
      publishedAt: parseLooseDate(result.published_date),
    };
  }
}
