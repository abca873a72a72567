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
});
