import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { fetchHits } from "./fetch-hits.js";
import type { Freshness, ProviderHit, ProviderRequest, SearchProvider } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "baidu" }>;

/** Baidu AI search (Qianfan `/v2/ai_search/web_search`): the `references` list. */
const baiduResponse = z.object({
  references: z
    .array(
      z.object({
        url: z.string().nullish(),
        title: z.string().nullish(),
        content: z.string().nullish(),
        date: z.string().nullish(),
      }),
    )
    .nullish(),
});

const RECENCY: Record<Freshness, string> = { day: "week", week: "week", month: "month", year: "year" };

export class BaiduProvider implements SearchProvider {
  readonly type = "baidu";
  readonly id: string;
  readonly #config: Config;

  constructor(config: Config) {
    this.id = config.id;
    this.#config = config;
  }

  search(request: ProviderRequest): Promise<ProviderHit[]> {
    return fetchHits(
      {
        url: this.#config.url,
        method: "POST",
        headers: { authorization: `Bearer ${this.#config.apiKey}` },
        body: {
          messages: [{ role: "user", content: request.query }],
          search_source: "baidu_search_v2",
          resource_type_filter: [{ type: "web", top_k: Math.min(request.limit, 50) }],
          // Baidu's shortest recency window is a week.
          ...(request.freshness ? { search_recency_filter: RECENCY[request.freshness] } : {}),
        },
        signal: request.signal,
        // Qianfan reports quota errors in the body with codes such as "rpm_rate_limit_exceeded".
        isRateLimited: (_status, body) =>
          /rate_limit|qps|quota/i.test(String((body as { code?: unknown } | undefined)?.code ?? "")),
      },
      {
        schema: baiduResponse,
        // Qianfan may answer 200 with `{code, message}` and no references.
        errorIn: (raw) =>
          typeof raw === "object" &&
          raw !== null &&
          "code" in raw &&
          "message" in raw &&
          !("references" in raw)
            ? `Baidu answered error ${String(raw.code)}: ${String(raw.message)}`
            : undefined,
        results: (body) => body.references,
        hit: (result) => ({
          url: result.url ?? "",
          title: plainText(result.title),
          snippet: plainText(result.content).slice(0, 500),
          publishedAt: parseLooseDate(result.date),
        }),
      },
      request.limit,
    );
  }
}
