import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedFile } from "../../../test/support/shared-data.js";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { startReplayServer } from "./replay-server.js";
import { startModelService } from "./start-model-service.js";
import { testEmbeddedRuntime } from "./test-embedded-runtime.js";

const stories = sharedFile("models", "stories260K.gguf");

let dir: string;
let replayOllama: Awaited<ReturnType<typeof startReplayServer>>;
let replayVllm: Awaited<ReturnType<typeof startReplayServer>>;
let service: { url: string; close(): Promise<void> };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-model-features-"));
  await writeTinyGguf(join(dir, "tiny.gguf"));
  if (stories) await copyFile(stories, join(dir, "stories260K.gguf"));
  replayOllama = await startReplayServer("ollama.json");
  replayVllm = await startReplayServer("vllm.json");
  service = await startModelService(dir, {
    ollamaHost: replayOllama.url,
    upstreams: [{ name: "vllm", baseUrl: `${replayVllm.url}/v1`, apiKey: "sk-test-secret" }],
    queue: { maxQueue: 1, maxWaitMs: 30_000, concurrency: 1 },
    parallel: 1,
  });
});

afterAll(async () => {
  await service?.close();
  await replayOllama?.close();
  await replayVllm?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${service.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

describe("models dir", () => {
  it("serves a GGUF dropped in while running, within a second, without a restart", async () => {
    await writeTinyGguf(join(dir, "dropped.gguf"), { seed: 4 });
    const ollama = new Ollama({ host: service.url });
    // Naming it finds it at once; listings catch up within a second.
    const answer = await ollama.generate({
      model: "dropped",
      prompt: "hello",
      raw: true,
      options: { temperature: 0, num_predict: 2 },
    });
    expect((answer.response ?? "").trim().length).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await ollama.list()).models.map((model) => model.name)).toContain("dropped:latest");
  });
});

describe("upstream Ollama and OpenAI-compatible servers", () => {
  it("lists upstream models beside embedded ones", async () => {
    const tags = (await (await fetch(`${service.url}/api/tags`)).json()) as {
      models: Array<{ name: string }>;
    };
    const names = tags.models.map((model) => model.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "tiny:latest",
        "llama3.2:latest",
        "deepseek-r1:1.5b",
        "vllm/meta-llama/Llama-3.2-1B-Instruct",
      ]),
    );
  });

  it("proxies a chat to the Ollama upstream, streamed through the ollama client", async () => {
    const ollama = new Ollama({ host: service.url });
    let text = "";
    for await (const part of await ollama.chat({
      model: "llama3.2",
      messages: [{ role: "user", content: "Why is the sky blue?" }],
      stream: true,
    })) {
      text += part.message.content;
    }
    expect(text).toBe("The sky is blue.");
    expect(replayOllama.requests.at(-1)).toMatchObject({ model: "llama3.2:latest", stream: true });
  });

  it("streams DeepSeek-R1 reasoning as reasoning_content (OpenAI) and thinking (Ollama)", async () => {
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const stream = await openai.chat.completions.create({
      model: "deepseek-r1:1.5b",
      messages: [
        { role: "system", content: "Answer briefly." },
        { role: "user", content: "Why is the sky blue?" },
      ],
      stream: true,
    });
    let reasoning = "";
    let content = "";
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
      reasoning += delta?.reasoning_content ?? "";
      content += delta?.content ?? "";
    }
    expect(reasoning).toBe("The user asks about the sky.");
    expect(content).toBe("The sky is blue.");
    // DeepSeek's preset: temperature 0.6 and the system prompt moved into the user turn.
    const sent = replayOllama.requests.at(-1) as {
      options: { temperature: number };
      messages: Array<{ role: string; content: string }>;
    };
    expect(sent.options.temperature).toBe(0.6);
    expect(sent.messages).toEqual([{ role: "user", content: "Answer briefly.\n\nWhy is the sky blue?" }]);

    const ollama = new Ollama({ host: service.url });
    const answer = await ollama.chat({
      model: "deepseek-r1:1.5b",
      messages: [{ role: "user", content: "sky?" }],
      think: true,
    });
    expect(answer.message.thinking).toBe("The user asks about the sky.");
    expect(answer.message.content).toBe("The sky is blue.");
    const withoutThinking = await ollama.chat({
      model: "deepseek-r1:1.5b",
      messages: [{ role: "user", content: "sky?" }],
      think: false,
    });
    expect(withoutThinking.message.thinking).toBeUndefined();
    expect(withoutThinking.message.content).toBe("The sky is blue.");
  });

  it("proxies to an OpenAI-compatible upstream with its API key, and names the model <upstream>/<id>", async () => {
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: "vllm/meta-llama/Llama-3.2-1B-Instruct",
      messages: [{ role: "user", content: "Why is the sky blue?" }],
    });
    expect(completion.choices[0]?.message.content).toBe("The sky is blue.");
    expect(completion.usage).toMatchObject({ prompt_tokens: 26, completion_tokens: 4 });
    expect(replayVllm.requests.at(-1)).toMatchObject({ model: "meta-llama/Llama-3.2-1B-Instruct" });
  });

  it("passes a tool conversation to an OpenAI-compatible upstream with the calls' ids", async () => {
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    await openai.chat.completions.create({
      model: "vllm/meta-llama/Llama-3.2-1B-Instruct",
      messages: [
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_abc",
              type: "function",
              function: { name: "weather", arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_abc", content: "sunny" },
      ],
    });
    expect((replayVllm.requests.at(-1) as { messages: unknown[] }).messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_abc", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
        ],
      },
      { role: "tool", content: "sunny", tool_call_id: "call_abc" },
    ]);

    // An Ollama client's history has no ids: each result answers the earliest open call of its tool.
    await post("/api/chat", {
      model: "vllm/meta-llama/Llama-3.2-1B-Instruct",
      stream: false,
      messages: [
        { role: "user", content: "Weather in Paris and Rome?" },
        {
          role: "assistant",
          content: "",
          tool_calls: [
            { function: { name: "weather", arguments: { city: "Paris" } } },
            { function: { name: "weather", arguments: { city: "Rome" } } },
          ],
        },
        { role: "tool", tool_name: "weather", content: "sunny" },
        { role: "tool", tool_name: "weather", content: "rain" },
      ],
    });
    const forwarded = (replayVllm.requests.at(-1) as { messages: Array<Record<string, unknown>> }).messages;
    const ids = (forwarded[1]!.tool_calls as Array<{ id: string }>).map((call) => call.id);
    expect(new Set(ids).size).toBe(2);
    expect(forwarded.slice(2)).toEqual([
      { role: "tool", content: "sunny", tool_call_id: ids[0] },
      { role: "tool", content: "rain", tool_call_id: ids[1] },
    ]);
  });
});

