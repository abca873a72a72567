import { retryAfterMs } from "@hearth/contracts";
import {
  authorizationSecrets,
  HearthError,
  redactSecrets,
  refusesCredentials,
  UpstreamCallError,
  urlCredentials,
  withoutUrlSecrets,
} from "@hearth/core";
import type { z } from "zod";

export interface UpstreamRequest {
  /** User info in it (`http://user:password@host/...`) is sent as Basic credentials, to that origin only. */
  url: string;
  method?: "GET" | "POST" | "DELETE";
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** The model the call names: a 404 then means the upstream does not have it (MODEL_NOT_FOUND). */
  model?: string;
  /** The setting that holds the credentials sent, named when the upstream refuses them (401, 403, 407). */
  credentialsSetting: string;
}

/**
 * The credentials a call to `url` with `headers` sends (a URL's user info as Basic, an
 * `Authorization` header), in every form an upstream may echo them: what its errors leave out.
 */
export function sentSecrets(url: string, headers: Record<string, string> = {}): string[] {
  const sent = [
    urlCredentials(url).authorization,
    ...Object.entries(headers).map(([name, value]) =>
      name.toLowerCase() === "authorization" ? value : undefined,
    ),
  ];
  return sent.flatMap((value) => (value ? authorizationSecrets(value) : []));
}

/**
 * Calls an upstream HTTP API. No answer becomes UpstreamCallError without a status
 * (UPSTREAM_UNAVAILABLE); an error status becomes one with the status and body (UPSTREAM_ERROR).
 * Its errors name the URL without its user info and query, and leave out the credentials sent
 * wherever the upstream echoes them.
 */
export async function callUpstream(request: UpstreamRequest): Promise<Response> {
  const { url, authorization } = urlCredentials(request.url);
  const shown = withoutUrlSecrets(request.url);
  const secrets = sentSecrets(request.url, request.headers);
  const signals = [
    request.signal,
    request.timeoutMs ? AbortSignal.timeout(request.timeoutMs) : undefined,
  ].filter((signal): signal is AbortSignal => signal !== undefined);
  let response: Response;
  try {
    response = await fetch(url, {
      method: request.method ?? (request.body === undefined ? "GET" : "POST"),
      headers: {
        ...(request.body === undefined ? {} : { "content-type": "application/json" }),
        ...(authorization ? { authorization } : {}),
        ...request.headers,
      },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
    });
  } catch (error) {
    if (request.signal?.aborted) throw request.signal.reason ?? error;
    throw UpstreamCallError.noAnswer({ url: shown, upstream: new URL(url).host, cause: error });
  }
  if (!response.ok) {
    const body = await response.text().catch(() => "");
    if (response.status === 404 && request.model !== undefined) {
      throw new HearthError(
        "MODEL_NOT_FOUND",
        redactSecrets(
          `model "${request.model}" not found upstream: ${upstreamMessage(body) ?? "404"}`,
          secrets,
        ),
        {
          details: { model: request.model },
        },
      );
    }
    const host = new URL(url).host;
    throw new UpstreamCallError({
      url: shown,
      status: response.status,
      body,
      secrets,
      retryAfterMs: retryAfterMs(response.headers.get("retry-after")),
      message: refusesCredentials(response.status)
        ? `${host} ${secrets.length > 0 ? "refused the credentials Hearth sent" : "asks for credentials"} (${response.status}: ${upstreamMessage(body) ?? response.statusText}): check ${request.credentialsSetting}`
        : `${host} answered ${response.status}: ${upstreamMessage(body) ?? response.statusText}`,
    });
  }
  return response;
}

/** The message inside an Ollama (`{"error": "..."}`) or OpenAI (`{"error": {"message"}}`) error body. */
export function upstreamMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: string | { message?: string } };
    if (typeof parsed.error === "string") return parsed.error.slice(0, 500);
    if (parsed.error && typeof parsed.error.message === "string") return parsed.error.message.slice(0, 500);
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.trim().slice(0, 200) || undefined;
}

/** Reads and validates a JSON body; its errors leave out `secrets` (sentSecrets) where the body echoes them. */
export async function readJson<T extends z.ZodType>(
  response: Response,
  schema: T,
  url: string,
  secrets: string[],
): Promise<z.infer<T>> {
  const shown = withoutUrlSecrets(url);
  const text = await response.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UpstreamCallError({
      url: shown,
      status: 502,
      body: redactSecrets(text, secrets).slice(0, 500),
      message: `${shown} did not answer JSON`,
    });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new UpstreamCallError({
      url: shown,
      status: 502,
      body: redactSecrets(text, secrets).slice(0, 500),
      message: `${shown} answered an unexpected shape: ${parsed.error.issues[0]?.message}`,
    });
  }
  return parsed.data;
}

/** Lines of a streamed body (NDJSON, SSE). */
export async function* readLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        yield buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf("\n");
      }
    }
    buffer += decoder.decode();
    if (buffer.length > 0) yield buffer;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The `data:` payloads of a Server-Sent Events body (events are separated by blank lines). */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let data: string[] = [];
  for await (const line of readLines(body)) {
    if (line === "") {
      if (data.length > 0) yield data.join("\n");
      data = [];
    } else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (data.length > 0) yield data.join("\n");
}
