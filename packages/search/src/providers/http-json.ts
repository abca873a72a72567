import { retryAfterMs } from "@hearth/contracts";
import { describeNetworkError, whenAborted } from "@hearth/core";
import { ProviderCallError, shownUrl } from "./provider-call-error.js";

/** Engines answer a page of results in well under this; anything larger is refused unread. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export interface JsonCall {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: unknown;
  signal: AbortSignal;
  maxBytes?: number;
  /** Engines that report quota exhaustion with another status or in the body (Google's 403 rateLimitExceeded). */
  isRateLimited?: (status: number, body: unknown) => boolean;
  /** Engines that say in their own headers, not Retry-After, how long a rate limit lasts (Brave). */
  rateLimitResetMs?: (headers: Headers) => number | undefined;
}

/**
 * Calls a JSON API: reads at most `maxBytes`, parses the JSON (after a leading byte order mark, if
 * any), and turns every failure into a ProviderCallError; a redirect is reported, never followed.
 * The URL in errors has its query string removed (it may carry an API key).
 */
export async function callJson(call: JsonCall): Promise<unknown> {
  // fetch may miss an abort after a garbage collection (nodejs/undici#4068): race it as well.
  const aborted = whenAborted(call.signal);
  try {
    return await callJsonOnce(call, aborted.promise);
  } finally {
    aborted.dispose();
  }
}

async function callJsonOnce(call: JsonCall, aborted: Promise<never>): Promise<unknown> {
  const shown = shownUrl(call.url);
  let response: Response;
  try {
    response = await Promise.race([
      aborted,
      fetch(call.url, {
        method: call.method ?? "GET",
        headers: {
          accept: "application/json",
          ...(call.body !== undefined ? { "content-type": "application/json" } : {}),
          ...call.headers,
        },
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: call.signal,
        redirect: "manual",
      }),
    ]);
  } catch (error) {
    if (call.signal.aborted) throw call.signal.reason ?? error;
    throw new ProviderCallError({
      url: shown,
      message: `cannot reach ${shown}: ${describeNetworkError(error)}`,
      cause: error,
    });
  }
  if (response.status >= 300 && response.status < 400) {
    // The key goes to the configured URL only; a redirect is an answer to report, not to retry.
    await response.body?.cancel().catch(() => {});
    const location = response.headers.get("location");
    throw new ProviderCallError({
      url: shown,
      status: response.status,
      message: `${shown} answered HTTP ${response.status}, a redirect${location ? ` to ${shownUrl(location)}` : ""}; redirects are not followed (set the provider's url to where it points)`,
    });
  }
  const text = await readLimited(response, call.maxBytes ?? MAX_RESPONSE_BYTES, shown, call.signal, aborted);
  let body: unknown;
  let parsed = true;
  try {
    // Some engines (and proxies before them) start their JSON with a UTF-8 byte order mark.
    body = JSON.parse(text.startsWith("\ufeff") ? text.slice(1) : text);
  } catch {
    parsed = false;
  }
  const rateLimited = response.status === 429 || (call.isRateLimited?.(response.status, body) ?? false);
  if (!response.ok || rateLimited) {
    throw new ProviderCallError({
      url: shown,
      status: response.status,
      body: text.slice(0, 500),
      message: `${shown} answered HTTP ${response.status}${describeBody(body)}`,
      rateLimited,
      retryAfterMs:
        retryAfterMs(response.headers.get("retry-after")) ?? call.rateLimitResetMs?.(response.headers),
    });
  }
  if (!parsed) {
    throw new ProviderCallError({
      url: shown,
      status: response.status,
      message: `${shown} answered malformed JSON`,
    });
  }
  return body;
}

async function readLimited(
  response: Response,
  maxBytes: number,
  url: string,
  signal: AbortSignal,
  aborted: Promise<never>,
): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new ProviderCallError({
      url,
      status: response.status,
      message: `${url} answered ${declared} bytes, over the ${maxBytes}-byte limit`,
    });
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await Promise.race([aborted, reader.read()]);
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new ProviderCallError({
          url,
          status: response.status,
          message: `${url} answered more than the ${maxBytes}-byte limit`,
        });
      }
      chunks.push(value);
    }
  } catch (error) {
    if (signal.aborted) {
      reader.cancel().catch(() => {});
      throw signal.reason ?? error;
    }
    throw error;
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The message in an error body, for the provider outcome (which redacts keys and cuts it short: shownError). */
function describeBody(body: unknown): string {
  if (typeof body !== "object" || body === null) return "";
  const record = body as Record<string, unknown>;
  const nested = (record.error ?? record.detail) as Record<string, unknown> | string | undefined;
  const candidates = [
    typeof nested === "string" ? nested : undefined,
    typeof nested === "object" && nested ? (nested.message ?? nested.detail ?? nested.error) : undefined,
    record.message,
    record.msg,
    Array.isArray(record.errors)
      ? (record.errors[0] as Record<string, unknown> | undefined)?.message
      : undefined,
  ];
  const message = candidates.find((value): value is string => typeof value === "string" && value.length > 0);
  return message ? `: ${message}` : "";
}

/** The engine's URL with the query parameters that have a value, in the order given. */
export function withQuery(base: string | URL, params: Record<string, string | number | undefined>): string {
  const url = new URL(base);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") url.searchParams.set(name, String(value));
  }
  return url.href;
}
