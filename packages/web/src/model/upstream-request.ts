import type { ServerResponse } from "node:http";
import { connect as connectTcp, isIP, Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { UpstreamCallError } from "@hearth/core";
import { ChunkedDecoder } from "./chunked-decoder.js";
import type { SseEventOmitter } from "./sse-event-omitter.js";

/**
 * HTTP/1.1 calls to the model service, written for the streaming path: a plain keep-alive socket
 * per call, the response head parsed once, and the body's chunk framing read but not rebuilt, so a
 * relay can pass the model service's bytes to the client's socket as they came. node:http would
 * run each chunk through its parser, an IncomingMessage stream and a ServerResponse that frames it
 * anew: on a 2-core machine that costs more CPU per stream than the rest of the request, and every
 * callback after a write is time the event loop can be preempted in (bench/README.md, web
 * service, sixth session).
 */

/** An idle connection is closed after this long, before servers close theirs (Node's default is 5 s). */
const IDLE_MS = 4_000;
/**
 * A model service that has not taken a new connection by then (TCP, and TLS where it applies) is
 * unreachable: without this, a host that drops packets holds a call for the kernel's SYN retries
 * (about two minutes). The same as undici's default, which the other services' calls use.
 */
const CONNECT_TIMEOUT_MS = 10_000;
/** A response head larger than this is refused. */
const MAX_HEAD_BYTES = 64 * 1024;
/** Payload runs an iterating reader may fall behind by before the socket is paused. */
const MAX_QUEUED = 16;

interface Origin {
  key: string;
  host: string;
  port: number;
  secure: boolean;
  connectTimeoutMs: number;
}

/** What a plain connection reads the model service's answers into. */
const READ_BUFFER_BYTES = 16 * 1024;

/**
 * A kept-alive connection to the model service. A plain TCP one reads into one buffer of its own,
 * reused from read to read (`onread`), rather than a new Buffer and a trip through a Readable stream
 * per read. So whoever keeps a read's bytes past the call that hands them over copies them; only a
 * relay's write to a client uses them in place, and calls `keepRead` when the write did not go out
 * at once, so that the next read goes into a new buffer. A TLS connection reads as a stream.
 */
class Connection {
  readonly socket: Socket;
  /** Where each read's bytes go: the call in progress, or the pool while the connection is idle. */
  onBytes: (bytes: Buffer) => void = () => {};
  #buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  #renew = false;

  constructor(origin: Origin) {
    if (origin.secure) {
      this.socket = connectTls({
        host: origin.host,
        port: origin.port,
        // SNI names a host, never an address (RFC 6066).
        ...(isIP(origin.host) === 0 ? { servername: origin.host } : {}),
        ALPNProtocols: ["http/1.1"],
      });
      this.socket.on("data", (bytes: Buffer) => this.onBytes(bytes));
    } else {
      this.socket = connectTcp({
        host: origin.host,
        port: origin.port,
        onread: {
          buffer: () => this.#readBuffer(),
          callback: (length, buffer) => {
            this.onBytes((buffer as Buffer).subarray(0, length));
            return true;
          },
        },
      });
    }
    this.socket.setNoDelay(true);
    const socket = this.socket;
    let connected = false;
    socket.once(origin.secure ? "secureConnect" : "connect", () => {
      connected = true;
      socket.setTimeout(0);
    });
    socket.setTimeout(origin.connectTimeoutMs);
    socket.on("timeout", () => {
      if (!connected) socket.destroy(new Error(`no connection within ${origin.connectTimeoutMs / 1000} s`));
    });
  }

  /** The last read's bytes stay referenced (a write not yet flushed): the next read needs a new buffer. */
  keepRead(): void {
    this.#renew = true;
  }

  #readBuffer(): Buffer {
    if (this.#renew) {
      this.#buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      this.#renew = false;
    }
    return this.#buffer;
  }
}

/** Idle keep-alive connections per origin, the most recently used last, each with its listener. */
const idleConnections = new Map<string, Array<{ connection: Connection; forget: () => void }>>();

function takeIdle(origin: Origin): Connection | undefined {
  const idle = idleConnections.get(origin.key);
  while (idle?.length) {
    const { connection, forget } = idle.pop()!;
    const socket = connection.socket;
    socket.off("close", forget);
    socket.off("error", forget);
    socket.off("timeout", forget);
    if (socket.destroyed) continue;
    socket.setTimeout(0);
    return connection;
  }
  return undefined;
}

