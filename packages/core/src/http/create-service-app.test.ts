import { maxHeaderSize } from "node:http";
import { type AddressInfo, connect, createServer } from "node:net";
import { Readable, Writable } from "node:stream";
import { deflateSync, gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { HearthError } from "../errors/hearth-error.js";
import { createLogger } from "../logging/logger.js";
import { createServiceApp, PROCESS_INSTANCE, type ServiceAppOptions } from "./create-service-app.js";
import { listenService } from "./listen-service.js";

const quiet = createLogger({ level: "silent" });
const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** A log destination that keeps what was written, one entry per line. */
function collectLines() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, destination };
}

function build(options: Partial<ServiceAppOptions> = {}) {
  const service = createServiceApp({ service: "search", logger: quiet, ...options });
  service.app.post("/echo", async (request) => z.object({ text: z.string() }).parse(request.body));
  service.app.get("/boom", async () => {
    throw new HearthError("MODEL_NOT_FOUND", "no model called x", { details: { model: "x" } });
  });
  apps.push(service.app);
  return service;
}

describe("createServiceApp", () => {
  it("answers health, readiness and Prometheus metrics", async () => {
    let ready = false;
    const { app } = build({
      readiness: () => (ready ? { ready: true } : { ready: false, reason: "loading" }),
    });
    expect((await app.inject("/healthz")).json()).toEqual({ status: "ok", service: "search" });
    const notReady = await app.inject("/readyz");
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().reason).toBe("loading");
    ready = true;
    const readyAnswer = await app.inject("/readyz");
    expect(readyAnswer.statusCode).toBe(200);
    // Which process answers: services in one process (hearth up) answer the same id.
    expect(readyAnswer.json().instance).toBe(PROCESS_INSTANCE);
    const metrics = await app.inject("/metrics");
    expect(metrics.headers["content-type"]).toContain("text/plain");
    expect(metrics.body).toContain(
      'hearth_http_requests_total{method="GET",route="/readyz",status="503",service="search"} 1',
    );
    expect(metrics.body).toContain("hearth_process_resident_memory_bytes");
  });

  it("counts and times a response its client left before it ended (a stopped stream) as 499, once", async () => {
    const { app } = build();
    app.get("/slow", async () =>
      Readable.from(
        (async function* () {
          for (let part = 1; part <= 50; part++) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            yield `${part}\n`;
          }
        })(),
      ),
    );
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const stop = new AbortController();
    const response = await fetch(`http://127.0.0.1:${port}/slow`, { signal: stop.signal });
    const reader = response.body!.getReader();
    await reader.read();
    stop.abort();
    await reader.read().catch(() => undefined);
    const counted = async () => (await app.inject("/metrics")).body;
    await expect
      .poll(counted)
      .toContain('hearth_http_requests_total{method="GET",route="/slow",status="499",service="search"} 1');
    expect(await counted()).toContain(
      'hearth_http_request_duration_seconds_count{service="search",method="GET",route="/slow"} 1',
    );
    // A response that ended is counted under its status alone, not as left too.
    await app.inject("/slow");
    const after = await counted();
    expect(after).toContain(
      'hearth_http_requests_total{method="GET",route="/slow",status="200",service="search"} 1',
    );
    expect(after).toContain(
      'hearth_http_requests_total{method="GET",route="/slow",status="499",service="search"} 1',
    );
  });

  it("gives stable codes for malformed JSON, invalid UTF-8, bad fields, unknown routes and big bodies", async () => {
    const { app } = build({ bodyLimitBytes: 1024 });
    const post = (payload: string | Buffer) =>
      app.inject({ method: "POST", url: "/echo", headers: { "content-type": "application/json" }, payload });
    const malformed = await post("{nope");
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe("INVALID_JSON");
    // An empty body with a JSON Content-Type is no body (what generic clients send on a DELETE): a
    // route that needs one refuses it as a missing value, not as broken JSON.
    for (const empty of ["", "  \n"]) {
      const none = await post(empty);
      expect(none.statusCode).toBe(400);
      expect(none.json().error).toMatchObject({
        code: "INVALID_REQUEST",
        message: "Invalid input: expected object, received undefined",
      });
    }
    const badBytes = await post(Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]));
    expect(badBytes.statusCode).toBe(400);
    expect(badBytes.json().error.code).toBe("INVALID_ENCODING");
    const wrongField = await post(JSON.stringify({ text: 5 }));
    expect(wrongField.statusCode).toBe(400);
    expect(wrongField.json().error).toMatchObject({ code: "INVALID_REQUEST" });
    expect(wrongField.json().error.message).toMatch(/^text: /);
    const big = await post(JSON.stringify({ text: "x".repeat(5000) }));
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe("PAYLOAD_TOO_LARGE");
    const missing = await app.inject("/nowhere");
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("ROUTE_NOT_FOUND");
    expect(missing.json().error.message).toBe("No route for GET /nowhere");
    // A path of 5,000 characters is not sent back (nor logged) whole: its first 200, then "…".
    const long = await app.inject(`/nowhere/${"n".repeat(5000)}`);
    expect(long.json().error).toEqual({
      code: "ROUTE_NOT_FOUND",
      message: `No route for GET ${`/nowhere/${"n".repeat(5000)}`.slice(0, 200)}…`,
    });
    const domain = await app.inject("/boom");
    expect(domain.statusCode).toBe(404);
    expect(domain.json()).toEqual({
      error: { code: "MODEL_NOT_FOUND", message: "no model called x", details: { model: "x" } },
    });
    expect((await post(JSON.stringify({ text: "still fine" }))).json()).toEqual({ text: "still fine" });
  });

  it("tells SDK clients not to retry by themselves where waiting is long or cannot help (x-should-retry: false)", async () => {
    const { app } = build();
    for (const [path, error] of [
      ["/minute", new HearthError("RATE_LIMITED", "wait a little", { retryAfterSeconds: 30 })],
      ["/hours", new HearthError("RATE_LIMITED", "wait hours", { retryAfterSeconds: 5 * 3600 })],
      ["/never", new HearthError("RATE_LIMITED", "waiting does not help", { shouldRetry: false })],
    ] as const)
      app.get(path, async () => {
        throw error;
      });
    const minute = await app.inject("/minute");
    expect(minute.headers["retry-after"]).toBe("30");
    expect(minute.headers["x-should-retry"]).toBeUndefined();
    const hours = await app.inject("/hours");
    expect(hours.headers["retry-after"]).toBe("18000");
    expect(hours.headers["x-should-retry"]).toBe("false");
    const never = await app.inject("/never");
    expect(never.statusCode).toBe(429);
    expect(never.headers["retry-after"]).toBeUndefined();
    expect(never.headers["x-should-retry"]).toBe("false");
  });

  it("reads an empty body with a JSON Content-Type as none, for a route that takes no body", async () => {
    const { app } = build();
    app.delete("/thing", async (request) => ({ body: request.body === undefined ? "none" : request.body }));
    for (const type of ["application/json", "application/json; charset=utf-8"]) {
      const response = await app.inject({
        method: "DELETE",
        url: "/thing",
        headers: { "content-type": type },
      });
      expect([response.statusCode, response.json()], type).toEqual([200, { body: "none" }]);
    }
  });

  it("refuses a body in any type but JSON, text/plain included, with UNSUPPORTED_MEDIA_TYPE", async () => {
    const { app } = build();
    for (const type of ["text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded"]) {
      const response = await app.inject({
        method: "POST",
        url: "/echo",
        headers: { "content-type": type },
        payload: JSON.stringify({ text: "hello" }),
      });
      expect(response.statusCode, type).toBe(415);
      expect(response.json().error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    }
  });

  it("refuses a compressed body with 415 UNSUPPORTED_CONTENT_ENCODING, naming the coding it takes", async () => {
    const { app } = build();
    for (const [encoding, payload] of [
      ["gzip", gzipSync(JSON.stringify({ text: "hello" }))],
      ["deflate", deflateSync(JSON.stringify({ text: "hello" }))],
    ] as const) {
      const response = await app.inject({
        method: "POST",
        url: "/echo",
        headers: { "content-type": "application/json", "content-encoding": encoding },
        payload,
      });
      expect(response.statusCode, encoding).toBe(415);
      expect(response.headers["accept-encoding"]).toBe("identity");
      expect(response.json().error).toMatchObject({
        code: "UNSUPPORTED_CONTENT_ENCODING",
        message: expect.stringContaining(`Content-Encoding: ${encoding}`),
      });
    }
    const plain = await app.inject({
      method: "POST",
      url: "/echo",
      headers: { "content-type": "application/json", "content-encoding": "identity" },
      payload: JSON.stringify({ text: "hello" }),
    });
    expect(plain.json()).toEqual({ text: "hello" });
  });

  it("refuses a URL it cannot read with MALFORMED_REQUEST, in the service's own error format", async () => {
    const { app } = build({
      formatError: (error, request) => ({ refused: error.code, url: request.url, message: error.message }),
    });
    app.get("/items/:id", async (request) => request.params);
    for (const url of ["/echo%FF", "/items/%FF%FE", "/items/%zz", "/nothing/%C3"]) {
      const response = await app.inject({ method: "POST", url });
      expect([response.statusCode, response.json()], url).toEqual([
        400,
        {
          refused: "MALFORMED_REQUEST",
          url,
          message: expect.stringMatching(/not valid percent-encoded UTF-8/),
        },
      ]);
    }
    const long = await app.inject(`/items/${"x".repeat(101)}`);
    expect([long.statusCode, long.json().refused]).toEqual([414, "MALFORMED_REQUEST"]);
    // Named in the message, cut at 200 characters when longer.
    expect(long.json().message).toContain(`'/items/${"x".repeat(101)}' is exceeding`);
    const longer = await app.inject(`/items/${"x".repeat(5000)}`);
    expect([longer.statusCode, longer.json().message]).toEqual([
      414,
      expect.stringContaining(
        `'${`/items/${"x".repeat(5000)}`.slice(0, 200)}…' is exceeding the max param length`,
      ),
    ]);
  });

  it("requires the service token on every route but the health checks when one is configured", async () => {
    const { app } = build({ serviceToken: "s3cret-token-0123456789" });
    expect((await app.inject("/healthz")).statusCode).toBe(200);
    expect((await app.inject("/metrics")).statusCode).toBe(401);
    expect(
      (await app.inject({ url: "/metrics", headers: { authorization: "Bearer wrong" } })).statusCode,
    ).toBe(401);
    const ok = await app.inject({
      url: "/metrics",
      headers: { "x-hearth-service-token": "s3cret-token-0123456789" },
    });
    expect(ok.statusCode).toBe(200);
    // The router decodes the path: an encoded letter names the same route and needs the same token.
    for (const url of ["/%6detrics", "/%6Detrics?x=1"])
      expect((await app.inject(url)).statusCode, url).toBe(401);
  });

  it("requires the token only under the given prefixes when told so (the web service's /metrics)", async () => {
    const { app } = build({ serviceToken: "s3cret-token-0123456789", serviceTokenPrefixes: ["/metrics"] });
    app.get("/open", async () => ({ ok: true }));
    expect((await app.inject("/open")).statusCode).toBe(200);
    expect((await app.inject("/metrics")).statusCode).toBe(401);
    expect((await app.inject("/%6detrics")).statusCode).toBe(401);
    expect(
      (await app.inject({ url: "/metrics", headers: { authorization: "Bearer s3cret-token-0123456789" } }))
        .statusCode,
    ).toBe(200);
  });

  it("answers its public paths, exactly those, to anyone: without the token and by any host name", async () => {
    for (const options of [{ serviceToken: "s3cret-token-0123456789" }, { listenHost: "127.0.0.1" }]) {
      const { app } = build({ ...options, publicPaths: ["/"] });
      app.get("/", async () => "running");
      app.get("/private", async () => ({ ok: true }));
      const to = (method: "GET" | "HEAD", url: string) =>
        app.inject({ method, url, headers: { host: "evil.example:8081" } });
      expect((await to("GET", "/")).statusCode, JSON.stringify(options)).toBe(200);
      expect((await to("HEAD", "/")).statusCode, JSON.stringify(options)).toBe(200);
      // An exact path, not a prefix: "/" opens nothing below it.
      for (const url of ["/private", "/metrics"])
        expect((await to("GET", url)).statusCode, `${url} ${JSON.stringify(options)}`).toBeGreaterThanOrEqual(
          401,
        );
    }
  });

  it("lets a browser's CORS preflight through without the token, but not the request it precedes", async () => {
    const { app } = build({ serviceToken: "s3cret-token-0123456789" });
    // As the model service's origin policy answers preflights.
    app.addHook("onRequest", async (request, reply) => {
      if (request.method === "OPTIONS") return reply.code(204).send();
    });
    const preflight = {
      method: "OPTIONS" as const,
      url: "/metrics",
      headers: { origin: "http://localhost:5173", "access-control-request-method": "GET" },
    };
    expect((await app.inject(preflight)).statusCode).toBe(204);
    expect(
      (await app.inject({ url: "/metrics", headers: { origin: "http://localhost:5173" } })).statusCode,
    ).toBe(401);
  });

  it("listening on loopback without a service token, answers only requests addressed to loopback (no DNS rebinding)", async () => {
    const { app } = build({ listenHost: "127.0.0.1" });
    const to = (host: string, url = "/metrics") => app.inject({ url, headers: { host } });
    const refused = await to("evil.example:9303");
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe("HOST_NOT_ALLOWED");
    for (const host of ["localhost.evil.example", "127.0.0.1.evil.example", "[::2]:8083", "0x7f.1"])
      expect((await to(host)).statusCode, host).toBe(403);
    for (const host of ["localhost:8083", "LOCALHOST", "127.0.0.1", "127.3.2.1:80", "[::1]:8083"])
      expect((await to(host)).statusCode, host).toBe(200);
    // Health checks tell nothing, and probes may use any name.
    expect((await to("knowledge:8083", "/healthz")).statusCode).toBe(200);
    expect(
      (await build({ listenHost: "::1" }).app.inject({ url: "/metrics", headers: { host: "evil.example" } }))
        .statusCode,
    ).toBe(403);
  });

  it("opened to the network (listening on 0.0.0.0), answers every name it has there, as Ollama does", async () => {
    for (const listenHost of ["0.0.0.0", "::", "192.168.1.20"]) {
      const { app } = build({ listenHost });
      expect((await app.inject({ url: "/metrics", headers: { host: "hearth.lan:8081" } })).statusCode).toBe(
        200,
      );
    }
  });

  it("with a service token, answers any host name that presents it (containers call each other by name)", async () => {
    const { app } = build({ listenHost: "127.0.0.1", serviceToken: "s3cret-token-0123456789" });
    const response = await app.inject({
      url: "/metrics",
      headers: { host: "knowledge:8083", "x-hearth-service-token": "s3cret-token-0123456789" },
    });
    expect(response.statusCode).toBe(200);
  });

  it("refuses what a page of another site sends when told no page uses the service", async () => {
    const { app } = build({ loopbackOriginsOnly: true });
    const from = (origin: string) =>
      app.inject({ method: "POST", url: "/echo", headers: { origin }, payload: { text: "hi" } });
    const refused = await from("http://evil.example");
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe("ORIGIN_NOT_ALLOWED");
    expect((await from("null")).statusCode).toBe(403);
    expect((await from("http://localhost.evil.example")).statusCode).toBe(403);
    expect((await from("http://localhost:5173")).statusCode).toBe(200);
    expect((await from("https://127.0.0.1")).statusCode).toBe(200);
    expect((await app.inject({ method: "POST", url: "/echo", payload: { text: "hi" } })).statusCode).toBe(
      200,
    );
  });

  it("writes a request's log lines with its own request id", async () => {
    const { lines, destination } = collectLines();
    const { app } = build({ logger: createLogger({ level: "info", service: "search", destination }) });
    app.get("/noted", async (request) => {
      request.log.info({ step: "seen" }, "noted");
      return { ok: true };
    });
    await app.inject({ url: "/noted" });
    await app.inject({ url: "/noted" });
    await app.inject({ url: "/healthz" });
    const noted = lines.map((line) => JSON.parse(line)).filter((line) => line.msg === "noted");
    expect(noted).toHaveLength(2);
    expect(noted[0]).toMatchObject({ step: "seen", service: "search", level: 30 });
    expect(noted[0].reqId).toMatch(/^req_[0-9a-f-]{36}$/);
    expect(noted[1].reqId).not.toBe(noted[0].reqId);
    // Another process (a replica, a restart) does not count from the same start.
    const { lines: again, destination: other } = collectLines();
    const { app: replica } = build({
      logger: createLogger({ level: "info", service: "search", destination: other }),
    });
    replica.get("/noted", async (request) => {
      request.log.info("noted");
      return { ok: true };
    });
    await replica.inject({ url: "/noted" });
    const elsewhere = again.map((line) => JSON.parse(line)).find((line) => line.msg === "noted");
    expect([noted[0].reqId, noted[1].reqId]).not.toContain(elsewhere.reqId);
  });

  it("logs a user's own failure (a URL it named) as a warning without a stack, credentials masked, and a bug as an error with its stack", async () => {
    const { lines, destination } = collectLines();
    const { app } = build({ logger: createLogger({ level: "info", service: "knowledge", destination }) });
    app.get("/fetch", async () => {
      throw new HearthError(
        "URL_FETCH_FAILED",
        "http://bob:hunter2@10.1.2.3/report.pdf?token=T0KEN is a private address",
      );
    });
    app.get("/bug", async () => {
      throw new TypeError("cannot read properties of undefined");
    });
    expect((await app.inject({ url: "/fetch" })).json().error.code).toBe("URL_FETCH_FAILED");
    expect((await app.inject({ url: "/bug" })).statusCode).toBe(500);
    await app.inject({ url: "/boom" }); // a 404: the request's own mistake, not logged at info
    const logged = lines.map((line) => JSON.parse(line)).filter((line) => line.level >= 40);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({
      level: 40,
      code: "URL_FETCH_FAILED",
      msg: "http://[redacted]@10.1.2.3/report.pdf?[redacted] is a private address",
    });
    expect(logged[0]).not.toHaveProperty("err");
    expect(lines.join("")).not.toMatch(/hunter2|T0KEN/);
    expect(logged[1]).toMatchObject({ level: 50, code: "INTERNAL_ERROR" });
    expect(logged[1].err.stack).toContain("TypeError: cannot read properties of undefined");
  });

  it("never writes credentials to the log", async () => {
    const { lines, destination } = collectLines();
    const logger = createLogger({ level: "info", destination });
    logger.info(
      { provider: { id: "bing", apiKey: "sk-live-123" }, req: { headers: { authorization: "Bearer abc" } } },
      "configured",
    );
    expect(lines.join("")).not.toContain("sk-live-123");
    expect(lines.join("")).not.toContain("Bearer abc");
    expect(lines.join("")).toContain("[redacted]");
  });
});

