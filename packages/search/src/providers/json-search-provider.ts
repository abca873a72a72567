import type { z } from "zod";
import { callJson, type JsonCall } from "./http-json.js";
import { parseWire } from "./parse-wire.js";
import { ProviderCallError, shownUrl } from "./provider-call-error.js";
import type { EngineAnswer, ProviderHit, ProviderRequest, SearchProvider } from "./search-provider.js";

/** One engine's HTTP call for a search; callJson adds the request's signal. */
export type EngineCall = Omit<JsonCall, "signal">;

/**
 * A search engine behind a JSON API. The call, its errors (HTTP status, rate limits, malformed
 * JSON: callJson), the check of the answer against its wire schema and the cut to `limit` are
 * here; each engine's class declares only its request, its answer's shape and how one result reads.
 * The configuration (with the API key) stays private to this class and is handed to `call`.
 */
export abstract class JsonSearchProvider<C extends { id: string }, Answer extends z.ZodType, Result>
  implements SearchProvider
{
  abstract readonly type: string;
  readonly id: string;
  readonly #config: C;
  /** The answer's wire schema; a mismatch is a provider error, never a crash. */
  protected abstract readonly answer: Answer;

  constructor(config: C) {
    this.id = config.id;
    this.#config = config;
  }

  protected abstract call(request: ProviderRequest, config: C): EngineCall;

  /** The result list in the checked answer; engines omit it when nothing matched. */
  protected abstract results(answer: z.output<Answer>): readonly Result[] | null | undefined;

  protected abstract hit(result: Result): ProviderHit;

  /** For engines that answer HTTP 200 with an error object instead of results: its message. */
  protected errorIn(_answer: unknown): string | undefined {
    return undefined;
  }

  /**
   * For engines that ask engines of their own (SearXNG): those that did not answer. An answer with
   * results is ok with this as its warning; one without any is an error with this as its message,
   * not an engine that found nothing.
   */
  protected missingIn(_answer: z.output<Answer>): string | undefined {
    return undefined;
  }

  async search(request: ProviderRequest): Promise<EngineAnswer> {
    const call = { ...this.call(request, this.#config), signal: request.signal };
    const raw = await callJson(call);
    const error = this.errorIn(raw);
    if (error !== undefined) {
      throw new ProviderCallError({ url: shownUrl(call.url), status: 200, message: error });
    }
    const answer = parseWire(this.answer, raw, call.url);
    const hits = (this.results(answer) ?? []).slice(0, request.limit).map((result) => this.hit(result));
    const missing = this.missingIn(answer);
    if (missing === undefined) return { hits };
    if (hits.length === 0)
      throw new ProviderCallError({ url: shownUrl(call.url), status: 200, message: missing });
    return { hits, warning: missing };
  }
}

/** A JSON POST to the engine's configured URL with its API key as a bearer token. */
export function bearerPost(config: { url: string; apiKey: string }, body: unknown): EngineCall {
  return { url: config.url, method: "POST", headers: { authorization: `Bearer ${config.apiKey}` }, body };
}
