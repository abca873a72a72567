import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { startModelService } from "./start-model-service.js";

let dir: string;
let service: { url: string; close(): Promise<void> };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-model-seed-"));
  await writeTinyGguf(join(dir, "tiny.gguf"));
  service = await startModelService(dir, { parallel: 2 });
});

afterAll(async () => {
  await service?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

// llama.cpp's bindings seed a request given none with the current second: the clock is held still
// here so that every request below falls within one second, as requests sent together do.
function holdTheClock() {
  const now = Date.now();
  vi.spyOn(Date, "now").mockReturnValue(now);
}

const question = [{ role: "user" as const, content: "Tell me a story" }];

describe("sampling seed (embedded runtime)", () => {
  it("answers unseeded sampled requests sent together with different text (OpenAI and Ollama)", async () => {
    holdTheClock();
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const openaiAnswers = await Promise.all(
      Array.from({ length: 5 }, () =>
        openai.chat.completions
          .create({ model: "tiny", messages: question, max_tokens: 12, temperature: 1.5 })
          .then((completion) => completion.choices[0]?.message.content ?? ""),
      ),
    );
    expect(new Set(openaiAnswers).size, openaiAnswers.join(" | ")).toBeGreaterThan(1);

    const ollama = new Ollama({ host: service.url });
    const ollamaAnswers = await Promise.all(
      Array.from({ length: 5 }, () =>
        ollama
          .chat({ model: "tiny", messages: question, options: { temperature: 1.5, num_predict: 12 } })
          .then((answer) => answer.message.content),
      ),
    );
    expect(new Set(ollamaAnswers).size, ollamaAnswers.join(" | ")).toBeGreaterThan(1);
  });

  it("answers a seeded sampled request the same every time, and temperature 0 greedily", async () => {
    const ask = (body: Record<string, unknown>) =>
      fetch(`${service.url}/v1/chat/completions`, {
        method: "POST",
        // The cache would answer a repeat itself: each answer here is generated.
        headers: { "content-type": "application/json", "x-hearth-cache": "bypass" },
        body: JSON.stringify({ model: "tiny", messages: question, max_tokens: 12, ...body }),
      })
        .then((response) => response.json() as Promise<{ choices: Array<{ message: { content: string } }> }>)
        .then((completion) => completion.choices[0]?.message.content);
    for (const settings of [{ temperature: 1.5, seed: 42 }, { temperature: 0 }]) {
      const answers = await Promise.all(Array.from({ length: 3 }, () => ask(settings)));
      expect(answers[0]?.length, JSON.stringify(settings)).toBeGreaterThan(0);
      expect(new Set(answers).size, JSON.stringify(settings)).toBe(1);
    }
  });
  it("takes a negative seed (Ollama's default -1) as none: sampled afresh each time, and not cached, on every API", async () => {
    const ask = async (path: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
      const response = await fetch(`${service.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ model: "tiny", stream: false, ...body }),
      });
      const answer = (await response.json()) as {
        message?: { content: string };
        response?: string;
        choices?: Array<{ message?: { content: string }; text?: string }>;
      };
      return {
        cache: response.headers.get("x-hearth-cache"),
        text:
          answer.message?.content ??
          answer.response ??
          answer.choices?.[0]?.message?.content ??
          answer.choices?.[0]?.text,
      };
    };
    const requests: Array<[string, Record<string, unknown>]> = [
      ["/api/chat", { messages: question, options: { seed: -1, temperature: 1.5, num_predict: 12 } }],
      [
        "/api/generate",
        { prompt: "Tell me a story", options: { seed: -1, temperature: 1.5, num_predict: 12 } },
      ],
      ["/v1/chat/completions", { messages: question, seed: -1, temperature: 1.5, max_tokens: 12 }],
      ["/v1/completions", { prompt: "Tell me a story", seed: -1, temperature: 1.5, max_tokens: 12 }],
    ];
    for (const [path, body] of requests) {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await ask(path, body, { "x-hearth-cache": "bypass" }));
      expect(new Set(answers.map((answer) => answer.text)).size, path).toBeGreaterThan(1);
      // Not the fixed seed that a cached answer would need: asked twice, generated twice.
      expect((await ask(path, body)).cache, path).toBe("off");
      expect((await ask(path, body)).cache, path).toBe("off");
    }
  });
});
