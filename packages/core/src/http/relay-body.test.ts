import { request as httpRequest } from "node:http";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../logging/logger.js";
import { createServiceApp } from "./create-service-app.js";
import { relayBody } from "./relay-body.js";

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/**
 * An upstream body that sends `chunks` lines and then, unless `endless`, ends (or fails with
 * `failWith`); `cancelled` settles when the relay cancels it.
 */
function upstreamBody(options: { chunks: number; failWith?: Error; endless?: boolean }) {
  let sent = 0;
  let cancel!: (reason: unknown) => void;
  const cancelled = new Promise<unknown>((resolve) => (cancel = resolve));
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((resolve) => setImmediate(resolve));
      if (sent < options.chunks || options.endless) {
        controller.enqueue(new TextEncoder().encode(`line ${sent++}\n`));
      } else if (options.failWith) controller.error(options.failWith);
      else controller.close();
    },
    cancel,
  });
  return { body, cancelled };
}

async function serve(body: () => ReadableStream<Uint8Array>) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const { app } = createServiceApp({
    service: "web",
    logger: createLogger({ level: "warn", service: "web", destination }),
  });
  const relays: Promise<void>[] = [];
  app.get("/relayed", async (_request, reply) => {
    reply.code(201).header("x-from-reply", "kept");
    const relay = relayBody(reply, body(), { "content-type": "text/plain" });
    relays.push(relay);
    return relay;
  });
  apps.push(app);
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return { url, lines, relays };
}

/** A GET read to its end (`ended`), or to its break (`cut`), with what came. */
function get(url: string, onData?: (text: string, stop: () => void) => void) {
  return new Promise<{ status: number; headers: Record<string, unknown>; text: string; how: string }>(
    (resolve, reject) => {
      const request = httpRequest(url, (response) => {
        let text = "";
        const done = (how: string) =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, how });
        response.on("data", (chunk: Buffer) => {
          text += chunk.toString();
          onData?.(text, () => {
            request.destroy();
            done("stopped");
          });
        });
        response.on("close", () => done(response.complete ? "ended" : "cut"));
      });
      request.on("error", (error) => (request.destroyed ? undefined : reject(error)));
      request.end();
    },
  );
}

describe("relayBody", () => {
  it("relays the whole body with the reply's status and headers", async () => {
    const { url } = await serve(() => upstreamBody({ chunks: 3 }).body);
    const answer = await get(`${url}/relayed`);
    expect(answer).toMatchObject({ status: 201, how: "ended", text: "line 0\nline 1\nline 2\n" });
    expect(answer.headers).toMatchObject({ "content-type": "text/plain", "x-from-reply": "kept" });
  });

  it("cancels the upstream body when the client goes away, and the service answers on", async () => {
    const upstream = upstreamBody({ chunks: 0, endless: true });
    const { url, lines, relays } = await serve(() => upstream.body);
    const answer = await get(`${url}/relayed`, (text, stop) => {
      if (text.includes("line 2")) stop();
    });
    expect(answer.how).toBe("stopped");
    await upstream.cancelled;
    await relays[0];
    // Nobody to tell: a client that leaves is no fault of the upstream's.
    expect(lines).toEqual([]);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
  });

  it("cuts the client's answer short when the upstream breaks off, and logs why", async () => {
    const { url, lines, relays } = await serve(
      () => upstreamBody({ chunks: 2, failWith: new TypeError("terminated") }).body,
    );
    const answer = await get(`${url}/relayed`);
    await relays[0];
    // Not ended as if whole: the chunked body lacks its last chunk.
    expect(answer).toMatchObject({ status: 201, how: "cut", text: "line 0\nline 1\n" });
    const warned = lines.map((line) => JSON.parse(line) as { msg: string; err?: { message: string } });
    expect(warned).toContainEqual(
      expect.objectContaining({
        msg: expect.stringContaining("broke off"),
        err: expect.objectContaining({ message: "terminated" }),
      }),
    );
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});