function putIdle(origin: Origin, connection: Connection): void {
  let idle = idleConnections.get(origin.key);
  if (!idle) {
    idle = [];
    idleConnections.set(origin.key, idle);
  }
  const list = idle;
  const socket = connection.socket;
  const entry = {
    connection,
    forget: () => {
      const index = list.indexOf(entry);
      if (index !== -1) list.splice(index, 1);
      socket.destroy();
    },
  };
  socket.on("close", entry.forget);
  socket.on("error", entry.forget);
  socket.on("timeout", entry.forget);
  // An idle connection has nothing to say: bytes on it mean it cannot be trusted with a call.
  connection.onBytes = entry.forget;
  socket.setTimeout(IDLE_MS);
  socket.resume();
  list.push(entry);
}

function headerLines(headers: Record<string, string>): string {
  let lines = "";
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n]/.test(value))
      throw new TypeError(`invalid header ${JSON.stringify(name)}`);
    lines += `${name}: ${value}\r\n`;
  }
  return lines;
}

/** An upstream call in flight: its response once the head arrives, and a way to stop it. */
export interface UpstreamCall {
  response: Promise<UpstreamResponse>;
  /** Stops the call (the client went away, the service is shutting down); harmless once done. */
  abort(): void;
}

/**
 * POSTs JSON to one endpoint. The URL is parsed and the request head written once, not per call.
 */
export class UpstreamEndpoint {
  readonly url: string;
  readonly #origin: Origin;
  readonly #head: string;