describe("inference cache", () => {
  it("answers a repeated deterministic request from cache, marked, in the same format", async () => {
    const body = {
      model: "tiny",
      messages: [{ role: "user", content: "hello cache" }],
      temperature: 0,
      max_tokens: 6,
    };
    const first = await post("/v1/chat/completions", body);
    expect(first.headers.get("x-hearth-cache")).toBe("miss");
    const firstBody = (await first.json()) as { choices: Array<{ message: { content: string } }> };
    const second = await post("/v1/chat/completions", body);
    expect(second.headers.get("x-hearth-cache")).toBe("hit");
    const secondBody = (await second.json()) as { choices: Array<{ message: { content: string } }> };
    expect(secondBody.choices[0]?.message.content).toBe(firstBody.choices[0]?.message.content);

    const streamed = await post("/v1/chat/completions", { ...body, stream: true });
    expect(streamed.headers.get("x-hearth-cache")).toBe("hit");
    const events = await streamed.text();
    expect(events).toContain("chat.completion.chunk");
    expect(events.trim().endsWith("data: [DONE]")).toBe(true);

    const bypass = await post("/v1/chat/completions", body, { "x-hearth-cache": "bypass" });
    expect(bypass.headers.get("x-hearth-cache")).toBe("off");
    await bypass.text();

    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/hearth_model_cache_requests_total\{[^}]*result="hit"[^}]*\} [1-9]/);
  });

  it("keys what changes a generate's answer, and refuses a template or context it would not apply", async () => {
    const base = {
      model: "tiny",
      prompt: "hello key",
      stream: false,
      options: { temperature: 0, num_predict: 3 },
    };
    const cache = async (body: Record<string, unknown>) => {
      const response = await post("/api/generate", { ...base, ...body });
      return {
        status: response.status,
        cache: response.headers.get("x-hearth-cache"),
        body: await response.json(),
      };
    };
    expect((await cache({})).cache).toBe("miss");
    expect((await cache({})).cache).toBe("hit");
    // Each of these changes the prompt or the sampling: none is answered from the entry above.
    for (const change of [
      { system: "be brief" },
      { format: "json" },
      { options: { ...base.options, stop: ["cat"] } },
      { options: { ...base.options, top_k: 1 } },
      { options: { temperature: 0, num_predict: 4 } },
    ])
      expect((await cache(change)).cache, JSON.stringify(change)).toBe("miss");
    // A template is not applied: refused (it was answered from the entry without it), unless the
    // prompt is raw, where Ollama does not apply one either; empty, it is none.
    expect(await cache({ template: "{{ .System }} USER: {{ .Prompt }} ASSISTANT:" })).toEqual({
      status: 400,
      cache: null,
      body: {
        error: expect.stringMatching(/^template: .*send the prompt already formatted, with raw: true/),
        code: "INVALID_REQUEST",
      },
    });
    expect((await cache({ template: "" })).cache).toBe("hit");
    expect((await cache({ template: "USER: {{ .Prompt }}", raw: true })).status).toBe(200);
    // So is an earlier answer's context (deprecated in Ollama; Hearth's answers give none).
    expect(await cache({ context: [1, 2, 3] })).toEqual({
      status: 400,
      cache: null,
      body: { error: expect.stringMatching(/^context: .*not supported/), code: "INVALID_REQUEST" },
    });
    expect((await cache({ context: [] })).cache).toBe("hit");
  });

  it("does not cache sampled requests (temperature > 0 and no seed)", async () => {
    const response = await post("/api/chat", {
      model: "tiny",
      messages: [{ role: "user", content: "hello" }],
      stream: false,
      options: { temperature: 0.9, num_predict: 3 },
    });
    expect(response.headers.get("x-hearth-cache")).toBe("off");
  });
});

