import { UpstreamCallError } from "@hearth/core";

/** A failed call to a search engine: HTTP status, whether it was a rate limit, and when to retry. */
export class ProviderCallError extends UpstreamCallError {
  readonly rateLimited: boolean;
  /** From Retry-After (or the engine's own reset header), in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(input: {
    url: string;
    status?: number;
    body?: string;
    message: string;
    rateLimited?: boolean;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    super(input);
    this.rateLimited = input.rateLimited ?? input.status === 429;
    this.retryAfterMs = input.retryAfterMs;
  }
}

/** An engine URL as errors show it: without its query string, which may carry an API key. */
export function shownUrl(url: string): string {
  return url.split("?")[0]!;
}
