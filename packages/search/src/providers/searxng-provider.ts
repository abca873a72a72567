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

/**
 * SearXNG's JSON API (`/search?format=json`; the instance must list `json` in search.formats).
 * `unresponsive_engines` lists SearXNG's own engines that did not answer, as [name, why] pairs
 * (`[["google", "CAPTCHA"], ["bing", "timeout"]]`, "why" in the instance's language); an entry of
 * another shape is skipped rather than failing the answer.
 */
const searxngAnswer = z.object({
  results: z.array(searxngResult),
  unresponsive_engines: z.array(z.unknown()).nullish(),
});

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

  protected override missingIn(answer: z.output<typeof searxngAnswer>): string | undefined {
    const engines = (answer.unresponsive_engines ?? []).flatMap((entry) =>
      Array.isArray(entry) && typeof entry[0] === "string"
        ? [typeof entry[1] === "string" && entry[1] ? `${entry[0]} (${entry[1]})` : entry[0]]
        : [],
    );
    return engines.length > 0 ? `SearXNG's engines did not answer: ${engines.join(", ")}` : undefined;
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
