import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { withQuery } from "./http-json.js";
import { type EngineCall, JsonSearchProvider } from "./json-search-provider.js";
import { textFields } from "./parse-wire.js";
import type { ProviderHit, ProviderRequest } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "searxng" }>;

const searxngResult = textFields("url", "title", "content", "publishedDate");
type SearxngResult = z.output<typeof searxngResult>;

/** SearXNG's JSON API (`/search?format=json`; the instance must list `json` in search.formats). */
const searxngAnswer = z.object({ results: z.array(searxngResult) });

export class SearxngProvider extends JsonSearchProvider<Config, typeof searxngAnswer, SearxngResult> {
  readonly type = "searxng";
  protected readonly answer = searxngAnswer;

  protected call(request: ProviderRequest, config: Config): EngineCall {
    const instance = config.url.endsWith("/") ? config.url : `${config.url}/`;
    return {
      url: withQuery(new URL("search", instance), {
        q: request.query,
        format: "json",
        time_range: request.freshness,
        engines: config.engines,
        language: config.language,
      }),
    };
  }

  protected results(answer: z.output<typeof searxngAnswer>) {
    return answer.results;
  }

  protected hit(result: SearxngResult): ProviderHit {
    return {
      url: result.url ?? "",
      title: plainText(result.title),
      snippet: plainText(result.content),
      publishedAt: parseLooseDate(result.publishedDate),
    };
  }
}