describe("admission queue over HTTP", () => {
  /** Requests waiting for the slow model, as its /metrics says: a test waits for its request to queue. */
  const waitingForSlow = async () => {
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    return Number(
      /^hearth_model_queue_depth\{[^}]*model="slow:latest"[^}]*\} (\d+)$/m.exec(metrics)?.[1] ?? 0,
    );
  };

  it("queues a second request (position in a header), and answers a third with 429 and Retry-After", async () => {
    // A slow upstream model holds the only slot.
    const long = {
      model: "slow",
      messages: [{ role: "user", content: "one" }],
      stream: true,
      options: { temperature: 0.8 },
    };
    const running = await post("/api/chat", long);
    const reader = running.body!.getReader();
    await reader.read();
    const waiting = post("/api/chat", long, { "x-hearth-user": "bob" });
    await expect.poll(waitingForSlow).toBe(1);
    const rejected = await post("/api/chat", { ...long, stream: false }, { "x-hearth-user": "carol" });
    expect(rejected.status).toBe(429);
    expect(Number(rejected.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await rejected.json()) as { error: string }).error).toMatch(/busy/);
    await reader.cancel();
    const waited = await waiting;
    expect(waited.status).toBe(200);
    expect(waited.headers.get("x-hearth-queue-position")).toBe("1");
    expect(await waited.text()).toContain('"done":true');
  });

  it("tells a streaming SSE client its place in an SSE comment", async () => {
    const running = await post("/api/chat", {
      model: "slow",
      messages: [{ role: "user", content: "one" }],
      options: { temperature: 0.8 },
    });
    const reader = running.body!.getReader();
    await reader.read();
    const waiting = post("/v1/chat/completions", {
      model: "slow",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      temperature: 0.7,
    });
    await expect.poll(waitingForSlow).toBe(1);
    await reader.cancel();
    const queued = await waiting;
    // Its headers went out while it waited: they say where it stood and that it was no cached answer.
    expect(queued.headers.get("x-hearth-queue-position")).toBe("1");
    expect(queued.headers.get("x-hearth-cache")).toBe("off");
    const text = await queued.text();
    expect(text.startsWith(": queue position 1")).toBe(true);
    expect(text).toContain("data: [DONE]");
  });
});

