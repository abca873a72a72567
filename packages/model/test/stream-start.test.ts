/**
 * The embedded runtime's stream opens with `stream-start` once generation has begun (the service
 * sends its response headers then, while the first token is computed); a call refused before that
 * rejects without any part, so the service answers it with a plain HTTP error.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HearthError } from "@hearth/core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import type { EmbeddedRuntime } from "../src/runtime/embedded/embedded-runtime.js";
import type { ModelCall, StreamPart } from "../src/runtime/language-model.js";
import { testEmbeddedRuntime } from "./test-embedded-runtime.js";

let dir: string;
let runtime: EmbeddedRuntime;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-stream-start-"));
  await writeTinyGguf(join(dir, "tiny.gguf"));
  runtime = testEmbeddedRuntime(dir);
});

afterAll(async () => {
  await runtime.close();
  await rm(dir, { recursive: true, force: true });
});

async function parts(call: ModelCall): Promise<{ parts: StreamPart[]; error?: unknown }> {
  const received: StreamPart[] = [];
  try {
    for await (const part of runtime.doStream(call)) received.push(part);
    return { parts: received };
  } catch (error) {
    return { parts: received, error };
  }
}

it("opens a chat and a completion with one stream-start, before any text", async () => {
  for (const input of [
    { kind: "chat" as const, messages: [{ role: "user" as const, content: "Once upon a time" }] },
    { kind: "completion" as const, prompt: "Once upon a time" },
  ]) {
    const { parts: received, error } = await parts({
      modelId: "tiny:latest",
      input,
      settings: { temperature: 0, maxTokens: 8 },
    });
    expect(error).toBeUndefined();
    expect(received[0]?.type).toBe("stream-start");
    expect(received.filter((part) => part.type === "stream-start")).toHaveLength(1);
    expect(received.some((part) => part.type === "text-delta")).toBe(true);
    expect(received.at(-1)?.type).toBe("finish");
  }
});

it("refuses a call that cannot begin with an error and no part at all", async () => {
  const { parts: received, error } = await parts({
    modelId: "tiny:latest",
    input: { kind: "chat", messages: [{ role: "user", content: "hi" }] },
    settings: { temperature: 0, maxTokens: 100_000 },
  });
  expect(received).toEqual([]);
  expect(error).toBeInstanceOf(HearthError);
  expect((error as HearthError).code).toBe("CONTEXT_OVERFLOW");
});
