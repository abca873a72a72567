import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { bearerPost, type EngineCall, JsonSearchProvider } from "./json-search-provider.js";
import { textFields } from "./parse-wire.js";
import type { Freshness, ProviderHit, ProviderRequest } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "bocha" }>;

const bochaPage = textFields("url", "name", "snippet", "summary", "datePublished");
type BochaPage = z.output<typeof bochaPage>;

/** Bocha web search (`POST /v1/web-search`): a Bing-compatible `data.webPages.value` list. */
const bochaAnswer = z.object({
  data: z.object({ webPages: z.object({ value: z.array(bochaPage).nullish() }).nullish() }).nullish(),
});

const FRESHNESS: Record<Freshness, string> = {
  day: "oneDay",
  week: "oneWeek",
  month: "oneMonth",
  year: "oneYear",
};

export class BochaProvider extends JsonSearchProvider<Config, typeof bochaAnswer, BochaPage> {
  readonly type = "bocha";
  protected readonly answer = bochaAnswer;

  protected call(request: ProviderRequest, config: Config): EngineCall {
    return bearerPost(config, {
      query: request.query,
      count: Math.min(request.limit, 50),
      summary: false,
      freshness: request.freshness ? FRESHNESS[request.freshness] : "noLimit",
    });
  }

  protected results(answer: z.output<typeof bochaAnswer>) {
    return answer.data?.webPages?.value;
  }

  protected hit(page: BochaPage): ProviderHit {
    return {
      url: page.url ?? "",
      title: plainText(page.name),
      snippet: plainText(page.snippet ?? page.summary),
      publishedAt: parseLooseDate(page.datePublished),
    };
  }
}