describe("receiving a request", () => {
  /**
   * Sends `request` as it is on a new connection; resolves, once the service closed it, to the first
   * response that came back and how many did.
   */
  async function exchange(app: { server: { address(): unknown } }, request: string) {
    const { port } = app.server.address() as AddressInfo;
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      answer += chunk;
    });
    const started = Date.now();
    socket.write(request);
    await new Promise((resolve) => socket.once("close", resolve));
    const [first = "", ...later] = answer.split(/(?=HTTP\/1\.1 \d{3} )/);
    const [head = "", body = ""] = first.split("\r\n\r\n");
    return {
      head,
      body: body ? JSON.parse(body) : undefined,
      responses: first ? 1 + later.length : 0,
      ms: Date.now() - started,
    };
  }

  it("answers a body promised and never sent with 408 REQUEST_TIMEOUT in the route's format, within its time, and closes the connection", async () => {
    const { lines, destination } = collectLines();
    const { app } = build({
      logger: createLogger({ level: "debug", destination }),
      requestTimeoutSeconds: 0.3,
      formatError: (error, request) => ({ refused: error.code, url: request.url, message: error.message }),
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const stalled = await exchange(
      app,
      "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{",
    );
    expect(stalled.head).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(stalled.body).toEqual({
      refused: "REQUEST_TIMEOUT",
      url: "/echo",
      message: "The request's body did not arrive within 0.3 s",
    });
    expect(stalled.ms).toBeGreaterThanOrEqual(250);
    expect(stalled.ms).toBeLessThan(1500);
    // The client's failure, at debug: not a warning of the service's, nor a database gone.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines.map((line) => JSON.parse(line)).filter((entry) => entry.level >= 40)).toEqual([]);
    // Counted under the status it was answered, not as a response its client left.
    const metrics = (await app.inject("/metrics")).body;
    expect(metrics).toContain(
      'hearth_http_requests_total{method="POST",route="/echo",status="408",service="search"} 1',
    );
    expect(metrics).not.toContain('status="499"');
  });

  it("answers a request refused before its body arrived once: a body then never sent closes the connection, with no second answer", async () => {
    const { app } = build({ serviceToken: "s3cret-token-0123456789", requestTimeoutSeconds: 0.3 });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const refused = await exchange(
      app,
      "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{",
    );
    expect(refused.head).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(refused.body.error.code).toBe("UNAUTHORIZED");
    expect(refused.responses).toBe(1);
  });

  it("times the receiving only: an answer streamed for longer than the request time is not cut", async () => {
    const { app } = build({ requestTimeoutSeconds: 0.3 });
    app.post("/count", async () =>
      Readable.from(
        (async function* () {
          for (let part = 1; part <= 4; part++) {
            await new Promise((resolve) => setTimeout(resolve, 250));
            yield `${part}\n`;
          }
        })(),
      ),
    );
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/count`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(await response.text()).toBe("1\n2\n3\n4\n");
  });

  it("answers headers larger than Node reads with 431 MALFORMED_REQUEST, naming the size it reads", async () => {
    const { app } = build();
    await app.listen({ host: "127.0.0.1", port: 0 });
    const oversized = await exchange(
      app,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ${"x".repeat(maxHeaderSize)}\r\n\r\n`,
    );
    expect(oversized.head).toMatch(/^HTTP\/1\.1 431 /);
    expect(oversized.body.error).toEqual({
      code: "MALFORMED_REQUEST",
      message: `The request's headers are larger than the service reads (${maxHeaderSize / 1024} KiB, Node's --max-http-header-size)`,
    });
  });

  it("answers what is not HTTP with 400 MALFORMED_REQUEST, in Hearth's format, no route being known", async () => {
    const { app } = build();
    await app.listen({ host: "127.0.0.1", port: 0 });
    const garbled = await exchange(app, "NOT HTTP AT ALL\r\n\r\n");
    expect(garbled.head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(garbled.body).toEqual({
      error: { code: "MALFORMED_REQUEST", message: expect.stringMatching(/^The request is not valid HTTP/) },
    });
  });
});

