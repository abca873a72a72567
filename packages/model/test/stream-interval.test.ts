/**
 * The embedded runtime's stream interval: tokens generated faster than the interval are handed on
 * together (fewer writes competing with generation), the first one at once, and the answer is the
 * same text as when every token is sent on its own.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import type { StreamPart } from "../src/runtime/language-model.js";
import { testEmbeddedRuntime } from "./test-embedded-runtime.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-stream-interval-"));
  await writeTinyGguf(join(dir, "tiny.gguf"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function answer(streamIntervalMs: number) {
  const runtime = testEmbeddedRuntime(dir, { streamIntervalMs });
  try {
    const deltas: string[] = [];
    let finish: Extract<StreamPart, { type: "finish" }> | undefined;
    for await (const part of runtime.doStream({
      modelId: "tiny:latest",
      input: { kind: "completion", prompt: "Once upon a time" },
      settings: { temperature: 0, maxTokens: 60 },
    })) {
      if (part.type === "text-delta") deltas.push(part.text);
      if (part.type === "finish") finish = part;
    }
    return { deltas, text: deltas.join(""), finish: finish! };
  } finally {
    await runtime.close();
  }
}

it("sends tokens generated within one interval together, with the same text and usage", async () => {
  const everyToken = await answer(0);
  // Far longer than the tiny model takes for the whole answer: the first token alone, then the rest.
  const held = await answer(60_000);
  expect(everyToken.deltas.length).toBeGreaterThan(5);
  expect(held.deltas).toHaveLength(2);
  expect(held.deltas[0]).toBe(everyToken.deltas[0]);
  expect(held.text).toBe(everyToken.text);
  expect(held.finish.usage).toEqual(everyToken.finish.usage);
});
