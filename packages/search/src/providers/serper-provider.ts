import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { callJson } from "./http-json.js";
import { parseWire } from "./parse-wire.js";
import type { Freshness, ProviderHit, ProviderRequest, SearchProvider } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "serper" }>;

/** Serper (Google results, `POST /search`): `organic`. */
const serperResponse = z.object({
  organic: z
    .array(
      z.object({
        link: z.string().nullish(),
        title: z.string().nullish(),
        snippet: z.string().nullish(),
        date: z.string().nullish(),
      }),
    )
    .nullish(),
});

const TBS: Record<Freshness, string> = { day: "qdr:d", week: "qdr:w", month: "qdr:m", year: "qdr:y" };

export class SerperProvider implements SearchProvider {
  readonly type = "serper";
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
      headers: { "x-api-key": this.#config.apiKey },
      body: {
        q: request.query,
        num: Math.min(request.limit, 100),
        ...(request.freshness ? { tbs: TBS[request.freshness] } : {}),
      },
      signal: request.signal,
    });
    const body = parseWire(serperResponse, raw, this.#config.url);
    return (body.organic ?? []).slice(0, request.limit).map((result) => ({
      url: result.link ?? "",
      title: plainText(result.title),
      snippet: plainText(result.snippet),
      publishedAt: parseLooseDate(result.date),
    }));
  }
}
