import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { callJson } from "./http-json.js";
import { parseWire } from "./parse-wire.js";
import type { Freshness, ProviderHit, ProviderRequest, SearchProvider } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "brave" }>;

/** Brave Search API (`GET /res/v1/web/search`): `web.results`. */
const braveResponse = z.object({
  web: z
    .object({
      results: z.array(
        z.object({
          url: z.string().nullish(),
          title: z.string().nullish(),
          description: z.string().nullish(),
          page_age: z.string().nullish(),
          age: z.string().nullish(),
        }),
      ),
    })
    .nullish(),
});

const FRESHNESS: Record<Freshness, string> = { day: "pd", week: "pw", month: "pm", year: "py" };

export class BraveProvider implements SearchProvider {
  readonly type = "brave";
  readonly id: string;
  readonly #config: Config;

  constructor(config: Config) {
    this.id = config.id;
    this.#config = config;
  }

  async search(request: ProviderRequest): Promise<ProviderHit[]> {
    const url = new URL(this.#config.url);
    url.searchParams.set("q", request.query);
    url.searchParams.set("count", String(Math.min(request.limit, 20)));
    if (request.freshness) url.searchParams.set("freshness", FRESHNESS[request.freshness]);
    const raw = await callJson({
      url: url.href,
      headers: { "x-subscription-token": this.#config.apiKey },
      signal: request.signal,
    });
    const body = parseWire(braveResponse, raw, url.href);
    return (body.web?.results ?? []).slice(0, request.limit).map((result) => ({
      url: result.url ?? "",
      title: plainText(result.title),
      snippet: plainText(result.description),
      publishedAt: parseLooseDate(result.page_age) ?? parseLooseDate(result.age),
    }));
  }
}
