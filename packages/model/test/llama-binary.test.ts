/**
 * How the embedded runtime gets llama.cpp: node-llama-cpp is asked never to build it from source
 * while Hearth serves (a Ctrl-C during the first load stops node-llama-cpp's test of its prebuilt
 * binary, which it took for a broken binary and answered with a minutes-long compile); a binary it
 * cannot use is LLAMA_BINARY_UNAVAILABLE, saying what to do, and the next call tries again; and a
 * service shutting down does not wait for a load still in flight.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HearthError } from "@hearth/core";
import type { getLlama as GetLlama } from "node-llama-cpp";
import { afterAll, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { collectStream, type StreamPart } from "../src/runtime/language-model.js";
import { testEmbeddedRuntime } from "./test-embedded-runtime.js";

type Options = Parameters<typeof GetLlama>[0];

/** What the runtime asked node-llama-cpp for, and (when set) what node-llama-cpp answers instead. */
const llama = vi.hoisted(() => ({
  calls: [] as unknown[],
  answer: undefined as undefined | (() => Promise<never>),
}));

vi.mock("node-llama-cpp", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node-llama-cpp")>();
  return {
    ...actual,
    getLlama: (options: Options) => {
      llama.calls.push(options);
      const answer = llama.answer;
      llama.answer = undefined;
      return answer ? answer() : actual.getLlama(options as never);
    },
  };
});

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-llama-binary-"));
  await writeTinyGguf(join(dir, "tiny.gguf"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  llama.calls.length = 0;
  llama.answer = undefined;
});

const call = (signal?: AbortSignal) => ({
  modelId: "tiny:latest",
  input: { kind: "completion" as const, prompt: "Once upon a time" },
  settings: { temperature: 0, maxTokens: 5 },
  signal,
});

it("asks node-llama-cpp never to build llama.cpp from source, and answers with its binary", async () => {
  const runtime = testEmbeddedRuntime(dir);
  try {
    const result = await runtime.doGenerate(call());
    expect(result.text.length).toBeGreaterThan(0);
    expect(llama.calls).toHaveLength(1);
    expect(llama.calls[0]).toMatchObject({ build: "never", gpu: false });
  } finally {
    await runtime.close();
  }
});

it("answers LLAMA_BINARY_UNAVAILABLE with what to do when the binary fails its test, and tries again next time", async () => {
  const { NoBinaryFoundError } = await import("node-llama-cpp");
  llama.answer = () => Promise.reject(new NoBinaryFoundError());
  const runtime = testEmbeddedRuntime(dir);
  try {
    const failure = await runtime.doGenerate(call()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HearthError);
    expect((failure as HearthError).code).toBe("LLAMA_BINARY_UNAVAILABLE");
    expect((failure as HearthError).message).toContain("npx node-llama-cpp source download");
    // A stray signal that stopped the test is not remembered: the next request loads llama.cpp.
    const result = await runtime.doGenerate(call());
    expect(result.text.length).toBeGreaterThan(0);
    expect(llama.calls).toHaveLength(2);
  } finally {
    await runtime.close();
  }
});

it("stops without waiting for a load in flight: the waiting call ends, and close returns", async () => {
  // node-llama-cpp still busy (a binary test, a large model read) when the service shuts down.
  llama.answer = () => new Promise<never>(() => {});
  const runtime = testEmbeddedRuntime(dir);
  const stop = new AbortController();
  const parts: StreamPart[] = [];
  const answer = (async () => {
    for await (const part of runtime.doStream(call(stop.signal))) parts.push(part);
  })();
  await vi.waitFor(() => expect(llama.calls).toHaveLength(1));
  // As the model service shuts down: its requests are aborted, then the runtime closed.
  stop.abort(new Error("service shutting down"));
  await answer;
  expect(parts.at(-1)).toMatchObject({ type: "finish", finishReason: "abort" });
  await runtime.close();
  // Once closed, nothing more is loaded.
  const late = await collectStream(runtime.doStream(call())).catch((error: unknown) => error);
  expect((late as HearthError).code).toBe("SERVICE_NOT_READY");
});

it("closes while a load no call waits for is still in flight (a preload)", async () => {
  llama.answer = () => new Promise<never>(() => {});
  const runtime = testEmbeddedRuntime(dir);
  const preload = runtime.preload("tiny:latest").catch((error: unknown) => error);
  await vi.waitFor(() => expect(llama.calls).toHaveLength(1));
  await runtime.close();
  void preload;
});
