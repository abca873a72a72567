import { z } from "zod";
import { retryAfterMs } from "./retry-after.js";

/** `POST /v1/search` request. */
export const searchRequestSchema = z.strictObject({
  query: z.string(),
  /** Provider ids to ask, disabled ones too; all enabled providers when absent. */
  providers: z.array(z.string().min(1).max(64)).min(1).max(64).optional(),
  limit: z.number().int().min(1).max(100).optional(),
  /** Prefer results published within this period (also passed to engines that filter by date). */
  freshness: z.enum(["day", "week", "month", "year"]).optional(),
  /** Fetch the top results and return their main text as `content`. */
  fetch: z.boolean().optional(),
  /**
   * `false`: ask the engines even when the result cache holds an answer (what a provider check
   * needs); the fresh answer is cached. Rate limits, cool-downs and breakers still apply.
   */
  cache: z.boolean().optional(),
});
export type SearchRequest = z.infer<typeof searchRequestSchema>;

export const searchResultSchema = z.object({
  url: z.string(),
  title: z.string(),
  snippet: z.string(),
  content: z.string().optional(),
  /** `content` is from the first `search.fetch.maxBytes` of a longer page. */
  contentTruncated: z.boolean().optional(),
  /**
   * Why a fetched result has no `content` (its page was refused, failed or held no readable text):
   * SEARCH_FETCH_BLOCKED or SEARCH_FETCH_FAILED, and the reason in words.
   */
  contentError: z.object({ code: z.string(), message: z.string() }).optional(),
  publishedAt: z.string().optional(),
  /** Provider ids that found this page, best rank first. */
  sources: z.array(z.string()),
  score: z.number(),
  /** Word lists (action flag) whose words occur in this result. */
  flags: z.array(z.string()).optional(),
});
export type SearchResult = z.infer<typeof searchResultSchema>;

export const providerStatusSchema = z.enum([
  "ok",
  "timeout",
  "rate-limited",
  "error",
  "skipped-by-breaker",
  // Older search services sent this for every engine of a cached answer; a cached answer now keeps
  // each engine's status and sets `cached` on the answer.
  "cached",
]);
export type ProviderStatus = z.infer<typeof providerStatusSchema>;

export const providerOutcomeSchema = z.object({
  id: z.string(),
  status: providerStatusSchema,
  latencyMs: z.number(),
  results: z.number().int().optional(),
  error: z.string().optional(),
  /**
   * With `ok`: part of the engine's answer is missing, e.g. SearXNG's own engines that did not
   * answer ("SearXNG's engines did not answer: google (CAPTCHA)").
   */
  warning: z.string().optional(),
});
export type ProviderOutcome = z.infer<typeof providerOutcomeSchema>;

/** `POST /v1/search` response. */
export const searchResponseSchema = z.object({
  results: z.array(searchResultSchema),
  providers: z.array(providerOutcomeSchema),
  /** The answer came from the result cache; `providers` says how each engine answered then. */
  cached: z.boolean().optional(),
});
export type SearchResponse = z.infer<typeof searchResponseSchema>;

/** The error body every Hearth service sends. */
const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/**
 * A provider's standing state in this search service replica: its circuit breaker (open after
 * repeated failures, with when it is tried again), a rate-limit cool-down still running (its 429's
 * Retry-After, or backoff), and its last call that went out (status, redacted error, when).
 */
export const providerStandingStateSchema = z.object({
  breaker: z.enum(["closed", "open", "half-open"]),
  consecutiveFailures: z.number().int().nonnegative(),
  /** While the breaker is open: when the next call may go out as a probe (ISO time). */
  breakerRetryAt: z.string().nullable(),
  /** A running cool-down's end (ISO time); null when none runs. */
  coolDownUntil: z.string().nullable(),
  lastCall: z
    .object({ status: providerStatusSchema, at: z.string(), error: z.string().optional() })
    .nullable(),
});
export type ProviderStandingState = z.infer<typeof providerStandingStateSchema>;

/** `GET /v1/providers` response: the configured providers (no keys), enabled or not, with their standing state. */
export const searchProvidersResponseSchema = z.object({
  providers: z.array(
    z.object({
      id: z.string(),
      type: z.string(),
      enabled: z.boolean(),
      /** Absent from an older search service. */
      state: providerStandingStateSchema.optional(),
    }),
  ),
});
export type SearchProvidersResponse = z.infer<typeof searchProvidersResponseSchema>;

/**
 * An error answer from the search service, with its stable code and, when it sent one (with
 * SEARCH_RATE_LIMITED), the seconds its Retry-After header asks a caller to wait.
 */
export class SearchClientError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;
  constructor(
    code: string,
    message: string,
    status: number,
    details?: Record<string, unknown>,
    retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "SearchClientError";
    this.code = code;
    this.status = status;
    this.details = details;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A wait in milliseconds as the whole seconds a caller waits at least. */
function wholeSeconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.ceil(ms / 1000);
}

export interface SearchClientOptions {
  /** Base URL of the search service, e.g. http://127.0.0.1:8082. */
  baseUrl: string;
  /** Service token (hybrid deployments). */
  token?: string;
  fetch?: typeof fetch;
}

/** Typed client for the search service (used by the web service). */
export class SearchClient {
  readonly #baseUrl: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: SearchClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#token = options.token;
    this.#fetch = options.fetch ?? fetch;
  }

  /** The URL `search` calls (for the caller's error messages). */
  get searchUrl(): string {
    return `${this.#baseUrl}/v1/search`;
  }

  /** The URL `providers` calls (for the caller's error messages). */
  get providersUrl(): string {
    return `${this.#baseUrl}/v1/providers`;
  }

  /** The configured providers; throws SearchClientError on an error answer (404 from an older service). */
  async providers(options: { signal?: AbortSignal } = {}): Promise<SearchProvidersResponse> {
    const response = await this.#fetch(this.providersUrl, {
      headers: this.#token ? { "x-hearth-service-token": this.#token } : {},
      signal: options.signal,
    });
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok)
      throw new SearchClientError(
        "UPSTREAM_ERROR",
        `search service answered HTTP ${response.status}`,
        response.status,
      );
    return searchProvidersResponseSchema.parse(body);
  }

  /** Searches; throws SearchClientError with the service's error code on an error answer. */
  async search(request: SearchRequest, options: { signal?: AbortSignal } = {}): Promise<SearchResponse> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.#token) headers["x-hearth-service-token"] = this.#token;
    const response = await this.#fetch(this.searchUrl, {
      method: "POST",
      headers,
      body: JSON.stringify(searchRequestSchema.parse(request)),
      signal: options.signal,
    });
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const parsed = errorBodySchema.safeParse(body);
      if (parsed.success) {
        const { code, message, details } = parsed.data.error;
        throw new SearchClientError(
          code,
          message,
          response.status,
          details,
          wholeSeconds(retryAfterMs(response.headers.get("retry-after"))),
        );
      }
      throw new SearchClientError(
        "UPSTREAM_ERROR",
        `search service answered HTTP ${response.status}`,
        response.status,
      );
    }
    return searchResponseSchema.parse(body);
  }
}
