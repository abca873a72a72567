import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { callJson } from "./http-json.js";
import { parseWire } from "./parse-wire.js";
import { ProviderCallError } from "./provider-call-error.js";
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

  async search(request: ProviderRequest): Promise<ProviderHit[]> {
    const raw = await callJson({
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
    });
    if (
      typeof raw === "object" &&
      raw !== null &&
      "code" in raw &&
      "message" in raw &&
      !("references" in raw)
    ) {
      throw new ProviderCallError({
        url: this.#config.url,
        status: 200,
        message: `Baidu answered error ${String(raw.code)}: ${String(raw.message)}`,
      });
    }
    const body = parseWire(baiduResponse, raw, this.#config.url);
    return (body.references ?? []).slice(0, request.limit).map((result) => ({
      url: result.url ?? "",
      title: plainText(result.title),
      snippet: plainText(result.content).slice(0, 500),
      publishedAt: parseLooseDate(result.date),
    }));
  }
}
