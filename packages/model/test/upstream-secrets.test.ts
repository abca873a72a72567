/**
 * The credentials the model service sends an upstream (an OpenAI-compatible server's `apiKey`, an
 * Ollama URL's user info as Basic credentials) never reach a client or the log, even when the
 * upstream echoes them in an error; and an upstream refusing them is the upstream's failure (502),
 * not a 401 that a client would read as its own key refused.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createLogger } from "@hearth/core";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echoUpstreamSettings, expectNoSecret, startEchoUpstream } from "./echo-upstream.js";
import { startModelService } from "./start-model-service.js";

let dir: string;
let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
let service: { url: string; close(): Promise<void> };
const logged: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-model-upstream-secrets-"));
  upstream = await startEchoUpstream();
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logged.push(String(chunk));
      done();
    },
  });
  service = await startModelService(
    dir,
    { ...echoUpstreamSettings(upstream.url), cache: { enabled: false } },
    createLogger({ level: "debug", destination }),
  );
});

afterAll(async () => {
  await service?.close();
  await upstream?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What a call threw, as text a client could show or log. */
const failure = async (call: () => Promise<unknown>) => {
  const error = (await call().then(
    () => {
      throw new Error("the call succeeded");
    },
    (caught: unknown) => caught,
  )) as { status?: number; status_code?: number; code?: string; message: string; error?: unknown };
  return {
    status: error.status ?? error.status_code,
    code: error.code,
    message: error.message,
    text: `${error.message} ${JSON.stringify(error)}`,
  };
};

describe("an OpenAI-compatible upstream's key", () => {
  const openai = () => new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "hk-member", maxRetries: 0 });
  const messages = [{ role: "user" as const, content: "hi" }];

  it("is redacted from an echoed error, in chats streamed or not, completions and embeddings", async () => {
    const calls = [
      () => openai().chat.completions.create({ model: "cloud/echo", messages }),
      async () => {
        const stream = await openai().chat.completions.create({
          model: "cloud/echo",
          messages,
          stream: true,
        });
        for await (const _chunk of stream);
      },
      () => openai().completions.create({ model: "cloud/echo", prompt: "hi" }),
      () => openai().embeddings.create({ model: "cloud/echo", input: "hi" }),
    ];
    for (const call of calls) {
      const error = await failure(call);
      expect(error.status).toBe(502);
      expect(error.code).toBe("UPSTREAM_ERROR");
      expect(error.message).toContain("you sent Authorization: [redacted]");
      expectNoSecret(error.text);
    }
  });

  it("is redacted from an error event mid-stream and from an answer that is not JSON", async () => {
    const streamed = await failure(async () => {
      const stream = await openai().chat.completions.create({
        model: "cloud/echo-stream",
        messages,
        stream: true,
      });
      for await (const _chunk of stream);
    });
    expect(streamed.message).toContain("[redacted]");
    expectNoSecret(streamed.text);
    const plain = await failure(() =>
      openai().chat.completions.create({ model: "cloud/echo-stream", messages }),
    );
    expectNoSecret(plain.text);
    const embedded = await failure(() =>
      openai().embeddings.create({ model: "cloud/echo-json", input: "hi" }),
    );
    expect(embedded.status).toBe(502);
    expectNoSecret(embedded.text);
  });

  it("refused by the upstream is a 502 UPSTREAM_ERROR naming the setting, not the client's 401", async () => {
    const calls = [
      () => openai().chat.completions.create({ model: "cloud/refuse", messages }),
      async () => {
        const stream = await openai().chat.completions.create({
          model: "cloud/refuse",
          messages,
          stream: true,
        });
        for await (const _chunk of stream);
      },
      () => openai().embeddings.create({ model: "cloud/refuse", input: "hi" }),
    ];
    for (const call of calls) {
      const error = await failure(call);
      expect(error.status).toBe(502);
      expect(error.code).toBe("UPSTREAM_ERROR");
      expect(error.message).toMatch(/refused the credentials Hearth sent.*model\.upstreams.*apiKey/);
      expectNoSecret(error.text);
    }
  });
});

describe("an upstream Ollama's credentials (user info in its URL, sent as Basic)", () => {
  const ollama = () => new Ollama({ host: service.url });

  it("are redacted from an echoed error, in chats, generations and embeddings", async () => {
    const calls = [
      () => ollama().chat({ model: "echo", messages: [{ role: "user", content: "hi" }] }),
      () => ollama().generate({ model: "echo", prompt: "hi" }),
      () => ollama().embed({ model: "echo", input: "hi" }),
    ];
    for (const call of calls) {
      const error = await failure(call);
      expect(error.status).toBe(502);
      expect(error.message).toContain("you sent Authorization: [redacted]");
      expectNoSecret(error.text);
    }
  });

  it("refused by the upstream are a 502 naming the setting, not the client's 401", async () => {
    const error = await failure(() =>
      ollama().chat({ model: "refuse", messages: [{ role: "user", content: "hi" }] }),
    );
    expect(error.status).toBe(502);
    expect(error.message).toMatch(/refused the credentials Hearth sent.*ollamaHost/);
  });
});

describe("the service log", () => {
  it("holds none of the credentials after all of the above", () => {
    expect(logged.join("")).toContain("[redacted]");
    expectNoSecret(logged.join(""));
  });
});
