import { once } from "node:events";
import { createServer as createHttpServer, request as httpRequest, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { connect, createServer as createTcpServer, type Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { hasOpenssl, selfSignedCertificate } from "../../../../test/support/unreachable-endpoints.js";
import { SseEventOmitter } from "./sse-event-omitter.js";
import { type RelayOptions, UpstreamEndpoint, type UpstreamResponse } from "./upstream-request.js";

const events = Array.from(
  { length: 5 },
  (_, i) => `data: {"choices":[{"delta":{"content":"token${i} 你好"}}]}\n\n`,
).concat("data: [DONE]\n\n");

const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;

const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function listen<T extends Server | ReturnType<typeof createTcpServer>>(server: T): Promise<string> {
  servers.push({
    close: () => {
      (server as Server).closeAllConnections?.();
      server.close();
    },
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A model service stand-in that streams `events`, one write each, and counts its connections. */
async function streamingUpstream() {
  const seen = { connections: 0, closed: 0, bodies: [] as string[] };
  const server = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", async () => {
      seen.bodies.push(body);
      res.writeHead(200, { "content-type": "text/event-stream", "x-hearth-cache": "miss" });
      for (const event of events) {
        res.write(event);
        await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
    });
  });
  server.on("connection", (socket) => {
    seen.connections += 1;
    socket.on("close", () => (seen.closed += 1));
  });
  return { url: await listen(server), seen };
}

/** A raw TCP server answering each request with `answer` (then closing if `close`). */
async function rawUpstream(answer: (request: string, socket: Socket) => void) {
  const server = createTcpServer((socket) => {
    let request = "";
    socket.on("data", (chunk) => {
      request += chunk.toString("latin1");
      const headEnd = request.indexOf("\r\n\r\n");
      if (headEnd === -1) return;
      const length = Number(/content-length: (\d+)/i.exec(request)?.[1] ?? 0);
      if (request.length < headEnd + 4 + length) return;
      const whole = request;
      request = "";
      answer(whole, socket);
    });
  });
  return listen(server);
}

/** A client-facing server that relays each request's upstream answer, as the public API does. */
async function relayServer(endpoint: UpstreamEndpoint, options: RelayOptions | (() => RelayOptions) = {}) {
  const server = createHttpServer(async (req, res) => {
    req.resume();
    const call = endpoint.post('{"stream":true}');
    res.on("close", () => {
      if (!res.writableFinished) call.abort();
    });
    try {
      const response = await call.response;
      res.writeHead(response.status, { "content-type": "text/event-stream" });
      await response.relay(res, typeof options === "function" ? options() : options);
    } catch {
      res.destroy();
    }
  });
  return listen(server);
}

async function collect(response: UpstreamResponse): Promise<string> {
  let text = "";
  for await (const run of response) text += run.toString("utf8");
  return text;
}

describe("UpstreamEndpoint", () => {
  it("relays a streamed answer to a client as it came, over one kept-alive upstream connection", async () => {
    const upstream = await streamingUpstream();
    const relay = await relayServer(new UpstreamEndpoint(`${upstream.url}/v1/chat/completions`));
    for (let i = 0; i < 3; i++) {
      const answer = await fetch(relay, { method: "POST", body: "{}" });
      expect(answer.status).toBe(200);
      expect(await answer.text()).toBe(events.join(""));
    }
    expect(upstream.seen.bodies).toEqual(['{"stream":true}', '{"stream":true}', '{"stream":true}']);
    expect(upstream.seen.connections).toBe(1);
  });

  it("passes an answer whole to a client whose socket holds the writes (nothing read over meanwhile)", async () => {
    // 2,000 distinct events, each its own read, the first while the client's socket takes nothing.
    const events = Array.from(
      { length: 2000 },
      (_, i) => `data: ${String(i).padStart(6, "0")}${"x".repeat(300)}\n\n`,
    );
    const url = await rawUpstream(async (_request, socket) => {
      socket.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
      for (const event of events) {
        socket.write(chunk(event));
        await new Promise((resolve) => setImmediate(resolve));
      }
      socket.write("0\r\n\r\n");
    });
    const endpoint = new UpstreamEndpoint(`${url}/v1/chat/completions`);
    const server = createHttpServer(async (req, res) => {
      req.resume();
      const response = await endpoint.post("{}").response;
      res.writeHead(200, { "content-type": "text/event-stream" });
      // Held in the socket for a while: a client that does not read yet looks the same to the relay.
      res.socket?.cork();
      setTimeout(() => res.socket?.uncork(), 200);
      await response.relay(res);
    });
    const answer = await fetch(await listen(server), { method: "POST", body: "{}" });
    expect(await answer.text()).toBe(events.join(""));
  });

  it("gives an HTTP/1.0 client the payload without chunk framing", async () => {
    const upstream = await streamingUpstream();
    const relay = new URL(await relayServer(new UpstreamEndpoint(`${upstream.url}/v1/chat/completions`)));
    const socket = connect(Number(relay.port), relay.hostname);
    socket.write("POST / HTTP/1.0\r\ncontent-length: 0\r\n\r\n");
    let text = "";
    for await (const chunk of socket) text += chunk.toString();
    expect(text.startsWith("HTTP/1.1 200")).toBe(true);
    expect(text.slice(text.indexOf("\r\n\r\n") + 4)).toBe(events.join(""));
  });

  it("passes the last whole chunk, then cuts the client's connection when the model service breaks off", async () => {
    const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    const url = await rawUpstream((_request, socket) => {
      socket.write(
        `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${chunk(events[0]!)}${chunk(events[1]!)}`,
      );
      // A chunk announced and cut off: a model service that crashed mid-write.
      setTimeout(
        () => socket.end(`${Buffer.byteLength(events[2]!).toString(16)}\r\n${events[2]!.slice(0, 10)}`),
        20,
      );
    });
    const read = async (relay: string) => {
      const answer = await fetch(relay, { method: "POST", body: "{}" });
      const reader = answer.body!.getReader();
      let text = "";
      for (;;) {
        try {
          const { done, value } = await reader.read();
          if (done) return { text, cut: false };
          text += Buffer.from(value).toString("utf8");
        } catch {
          // fetch throws on a chunked body that lacks its last chunk: the client knows it is cut.
          return { text, cut: true };
        }
      }
    };
    const endpoint = new UpstreamEndpoint(`${url}/v1/chat/completions`);
    expect(await read(await relayServer(endpoint))).toEqual({ text: events.slice(0, 2).join(""), cut: true });
    // The last words are the caller's, whole, and the body is still cut after them.
    const worded = await relayServer(endpoint, {
      onBroken: (error) => `data: ${JSON.stringify({ error: { message: error.message } })}\n\n`,
    });
    expect(await read(worded)).toEqual({
      text: `${events.slice(0, 2).join("")}data: {"error":{"message":"the model service closed the connection before its answer ended"}}\n\n`,
      cut: true,
    });
  });

  it("stops the model service's answer when the client goes away", async () => {
    const upstream = await streamingUpstream();
    const endpoint = new UpstreamEndpoint(`${upstream.url}/v1/chat/completions`);
    const call = endpoint.post("{}");
    const response = await call.response;
    const iterator = response[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.toString()).toContain("token0");
    call.abort();
    await expect(collect(response)).rejects.toThrow();
    await expect.poll(() => upstream.seen.closed).toBe(1);
  });

  it("stops the call when the client went away before the relay began", async () => {
    let upstreamClosed = false;
    const url = await rawUpstream((_request, socket) => {
      socket.on("close", () => (upstreamClosed = true));
      // A head and one event, then a model that takes its time.
      socket.write(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${chunk(events[0]!)}`);
    });
    const endpoint = new UpstreamEndpoint(`${url}/v1/chat/completions`);
    const relayed: Array<Promise<unknown>> = [];
    const server = createHttpServer((req, res) => {
      req.resume();
      res.on("close", async () => {
        const response = await endpoint.post("{}").response;
        res.writeHead(200);
        relayed.push(response.relay(res));
      });
    });
    const relay = new URL(await listen(server));
    const client = connect(Number(relay.port), relay.hostname);
    client.write("POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n");
    await once(server, "request");
    client.destroy();
    await expect.poll(() => relayed.length).toBe(1);
    await relayed[0];
    await expect.poll(() => upstreamClosed).toBe(true);
  });

  it("leaves a kept-alive connection alone when a call that has ended is aborted late", async () => {
    const upstream = await streamingUpstream();
    const endpoint = new UpstreamEndpoint(`${upstream.url}/v1/chat/completions`);
    const first = endpoint.post("{}");
    expect(await (await first.response).text()).toBe(events.join(""));
    // The connection is back in the pool, perhaps serving another call: not the first call's to close.
    first.abort();
    expect(await (await endpoint.post("{}").response).text()).toBe(events.join(""));
    expect(upstream.seen.connections).toBe(1);
    expect(upstream.seen.closed).toBe(0);
  });

  it("reads the whole body of a sized answer and of one ended by closing the connection", async () => {
    let calls = 0;
    const url = await rawUpstream((_request, socket) => {
      calls += 1;
      if (calls === 1) {
        const body = '{"error":{"message":"no such model"}}';
        socket.write(
          `HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
        );
      } else {
        socket.end("HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nthe rest of the answer");
      }
    });
    const endpoint = new UpstreamEndpoint(`${url}/v1/chat/completions`);
    const missing = await endpoint.post("{}").response;
    expect(missing.status).toBe(404);
    expect(missing.headers["content-type"]).toBe("application/json");
    expect(await missing.text()).toBe('{"error":{"message":"no such model"}}');
    const closed = await endpoint.post("{}").response;
    expect(closed.status).toBe(200);
    expect(await collect(closed)).toBe("the rest of the answer");
    expect(closed.complete).toBe(true);
  });

  it("fails an answer ended by closing the connection when the connection was reset instead", async () => {
    const url = await rawUpstream((_request, socket) => {
      socket.write("HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nthe start of");
      setTimeout(() => socket.resetAndDestroy(), 20);
    });
    const answer = await new UpstreamEndpoint(`${url}/x`).post("{}").response;
    await expect(collect(answer)).rejects.toMatchObject({ code: "UPSTREAM_UNAVAILABLE" });
    expect(answer.complete).toBe(false);
  });

  it("sends the call again on a new connection when the kept-alive one was closed as it went out", async () => {
    const requestsPerConnection = new Map<Socket, number>();
    const url = await rawUpstream((_request, socket) => {
      const count = (requestsPerConnection.get(socket) ?? 0) + 1;
      requestsPerConnection.set(socket, count);
      // A server closing an idle connection just as the next call arrives on it.
      if (count > 1) socket.destroy();
      else socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    });
    const endpoint = new UpstreamEndpoint(`${url}/v1/chat/completions`);
    for (let i = 0; i < 3; i++) expect(await (await endpoint.post("{}").response).text()).toBe("ok");
    expect(requestsPerConnection.size).toBe(3);
  });

  it("does not send a call again once the server has begun to answer it", async () => {
    const requestsPerConnection = new Map<Socket, number>();
    const url = await rawUpstream((_request, socket) => {
      const count = (requestsPerConnection.get(socket) ?? 0) + 1;
      requestsPerConnection.set(socket, count);
      if (count === 1) socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      // An interim answer proves the call arrived: a close after it is a failure, not a stale connection.
      else socket.end("HTTP/1.1 100 Continue\r\n\r\n");
    });
    const endpoint = new UpstreamEndpoint(`${url}/v1/chat/completions`);
    expect(await (await endpoint.post("{}").response).text()).toBe("ok");
    await expect(endpoint.post("{}").response).rejects.toMatchObject({ code: "UPSTREAM_UNAVAILABLE" });
    expect(requestsPerConnection.size).toBe(1);
  });

  it("refuses an answer that is not HTTP, and says when nothing listens", async () => {
    const url = await rawUpstream((_request, socket) => socket.end("hello\r\n\r\n"));
    await expect(new UpstreamEndpoint(`${url}/x`).post("{}").response).rejects.toMatchObject({
      code: "UPSTREAM_ERROR",
      message: "the model service sent an invalid answer",
    });
    const closed = createTcpServer();
    const port = new URL(await listen(closed)).port;
    closed.close();
    await once(closed, "close");
    await expect(
      new UpstreamEndpoint(`http://127.0.0.1:${port}/x`).post("{}").response,
    ).rejects.toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
    });
  });

  it("gives up on a model service that takes no connection in time, not on one slow to answer", async () => {
    // Accepts TCP and never answers the TLS handshake: a connection that is never made.
    let dropped = false;
    const silent = createTcpServer((socket) => socket.resume().on("close", () => (dropped = true)));
    const port = new URL(await listen(silent)).port;
    await expect(
      new UpstreamEndpoint(`https://127.0.0.1:${port}/x`, {}, { connectTimeoutMs: 200 }).post("{}").response,
    ).rejects.toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      cause: { message: "no connection within 0.2 s" },
    });
    await vi.waitFor(() => expect(dropped).toBe(true));

    // Connected, then an answer that takes longer than the connect timeout (a call in the queue).
    // Its timeout long enough for a busy machine to connect within, the answer later still.
    const url = await rawUpstream((_request, socket) => {
      setTimeout(() => socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"), 3_000);
    });
    const answer = await new UpstreamEndpoint(`${url}/x`, {}, { connectTimeoutMs: 2_000 }).post("{}")
      .response;
    expect(await answer.text()).toBe("ok");
  });

  it("passes on an answer's events whatever TCP segments they arrive in", async () => {
    const body = `${events.map((e) => `${Buffer.byteLength(e).toString(16)}\r\n${e}\r\n`).join("")}0\r\n\r\n`;
    const url = await rawUpstream(async (_request, socket) => {
      socket.setNoDelay(true);
      socket.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
      const bytes = Buffer.from(body);
      for (let i = 0; i < bytes.length; i += 7) {
        socket.write(bytes.subarray(i, i + 7));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    });
    const relay = await relayServer(new UpstreamEndpoint(`${url}/v1/chat/completions`));
    const answer = await new Promise<string>((resolve, reject) => {
      httpRequest(relay, { method: "POST" }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => resolve(text));
        res.on("error", reject);
      }).end();
    });
    expect(answer).toBe(events.join(""));
  });

  it("leaves an omitted event out of what it passes on, whatever TCP segments and chunks it came in", async () => {
    const usage = ': usage {"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}\n\n';
    const sent = [...events.slice(0, -1), usage, events.at(-1)!];
    const wanted = events.join("");
    for (const [segment, together] of [
      [1000, false],
      [1, false],
      [7, false],
      [50, false],
      // The comment and [DONE] in one chunk, as a corked write sends them.
      [13, true],
    ] as const) {
      const chunks = together ? [...sent.slice(0, -2), sent.slice(-2).join("")] : sent;
      const body = `${chunks.map(chunk).join("")}0\r\n\r\n`;
      const url = await rawUpstream(async (_request, socket) => {
        socket.setNoDelay(true);
        socket.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
        const bytes = Buffer.from(body);
        for (let i = 0; i < bytes.length; i += segment) {
          socket.write(bytes.subarray(i, i + segment));
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      });
      for (const transform of [undefined, (payload: Buffer) => Buffer.from(payload)]) {
        let seen = "";
        const relay = await relayServer(new UpstreamEndpoint(`${url}/v1/chat/completions`), () => ({
          omit: new SseEventOmitter(Buffer.from(": usage ")),
          onPayload: (bytes, start, end) => (seen += bytes.toString("latin1", start, end)),
          ...(transform ? { transform } : {}),
        }));
        const answer = await new Promise<string>((resolve, reject) => {
          httpRequest(relay, { method: "POST" }, (res) => {
            const parts: Buffer[] = [];
            res.on("data", (part: Buffer) => parts.push(part));
            res.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
            res.on("error", reject);
          }).end();
        });
        const where = `segments of ${segment}${together ? ", comment and [DONE] together" : ""}${transform ? ", transformed" : ""}`;
        expect(answer, where).toBe(wanted);
        // What the relay's reader sees (the public API's usage meter) still has the comment.
        expect(Buffer.from(seen, "latin1").toString("utf8"), where).toBe(sent.join(""));
      }
    }
  });

  it("refuses header values that would split the request", () => {
    expect(
      () => new UpstreamEndpoint("http://127.0.0.1:1/x", { "x-hearth-service-token": "a\r\nb: c" }),
    ).toThrow(TypeError);
  });

  it.skipIf(!hasOpenssl())(
    "speaks TLS to an https model service and refuses a certificate it cannot verify, saying so",
    async () => {
      const server = createHttpsServer(selfSignedCertificate(), (req, res) => {
        req.resume();
        res.writeHead(200, { "content-type": "text/event-stream" });
        for (const event of events) res.write(event);
        res.end();
      });
      const url = (await listen(server)).replace("http:", "https:");
      const endpoint = new UpstreamEndpoint(`${url}/v1/chat/completions`);
      await expect(endpoint.post("{}").response).rejects.toMatchObject({
        code: "UPSTREAM_UNAVAILABLE",
        message:
          "the model service did not answer: the TLS certificate was refused: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)",
      });
      try {
        // Trusted (as NODE_EXTRA_CA_CERTS would make it): the answer comes through whole.
        vi.stubEnv("NODE_TLS_REJECT_UNAUTHORIZED", "0");
        const answer = await endpoint.post("{}").response;
        expect(await collect(answer)).toBe(events.join(""));
      } finally {
        vi.unstubAllEnvs();
      }
    },
  );
});
