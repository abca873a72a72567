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
  /**
   * Writes made together (in one run of the microtask queue) leave in one syscall: the response is
   * corked until the next tick, which comes before the event loop moves on to timers or I/O.
   */
  #corked = false;
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
    // Streamed events are small and latency-bound: never hold them back for Nagle's algorithm.
    this.#raw.socket?.setNoDelay(true);
    this.#raw.writeHead(200, {
      "content-type": framing === "sse" ? "text/event-stream; charset=utf-8" : "application/x-ndjson",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      // nginx must not buffer streamed answers (deploy/nginx relies on this too).
      "x-accel-buffering": "no",
      ...headers,
    });
    // Headers go out with whatever is written with them (often the first event), or alone when
    // nothing is (a queued request's client sees them at once).
    this.#cork();
    this.#raw.flushHeaders();
  }

  #cork(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#raw.cork();
    process.nextTick(this.#flush);
  }

  readonly #flush = (): void => {
    if (!this.#corked) return;
    this.#corked = false;
    this.#raw.uncork();
  };

  get ended(): boolean {
    return this.#ended || this.#raw.destroyed;
  }

  /**
   * Sends one JSON event (an SSE `data:` line, or one NDJSON line); a string is sent as already
   * serialised JSON. The promise is an already settled one unless the socket pushes back.
   */
  send(payload: unknown, event?: string): Promise<void> {
    const json = typeof payload === "string" ? payload : JSON.stringify(payload);
    return this.#write(
      this.#framing === "sse" ? `${event ? `event: ${event}\n` : ""}data: ${json}\n\n` : `${json}\n`,
    );
  }

  /** An SSE comment line (ignored by clients; used for queue positions and keep-alives). */
  comment(text: string): Promise<void> {
    return this.#framing === "sse" ? this.#write(`: ${text.replace(/\n/g, " ")}\n\n`) : settled;
  }

  #write(chunk: string): Promise<void> {
    if (this.ended) return settled;
    this.#cork();
    if (this.#raw.write(chunk)) return settled;
    // Pushed back: let what is buffered go now, and wait until the socket drains.
    this.#flush();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#raw.off("drain", done);
        this.#raw.off("close", done);
        resolve();
      };
      this.#raw.once("drain", done);
      this.#raw.once("close", done);
    });
  }

  end(): void {
    if (this.ended) {
      this.#flush();
      return;
    }
    this.#ended = true;
    this.#flush();
    this.#raw.end();
  }
}

const settled = Promise.resolve();
