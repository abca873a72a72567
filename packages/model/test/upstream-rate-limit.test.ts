/**
 * An upstream's 429 is passed on with its Retry-After (seconds, or an HTTP date turned into
 * seconds), on the OpenAI and the Ollama routes, streamed or not: a client that honours Retry-After
 * (the official openai client does) waits as long as the upstream asked, not blindly.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startModelService } from "./start-model-service.js";

let dir: string;
let upstream: Server;
let service: { url: string; close(): Promise<void> };

/** Answers every call 429; the model named picks the Retry-After: `busy` 7 s, `busy-date` a date 30 s on, `busy-long` a day. */
function retryAfterFor(model: string): string {
  if (model.startsWith("busy-date")) return new Date(Date.now() + 30_000).toUTCString();
  if (model.startsWith("busy-long")) return "86400";
  return "7";
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-model-rate-limit-"));
  upstream = createServer(async (request, response) => {
    if (request.url === "/api/tags") {
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ models: [{ name: "busy", model: "busy" }] }));
      return;
    }
    let text = "";
    for await (const chunk of request) text += String(chunk);
    const model = text ? String((JSON.parse(text) as { model?: string }).model ?? "") : "";
    response.writeHead(429, { "content-type": "application/json", "retry-after": retryAfterFor(model) });
    response.end(JSON.stringify({ error: { message: "Rate limit reached", type: "rate_limit_error" } }));
  });
  await new Promise<void>((done) => upstream.listen(0, "127.0.0.1", done));
  const hostPort = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  service = await startModelService(dir, {
    cache: { enabled: false },
    ollamaHost: `http://${hostPort}`,
    upstreams: [
      { name: "cloud", baseUrl: `http://${hostPort}/v1`, models: ["busy", "busy-date", "busy-long"] },
    ],
  });
});

afterAll(async () => {
  await service?.close();
  await new Promise((done) => upstream?.close(done));
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The openai client's error for a call that must fail. */
const refusal = async (call: () => Promise<unknown>) => {
  const error = await call().then(
    () => {
      throw new Error("the call succeeded");
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(OpenAI.APIError);
  return error as InstanceType<typeof OpenAI.APIError>;
};

describe("an upstream's 429 with Retry-After", () => {
  const openai = () => new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "k", maxRetries: 0 });
  const messages = [{ role: "user" as const, content: "hi" }];

  it("reaches the openai client with the upstream's Retry-After, in chats streamed or not, completions and embeddings", async () => {
    const calls = [
      () => openai().chat.completions.create({ model: "cloud/busy", messages }),
      async () => {
        const stream = await openai().chat.completions.create({
          model: "cloud/busy",
          messages,
          stream: true,
        });
        for await (const _chunk of stream);
      },
      () => openai().completions.create({ model: "cloud/busy", prompt: "hi" }),
      () => openai().embeddings.create({ model: "cloud/busy", input: "hi" }),
    ];
    for (const call of calls) {
      const error = await refusal(call);
      expect(error.status).toBe(429);
      expect(error.headers?.get("retry-after")).toBe("7");
    }
  });

  it("turns an HTTP date into seconds, and caps a wait far off", async () => {
    const dated = await refusal(() =>
      openai().chat.completions.create({ model: "cloud/busy-date", messages }),
    );
    const seconds = Number(dated.headers?.get("retry-after"));
    expect(seconds).toBeGreaterThan(20);
    expect(seconds).toBeLessThanOrEqual(31);
    const long = await refusal(() =>
      openai().chat.completions.create({ model: "cloud/busy-long", messages }),
    );
    expect(Number(long.headers?.get("retry-after"))).toBe(3600);
  });

  it("reaches an Ollama client on the Ollama routes", async () => {
    for (const [path, body] of [
      ["/api/chat", { model: "busy", messages, stream: false }],
      ["/api/chat", { model: "busy", messages }],
      ["/api/embed", { model: "busy", input: "hi" }],
    ] as const) {
      const response = await fetch(`${service.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(429);
      expect(response.headers.get("retry-after")).toBe("7");
    }
  });
});
