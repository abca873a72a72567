import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { UpstreamCallError } from "@hearth/core";

// Keep-alive pools to the model service: a stream's first token should not wait for a new TCP
// (or TLS) connection. node:http hands us Buffers straight from the socket, with none of the
// WHATWG-stream machinery of fetch on the hot path. No socket limit: each open stream holds one.
const httpAgent = new HttpAgent({
  keepAlive: true,
  maxSockets: Number.POSITIVE_INFINITY,
  maxFreeSockets: 1024,
});
const httpsAgent = new HttpsAgent({
  keepAlive: true,
  maxSockets: Number.POSITIVE_INFINITY,
  maxFreeSockets: 1024,
});

/** An upstream call in flight: its response once the headers arrive, and a way to stop it. */
export interface UpstreamCall {
  response: Promise<IncomingMessage>;
  /** Stops the call (the client went away, the service is shutting down); harmless once done. */
  abort(): void;
}

/**
 * POSTs JSON to one endpoint. The URL is parsed and the request options built once, not per
 * request; calls are stopped by destroying the request rather than through an AbortSignal, which
 * costs an AbortController and listeners on every call.
 */
export class UpstreamEndpoint {
  readonly url: string;
  readonly #secure: boolean;
  readonly #options: { host: string; port: number; path: string; agent: HttpAgent };
  readonly #headers: Record<string, string>;

  constructor(url: string, headers: Record<string, string> = {}) {
    const target = new URL(url);
    this.url = url;
    this.#secure = target.protocol === "https:";
    this.#options = {
      host: target.hostname.replace(/^\[|\]$/g, ""),
      port: Number(target.port) || (this.#secure ? 443 : 80),
      path: `${target.pathname}${target.search}`,
      agent: this.#secure ? httpsAgent : httpAgent,
    };
    this.#headers = { "content-type": "application/json", ...headers };
  }

  post(body: string, headers: Record<string, string> = {}): UpstreamCall {
    let aborted = false;
    let req: ClientRequest;
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req = (this.#secure ? httpsRequest : httpRequest)(
        {
          ...this.#options,
          method: "POST",
          headers: { ...this.#headers, ...headers, "content-length": Buffer.byteLength(body) },
        },
        resolve,
      );
      req.on("error", (error) =>
        reject(
          aborted
            ? error
            : new UpstreamCallError({
                url: this.url,
                message: "the model service did not answer",
                cause: error,
              }),
        ),
      );
      req.end(body);
    });
    return {
      response,
      abort() {
        aborted = true;
        req.destroy(new Error("upstream call stopped"));
      },
    };
  }
}

export async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
