import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { bearerPost, type EngineCall, JsonSearchProvider } from "./json-search-provider.js";
import { textFields } from "./parse-wire.js";
import type { Freshness, ProviderHit, ProviderRequest } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "baidu" }>;

const baiduReference = textFields("url", "title", "content", "date");
type BaiduReference = z.output<typeof baiduReference>;

/** Baidu AI search (Qianfan `/v2/ai_search/web_search`): the `references` list. */
const baiduAnswer = z.object({ references: z.array(baiduReference).nullish() });

const RECENCY: Record<Freshness, string> = { day: "week", week: "week", month: "month", year: "year" };

export class BaiduProvider extends JsonSearchProvider<Config, typeof baiduAnswer, BaiduReference> {
  readonly type = "baidu";
  protected readonly answer = baiduAnswer;

  protected call(request: ProviderRequest, config: Config): EngineCall {
    return {
      ...bearerPost(config, {
        messages: [{ role: "user", content: request.query }],
        search_source: "baidu_search_v2",
        resource_type_filter: [{ type: "web", top_k: Math.min(request.limit, 50) }],
        // Baidu's shortest recency window is a week.
        ...(request.freshness ? { search_recency_filter: RECENCY[request.freshness] } : {}),
      }),
      // Qianfan reports quota errors in the body with codes such as "rpm_rate_limit_exceeded".
      isRateLimited: (_status, body) =>
        /rate_limit|qps|quota/i.test(String((body as { code?: unknown } | undefined)?.code ?? "")),
    };
  }

  /** Qianfan may answer 200 with `{code, message}` and no references. */
  protected override errorIn(raw: unknown): string | undefined {
    if (typeof raw !== "object" || raw === null || "references" in raw) return undefined;
    if (!("code" in raw && "message" in raw)) return undefined;
    return `Baidu answered error ${String(raw.code)}: ${String(raw.message)}`;
  }

  protected results(answer: z.output<typeof baiduAnswer>) {
    return answer.references;
  }

  protected hit(result: BaiduReference): ProviderHit {
    return {
      url: result.url ?? "",
      title: plainText(result.title),
      snippet: plainText(result.content).slice(0, 500),
      publishedAt: parseLooseDate(result.date),
    };
  }
}