describe("Ollama model endpoints", () => {
  it("shows versions, model details, loaded models and keep_alive", async () => {
    expect(await (await fetch(`${service.url}/api/version`)).json()).toEqual({ version: expect.any(String) });
    const show = (await (await post("/api/show", { model: "tiny" })).json()) as {
      details: { family: string };
      capabilities: string[];
      parameters: string;
      model_info: Record<string, unknown>;
    };
    expect(show.details.family).toBe("llama");
    // The context it is served with (HEARTH_CONTEXT_SIZE 256), beside the one it was trained on (512).
    expect(show.parameters.split("\n")).toContain("num_ctx 256");
    expect(show.model_info["llama.context_length"]).toBe(512);
    await post("/api/generate", { model: "tiny", keep_alive: "10m" });
    const loaded = async () =>
      (
        (await (await fetch(`${service.url}/api/ps`)).json()) as {
          models: Array<{ name: string; expires_at: string; digest: string; details: { family: string } }>;
        }
      ).models.find((model) => model.name === "tiny:latest");
    const tiny = await loaded();
    const tags = (await (await fetch(`${service.url}/api/tags`)).json()) as {
      models: Array<{ name: string; digest: string; details: unknown }>;
    };
    const listed = tags.models.find((model) => model.name === "tiny:latest")!;
    expect(tiny).toMatchObject({ digest: listed.digest, details: listed.details });
    expect(tiny?.details.family).toBe("llama");
    const remaining = new Date(tiny!.expires_at).getTime() - Date.now();
    expect(remaining).toBeGreaterThan(9 * 60_000);
    expect(remaining).toBeLessThanOrEqual(10 * 60_000);
    // Kept for good: a date with a four-digit year, which Go's and Python's parsers take.
    await post("/api/generate", { model: "tiny", keep_alive: -1 });
    expect((await loaded())?.expires_at).toBe("9999-12-31T23:59:59.000Z");
    await post("/api/generate", { model: "tiny", keep_alive: 0 });
    const after = (await (await fetch(`${service.url}/api/ps`)).json()) as {
      models: Array<{ name: string }>;
    };
    expect(after.models.map((model) => model.name)).not.toContain("tiny:latest");
  });

  it("sizes a GGUF by its tensors' elements as Ollama does, whatever its size label says, and names the quantization its metadata lacks, in /api/tags, /api/show and /api/ps (was empty; then the label)", async () => {
    // Ollama counts the tensors' elements, reading neither general.size_label nor
    // general.parameter_count: a file labelled 3B with the tiny model's tensors is 15K, as tiny is.
    await writeTinyGguf(join(dir, "labelled.gguf"), {
      seed: 5,
      overrideMetadata: { "general.size_label": "3B", "general.parameter_count": 3_000_000_000 },
    });
    // None has general.file_type: each is named by the type llama.cpp guesses from its tensors.
    const expected = [
      ["tiny", { parameter_size: "15K", quantization_level: "F32" }],
      ["labelled", { parameter_size: "15K", quantization_level: "F32" }],
      ...(stories ? [["stories260K", { parameter_size: "293K", quantization_level: "F32" }] as const] : []),
    ] as const;
    const listed = async (model: string) => {
      const tags = (await (await fetch(`${service.url}/api/tags`)).json()) as {
        models: Array<{ name: string; details: unknown }>;
      };
      return tags.models.find((entry) => entry.name === `${model}:latest`)?.details;
    };
    for (const [model, details] of expected) {
      // A file dropped in is listed within a second.
      await expect.poll(() => listed(model), { timeout: 5_000, interval: 100 }).toMatchObject(details);
      const show = (await (await post("/api/show", { model })).json()) as { details: unknown };
      expect(show.details).toMatchObject(details);
    }
    await post("/api/generate", { model: "tiny", keep_alive: "1m" });
    const ps = (await (await fetch(`${service.url}/api/ps`)).json()) as {
      models: Array<{ name: string; details: unknown }>;
    };
    expect(ps.models.find((loaded) => loaded.name === "tiny:latest")?.details).toMatchObject(expected[0][1]);
    await post("/api/generate", { model: "tiny", keep_alive: 0 });
  });

  it("holds a cached answer's keep_alive too: 0 unloads the model the answer did not need", async () => {
    const ask = {
      model: "tiny",
      prompt: "the cat",
      raw: true,
      stream: false,
      options: { temperature: 0, num_predict: 2 },
    };
    expect((await post("/api/generate", { ...ask, keep_alive: "5m" })).headers.get("x-hearth-cache")).toBe(
      "miss",
    );
    const hit = await post("/api/generate", { ...ask, keep_alive: 0 });
    expect(hit.headers.get("x-hearth-cache")).toBe("hit");
    await hit.text();
    const loadedNames = async () =>
      (
        (await (await fetch(`${service.url}/api/ps`)).json()) as { models: Array<{ name: string }> }
      ).models.map((model) => model.name);
    await expect.poll(loadedNames, { timeout: 2000 }).not.toContain("tiny:latest");
  });

  it("embeds through /api/embed, /api/embeddings and /v1/embeddings", async () => {
    const ollama = new Ollama({ host: service.url });
    const embedded = await ollama.embed({ model: "tiny", input: ["hello world", "the cat"] });
    expect(embedded.embeddings).toHaveLength(2);
    expect(embedded.embeddings[0]!.length).toBe(16);
    const legacy = (await (
      await post("/api/embeddings", { model: "tiny", prompt: "hello world" })
    ).json()) as { embedding: number[] };
    // /api/embed and OpenAI's give unit vectors (as Ollama and OpenAI do); the legacy route the model's own.
    const length = (vector: number[]) => Math.hypot(...vector);
    expect(length(embedded.embeddings[0]!)).toBeCloseTo(1, 5);
    expect(length(legacy.embedding)).not.toBeCloseTo(1, 5);
    legacy.embedding.forEach((value, index) => {
      expect(value / length(legacy.embedding)).toBeCloseTo(embedded.embeddings[0]![index]!, 5);
    });
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const vectors = await openai.embeddings.create({ model: "tiny", input: "hello world" });
    expect(vectors.data[0]!.embedding.length).toBe(16);
    vectors.data[0]!.embedding.forEach((value, index) => {
      expect(value).toBeCloseTo(embedded.embeddings[0]![index]!, 5);
    });

    // Longer than the embedding context: cut to fit by default, as Ollama does; refused on request.
    const long = "hello world ".repeat(400);
    expect((await ollama.embed({ model: "tiny", input: long })).embeddings[0]).toHaveLength(16);
    const refused = await post("/api/embed", { model: "tiny", input: long, truncate: false });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toMatch(/more than the embedding context/);
  });

  it("copies a model under a new name without copying its bytes, and deletes it", async () => {
    const ollama = new Ollama({ host: service.url });
    await ollama.copy({ source: "tiny", destination: "tiny-copy:v1" });
    expect(await readdir(dir)).toContain("tiny-copy@v1.gguf");
    expect((await ollama.list()).models.map((model) => model.name)).toContain("tiny-copy:v1");
    await ollama.delete({ model: "tiny-copy:v1" });
    expect((await ollama.list()).models.map((model) => model.name)).not.toContain("tiny-copy:v1");
    const missing = await post("/api/show", { model: "tiny-copy:v1" });
    expect(missing.status).toBe(404);
  });

  it.skipIf(!stories)("enforces a JSON schema with a llama.cpp grammar (format)", async () => {
    const ollama = new Ollama({ host: service.url });
    const answer = await ollama.chat({
      model: "stories260K",
      messages: [{ role: "user", content: "Is the sky blue?" }],
      format: { type: "object", properties: { answer: { type: "boolean" } }, required: ["answer"] },
      options: { temperature: 0, num_predict: 40 },
    });
    expect(typeof (JSON.parse(answer.message.content) as { answer: boolean }).answer).toBe("boolean");

    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: "stories260K",
      messages: [{ role: "user", content: "Name a color." }],
      temperature: 0,
      max_tokens: 60,
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "color",
          schema: {
            type: "object",
            properties: { color: { type: "string", enum: ["red", "blue"] } },
            required: ["color"],
          },
        },
      },
    });
    expect(["red", "blue"]).toContain(
      (JSON.parse(completion.choices[0]!.message.content!) as { color: string }).color,
    );
  });

  it("refuses a JSON schema the grammar cannot enforce, naming what, in each API's format", async () => {
    const schema = {
      type: "object",
      properties: { age: { type: "integer", minimum: 0 }, name: { type: "string", pattern: "^[a-z]+$" } },
    };
    const ollama = await post("/api/chat", {
      model: "tiny",
      stream: false,
      messages: [{ role: "user", content: "hi" }],
      format: schema,
    });
    expect(ollama.status).toBe(400);
    expect(((await ollama.json()) as { error: string }).error).toMatch(
      /cannot be enforced.*\$\.properties\.age\.minimum.*\$\.properties\.name\.pattern/,
    );
    const openai = await post("/v1/chat/completions", {
      model: "tiny",
      messages: [{ role: "user", content: "hi" }],
      response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "objectx" } } },
    });
    expect(openai.status).toBe(400);
    expect(((await openai.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "INVALID_REQUEST",
      message: expect.stringMatching(/^response_format\.json_schema\.schema: .*unknown type "objectx"/),
      param: "response_format.json_schema.schema",
    });
  });
});

