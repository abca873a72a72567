import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { type EngineCall, JsonSearchProvider } from "./json-search-provider.js";
import { textFields } from "./parse-wire.js";
import type { Freshness, ProviderHit, ProviderRequest } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "serper" }>;

const serperResult = textFields("link", "title", "snippet", "date");
type SerperResult = z.output<typeof serperResult>;

/** Serper (Google results, `POST /search`): `organic`. */
const serperAnswer = z.object({ organic: z.array(serperResult).nullish() });

const TBS: Record<Freshness, string> = { day: "qdr:d", week: "qdr:w", month: "qdr:m", year: "qdr:y" };

export class SerperProvider extends JsonSearchProvider<Config, typeof serperAnswer, SerperResult> {
  readonly type = "serper";
  protected readonly answer = serperAnswer;

  protected call(request: ProviderRequest, config: Config): EngineCall {
    return {
      url: config.url,
      method: "POST",
      headers: { "x-api-key": config.apiKey },
      body: {
        q: request.query,
        num: Math.min(request.limit, 100),
        ...(request.freshness ? { tbs: TBS[request.freshness] } : {}),
      },
    };
  }

  protected results(answer: z.output<typeof serperAnswer>) {
    return answer.organic;
  }

  protected hit(result: SerperResult): ProviderHit {
    return {
      url: result.link ?? "",
      title: plainText(result.title),
      snippet: plainText(result.snippet),
      publishedAt: parseLooseDate(result.date),
    };
  }
}
