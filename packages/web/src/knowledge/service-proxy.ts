import { type HearthServiceName, UpstreamCallError } from "@hearth/core";

/**
 * Forwards requests to another Hearth service as they are (bodies, uploads, status codes), with the
 * service token when one is configured. Typed calls use the clients in @hearth/contracts instead.
 */
export class ServiceProxy {
  constructor(
    readonly baseUrl: string,
    readonly token: string | undefined,
    readonly name: HearthServiceName,
  ) {}

  async request(
    method: string,
    path: string,
    init: {
      body?: unknown;
      /**
       * How long to wait for the answer (its status and headers; 30 s by default). Its body then
       * takes as long as its reader needs: a document download to a slow client is not cut off.
       */
      timeoutMs?: number;
      headers?: Record<string, string>;
      rawBody?: ReadableStream | string;
      signal?: AbortSignal;
    } = {},
  ): Promise<Response> {
    const url = `${this.baseUrl.replace(/\/$/, "")}${path}`;
    const timeoutMs = init.timeoutMs ?? 30_000;
    const unanswered = new AbortController();
    const timer = setTimeout(
      () => unanswered.abort(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      return await fetch(url, {
        method,
        headers: {
          ...(this.token ? { "x-hearth-service-token": this.token } : {}),
          ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
          ...init.headers,
        },
        body: (init.rawBody as never) ?? (init.body !== undefined ? JSON.stringify(init.body) : undefined),
        signal: init.signal ?? unanswered.signal,
        ...(init.rawBody ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch (error) {
      throw UpstreamCallError.noAnswer({ url, service: this.name, cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}