  constructor(
    url: string,
    headers: Record<string, string> = {},
    { connectTimeoutMs = CONNECT_TIMEOUT_MS }: { connectTimeoutMs?: number } = {},
  ) {
    const target = new URL(url);
    const secure = target.protocol === "https:";
    if (!secure && target.protocol !== "http:") throw new TypeError(`unsupported URL ${url}`);
    const host = target.hostname.replace(/^\[|\]$/g, "");
    const port = Number(target.port) || (secure ? 443 : 80);
    this.url = url;
    this.#origin = {
      key: `${secure ? "https" : "http"}://${target.host}`,
      host,
      port,
      secure,
      connectTimeoutMs,
    };
    this.#head =
      `POST ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\n` +
      headerLines({ "content-type": "application/json", ...headers });
  }

  post(body: string, headers: Record<string, string> = {}): UpstreamCall {
    const request = `${this.#head}${headerLines(headers)}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    return new Exchange(this.url, this.#origin, request);
  }
}

/** How a response's body is delimited. */
type Framing =
  | { kind: "chunked"; decoder: ChunkedDecoder }
  | { kind: "length"; remaining: number }
  | { kind: "close" };

/** Receives a body as it arrives, then its end (with the error that cut it short). */
interface BodySink {
  /** A run of payload: `bytes` from `start` to `end`. */
  payload(bytes: Buffer, start: number, end: number): void;
  /** After an arrival's payload runs: the arrival, and where its whole chunks end (chunked only). */
  arrival?(bytes: Buffer, framedEnd: number): void;
  end(error?: Error): void;
}

/** One request and its response on one connection; the connection goes back to the pool after. */
class Exchange implements UpstreamCall {
  readonly response: Promise<UpstreamResponse>;
  readonly #url: string;
  readonly #origin: Origin;
  readonly #request: string;
  #resolve!: (response: UpstreamResponse) => void;
  #reject!: (error: Error) => void;
  #connection!: Connection;
  #reused = false;
  /** Over on this side: stopped by the caller, or its answer refused as invalid. */
  #stopped = false;
  /** The body has ended and the socket is no longer this call's (it may serve another). */
  #released = false;
  /** Response bytes have arrived (an interim answer too): the request reached the server. */
  #answered = false;
  #head: Buffer | undefined;
  #answer: UpstreamResponse | undefined;
  #cause: Error | undefined;

  constructor(url: string, origin: Origin, request: string) {
    this.#url = url;
    this.#origin = origin;
    this.#request = request;
    this.response = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#send(takeIdle(origin));
  }

  abort(): void {
    if (this.#stopped || this.#released) return;
    this.#stopped = true;
    this.#connection.socket.destroy();
  }

  #send(idle: Connection | undefined): void {
    this.#reused = idle !== undefined;
    const connection = idle ?? new Connection(this.#origin);
    this.#connection = connection;
    connection.onBytes = this.#onData;
    const socket = connection.socket;
    socket.on("error", this.#onError);
    socket.on("close", this.#onClose);
    socket.write(this.#request);
  }

  readonly #onData = (bytes: Buffer): void => {
    this.#answered = true;
    if (this.#answer) {
      this.#answer.arrived(bytes);
      return;
    }
    const head = this.#head ? Buffer.concat([this.#head, bytes]) : bytes;
    const headEnd = head.indexOf("\r\n\r\n");
    if (headEnd === -1) {
      if (head.length > MAX_HEAD_BYTES) this.#fail("the model service sent an invalid answer");
      else this.#head = head === bytes ? Buffer.from(bytes) : head;
      return;
    }
    this.#head = undefined;
    const parsed = parseHead(head.toString("latin1", 0, headEnd));
    if (!parsed) {
      this.#fail("the model service sent an invalid answer");
      return;
    }
    const rest = head.subarray(headEnd + 4);
    if (parsed.status < 200) {
      // An interim answer (100 Continue): the real one follows.
      if (rest.length > 0) this.#onData(rest);
      return;
    }
    this.#answer = new UpstreamResponse(this, parsed);
    // Nothing reads the body yet: held until a reader comes, so none of it is lost.
    this.#connection.socket.pause();
    this.#resolve(this.#answer);
    if (rest.length > 0 || parsed.framing.kind === "length") this.#answer.arrived(rest);
  };

  readonly #onError = (error: Error): void => {
    this.#cause = error;
  };

  readonly #onClose = (): void => {
    if (this.#answer) {
      this.#answer.closed(
        this.#stopped
          ? new Error("upstream call stopped")
          : new UpstreamCallError({
              url: this.#url,
              message: "the model service closed the connection before its answer ended",
              cause: this.#cause,
            }),
      );
      return;
    }
    if (this.#stopped) {
      this.#reject(new Error("upstream call stopped"));
      return;
    }
    // A kept-alive connection the server closed while idle, its close not yet seen when the call
    // went out: closed with no byte of an answer, the call is sent once more on a new connection.
    // (A server that read the request and then died without a word looks the same; sent again, the
    // call reaches whatever answers now, as a user pressing retry would.)
    if (this.#reused && !this.#answered) {
      this.#cause = undefined;
      this.#send(undefined);
      return;
    }
    this.#reject(UpstreamCallError.noAnswer({ url: this.#url, service: "model", cause: this.#cause }));
  };

  #fail(message: string): void {
    this.#stopped = true;
    this.#reject(new UpstreamCallError({ url: this.#url, status: 502, message }));
    this.#connection.socket.destroy();
  }

  pause(): void {
    if (!this.#released) this.#connection.socket.pause();
  }

  resume(): void {
    if (!this.#released) this.#connection.socket.resume();
  }

  /** The bytes of the current read are still referenced: the connection reads the next elsewhere. */
  keepRead(): void {
    this.#connection.keepRead();
  }

  /** The body has ended: the connection serves the next call, unless it cannot. */
  finished(reusable: boolean): void {
    if (this.#released) return;
    this.#released = true;
    const connection = this.#connection;
    const socket = connection.socket;
    connection.onBytes = () => {};
    socket.off("error", this.#onError);
    socket.off("close", this.#onClose);
    if (reusable && !this.#stopped && !socket.destroyed) {
      putIdle(this.#origin, connection);
    } else {
      socket.destroy();
    }
  }
}

/** A response head as the body's reader needs it. */
interface Head {
  status: number;
  headers: Record<string, string>;
  framing: Framing;
  /** The connection may serve another call once the body has ended. */
  reusable: boolean;
}

function parseHead(text: string): Head | undefined {
  const lines = text.split("\r\n");
  const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? "");
  if (!statusLine) return undefined;
  const headers: Record<string, string> = Object.create(null);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    // No space before the colon (RFC 9112, section 5.1).
    if (colon <= 0 || /\s/.test(line[colon - 1]!)) return undefined;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const status = Number(statusLine[2]);
  const keepAlive = statusLine[1] === "1" && !/\bclose\b/i.test(headers.connection ?? "");
  const transferEncoding = headers["transfer-encoding"];
  let framing: Framing;
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    framing = { kind: "length", remaining: 0 };
  } else if (transferEncoding !== undefined) {
    if (!/(?:^|,)\s*chunked\s*$/i.test(transferEncoding)) framing = { kind: "close" };
    else framing = { kind: "chunked", decoder: new ChunkedDecoder() };
  } else if (headers["content-length"] !== undefined) {
    if (!/^\d{1,15}$/.test(headers["content-length"])) return undefined;
    framing = { kind: "length", remaining: Number(headers["content-length"]) };
  } else {
    framing = { kind: "close" };
  }
  return { status, headers, framing, reusable: keepAlive && framing.kind !== "close" };
}

/**
 * A response from the model service, its head read. The body is read once, in one of three ways:
 * whole (`text`), as payload bytes (iterating), or relayed to a client (`relay`).
 */
export class UpstreamResponse implements AsyncIterable<Buffer> {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly #exchange: Exchange;
  readonly #framing: Framing;
  readonly #reusable: boolean;
  #sink: BodySink | undefined;
  /** Bytes that arrived before a reader came. */
  #held: Buffer[] = [];
  /** How the connection closed, when that happened before a reader came. */
  #closedWith: Error | undefined;
  #state: "open" | "complete" | "failed" = "open";

  constructor(exchange: Exchange, head: Head) {
    this.#exchange = exchange;
    this.status = head.status;
    this.headers = head.headers;
    this.#framing = head.framing;
    this.#reusable = head.reusable;
  }

  /** True once the whole body has arrived. */
  get complete(): boolean {
    return this.#state === "complete";
  }

  /** @internal Bytes of the body from the connection. */
  arrived(bytes: Buffer): void {
    const sink = this.#sink;
    if (this.#state !== "open") return;
    if (!sink) {
      this.#held.push(Buffer.from(bytes));
      return;
    }
    const framing = this.#framing;
    let framedEnd = bytes.length;
    let end = -1;
    if (framing.kind === "chunked") {
      try {
        framing.decoder.push(bytes, sink.payload);
      } catch (error) {
        this.#fail(error as Error);
        return;
      }
      framedEnd = framing.decoder.framedEnd;
      end = framing.decoder.end;
    } else if (framing.kind === "length") {
      const take = Math.min(framing.remaining, bytes.length);
      if (take > 0) sink.payload(bytes, 0, take);
      framing.remaining -= take;
      if (framing.remaining === 0) end = take;
    } else {
      sink.payload(bytes, 0, bytes.length);
    }
    if (end !== -1) this.#state = "complete";
    sink.arrival?.(bytes, framedEnd);
    if (end !== -1) {
      // Bytes after the body: a server that does not speak HTTP/1.1 as we do; not reused.
      this.#exchange.finished(this.#reusable && end === bytes.length);
      sink.end();
    }
  }

  /** @internal The connection closed before the body's end. */
  closed(error: Error): void {
    if (this.#state !== "open") return;
    if (!this.#sink) {
      this.#closedWith = error;
    } else if (this.#framing.kind === "close" && error instanceof UpstreamCallError && !error.cause) {
      // A body delimited by the connection's end has simply ended (not reset).
      this.#state = "complete";
      this.#sink.end();
    } else {
      this.#fail(error);
    }
  }

  #fail(error: Error): void {
    this.#state = "failed";
    this.#exchange.finished(false);
    this.#sink?.end(error);
  }

  #read(sink: BodySink): void {
    if (this.#sink) throw new Error("the response body is already being read");
    this.#sink = sink;
    const held = this.#held;
    this.#held = [];
    // Resumed before the held bytes are replayed, so that a pause the reader asks for meanwhile holds.
    if (!this.#closedWith) this.#exchange.resume();
    for (const bytes of held) this.arrived(bytes);
    if (this.#state === "open" && this.#closedWith) this.closed(this.#closedWith);
  }

  /** The whole body as text (an error answer, a reply that is not streamed). */
  text(): Promise<string> {
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      this.#read({
        payload: (bytes, start, end) => parts.push(Buffer.copyBytesFrom(bytes, start, end - start)),
        end: (error) => (error ? reject(error) : resolve(Buffer.concat(parts).toString("utf8"))),
      });
    });
  }

  /** The body's payload as it arrives; leaving the loop early closes the connection. */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const queue: Buffer[] = [];
    let ended = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    this.#read({
      payload: (bytes, start, end) => {
        if (end > start) queue.push(Buffer.copyBytesFrom(bytes, start, end - start));
        if (queue.length > MAX_QUEUED) this.#exchange.pause();
        wake?.();
      },
      end: (error) => {
        ended = true;
        failure = error;
        wake?.();
      },
    });
    return {
      next: async (): Promise<IteratorResult<Buffer>> => {
        while (queue.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        const value = queue.shift();
        if (value) {
          if (queue.length === MAX_QUEUED / 2) this.#exchange.resume();
          return { value, done: false };
        }
        if (failure) throw failure;
        return { value: undefined, done: true };
      },
      return: async (): Promise<IteratorResult<Buffer>> => {
        if (!this.complete) this.#exchange.abort();
        return { value: undefined, done: true };
      },
    };
  }

  /**
   * Writes the body to a client's response as it arrives, then ends the response; the response's
   * status and headers are set, and go out with the first bytes. With no `transform`, a chunked body
   * goes to an HTTP/1.1 client's socket as the bytes came, whole chunks only (their framing is
   * already what the client reads; a chunk cut off by a broken connection is not sent); otherwise
   * each run of payload goes through `transform` (undefined: nothing to send yet) and
   * `target.write`, and `flush` gives what the transform still holds at the end. `onPayload` sees
   * every run. The upstream is paused while the client's socket buffer is full. Resolves when the
   * body has ended, failed or been stopped (with the error that cut it short); what was sent stays
   * sent. A body that broke off does not end the client's response as if it were complete: what
   * `onBroken` gives is sent, then the connection is closed without the chunked body's last chunk,
   * so that an HTTP client sees the body cut short too.
   */
  relay(target: ServerResponse, options: RelayOptions = {}): Promise<Error | undefined> {
    const { transform, flush, onPayload, onBroken, omit } = options;
    if (!target.headersSent) target.writeHead(target.statusCode);
    // A connection's own socket (not a test's stand-in), and chunked framing (set by writeHead: an
    // HTTP/1.1 client and no content-length).
    const socket = target.socket instanceof Socket ? target.socket : null;
    const passThrough =
      !transform && this.#framing.kind === "chunked" && socket !== null && target.chunkedEncoding;
    /**
     * Passing the chunks through given up, as an event to omit came: from there on the payload is
     * written as chunks of the response's own.
     */
    let reframed = false;
    let waiting = false;
    const resume = () => {
      waiting = false;
      this.#exchange.resume();
    };
    const write = (out: Buffer | string) => {
      if (target.writableEnded) return;
      const raw = passThrough && !reframed;
      if (!(raw ? socket!.write(out) : target.write(out)) && !waiting) {
        waiting = true;
        this.#exchange.pause();
        (raw ? socket! : target).once("drain", resume);
      }
    };
    // A client that went away (before the relay began, or during it) wants none of the rest.
    const gone = () => {
      if (!this.complete) this.#exchange.abort();
    };
    target.once("close", gone);
    if (target.destroyed) gone();
    let headSent = false;
    /** The start of a chunk whose end is in bytes not yet arrived. */
    const unfinished: Buffer[] = [];
    /** With `omit`: the payload in `unfinished`, and the payload runs of the arrival being read. */
    const unfinishedPayload: Buffer[] = [];
    const runs: number[] = [];
    let runCount = 0;
    const passOn = (bytes: Buffer, framedEnd: number) => {
      if (reframed) return;
      if (omit) {
        // The payload of a chunk still unfinished, in case an omitted event makes it ours to frame.
        if (framedEnd > 0 && unfinishedPayload.length > 0) unfinishedPayload.length = 0;
        const last = runCount - 2;
        if (framedEnd < bytes.length && !this.complete && last >= 0 && runs[last]! >= framedEnd)
          unfinishedPayload.push(Buffer.copyBytesFrom(bytes, runs[last]!, runs[last + 1]! - runs[last]!));
        runCount = 0;
      }
      if (framedEnd === 0) {
        if (!this.complete) unfinished.push(Buffer.from(bytes));
        return;
      }
      // A client's socket that already holds writes keeps this one too: it gets a copy, so that a
      // stalled client pins at most one read buffer, not one per read.
      const backlog = socket!.writableLength > 0 || socket!.writableCorked > 0;
      // The head goes out with the first chunk, and the end with the last, each in one write;
      // a lone chunk is written as it is (a corked socket would gather it into a writev).
      const gather = !headSent || unfinished.length > 0 || this.complete;
      if (gather) socket!.cork();
      if (!headSent) {
        target.flushHeaders();
        headSent = true;
      }
      for (const piece of unfinished) write(piece);
      unfinished.length = 0;
      const chunks = framedEnd === bytes.length ? bytes : bytes.subarray(0, framedEnd);
      write(backlog ? Buffer.from(chunks) : chunks);
      if (this.complete) target.end();
      else if (framedEnd < bytes.length) unfinished.push(Buffer.from(bytes.subarray(framedEnd)));
      if (gather) socket!.uncork();
      // Written in place and not yet gone out: the next read must not go over those bytes.
      if (!backlog && socket!.writableLength > 0) this.#exchange.keepRead();
    };
    /**
     * Gives up passing chunks through: what the client has not been sent of the payload so far
     * (the chunk still unfinished, the arrival's runs before `bytes`) goes out framed anew.
     */
    const reframe = (bytes: Buffer) => {
      reframed = true;
      if (!headSent) {
        target.flushHeaders();
        headSent = true;
      }
      unfinished.length = 0;
      for (const piece of unfinishedPayload) write(piece);
      unfinishedPayload.length = 0;
      for (let i = 0; i < runCount; i += 2)
        write(Buffer.copyBytesFrom(bytes, runs[i]!, runs[i + 1]! - runs[i]!));
      runCount = 0;
    };
    /** Sends a run of payload that is not passed through as chunks. */
    const send = (bytes: Buffer, start: number, end: number) => {
      // A transform reads the payload at once; a write may keep it, so it gets a copy.
      let out = transform
        ? transform(bytes.subarray(start, end))
        : Buffer.copyBytesFrom(bytes, start, end - start);
      // A transform that hands back (part of) what it was given: a write may outlive the read.
      if (Buffer.isBuffer(out) && out.buffer === bytes.buffer) out = Buffer.from(out);
      if (out !== undefined && out.length > 0) write(out);
    };
    return new Promise((resolve) => {
      this.#read({
        payload: (bytes, start, end) => {
          onPayload?.(bytes, start, end);
          if (end === start) return;
          if (omit) {
            if (omit.pass(bytes, start, end)) {
              if (!passThrough || reframed) send(bytes, start, end);
              else {
                runs[runCount++] = start;
                runs[runCount++] = end;
              }
            } else {
              if (passThrough && !reframed) reframe(bytes);
              omit.cut(bytes, start, end, send);
            }
            return;
          }
          if (passThrough) return;
          send(bytes, start, end);
        },
        ...(passThrough ? { arrival: passOn } : {}),
        end: (error) => {
          target.off("drain", resume);
          socket?.off("drain", resume);
          target.off("close", gone);
          const held = omit?.flush();
          if (held) send(held, 0, held.length);
          const rest = flush?.();
          if (rest) write(rest);
          if (error && !target.destroyed && !target.writableEnded) {
            const last = onBroken?.(error);
            // Framed by the response (a chunk of its own), after the whole chunks passed through.
            if (last) target.write(last);
            cut(target);
          } else if (!target.writableEnded) target.end();
          resolve(error);
        },
      });
    });
  }
}

/**
 * Closes a response's connection once what was written has gone out, without ending the response:
 * a chunked body lacks its last chunk (and a body with a length its rest), which HTTP clients,
 * proxies included, report as an incomplete answer rather than a complete one.
 */
function cut(target: ServerResponse): void {
  const socket = target.socket;
  if (!socket) {
    target.destroy();
    return;
  }
  socket.end(() => socket.destroy());
}

export interface RelayOptions {
  /**
   * Changes each run of payload before it is sent (undefined or empty: nothing to send yet). The
   * run's bytes are only valid during the call.
   */
  transform?: (payload: Buffer) => Buffer | string | undefined;
  /** What the transform still holds when the body ends or breaks off. */
  flush?: () => string | undefined;
  /** Sees each run of payload as it arrives: `bytes` from `start` to `end`. */
  onPayload?: (bytes: Buffer, start: number, end: number) => void;
  /**
   * What to send last when the body broke off (the model service went away mid-answer, the call
   * was stopped for a shutdown), before the client's connection is cut; not called when the client
   * itself went away.
   */
  onBroken?: (error: Error) => string | undefined;
  /**
   * SSE events left out of what is sent (`onPayload` still sees them): chunks are passed through
   * until one comes, and the rest of the body is framed anew.
   */
  omit?: SseEventOmitter;
}
