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
