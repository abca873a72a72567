import type { HearthServiceName } from "../config/port-conflicts.js";
import { describeNetworkError } from "../net/network-error.js";
import { redactSecrets } from "../net/redact-secrets.js";
import { ERROR_CODES, type ErrorCode } from "./error-codes.js";

export interface HearthErrorOptions {
  /** Overrides the catalogue's HTTP status (for example a 503 passed through from an upstream). */
  status?: number;
  /** Extra fields a client may rely on (queue position, retry delay, allowed values). */
  details?: Record<string, unknown>;
  /** Seconds after which a retry may succeed; sent as Retry-After. */
  retryAfterSeconds?: number;
  /**
   * Whether a client retrying by itself may succeed, sent as `x-should-retry` (the header the
   * openai and anthropic SDKs obey before their own rules: they retry every 429 and 5xx otherwise).
   * Undefined: false when Retry-After is past LONG_RETRY_AFTER_SECONDS, else no header.
   */
  shouldRetry?: boolean;
  cause?: unknown;
}

/**
 * A Retry-After past this many seconds is sent with `x-should-retry: false`: an SDK that retries by
 * itself would otherwise sleep for all of it (the openai SDK for Node waits any Retry-After) or
 * retry blindly within seconds (the Python one ignores a Retry-After over a minute). A minute
 * window's reset, at most 60 s away, is still worth the wait.
 */
export const LONG_RETRY_AFTER_SECONDS = 60;

/** The one error class of Hearth: a stable code from the catalogue, a message for people, an HTTP status. */
export class HearthError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;
  /** What `x-should-retry` says, when anything (see HearthErrorOptions.shouldRetry). */
  readonly shouldRetry: boolean | undefined;

  constructor(code: ErrorCode, message: string, options: HearthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HearthError";
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.shouldRetry =
      options.shouldRetry ??
      (options.retryAfterSeconds !== undefined && options.retryAfterSeconds > LONG_RETRY_AFTER_SECONDS
        ? false
        : undefined);
  }

  /** A one-line form for start-up failures and logs: `CODE: message`. */
  toLine(): string {
    return `${this.code}: ${this.message}`;
  }
}

export function isHearthError(error: unknown): error is HearthError {
  return error instanceof HearthError;
}

/**
 * Statuses by which an upstream refuses the credentials Hearth sent it (a configured API key, a
 * URL's user info, the service token): the operator's to fix, never the client's, whose own key a
 * 401 or 403 passed on would say was refused.
 */
export function refusesCredentials(status: number): boolean {
  return status === 401 || status === 403 || status === 407;
}

/** The longest wait an upstream's Retry-After is passed on with: one far off is as good as none. */
export const MAX_UPSTREAM_RETRY_AFTER_SECONDS = 3600;

/**
 * An error raised while calling an upstream HTTP API; retryable for 408, 409, 429 and 5xx. An
 * upstream's 4xx describing the request (400, 404, 413, 422, 429 …) is passed on, with its
 * Retry-After (capped at an hour), which a client honouring it waits for; a refusal of
 * Hearth's credentials (401, 403, 407) and a 5xx are 502. The Hearth service called, where one was
 * (model, search, knowledge), is sent as `details.service`: a page names the service that failed,
 * not just "a service".
 */
export class UpstreamCallError extends HearthError {
  readonly url: string;
  readonly upstreamStatus: number | undefined;
  readonly responseBody: string | undefined;
  readonly isRetryable: boolean;

  constructor(input: {
    url: string;
    status?: number;
    body?: string;
    message: string;
    cause?: unknown;
    service?: HearthServiceName;
    /**
     * What the call sent that the upstream may echo in its answer (its credentials): every form of
     * them is replaced in the message and the body kept, which clients and the log see.
     */
    secrets?: Iterable<string>;
    /** The upstream's Retry-After in milliseconds (retryAfterMs), sent on as whole seconds. */
    retryAfterMs?: number;
  }) {
    const unreachable = input.status === undefined;
    const secrets = [...(input.secrets ?? [])];
    const passedOn =
      input.status !== undefined &&
      input.status >= 400 &&
      input.status < 500 &&
      !refusesCredentials(input.status);
    super(unreachable ? "UPSTREAM_UNAVAILABLE" : "UPSTREAM_ERROR", redactSecrets(input.message, secrets), {
      cause: input.cause,
      status: passedOn ? input.status : undefined,
      ...(input.retryAfterMs === undefined
        ? {}
        : {
            retryAfterSeconds: Math.min(
              MAX_UPSTREAM_RETRY_AFTER_SECONDS,
              Math.ceil(input.retryAfterMs / 1000),
            ),
          }),
      ...(input.service ? { details: { service: input.service } } : {}),
    });
    this.url = input.url;
    this.upstreamStatus = input.status;
    this.responseBody = input.body === undefined ? undefined : redactSecrets(input.body, secrets);
    this.isRetryable =
      unreachable ||
      input.status === 408 ||
      input.status === 409 ||
      input.status === 429 ||
      (input.status !== undefined && input.status >= 500);
  }

  /**
   * A call that got no answer (refused, reset, timed out), in the one wording every caller uses:
   * "the model service did not answer: connection refused (ECONNREFUSED)", its cause in
   * describeNetworkError's words. The message names the Hearth `service` called, with its address
   * where `at` gives one (for a reader who set it: the CLI, a service's log; a web client is not
   * told the inside of the network), or the `upstream` as it should be named when it is no Hearth
   * service ("Tika at http://tika:9998", a host). A `hint` of what to do is said last.
   */
  static noAnswer(
    input: { url: string; cause?: unknown; hint?: string } & (
      | { service: HearthServiceName; at?: string }
      | { upstream: string }
    ),
  ): UpstreamCallError {
    const upstream =
      "upstream" in input
        ? input.upstream
        : `the ${input.service} service${input.at ? ` at ${input.at}` : ""}`;
    const reason = input.cause === undefined ? "" : `: ${describeNetworkError(input.cause)}`;
    return new UpstreamCallError({
      url: input.url,
      message: `${upstream} did not answer${reason}${input.hint ? `; ${input.hint}` : ""}`,
      cause: input.cause,
      ...("service" in input ? { service: input.service } : {}),
    });
  }
}
