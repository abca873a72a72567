import { randomUUID, timingSafeEqual } from "node:crypto";
import { type IncomingMessage, maxHeaderSize, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import Fastify, {
  type ConnectionError,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { Counter, Histogram } from "prom-client";
import type { HearthError } from "../errors/hearth-error.js";
import { HearthError as HearthErrorClass } from "../errors/hearth-error.js";
import { logFailure } from "../logging/failure-log.js";
import { lazyChildLogger } from "../logging/lazy-child-logger.js";
import { createMetricsRegistry, LATENCY_BUCKETS_SECONDS } from "../metrics/metrics.js";
import { echoed } from "./echoed.js";
import { toHearthError } from "./error-mapping.js";
import { isLoopbackHostHeader, isLoopbackListenAddress, isLoopbackOrigin } from "./loopback.js";

export type ServiceName = "model" | "web" | "search" | "knowledge";

/**
 * This process's own id, in every service's `/readyz` answer: services that answer the same id run
 * in one process (`hearth up`), so their memory is one figure, not one per service.
 */
export const PROCESS_INSTANCE = randomUUID();

export type Readiness = { ready: boolean; reason?: string };

/** Formats an error body for a request; services speaking other APIs (Ollama, OpenAI) supply their own. */
export type ErrorBodyFormatter = (error: HearthError, request: FastifyRequest) => unknown;

export interface ServiceAppOptions {
  service: ServiceName;
  logger: Logger;
  bodyLimitBytes?: number;
  /**
   * Asked by GET /readyz; ready means the service can serve requests now. A check that has not
   * answered within READINESS_TIMEOUT_MS (a database link gone silent) is not ready.
   */
  readiness?: () => Readiness | Promise<Readiness>;
  formatError?: ErrorBodyFormatter;
  /** When set, every route but the health checks requires this token (hybrid deployments). */
  serviceToken?: string;
  /** Routes, relative to the root, that skip the service token (the web service's own auth handles them). */
  publicPrefixes?: string[];
  /**
   * Exact routes that, as the health checks, tell nothing and are answered to anyone: they skip the
   * service token and the loopback Host check (the model service's `/`, "Ollama is running").
   */
  publicPaths?: string[];
  /**
   * When set, only the routes under these prefixes require the service token (the web service:
   * its own routes have their own sign-in and keys; its /metrics, like the other services', needs
   * the token).
   */
  serviceTokenPrefixes?: string[];
  /**
   * Reads every request body as JSON whatever its Content-Type (or none), as Ollama does: its
   * documented `curl -d '{...}'` sends application/x-www-form-urlencoded. A service that allows
   * this must stop cross-site browser requests another way (the model service checks `Origin`).
   */
  jsonWhateverContentType?: boolean;
  /**
   * The address the service listens on. Listening on loopback without a service token, it answers
   * only requests addressed to a loopback name or address (localhost, 127.0.0.0/8, [::1]), as
   * Ollama does: otherwise a page on evil.example whose name is made to resolve to 127.0.0.1 (DNS
   * rebinding) reads and drives the service from the user's browser, with `Host: evil.example`.
   * With a token, the token is the protection, and other services reach this one by container and
   * cluster names (`knowledge:8083`); listening on another address, the operator has opened it to
   * the network by every name it has there (Ollama's OLLAMA_HOST=0.0.0.0).
   */
  listenHost?: string;
  /**
   * Refuses every request carrying an `Origin` other than a loopback page: a service that no
   * browser page uses (knowledge, search) is then out of reach of cross-site forms and `fetch`.
   */
  loopbackOriginsOnly?: boolean;
  /**
   * The longest a request may take to arrive, headers and body, in seconds (Node's requestTimeout;
   * default 300): one still arriving then (a body promised by its Content-Length and never sent) is
   * answered 408 REQUEST_TIMEOUT and its connection closed. Only the receiving is timed: an answer,
   * a long stream, takes as long as it takes.
   */
  requestTimeoutSeconds?: number;
  /**
   * Which peers are reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed:
   * `request.ip` and `request.protocol` then come from them (Fastify's `trustProxy`). Unset: none.
   */
  trustProxy?: (address: string, hop: number) => boolean;
}

export interface ServiceApp {
  app: FastifyInstance;
  metrics: Registry;
  /** Aborted when the service begins shutting down, so that open streams can finish early. */
  shutdownSignal: AbortSignal;
}

export const defaultErrorBody = (error: HearthError) => ({
  error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
});

/**
 * Builds a service's Fastify app with what every Hearth service shares: health and readiness
 * checks, Prometheus metrics, strict UTF-8 JSON bodies, one error format with stable codes, a time
 * for requests to arrive in, and a shutdown signal for streams. Listening is separate
 * (listenService), so tests run apps in process.
 */
export function createServiceApp(options: ServiceAppOptions): ServiceApp {
  const metrics = createMetricsRegistry(options.service);
  const shutdown = new AbortController();
  const formatError = options.formatError ?? defaultErrorBody;
  const failures = failureLog();
  const requestTimeoutMs = Math.round(
    (options.requestTimeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_SECONDS) * 1000,
  );
  const requests = new Counter({
    name: "hearth_http_requests_total",
    help: "HTTP requests answered, by route and status",
    labelNames: ["method", "route", "status"],
    registers: [metrics],
  });
  const duration = new Histogram({
    name: "hearth_http_request_duration_seconds",
    help: "Time from request to the end of the response",
    labelNames: ["method", "route"],
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [metrics],
  });
  const record = (request: FastifyRequest, reply: FastifyReply, status: string) => {
    const route = request.routeOptions.url ?? "unmatched";
    requests.inc({ method: request.method, route, status });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  };
  const receiving = new WeakMap<Socket, RequestOnConnection>();
  // Replies whose request was answered on its socket (a 408): counted there, under that status.
  const answeredOnSocket = new WeakSet<FastifyReply>();
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes ?? 8 * 1024 * 1024,
    // Per-request lines would log every chat and search; metrics count requests instead.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: "idle",
    return503OnClosing: true,
    childLoggerFactory: lazyChildLogger,
    // Unique across processes (replicas, restarts), so a log line's reqId and a client's
    // x-request-id find one request; never taken from the client.
    genReqId: () => `req_${randomUUID()}`,
    // A URL the router cannot read (a malformed percent-encoding: /v1/models/%FF) is refused as any
    // other request is, in the format of the API it was sent to, not in Fastify's own.
    frameworkErrors: (error, request, reply) =>
      sendError(reply, request, toHearthError(error), formatError, failures),
    requestTimeout: requestTimeoutMs,
    http: {
      // Node ends a request still arriving at the later of its headers' time and its whole time:
      // the headers' is kept within the whole's. Late requests are looked for every 30 s (Node's),
      // or four times within a shorter time.
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs),
      connectionsCheckingInterval: Math.min(30_000, Math.ceil(requestTimeoutMs / 4)),
    },
    clientErrorHandler: (error, socket) =>
      answerUnreceived(
        error,
        socket,
        receiving.get(socket),
        formatError,
        requestTimeoutMs,
        (latest, status) => {
          answeredOnSocket.add(latest.reply);
          record(latest.request, latest.reply, String(status));
        },
      ),
    ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
  });

  // First of the hooks, so that a request refused by the next ones is known too: to what a failure
  // to receive the rest of its body answers, and to the count of responses left.
  app.addHook("onRequest", async (request, reply) => {
    receiving.set(request.raw.socket, { request, reply });
    // A response its client left before it ended (a stopped stream: often the longest answers) never
    // reaches onResponse: it is counted as nginx logs it, 499, and timed to when the client left.
    reply.raw.once("close", () => {
      if (!reply.raw.writableEnded && !reply.raw.errored && !answeredOnSocket.has(reply))
        record(request, reply, CLIENT_CLOSED_REQUEST);
    });
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    if (reply.statusCode < 500 && !HEALTH_CHECKS.includes(route)) failures.answered();
    record(request, reply, String(reply.statusCode));
  });

  // JSON bodies must be valid UTF-8: JSON.parse would silently turn bad bytes into U+FFFD.
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const parseJson = (body: Buffer, done: (error: Error | null, value: unknown) => void) => {
    let text: string;
    try {
      text = decoder.decode(body);
    } catch {
      done(new HearthErrorClass("INVALID_ENCODING", "The request body is not valid UTF-8"), undefined);
      return;
    }
    // An empty body is no body: generic clients and fetch wrappers send a JSON Content-Type on every
    // request, a DELETE's too. A route that needs a body refuses the missing one itself.
    if (text.trim() === "") {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(new HearthErrorClass("INVALID_JSON", `Invalid JSON: ${(error as Error).message}`), undefined);
    }
  };
  // Fastify reads text/plain as a string of its own accord; a JSON API refuses it as any other
  // type but JSON (415), unless it reads every body as JSON.
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser(
    ["application/json", "application/*+json"],
    { parseAs: "buffer" },
    (_req, body, done) => parseJson(body as Buffer, done),
  );
  if (options.jsonWhateverContentType) {
    app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) =>
      parseJson(body as Buffer, done),
    );
  }
  // A compressed body (Content-Encoding: gzip, deflate, br) is refused, not read as the compressed
  // bytes it is (which are no UTF-8): decoded, a few kilobytes would expand past the body limit
  // unless every reader of a body (JSON, multipart uploads, relays) held the decoded size. The
  // answer names the one coding taken, as RFC 7694 asks.
  app.addHook("preParsing", async (request, reply) => {
    const encoding = request.headers["content-encoding"];
    if (encoding === undefined || encoding.trim().toLowerCase() === "identity") return;
    reply.header("accept-encoding", "identity");
    throw new HearthErrorClass(
      "UNSUPPORTED_CONTENT_ENCODING",
      `The request body is compressed (Content-Encoding: ${encoding}), which is not accepted: send it uncompressed`,
    );
  });

  const publicPaths = [...HEALTH_CHECKS, ...(options.publicPaths ?? [])];
  const isPublicPath = (request: FastifyRequest) => publicPaths.includes(routePath(request));

  app.setErrorHandler((error, request, reply) =>
    sendError(reply, request, toHearthError(error), formatError, failures),
  );
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      request,
      new HearthErrorClass(
        "ROUTE_NOT_FOUND",
        `No route for ${request.method} ${echoed(request.url.split("?")[0]!)}`,
      ),
      formatError,
      failures,
    ),
  );

  if (
    options.listenHost !== undefined &&
    isLoopbackListenAddress(options.listenHost) &&
    !options.serviceToken
  ) {
    app.addHook("onRequest", async (request) => {
      const host = request.headers.host;
      // Health checks (and other public paths) tell nothing; a probe may address the service by any name.
      if (host === undefined || isLoopbackHostHeader(host) || isPublicPath(request)) return;
      throw new HearthErrorClass(
        "HOST_NOT_ALLOWED",
        `Requests addressed to ${host} are not answered: without a service token (HEARTH_SERVICE_TOKEN) the ${options.service} service answers only requests to localhost, 127.0.0.1 or [::1]`,
      );
    });
  }
  if (options.loopbackOriginsOnly) {
    app.addHook("onRequest", async (request) => {
      const origin = request.headers.origin;
      if (origin === undefined || isLoopbackOrigin(origin)) return;
      throw new HearthErrorClass(
        "ORIGIN_NOT_ALLOWED",
        `The ${options.service} service answers no web page; requests from ${origin} are refused`,
      );
    });
  }

  if (options.serviceToken) {
    const expected = Buffer.from(options.serviceToken);
    const publicPrefixes = [...HEALTH_CHECKS, ...(options.publicPrefixes ?? [])];
    const tokenPrefixes = options.serviceTokenPrefixes;
    app.addHook("onRequest", async (request) => {
      const path = routePath(request);
      if (isPublicPath(request) || publicPrefixes.some((prefix) => path.startsWith(prefix))) return;
      if (tokenPrefixes && !tokenPrefixes.some((prefix) => path.startsWith(prefix))) return;
      // A browser's CORS preflight never carries credentials: answered (or refused) by the service's
      // origin policy, it runs nothing, and the request it precedes must still present the token.
      if (request.method === "OPTIONS" && request.headers["access-control-request-method"] !== undefined)
        return;
      const header =
        request.headers["x-hearth-service-token"] ?? request.headers.authorization?.replace(/^Bearer /i, "");
      const presented = Buffer.from(typeof header === "string" ? header : "");
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
        throw new HearthErrorClass("UNAUTHORIZED", "A valid service token is required");
      }
    });
  }

  app.get("/healthz", async () => ({ status: "ok", service: options.service }));
  app.get("/readyz", async (_request, reply) => {
    if (shutdown.signal.aborted)
      return reply.code(503).send({ status: "stopping", service: options.service });
    const readiness = options.readiness ? await withinReadinessTimeout(options.readiness) : { ready: true };
    return reply.code(readiness.ready ? 200 : 503).send({
      status: readiness.ready ? "ready" : "not-ready",
      service: options.service,
      instance: PROCESS_INSTANCE,
      reason: readiness.reason,
    });
  });
  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", metrics.contentType);
    return metrics.metrics();
  });

  // A connection that has sent no request yet (a browser's preconnect, a TCP probe) is not idle to
  // Node's closeIdleConnections: it would hold close() until headersTimeout, about 70 s.
  const silent = new Set<Socket>();
  app.server.on("connection", (socket: Socket) => {
    silent.add(socket);
    socket.once("close", () => silent.delete(socket));
  });
  app.server.on("request", (request: IncomingMessage) => silent.delete(request.socket));

  app.addHook("preClose", async () => {
    shutdown.abort(new Error("service shutting down"));
    for (const socket of silent) socket.destroy();
  });

  return { app, metrics, shutdownSignal: shutdown.signal };
}

