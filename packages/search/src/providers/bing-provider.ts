import type { SearchProviderConfig } from "@hearth/core";
import { z } from "zod";
import { callJson } from "./http-json.js";
import { parseWire } from "./parse-wire.js";
import type { Freshness, ProviderHit, ProviderRequest, SearchProvider } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "bing" }>;

/** Bing Web Search v7 (`GET /v7.0/search`): `webPages.value`. */
const bingResponse = z.object({
  webPages: z
    .object({
      value: z.array(
        z.object({
          url: z.string().nullish(),
          name: z.string().nullish(),
          snippet: z.string().nullish(),
          datePublished: z.string().nullish(),
        }),
      ),
    })
    .nullish(),
});

const FRESHNESS: Record<Freshness, string | undefined> = {
  day: "Day",
  week: "Week",
  month: "Month",
  year: undefined,
};

export class BingProvider implements SearchProvider {
  readonly type = "bing";
  readonly id: string;
  readonly #config: Config;

  constructor(config: Config) {
    this.id = config.id;
    this.#config = config;
  }

  async search(request: ProviderRequest): Promise<ProviderHit[]> {
    const url = new URL(this.#config.url);
    url.searchParams.set("q", request.query);
    url.searchParams.set("count", String(Math.min(request.limit, 50)));
    url.searchParams.set("responseFilter", "Webpages");
    const freshness = request.freshness ? FRESHNESS[request.freshness] : undefined;
    if (freshness) url.searchParams.set("freshness", freshness);
    if (this.#config.market) url.searchParams.set("mkt", this.#config.market);
    const raw = await callJson({
      url: url.href,
      headers: { "ocp-apim-subscription-key": this.#config.apiKey },
      signal: request.signal,
    });
    const body = parseWire(bingResponse, raw, url.href);
    return (body.webPages?.value ?? []).slice(0, request.limit).map((result) => ({
      url: result.url ?? "",
      title: plainText(result.name),
      snippet: plainText(result.snippet),
      publishedAt: parseLooseDate(result.datePublished),
    }));
  }
}
