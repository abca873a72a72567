import type { ServerResponse } from "node:http";
import type { FastifyReply } from "fastify";

/**
 * A streamed reply written straight to the socket: Server-Sent Events or NDJSON, framed in this one
 * place. Writes respect backpressure, and `closed` tells the producer the client went away.
 */
export class ReplyStream {
  readonly #raw: ServerResponse;
  readonly #framing: "sse" | "ndjson";
  #ended = false;
  readonly closed: Promise<void>;
  readonly signal: AbortSignal;

  constructor(reply: FastifyReply, framing: "sse" | "ndjson", headers: Record<string, string> = {}) {
    reply.hijack();
    this.#raw = reply.raw;
    this.#framing = framing;
    const controller = new AbortController();
    this.signal = controller.signal;
    this.closed = new Promise((resolve) => {
      this.#raw.once("close", () => {
        if (!this.#raw.writableFinished) controller.abort(new Error("client disconnected"));
        resolve();
      });
    });
    this.#raw.writeHead(200, {
      "content-type": framing === "sse" ? "text/event-stream; charset=utf-8" : "application/x-ndjson",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      // nginx must not buffer streamed answers (deploy/nginx relies on this too).
      "x-accel-buffering": "no",
      ...headers,
    });
    this.#raw.flushHeaders();
  }

  get ended(): boolean {
    return this.#ended || this.#raw.destroyed;
  }

  /** Sends one JSON event (an SSE `data:` line, or one NDJSON line). */
  async send(payload: unknown, event?: string): Promise<void> {
    const json = typeof payload === "string" ? payload : JSON.stringify(payload);
    await this.#write(
      this.#framing === "sse" ? `${event ? `event: ${event}\n` : ""}data: ${json}\n\n` : `${json}\n`,
    );
  }

  /** An SSE comment line (ignored by clients; used for queue positions and keep-alives). */
  async comment(text: string): Promise<void> {
    if (this.#framing === "sse") await this.#write(`: ${text.replace(/\n/g, " ")}\n\n`);
  }

  async #write(chunk: string): Promise<void> {
    if (this.ended) return;
    if (!this.#raw.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#raw.off("drain", done);
          this.#raw.off("close", done);
          resolve();
        };
        this.#raw.once("drain", done);
        this.#raw.once("close", done);
      });
    }
  }

  end(): void {
    if (this.ended) return;
    this.#ended = true;
    this.#raw.end();
  }
}
