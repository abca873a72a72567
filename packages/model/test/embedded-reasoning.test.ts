import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { startModelService } from "./start-model-service.js";

// DeepSeek-R1-Distill's published chat template (shortened to the parts a chat uses): it ends the
// prompt by opening <think>. node-llama-cpp recognises it and renders prompts with its own DeepSeek
// wrapper, which leaves <think> to the model.
const r1Template =
  "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}" +
  "{% set ns = namespace(is_tool=false, system_prompt='') %}" +
  "{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}" +
  "{{bos_token}}{{ns.system_prompt}}" +
  "{%- for message in messages %}" +
  "{%- if message['role'] == 'user' %}{{'<｜User｜>' + message['content']}}{%- endif %}" +
  "{%- if message['role'] == 'assistant' and message['content'] is not none %}{% set content = message['content'] %}" +
  "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}" +
  "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}" +
  "{%- endfor -%}" +
  "{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\\n'}}{% endif %}";

let dir: string;
let service: { url: string; close(): Promise<void> };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-embedded-r1-"));
  // Named so that DeepSeek-R1's preset applies.
  await writeTinyGguf(join(dir, "deepseek-r1-tiny.gguf"), { chatTemplate: r1Template, contextLength: 1024 });
  // No chat template: a model that cannot think.
  await writeTinyGguf(join(dir, "tiny.gguf"), { contextLength: 1024 });
  service = await startModelService(dir, { contextSize: 1024 });
});

afterAll(async () => {
  await service?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("an embedded DeepSeek-R1 model", () => {
  const question = [{ role: "user" as const, content: "hi" }];

  it("answers with think: false, and an answer it gives without thinking is the answer, not reasoning", async () => {
    const ollama = new Ollama({ host: service.url });
    for (const think of [false, undefined]) {
      const answer = await ollama.chat({
        model: "deepseek-r1-tiny",
        messages: question,
        ...(think === undefined ? {} : { think }),
        options: { temperature: 0, num_predict: 6 },
      });
      expect(answer.message.content.trim().length, `think: ${think}`).toBeGreaterThan(0);
      expect(answer.message.thinking ?? "").toBe("");
    }
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: "deepseek-r1-tiny",
      messages: question,
      max_tokens: 6,
      temperature: 0,
    });
    const message = completion.choices[0]!.message as { content: string | null; reasoning_content?: string };
    expect(message.content?.trim().length).toBeGreaterThan(0);
    expect(message.reasoning_content).toBeUndefined();
  });

  it("is asked to think; a model that cannot think is refused think: true with 400, as Ollama refuses it", async () => {
    const ollama = new Ollama({ host: service.url });
    const thought = await ollama.chat({
      model: "deepseek-r1-tiny",
      messages: question,
      think: true,
      options: { temperature: 0, num_predict: 6 },
    });
    expect(thought.done).toBe(true);

    for (const think of [true, "high"] as const) {
      for (const stream of [false, true]) {
        const refused = { status_code: 400, error: '"tiny" does not support thinking' };
        await expect(
          ollama.chat({ model: "tiny", messages: question, think, stream: stream as false }),
        ).rejects.toMatchObject(refused);
        await expect(
          ollama.generate({ model: "tiny", prompt: "hi", think, stream: stream as false }),
        ).rejects.toMatchObject(refused);
      }
    }
    // Ollama's error body, as Ollama writes it, with Hearth's code beside the message.
    const response = await fetch(`${service.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny", messages: question, think: true }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: '"tiny" does not support thinking',
      code: "THINKING_NOT_SUPPORTED",
    });
    // Without think, or with think: false, it answers.
    for (const think of [undefined, false]) {
      const answer = await ollama.chat({
        model: "tiny",
        messages: question,
        ...(think === undefined ? {} : { think }),
        options: { num_predict: 2 },
      });
      expect(answer.done, `think: ${think}`).toBe(true);
    }
  });
});
