import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HearthError } from "@hearth/core";
import { getLlama, LlamaChat, LlamaLogLevel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedFile } from "../../../test/support/shared-data.js";
import { asContextOverflow } from "../src/runtime/embedded/embedded-runtime.js";
import { startModelService } from "./start-model-service.js";

const stories = sharedFile("models", "stories260K.gguf");

/** The context the services below are started with (startModelService's). */
const CONTEXT = 256;
const QUESTION = "What is the corrosion rate?";

interface Answer {
  status: number;
  body: string;
  json: () => Record<string, unknown>;
}

describe.skipIf(!stories)("a prompt at the edge of the context (stories260K, one thread)", () => {
  let dir: string;
  let service: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-context-edge-"));
    await copyFile(stories as string, join(dir, "stories260K.gguf"));
    service = await startModelService(dir, { contextSize: CONTEXT, parallel: 1 });
  });

  afterAll(async () => {
    await service?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const post = async (path: string, body: unknown): Promise<Answer> => {
    const response = await fetch(`${service.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text, json: () => JSON.parse(text) };
  };

  /** How many tokens the model counts in a prompt, as the service reports it after answering one token. */
  const countChat = async (system: string) => {
    const answer = await post("/v1/chat/completions", {
      model: "stories260K",
      messages: chatMessages(system),
      max_tokens: 1,
    });
    expect(answer.status, answer.body).toBe(200);
    return (answer.json().usage as { prompt_tokens: number }).prompt_tokens;
  };

  /**
   * A system message (numbers, as a grounded chat's sources may be) that makes the chat's prompt
   * exactly `tokens` tokens: a run of digits is one token a digit in stories260K's vocabulary.
   */
  const systemFor = async (tokens: number) => {
    const base = "0.0335 0.0409 0.9393 ".repeat(6);
    const counted = await countChat(base);
    const system = base + "7".repeat(tokens - counted);
    expect(await countChat(`${base}7`)).toBe(counted + 1);
    return system;
  };

  const chatMessages = (system: string) => [
    { role: "system", content: system },
    { role: "user", content: QUESTION },
  ];

  it("refuses a chat one token short of the context, or filling it, with 400 CONTEXT_OVERFLOW on the OpenAI and Ollama routes, never 500", async () => {
    for (const promptTokens of [CONTEXT - 1, CONTEXT]) {
      const messages = chatMessages(await systemFor(promptTokens));
      for (const stream of [false, true]) {
        const what = `${promptTokens} of ${CONTEXT} tokens, ${stream ? "streamed" : "whole"}`;
        // Refused before generation begins: an HTTP status even when streamed.
        const openai = await post("/v1/chat/completions", {
          model: "stories260K",
          messages,
          max_tokens: 20,
          stream,
        });
        expect(openai.status, `${what}: ${openai.body}`).toBe(400);
        expect(openai.json().error).toMatchObject({
          code: "CONTEXT_OVERFLOW",
          type: "invalid_request_error",
          details: { promptTokens, contextSize: CONTEXT },
        });
        const ollama = await post("/api/chat", {
          model: "stories260K",
          messages,
          stream,
          options: { num_predict: 20 },
        });
        expect(ollama.status, `${what}: ${ollama.body}`).toBe(400);
        expect(ollama.json().error).toMatch(
          new RegExp(`the prompt has ${promptTokens} tokens, more than the ${CONTEXT}-token context`),
        );
      }
    }
  });

  it("answers a chat two tokens short of the context with one token, capped at the room left (finish reason length)", async () => {
    const messages = chatMessages(await systemFor(CONTEXT - 2));
    for (const max_tokens of [1, 20]) {
      const openai = await post("/v1/chat/completions", { model: "stories260K", messages, max_tokens });
      expect(openai.status, openai.body).toBe(200);
      const body = openai.json() as {
        choices: Array<{ finish_reason: string }>;
        usage: { prompt_tokens: number; completion_tokens: number };
      };
      expect(body.usage.prompt_tokens).toBe(CONTEXT - 2);
      expect(body.usage.completion_tokens).toBeGreaterThanOrEqual(1);
      expect(body.usage.completion_tokens).toBeLessThanOrEqual(Math.min(max_tokens, 2));
      expect(body.choices[0]?.finish_reason).toBe("length");
    }
    const ollama = await post("/api/chat", {
      model: "stories260K",
      messages,
      stream: false,
      options: { num_predict: 1 },
    });
    expect(ollama.status, ollama.body).toBe(200);
    expect(ollama.json()).toMatchObject({
      done_reason: "length",
      prompt_eval_count: CONTEXT - 2,
      eval_count: 1,
    });
  });

  it("answers a text completion one token short of the context with one token and refuses one that fills it, on /v1/completions and /api/generate", async () => {
    // A raw prompt of n digits is n + 2 tokens (the start-of-text token and a leading space's).
    const prompt = (tokens: number) => "7".repeat(tokens - 2);
    const openai = await post("/v1/completions", {
      model: "stories260K",
      prompt: prompt(CONTEXT - 1),
      max_tokens: 20,
    });
    expect(openai.status, openai.body).toBe(200);
    expect(openai.json()).toMatchObject({
      choices: [{ finish_reason: "length" }],
      usage: { prompt_tokens: CONTEXT - 1, completion_tokens: 1 },
    });
    const ollama = await post("/api/generate", {
      model: "stories260K",
      prompt: prompt(CONTEXT - 1),
      raw: true,
      stream: false,
    });
    expect(ollama.status, ollama.body).toBe(200);
    expect(ollama.json()).toMatchObject({
      done_reason: "length",
      prompt_eval_count: CONTEXT - 1,
      eval_count: 1,
    });

    const full = await post("/v1/completions", {
      model: "stories260K",
      prompt: prompt(CONTEXT),
      max_tokens: 1,
    });
    expect(full.status, full.body).toBe(400);
    expect(full.json().error).toMatchObject({
      code: "CONTEXT_OVERFLOW",
      details: { promptTokens: CONTEXT, contextSize: CONTEXT },
    });
    const fullOllama = await post("/api/generate", {
      model: "stories260K",
      prompt: prompt(CONTEXT),
      raw: true,
      stream: false,
    });
    expect(fullOllama.status, fullOllama.body).toBe(400);
    expect(fullOllama.json().error).toMatch(/the prompt has \d+ tokens/);
  });

  it("reads the whole prompt of a text completion past nine tenths of the context: the answer is the one a larger context gives", async () => {
    const larger = await startModelService(dir, { contextSize: 2 * CONTEXT, parallel: 1 });
    try {
      // Words of a children's story out of order (a prompt stories260K's answer depends on beyond its
      // last sentences), 236 tokens: past the tenth of the context node-llama-cpp keeps free for a
      // context shift, with room for the 20 tokens asked.
      const words =
        "the fish bird dad mom saw said jumped ran blue red small big sad happy park tree ball boy girl sun dog cat a".split(
          " ",
        );
      let prompt = "";
      for (let i = 0; prompt.length < 455; i++)
        prompt += `${words[i % words.length]}${i % 7 === 6 ? ". " : " "}`;
      const complete = async (url: string) => {
        const response = await fetch(`${url}/v1/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "stories260K", prompt, max_tokens: 20, temperature: 0 }),
        });
        expect(response.status).toBe(200);
        return (await response.json()) as {
          choices: Array<{ text: string }>;
          usage: { prompt_tokens: number; completion_tokens: number };
        };
      };
      const whole = await complete(larger.url);
      const edge = await complete(service.url);
      expect(edge.usage.prompt_tokens).toBeGreaterThan(CONTEXT * 0.9);
      expect(edge.usage.prompt_tokens + 20).toBeLessThanOrEqual(CONTEXT);
      expect(edge.choices[0]?.text).toBe(whole.choices[0]?.text);
    } finally {
      await larger.close();
    }
  });

  it("takes node-llama-cpp's failure to fit a chat into the context (its context shift) as CONTEXT_OVERFLOW, not a failure of the service", async () => {
    // The library's own failure, from a chat prompt one token short of the context.
    const llama = await getLlama({ gpu: false, maxThreads: 1, logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: stories as string });
    const context = await model.createContext({ contextSize: CONTEXT, threads: 1 });
    try {
      const chat = new LlamaChat({ contextSequence: context.getSequence() });
      const history = (system: string) => [
        { type: "system" as const, text: system },
        { type: "user" as const, text: QUESTION },
        { type: "model" as const, response: [] },
      ];
      const count = (system: string) =>
        chat.chatWrapper
          .generateContextState({ chatHistory: history(system) })
          .contextText.tokenize(model.tokenizer).length;
      const system = "7".repeat(CONTEXT - count("7"));
      expect(count(system)).toBe(CONTEXT - 1);
      const failure = await chat.generateResponse(history(system), { maxTokens: 1 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(Error);

      const mapped = asContextOverflow(failure, CONTEXT - 1, CONTEXT, "stories260K:latest");
      expect(mapped).toBeInstanceOf(HearthError);
      expect(mapped).toMatchObject({
        code: "CONTEXT_OVERFLOW",
        status: 400,
        details: { promptTokens: CONTEXT - 1, contextSize: CONTEXT },
        cause: failure,
      });
      // Other failures stay what they are (500 INTERNAL_ERROR, as before).
      const other = new Error("out of memory");
      expect(asContextOverflow(other, CONTEXT - 1, CONTEXT, "stories260K:latest")).toBe(other);
    } finally {
      await context.dispose();
      await model.dispose();
    }
  });
});