const HEALTH_CHECKS = ["/healthz", "/readyz"];

/** The status a response its client left is counted under (nginx's "client closed request"). */
const CLIENT_CLOSED_REQUEST = "499";

/** How long a request may take to arrive when its service says no other time (requestTimeoutSeconds). */
const DEFAULT_REQUEST_TIMEOUT_SECONDS = 300;

/** How long a request's headers may take to arrive: Node's own time. */
const HEADERS_TIMEOUT_MS = 60_000;

/** The latest request a connection has sent (its headers read), and its reply. */
type RequestOnConnection = { request: FastifyRequest; reply: FastifyReply };

/**
 * Answers a request Node could not receive (Fastify's clientErrorHandler) and closes its connection:
 * one still arriving when its time ran out (408 REQUEST_TIMEOUT), with headers larger than Node
 * reads (431) or that is not HTTP (400 MALFORMED_REQUEST). A request whose headers had arrived is
 * answered in its route's format, another in Hearth's own. Nothing is written over an answer begun
 * (one given before the body arrived, a request refused on its headers: 401, 413, has had its
 * answer), or while the latest request, arrived whole, is still being answered (what failed is then
 * the connection's next request). `answeredLatest` is told when the latest request was answered
 * here, with its status: its reply never ends.
 */
function answerUnreceived(
  error: ConnectionError,
  socket: Socket,
  latest: RequestOnConnection | undefined,
  format: ErrorBodyFormatter,
  requestTimeoutMs: number,
  answeredLatest: (latest: RequestOnConnection, status: number) => void,
): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const receivingBody = latest && !latest.request.raw.complete ? latest : undefined;
  const answerable = receivingBody
    ? !receivingBody.reply.raw.headersSent
    : latest === undefined || latest.reply.raw.writableEnded;
  if (answerable && socket.writable) {
    const failure = unreceivedError(error, receivingBody !== undefined, requestTimeoutMs);
    const body = JSON.stringify(
      receivingBody ? format(failure, receivingBody.request) : defaultErrorBody(failure),
    );
    socket.write(
      `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    if (receivingBody) answeredLatest(receivingBody, failure.status);
  }
  socket.destroy(error);
}

/** What Node found wrong in receiving a request, as a HearthError; `headersArrived`: only its body was late. */
function unreceivedError(
  error: ConnectionError,
  headersArrived: boolean,
  requestTimeoutMs: number,
): HearthError {
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    const seconds =
      (headersArrived ? requestTimeoutMs : Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs)) / 1000;
    return new HearthErrorClass(
      "REQUEST_TIMEOUT",
      `The request's ${headersArrived ? "body" : "headers"} did not arrive within ${seconds} s`,
    );
  }
  if (error.code === "HPE_HEADER_OVERFLOW")
    return new HearthErrorClass(
      "MALFORMED_REQUEST",
      `The request's headers are larger than the service reads (${Number((maxHeaderSize / 1024).toFixed(1))} KiB, Node's --max-http-header-size)`,
      { status: 431 },
    );
  return new HearthErrorClass("MALFORMED_REQUEST", `The request is not valid HTTP (${error.code})`);
}