describe("memory safety", () => {
  it("refuses to load a model that does not fit, naming the need, what is free and the fixes", async () => {
    const runtime = testEmbeddedRuntime(dir, { keepAliveSeconds: 0, availableMemory: () => 64 * 1024 });
    try {
      const error = await runtime
        .doGenerate({ modelId: "tiny:latest", input: { kind: "completion", prompt: "hello" }, settings: {} })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: "MODEL_MEMORY_INSUFFICIENT", status: 507 });
      expect((error as Error).message).toMatch(
        /needs about .* but only .* is free; use a smaller quantization, a smaller context/,
      );
    } finally {
      await runtime.close();
    }
  });
});

describe("tool calls (Ollama upstream, recorded from Ollama's docs)", () => {
  const question = [{ role: "user" as const, content: "What is the weather today in Paris?" }];
  const weatherTool = {
    type: "function" as const,
    function: {
      name: "get_current_weather",
      description: "Get the current weather for a location",
      parameters: {
        type: "object",
        required: ["location", "format"],
        properties: {
          location: { type: "string", description: "The city" },
          format: { type: "string", description: "celsius or fahrenheit", enum: ["celsius", "fahrenheit"] },
        },
      },
    },
  };
  const expectedCall = {
    name: "get_current_weather",
    arguments: { format: "celsius", location: "Paris, FR" },
  };
  const sentToolName = () =>
    (replayOllama.requests.at(-1) as { tools: Array<{ function: { name: string } }> }).tools[0]?.function
      .name;

  it("passes a model's tool calls through to an OpenAI client", async () => {
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: "llama3.1",
      messages: question,
      tools: [weatherTool],
    });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    const call = choice.message.tool_calls?.[0] as
      | { function: { name: string; arguments: string } }
      | undefined;
    expect(call?.function.name).toBe(expectedCall.name);
    expect(JSON.parse(call!.function.arguments)).toEqual(expectedCall.arguments);
    expect(sentToolName()).toBe("get_current_weather");
  });

  it("answers the ollama client's /api/chat with the tool calls, arguments as an object, streamed and not", async () => {
    const ollama = new Ollama({ host: service.url });
    const request = { model: "llama3.1", messages: question, tools: [weatherTool] };
    const answer = await ollama.chat({ ...request, stream: false });
    expect(answer.done).toBe(true);
    expect(answer.message.tool_calls?.[0]?.function).toEqual(expectedCall);
    expect(sentToolName()).toBe("get_current_weather");

    const streamed: Array<{ name: string; arguments: Record<string, unknown> }> = [];
    for await (const part of await ollama.chat({ ...request, stream: true }))
      for (const call of part.message.tool_calls ?? []) streamed.push(call.function);
    expect(streamed).toEqual([expectedCall]);
  });

  it("passes a forced call (tool_choice) to an OpenAI-compatible server as sent", async () => {
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    await openai.chat.completions.create({
      model: "vllm/meta-llama/Llama-3.2-1B-Instruct",
      messages: question,
      tools: [weatherTool],
      tool_choice: { type: "function", function: { name: "get_current_weather" } },
    });
    const sent = replayVllm.requests.at(-1) as { tools: unknown[]; tool_choice: unknown };
    expect(sent.tool_choice).toEqual({ type: "function", function: { name: "get_current_weather" } });
    expect(sent.tools).toHaveLength(1);
  });

  it("asks Ollama, which has no tool_choice, for a forced call as JSON held to the call's schema", async () => {
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    await openai.chat.completions.create({
      model: "llama3.2",
      messages: question,
      tools: [weatherTool],
      tool_choice: "required",
    });
    const sent = replayOllama.requests.at(-1) as {
      tools?: unknown;
      format: { properties: { name: { const: string }; arguments: unknown } };
      messages: Array<{ role: string; content: string }>;
    };
    expect(sent.tools).toBeUndefined();
    expect(sent.format.properties.name.const).toBe("get_current_weather");
    expect(sent.format.properties.arguments).toEqual(weatherTool.function.parameters);
    expect(sent.messages[0]).toMatchObject({
      role: "system",
      content: expect.stringContaining("get_current_weather"),
    });
  });
});

