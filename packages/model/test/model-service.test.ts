import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { USAGE_COMMENT_HEADER } from "@hearth/contracts";
import { createLogger } from "@hearth/core";
import { LlamaEmbeddingContext } from "node-llama-cpp";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { rawRequest } from "../../../test/support/raw-request.js";
import { sharedFile } from "../../../test/support/shared-data.js";
import { tinyGgufBytes, writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { scanModelsDir } from "../src/index.js";
import { postJson, startModelService } from "./start-model-service.js";

const stories = sharedFile("models", "stories260K.gguf");

describe("model service: embedded runtime behind the Ollama and OpenAI APIs", () => {
  let dir: string;
  let service: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-model-"));
    await writeTinyGguf(join(dir, "tiny.gguf"));
    // An embedding model, as its GGUF says: it names a pooling type (mean).
    await writeTinyGguf(join(dir, "embedder.gguf"), {
      seed: 5,
      overrideMetadata: { "llama.pooling_type": 1 },
    });
    if (stories) await copyFile(stories, join(dir, "stories260K.gguf"));
    const whole = tinyGgufBytes({ seed: 3 });
    await writeFile(join(dir, "truncated.gguf"), whole.subarray(0, Math.floor(whole.length * 0.8)));
    await writeFile(join(dir, "notes.gguf"), "this is not a model\n");
    service = await startModelService(dir);
  });

  afterAll(async () => {
    await service?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lists every valid GGUF by name:tag in /api/tags and /v1/models, and reports the bad ones to doctor", async () => {
    const ollama = new Ollama({ host: service.url });
    const tags = await ollama.list();
    const names = tags.models.map((model) => model.name);
    expect(names).toContain("tiny:latest");
    if (stories) expect(names).toContain("stories260K:latest");
    expect(names).not.toContain("truncated:latest");

    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused" });
    const ids = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toContain("tiny:latest");

    const scanned = await scanModelsDir(dir);
    expect(scanned.find((model) => model.name === "truncated:latest")).toMatchObject({ valid: false });
    expect(scanned.find((model) => model.name === "truncated:latest")?.error).toMatch(/truncated/);
    expect(scanned.find((model) => model.name === "notes:latest")?.error).toMatch(/not a GGUF/);
    expect(scanned.find((model) => model.name === "tiny:latest")).toMatchObject({ valid: true });
  });

  it("says which models embed and which complete, in /v1/models as in /api/show", async () => {
    const listed = (await (await fetch(`${service.url}/v1/models`)).json()) as {
      data: Array<{ id: string; capabilities: string[] }>;
    };
    const capabilities = (id: string) => listed.data.find((model) => model.id === id)?.capabilities;
    expect(capabilities("embedder:latest")).toEqual(["embedding"]);
    expect(capabilities("tiny:latest")).toEqual(["completion"]);
    const shown = (model: string) =>
      postJson(`${service.url}/api/show`, { model }).then(
        async (response) => ((await response.json()) as { capabilities: string[] }).capabilities,
      );
    expect(await shown("embedder")).toEqual(["embedding"]);
    expect(await shown("tiny")).toContain("completion");
    // One model (the openai client's models.retrieve) is the same object as its item in the list.
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    for (const id of ["embedder", "tiny:latest"]) {
      const retrieved = await openai.models.retrieve(id);
      expect(retrieved).toEqual(listed.data.find((model) => model.id === retrieved.id));
    }
  });

  it("streams a chat through the official ollama client (NDJSON) and answers without streaming", async () => {
    const ollama = new Ollama({ host: service.url });
    const stream = await ollama.chat({
      model: "tiny",
      messages: [{ role: "user", content: "hello" }],
      stream: true,
      options: { temperature: 0, num_predict: 6 },
    });
    let text = "";
    let chunks = 0;
    let last: { done: boolean; eval_count?: number; load_duration?: number } | undefined;
    for await (const part of stream) {
      text += part.message.content;
      chunks++;
      last = part;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text.trim()).toMatch(/^[a-z]+( [a-z]+)*$/);
    expect(last?.done).toBe(true);
    expect(last?.eval_count).toBeGreaterThan(0);

    const whole = await ollama.chat({
      model: "tiny:latest",
      messages: [{ role: "user", content: "hello" }],
      stream: false,
      options: { temperature: 0, num_predict: 6 },
    });
    expect(whole.message.content).toBe(text);
    // Durations as Ollama splits them: clients take tokens/s from eval_count / eval_duration. The
    // first chat loaded the model (its load is apart from the prompt's evaluation); the second did not.
    for (const done of [last as unknown as typeof whole, whole]) {
      expect(done.prompt_eval_duration).toBeGreaterThan(0);
      expect(done.eval_duration).toBeGreaterThan(0);
      expect(done.load_duration + done.prompt_eval_duration + done.eval_duration).toBe(done.total_duration);
    }
    expect(last?.load_duration).toBeGreaterThan(1_000_000);
    expect(whole.load_duration).toBeLessThan(last!.load_duration!);
    expect(whole.done).toBe(true);
  });

  it("streams a chat through the official openai client (SSE with [DONE] and usage)", async () => {
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const stream = await openai.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "hello" }],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0,
      max_tokens: 6,
    });
    let text = "";
    let finish: string | null | undefined;
    let usage: { completion_tokens: number } | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish ??= chunk.choices[0]?.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.trim()).toMatch(/^[a-z]+( [a-z]+)*$/);
    expect(finish).toBe("length");
    expect(usage?.completion_tokens).toBe(6);

    const completion = await openai.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "hello" }],
      temperature: 0,
      max_tokens: 6,
    });
    expect(completion.choices[0]?.message.content).toBe(text);
    expect(completion.usage?.completion_tokens).toBe(6);
  });

  it("gives a metering caller a stream's usage as its last comment, chats and text completions alike", async () => {
    for (const [path, body] of [
      ["/v1/chat/completions", { messages: [{ role: "user", content: "hello" }] }],
      ["/v1/completions", { prompt: "hello" }],
    ] as const) {
      const answer = await fetch(`${service.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", [USAGE_COMMENT_HEADER]: "1" },
        body: JSON.stringify({ model: "tiny", stream: true, temperature: 0, max_tokens: 3, ...body }),
      });
      expect(await answer.text(), path).toMatch(
        /\n\n: usage \{"prompt_tokens":\d+,"completion_tokens":3,"total_tokens":\d+\}\n\ndata: \[DONE\]\n\n$/,
      );
    }
  });

  it("honours stop sequences and seeds through the openai client", async () => {
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const ask = (extra: Record<string, unknown>) =>
      openai.completions.create(
        { model: "tiny", prompt: "hello", max_tokens: 12, temperature: 0, ...extra },
        { headers: { "x-hearth-cache": "bypass" } },
      );
    const full = (await ask({})).choices[0]!.text;
    const words = full.trim().split(" ");
    expect(words.length).toBeGreaterThan(3);
    const stop = ` ${words[2]}`;
    const stopped = (await ask({ stop: [stop] })).choices[0]!;
    expect(stopped.text).toBe(full.slice(0, full.indexOf(stop)));
    expect(stopped.finish_reason).toBe("stop");

    const seeded = async () => (await ask({ temperature: 1, seed: 42 })).choices[0]!.text;
    expect(await seeded()).toBe(await seeded());
  });

  it("echoes the prompt of a completion first, streamed or not, as OpenAI does", async () => {
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const request = { model: "tiny", prompt: "hello", max_tokens: 6, temperature: 0, echo: true } as const;
    const whole = (await openai.completions.create(request)).choices[0]!.text;
    expect(whole.startsWith("hello")).toBe(true);
    const texts: string[] = [];
    for await (const chunk of await openai.completions.create({ ...request, stream: true }))
      texts.push(chunk.choices[0]?.text ?? "");
    expect(texts[0]).toBe("hello");
    expect(texts.join("")).toBe(whole);
  });

  it.skipIf(!stories)(
    "golden: stories260K at temperature 0 continues the story with 'girl named Lily'",
    async () => {
      const response = await fetch(`${service.url}/api/generate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "stories260K",
          prompt: "Once upon a time, there was a little",
          raw: true,
          stream: false,
          options: { temperature: 0, num_predict: 8 },
        }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { response: string };
      expect(body.response).toMatch(/^ girl named Lily/);

      const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const completion = await openai.completions.create({
        model: "stories260K",
        prompt: "Once upon a time, there was a little",
        temperature: 0,
        max_tokens: 8,
      });
      expect(completion.choices[0]?.text).toMatch(/^ girl named Lily/);
    },
  );

  it.skipIf(!stories)(
    "keeps the space before a completion's first word, streamed or not, echoed or not, OpenAI and Ollama",
    async () => {
      const prompt = "The cat sat on the";
      const request = { model: "stories260K", prompt, max_tokens: 6, temperature: 0 } as const;
      // Past the inference cache, so that each form is generated; the cached answer is checked last.
      const bypass = { headers: { "x-hearth-cache": "bypass" } };
      const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const text = (await openai.completions.create(request)).choices[0]!.text;
      expect(text).toMatch(/^ ground\b/);

      const chunks: string[] = [];
      for await (const chunk of await openai.completions.create({ ...request, stream: true }, bypass))
        chunks.push(chunk.choices[0]?.text ?? "");
      expect(chunks.find(Boolean)?.startsWith(" ")).toBe(true);
      expect(chunks.join("")).toBe(text);

      const echoed = await openai.completions.create({ ...request, echo: true }, bypass);
      expect(echoed.choices[0]?.text).toBe(`${prompt}${text}`);
      const echoChunks: string[] = [];
      for await (const chunk of await openai.completions.create(
        { ...request, echo: true, stream: true },
        bypass,
      ))
        echoChunks.push(chunk.choices[0]?.text ?? "");
      expect(echoChunks.join("")).toBe(`${prompt}${text}`);

      const ollama = (stream: boolean) =>
        fetch(`${service.url}/api/generate`, {
          method: "POST",
          headers: { "content-type": "application/json", ...bypass.headers },
          body: JSON.stringify({
            model: "stories260K",
            prompt,
            stream,
            options: { temperature: 0, num_predict: 6 },
          }),
        });
      expect(((await (await ollama(false)).json()) as { response: string }).response).toBe(text);
      const lines = (await (await ollama(true)).text()).trim().split("\n");
      const parts = lines.map((line) => (JSON.parse(line) as { response: string }).response);
      expect(parts.find(Boolean)?.startsWith(" ")).toBe(true);
      expect(parts.join("")).toBe(text);

      const cached = await openai.completions.create(request).withResponse();
      expect(cached.response.headers.get("x-hearth-cache")).toBe("hit");
      expect(cached.data.choices[0]?.text).toBe(text);
    },
  );

  it("answers an unknown model with 404 MODEL_NOT_FOUND in each API's error format", async () => {
    const ollamaResponse = await fetch(`${service.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "nope", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(ollamaResponse.status).toBe(404);
    expect(((await ollamaResponse.json()) as { error: string }).error).toMatch(/model "nope" not found/);

    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const error = await openai.chat.completions
      .create({ model: "nope", messages: [{ role: "user", content: "hi" }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("MODEL_NOT_FOUND");
  });

  it("answers malformed JSON, bad parameters and an oversized max_tokens with 400 and a stable code", async () => {
    const post = (path: string, body: string) =>
      fetch(`${service.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    const malformed = await post("/v1/chat/completions", '{"model": "tiny", "messages": [');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe("INVALID_JSON");

    const negative = await post(
      "/v1/chat/completions",
      JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hi" }], temperature: -1 }),
    );
    expect(negative.status).toBe(400);
    // The field refused is named in `param`, as OpenAI names it.
    expect(((await negative.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "INVALID_REQUEST",
      type: "invalid_request_error",
      param: "temperature",
    });

    // Refused in the name the client sent it by, as `param` and in the message.
    for (const field of ["max_tokens", "max_completion_tokens"]) {
      const tooMany = await post(
        "/v1/chat/completions",
        JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hi" }], [field]: 100000 }),
      );
      expect(tooMany.status).toBe(400);
      expect(((await tooMany.json()) as { error: unknown }).error).toMatchObject({
        code: "CONTEXT_OVERFLOW",
        param: field,
        message: expect.stringMatching(new RegExp(`^${field} 100000 does not fit the 256-token context`)),
      });
    }

    const ollamaMalformed = await post("/api/chat", "{nope");
    expect(ollamaMalformed.status).toBe(400);
    expect(typeof ((await ollamaMalformed.json()) as { error: string }).error).toBe("string");

    const longPrompt = await post(
      "/api/generate",
      JSON.stringify({ model: "tiny", prompt: "hello ".repeat(400), raw: true, stream: false }),
    );
    expect(longPrompt.status).toBe(400);
    expect(((await longPrompt.json()) as { error: string }).error).toMatch(/context/);
  });

  it("generates until the context is full for a num_predict beyond it, as Ollama (Continue sends 4096)", async () => {
    const ollama = new Ollama({ host: service.url });
    // The context is 256 tokens (startModelService).
    for (const num_predict of [256, 4096]) {
      const chat = await ollama.chat({
        model: "tiny",
        messages: [{ role: "user", content: "hello" }],
        options: { temperature: 0, num_predict },
      });
      expect(chat.done_reason, `chat, num_predict ${num_predict}`).toBe("length");
      expect(chat.prompt_eval_count + chat.eval_count).toBeLessThanOrEqual(256);
      expect(chat.eval_count).toBeGreaterThan(200);
    }
    const stream = await ollama.generate({
      model: "tiny",
      prompt: "hello",
      raw: true,
      stream: true,
      options: { temperature: 0, num_predict: 4096 },
    });
    let last: { done_reason?: string; prompt_eval_count: number; eval_count: number } | undefined;
    for await (const part of stream) last = part;
    expect(last?.done_reason).toBe("length");
    expect(last!.prompt_eval_count + last!.eval_count).toBeLessThanOrEqual(256);

    // A prompt that does not fit is still refused, in num_predict's terms (no OpenAI names).
    const error = await ollama
      .generate({
        model: "tiny",
        prompt: "hello ".repeat(400),
        raw: true,
        options: { num_predict: 4096 },
      })
      .catch((caught: unknown) => caught as { status_code: number; error: string });
    expect(error).toMatchObject({ status_code: 400, error: expect.stringMatching(/prompt has \d+ tokens/) });
    expect((error as { error: string }).error).not.toMatch(/max_tokens/);
  });

  it("refuses what it cannot honour instead of ignoring it: logprobs, fewer dimensions, a suffix without infill", async () => {
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${service.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const messages = [{ role: "user", content: "hi" }];
    const openAiError = (answer: { body: Record<string, unknown> }) =>
      (answer.body.error as { code: string; message: string }) ?? {};

    const logprobs = await post("/v1/chat/completions", { model: "tiny", messages, logprobs: true });
    expect(logprobs.status).toBe(400);
    expect(openAiError(logprobs)).toMatchObject({
      message: expect.stringMatching(/logprobs are not supported/),
      param: "logprobs",
    });
    expect(
      (await post("/v1/chat/completions", { model: "tiny", messages, logprobs: false, max_tokens: 2 }))
        .status,
    ).toBe(200);

    const shorter = await post("/v1/embeddings", { model: "tiny", input: "hello", dimensions: 4 });
    expect(shorter.status).toBe(400);
    expect(openAiError(shorter)).toMatchObject({
      code: "INVALID_REQUEST",
      message: expect.stringMatching(/16 dimensions; it cannot shorten them to 4/),
      param: "dimensions",
    });
    expect((await post("/v1/embeddings", { model: "tiny", input: "hello", dimensions: 16 })).status).toBe(
      200,
    );
    // Ollama's /api/embed alike, in Ollama's error format; its 0 is no size asked for.
    const ollamaShorter = await post("/api/embed", { model: "tiny", input: "hello", dimensions: 4 });
    expect(ollamaShorter).toEqual({
      status: 400,
      body: {
        error: expect.stringMatching(/16 dimensions; it cannot shorten them to 4/),
        code: "INVALID_REQUEST",
      },
    });
    for (const dimensions of [16, 0]) {
      const same = await post("/api/embed", { model: "tiny", input: "hello", dimensions });
      expect(same.status).toBe(200);
      expect((same.body.embeddings as number[][])[0]).toHaveLength(16);
    }

    // One completion per prompt: n and best_of above 1 are refused, naming the field.
    const prompt = { model: "tiny", prompt: "once", max_tokens: 2 };
    for (const [field, pattern] of [
      ["n", /^n: only 1 completion per prompt is supported/],
      ["best_of", /^best_of: only 1 completion per prompt is generated/],
    ] as const) {
      const refused = await post("/v1/completions", { ...prompt, [field]: 2 });
      expect(refused.status).toBe(400);
      expect(openAiError(refused)).toMatchObject({ message: expect.stringMatching(pattern), param: field });
      expect((await post("/v1/completions", { ...prompt, [field]: 1 })).status).toBe(200);
    }

    const infill = await post("/v1/completions", {
      model: "tiny",
      prompt: "def f(",
      suffix: "return x",
      max_tokens: 4,
    });
    expect(infill.status).toBe(400);
    expect(openAiError(infill).message).toMatch(/cannot fill in the middle/);
    const ollamaInfill = await post("/api/generate", {
      model: "tiny",
      prompt: "a",
      suffix: "b",
      stream: false,
    });
    expect(ollamaInfill.status).toBe(400);
    expect(ollamaInfill.body.error).toMatch(/cannot fill in the middle/);
  });

  it("reads a body as JSON whatever its content type, as Ollama's documented `curl -d` sends it", async () => {
    const body = JSON.stringify({
      model: "tiny",
      prompt: "hello",
      stream: false,
      options: { temperature: 0, num_predict: 3 },
    });
    for (const headers of <Array<Record<string, string>>>[
      { "content-type": "application/x-www-form-urlencoded" },
      { "content-type": "text/plain" },
      {},
    ]) {
      const response = await fetch(`${service.url}/api/generate`, {
        method: "POST",
        headers,
        // Bytes, so that fetch adds no content type of its own.
        body: new TextEncoder().encode(body),
      });
      expect(response.status, JSON.stringify(headers)).toBe(200);
      expect(await response.json()).toMatchObject({ done: true, response: expect.any(String) });
    }
  });

  it("answers `GET /` and `HEAD /` as Ollama does (its CLI's heartbeat), and the Ollama version its API matches", async () => {
    const root = await fetch(`${service.url}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await root.text()).toBe("Ollama is running");
    const head = await fetch(`${service.url}/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    // It tells nothing: answered whatever name it was addressed by, as the health checks are.
    expect((await rawRequest(service.url, { path: "/", headers: { host: "evil.example:8081" } })).body).toBe(
      "Ollama is running",
    );

    const version = await fetch(`${service.url}/api/version`);
    // An Ollama release (clients compare it with theirs: VS Code Copilot wants 0.6.4 or later)...
    const { version: claimed } = await new Ollama({ host: service.url }).version();
    const [major, minor] = claimed.split(".").map(Number) as [number, number];
    expect(major > 0 || minor >= 12).toBe(true);
    // ... and Hearth's own beside it.
    expect(version.headers.get("x-hearth-version")).toMatch(/^\d+\.\d+\.\d+/);
    expect(version.headers.get("x-hearth-version")).not.toBe(claimed);
  });

  it("answers no page that made its own name resolve to this machine (DNS rebinding), without a service token", async () => {
    const rebound = await rawRequest(service.url, {
      path: "/api/tags",
      headers: { host: "evil.example:8081" },
    });
    expect(rebound.status).toBe(403);
    expect(rebound.body).not.toContain("tiny");
    expect(
      (await rawRequest(service.url, { path: "/api/tags", headers: { host: "localhost:8081" } })).body,
    ).toContain("tiny");
  });

  it("refuses what a page of another site sends through the user's browser, and lets allowed pages in with CORS", async () => {
    const fromPage = (origin: string, path: string, body: unknown) =>
      fetch(`${service.url}${path}`, {
        method: "POST",
        // What a cross-site form or no-preflight fetch can send.
        headers: { origin, "content-type": "application/x-www-form-urlencoded" },
        body: JSON.stringify(body),
      });
    const deletion = await fromPage("https://evil.example", "/api/delete", { model: "tiny" });
    expect(deletion.status).toBe(403);
    expect(((await deletion.json()) as { error: string }).error).toMatch(
      /https:\/\/evil\.example.*not allowed/,
    );
    expect(deletion.headers.get("access-control-allow-origin")).toBeNull();
    const tags = (await (await fetch(`${service.url}/api/tags`)).json()) as {
      models: Array<{ name: string }>;
    };
    expect(tags.models.map((model) => model.name)).toContain("tiny:latest");

    const chat = await fromPage("https://evil.example", "/v1/chat/completions", {
      model: "tiny",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(chat.status).toBe(403);
    expect(((await chat.json()) as { error: { code: string } }).error.code).toBe("ORIGIN_NOT_ALLOWED");

    const preflight = await fetch(`${service.url}/api/chat`, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:5173",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(preflight.headers.get("access-control-allow-headers")).toBe("content-type");

    // A streamed answer is written past Fastify's reply: it carries the CORS headers too.
    const streamed = await fromPage("http://localhost:5173", "/api/chat", {
      model: "tiny",
      messages: [{ role: "user", content: "hi" }],
      options: { temperature: 0, num_predict: 3 },
    });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect((await streamed.text()).trim().split("\n").at(-1)).toMatch(/"done":true/);
  });

  it("refuses a truncated or non-GGUF file with 422 MODEL_FILE_INVALID while other models keep working", async () => {
    for (const model of ["truncated", "notes"]) {
      const response = await fetch(`${service.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
      });
      expect(response.status).toBe(422);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("MODEL_FILE_INVALID");
    }
    const ollama = new Ollama({ host: service.url });
    const answer = await ollama.generate({
      model: "tiny",
      prompt: "hello",
      raw: true,
      options: { temperature: 0, num_predict: 3 },
    });
    expect((answer.response ?? "").trim().length).toBeGreaterThan(0);
  });

  it("stops generating at once when the client disconnects", async () => {
    // The completion tokens generated so far, by every test of this service.
    const completionTokens = async () =>
      Number(
        /hearth_model_tokens_total\{[^}]*model="tiny:latest"[^}]*kind="completion"[^}]*\} (\d+)/.exec(
          await (await fetch(`${service.url}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    const before = await completionTokens();
    const controller = new AbortController();
    const response = await postJson(
      `${service.url}/api/generate`,
      { model: "tiny", prompt: "hello", raw: true, options: { temperature: 0.8, num_predict: 200 } },
      { signal: controller.signal },
    );
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => undefined);
    // The slot is freed at once: a new request with the same model is served right away.
    const started = performance.now();
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toContain("hearth_model_queue_wait_seconds");
    // The "queue full" alert compares depth with capacity, both per model.
    expect(metrics).toMatch(/hearth_model_queue_capacity\{[^}]*model="tiny:latest"[^}]*\} [1-9]/);
    const next = await postJson(`${service.url}/api/generate`, {
      model: "tiny",
      prompt: "hello",
      raw: true,
      stream: false,
      options: { temperature: 0, num_predict: 2 },
    });
    expect(next.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(5000);
    // Far fewer than the 200 asked for by the abandoned request.
    expect((await completionTokens()) - before).toBeLessThan(150);
  });
});

describe("model service: prompt tokens", () => {
  let dir: string;
  let service: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-model-count-"));
    await writeTinyGguf(join(dir, "tiny.gguf"));
    // The tiny model's own context (512): room for short answers to skip counting before generating.
    service = await startModelService(dir, { contextSize: 512 });
  });

  afterAll(async () => {
    await service?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reports the same prompt tokens whether counted before or after answering, and when a stop sequence ended it", async () => {
    const ask = async (content: string, extra: Record<string, unknown>) => {
      const response = await fetch(`${service.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "tiny",
          messages: [{ role: "user", content }],
          temperature: 0,
          ...extra,
        }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as {
        choices: Array<{ message: { content: string }; finish_reason: string }>;
        usage: { prompt_tokens: number; completion_tokens: number };
      };
    };
    for (const content of ["hello there", "故事".repeat(40)]) {
      const counted = await ask(content, { max_tokens: 400 }); // too long to skip counting first
      const short = await ask(content, { max_tokens: 6 }); // counted after answering
      expect(short.usage.prompt_tokens, content).toBe(counted.usage.prompt_tokens);
      expect(counted.usage.prompt_tokens + counted.usage.completion_tokens, content).toBeLessThanOrEqual(512);
      const words = short.choices[0]!.message.content.trim().split(" ");
      if (words.length > 2) {
        const stopped = await ask(content, { max_tokens: 6, stop: [` ${words[2]}`] });
        expect(stopped.choices[0]!.finish_reason).toBe("stop");
        expect(stopped.usage.prompt_tokens, content).toBe(counted.usage.prompt_tokens);
      }
    }
  });
});

describe("model service start-up", () => {
  it("stops with MODELS_DIR_MISSING when the configured models dir does not exist", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hearth-model-missing-"));
    try {
      await expect(startModelService(join(dir, "no-such-dir"))).rejects.toMatchObject({
        code: "MODELS_DIR_MISSING",
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("model service shutdown", () => {
  it.skipIf(!stories)(
    "close() lets an embedding in flight stop before it unloads the model: no DisposedError in the log",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "hearth-model-close-embed-"));
      const lines: string[] = [];
      const destination = new Writable({
        write(chunk, _encoding, done) {
          lines.push(...String(chunk).trim().split("\n"));
          done();
        },
      });
      const embedFor = LlamaEmbeddingContext.prototype.getEmbeddingFor;
      let embedding!: () => void;
      const started = new Promise<void>((resolve) => (embedding = resolve));
      const spy = vi.spyOn(LlamaEmbeddingContext.prototype, "getEmbeddingFor").mockImplementation(function (
        this: LlamaEmbeddingContext,
        ...args
      ) {
        embedding();
        return embedFor.apply(this, args);
      });
      try {
        await copyFile(stories!, join(dir, "stories260K.gguf"));
        const service = await startModelService(
          dir,
          { contextSize: 2048 },
          createLogger({ level: "warn", destination }),
        );
        // Texts of some 2,000 tokens each: every one takes a while to embed.
        const text = Array.from({ length: 700 }, (_, i) => `word${i % 50}`).join(" ");
        const client = new AbortController();
        const request = fetch(`${service.url}/api/embed`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "stories260K", input: [text, text, text, text] }),
          signal: client.signal,
        }).catch(() => undefined);
        await started;
        // As in `hearth up`: the knowledge service stops first, its embedding requests go away, and
        // the model service closes while the model still embeds the text it was given.
        client.abort();
        await request;
        await service.close();
        const problems = lines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
        expect(problems).toEqual([]);
      } finally {
        spy.mockRestore();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it("close() ends in-flight streams and unloads models promptly", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hearth-model-close-"));
    try {
      await writeTinyGguf(join(dir, "tiny.gguf"));
      const service = await startModelService(dir, { contextSize: 512 });
      const response = await fetch(`${service.url}/api/generate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "tiny", prompt: "hello", raw: true, options: { temperature: 0.8 } }),
      });
      const reader = response.body!.getReader();
      await reader.read();
      const started = performance.now();
      await service.close();
      expect(performance.now() - started).toBeLessThan(5000);
      let text = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      // The stream ended with a whole line that says the answer was cut short, not with a "done" one
      // a client would take for the whole answer.
      const last = JSON.parse(text.trim().split("\n").at(-1)!) as { error?: string; done?: boolean };
      expect(last.error).toMatch(/shutting down; the answer was cut short/);
      expect(text).not.toMatch(/"done":true/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