describe("closing a service", () => {
  it("closes at once a connection that never sent a request (a browser's preconnect), and one kept alive", async () => {
    const { app } = createServiceApp({ service: "search", logger: quiet });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const silent = connect(port, "127.0.0.1");
    const silentClosed = new Promise<void>((resolve) => silent.once("close", () => resolve()));
    await new Promise<void>((resolve) => silent.once("connect", () => resolve()));
    const keptAlive = connect(port, "127.0.0.1");
    const keptAliveClosed = new Promise<void>((resolve) => keptAlive.once("close", () => resolve()));
    keptAlive.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n");
    await new Promise<void>((resolve) => keptAlive.once("data", () => resolve()));
    // Node holds close() for the silent one until its headersTimeout (60 s and more): the test's
    // own timeout (5 s) fails first if it does.
    await app.close();
    await Promise.all([silentClosed, keptAliveClosed]);
  }, 5_000);
});

describe("listenService", () => {
  it("reports a taken port as PORT_IN_USE naming the setting", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    const { app } = build();
    const error = await listenService(app, {
      host: "127.0.0.1",
      port,
      description: "search service (HEARTH_SEARCH_PORT)",
    }).catch((caught: unknown) => caught);
    blocker.close();
    expect(error).toBeInstanceOf(HearthError);
    expect((error as HearthError).toLine()).toBe(
      `PORT_IN_USE: 127.0.0.1:${port} is already in use; stop the other process or change the search service (HEARTH_SEARCH_PORT) port`,
    );
  });

  it("reports a host that does not resolve as CONFIG_INVALID naming the host setting", async () => {
    const { app } = build();
    const error = await listenService(app, {
      host: "999.1.1.1",
      port: 0,
      description: "web service (HEARTH_PORT)",
      hostSetting: "HEARTH_HOST",
    }).catch((caught: unknown) => caught);
    await app.close();
    expect(error).toBeInstanceOf(HearthError);
    expect((error as HearthError).code).toBe("CONFIG_INVALID");
    expect((error as HearthError).message).toMatch(
      /^cannot listen on 999\.1\.1\.1:0 for the web service \(HEARTH_PORT\): 999\.1\.1\.1 does not resolve to an address \((ENOTFOUND|EAI_AGAIN)\); set HEARTH_HOST to an address of this machine/,
    );
  });
});