describe("errors after the first token", () => {
  it("arrive in-band: an Ollama error line, an OpenAI error event, and the stream ends", async () => {
    const ollamaStream = await post("/api/chat", {
      model: "broken",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(ollamaStream.status).toBe(200);
    const lines = (await ollamaStream.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { error?: string });
    expect(lines[0]).toMatchObject({ message: { content: "Once" } });
    expect(lines.at(-1)?.error).toMatch(/unexpected EOF/);

    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    let text = "";
    const failure = await (async () => {
      const stream = await openai.chat.completions.create({
        model: "broken",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
      });
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })().catch((error: unknown) => error);
    expect(text).toBe("Once");
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as Error).message).toMatch(/unexpected EOF/);
  });
});

describe("bad input", () => {
  it("answers a 100 MB body with 413 and invalid UTF-8 with 400, in the API's error format", async () => {
    const huge = await fetch(`${service.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"model":"tiny","messages":[{"role":"user","content":"${"a".repeat(100 * 1024 * 1024)}"}]}`,
    });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");

    const bytes = Buffer.concat([
      Buffer.from('{"model":"tiny","prompt":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    const invalid = await fetch(`${service.url}/api/generate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: bytes,
    });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: string }).error).toMatch(/UTF-8/);

    const nan = await post("/api/chat", {
      model: "tiny",
      messages: [{ role: "user", content: "hi" }],
      options: { temperature: "NaN", num_predict: -5 },
    });
    expect(nan.status).toBe(400);
    // The service still answers normally afterwards.
    const ok = await post("/api/generate", {
      model: "tiny",
      prompt: "hello",
      raw: true,
      stream: false,
      options: { temperature: 0, num_predict: 2 },
    });
    expect(ok.status).toBe(200);
  });
});