/** How long /readyz waits for the service's readiness check: an orchestrator's probe waits for less. */
const READINESS_TIMEOUT_MS = 3000;

async function withinReadinessTimeout(check: () => Readiness | Promise<Readiness>): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Readiness>((resolve) => {
    timer = setTimeout(
      () => resolve({ ready: false, reason: `no answer within ${READINESS_TIMEOUT_MS / 1000} s` }),
      READINESS_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([check(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The route a request runs, as the router matched it (decoded): the raw URL would let `/%6detrics`
 * pass for a path other than `/metrics` and still run it. The raw path only where no route matched.
 */
function routePath(request: FastifyRequest): string {
  return request.routeOptions.url ?? request.url.split("?")[0]!;
}

/**
 * How a service's failed answers are logged: as logFailure decides, except DATABASE_UNAVAILABLE, an
 * outage the database pool already warns of, whose requests are expected to fail: a warning
 * without a stack, once per outage (until a request is answered without a 5xx again).
 */
function failureLog() {
  let databaseOutageLogged = false;
  return {
    log(request: FastifyRequest, error: HearthError) {
      if (error.code !== "DATABASE_UNAVAILABLE") return logFailure(request.log, error);
      if (databaseOutageLogged) return;
      databaseOutageLogged = true;
      request.log.warn(
        { code: error.code },
        `${error.message} (requests are answered 503 until the database is back; logged once)`,
      );
    },
    answered() {
      databaseOutageLogged = false;
    },
  };
}

function sendError(
  reply: FastifyReply,
  request: FastifyRequest,
  error: HearthError,
  format: ErrorBodyFormatter,
  failures: ReturnType<typeof failureLog>,
) {
  failures.log(request, error);
  if (error.retryAfterSeconds !== undefined)
    reply.header("retry-after", String(Math.ceil(error.retryAfterSeconds)));
  if (error.shouldRetry !== undefined) reply.header("x-should-retry", String(error.shouldRetry));
  return reply.code(error.status).send(format(error, request));
}
