import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createLogger } from "@hearth/core";
import { LlamaCompletion } from "node-llama-cpp";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { postJson, startModelService } from "./start-model-service.js";

/**
 * As in Ollama, the keep_alive a model is kept with is the one the latest request asked for, and it
 * applies when the last request using the model ends: a `keep_alive: 0` is never lost to a request
 * that was running when it came, nor a later request's keep-alive to one that started before it.
 */
describe("model service: keep_alive while the model answers", () => {
  let dir: string;
  let service: { url: string; close(): Promise<void> };
  const logLines: Array<{ msg: string; model?: string }> = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-keep-alive-"));
    await writeTinyGguf(join(dir, "tiny.gguf"));
    await writeTinyGguf(join(dir, "idle.gguf"), { seed: 2 });
    const destination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).trim().split("\n")) logLines.push(JSON.parse(line));
        done();
      },
    });
    // Two slots: two answers of one model run at once.
    service = await startModelService(
      dir,
      { parallel: 2, keepAliveSeconds: 300 },
      createLogger({ level: "info", destination }),
    );
  });

  afterAll(async () => {
    await service?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  /**
   * Holds the next text completion before it generates, until `finish` is called: a long answer,
   * without depending on how fast this machine generates.
   */
  function holdNextAnswer() {
    const generate = LlamaCompletion.prototype.generateCompletionWithMeta;
    let started!: () => void;
    let finish!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const released = new Promise<void>((resolve) => (finish = resolve));
    vi.spyOn(LlamaCompletion.prototype, "generateCompletionWithMeta").mockImplementationOnce(async function (
      this: LlamaCompletion,
      ...args
    ) {
      started();
      await released;
      return generate.apply(this, args);
    });
    return { running, finish };
  }

  const answer = (keepAlive?: number | string) =>
    postJson(`${service.url}/api/generate`, {
      model: "tiny",
      prompt: "hello",
      raw: true,
      stream: false,
      options: { num_predict: 2 },
      ...(keepAlive === undefined ? {} : { keep_alive: keepAlive }),
    });
  const loaded = async () =>
    (
      (await (await fetch(`${service.url}/api/ps`)).json()) as {
        models: Array<{ name: string; expires_at: string }>;
      }
    ).models;
  const loadedNames = async () => (await loaded()).map((model) => model.name);

  it("unloads a model told keep_alive 0 while it answers as soon as the answer is done (was kept 5 more minutes)", async () => {
    const held = holdNextAnswer();
    const long = answer();
    await held.running;

    const unload = await postJson(`${service.url}/api/generate`, { model: "tiny", keep_alive: 0 });
    expect(unload.status).toBe(200);
    expect(await unload.json()).toMatchObject({ done: true, done_reason: "unload" });
    // Still answering: it stays loaded until the answer is done, which it finishes whole.
    expect(await loadedNames()).toContain("tiny:latest");

    held.finish();
    expect((await long).status).toBe(200);
    await expect.poll(loadedNames, { timeout: 2000 }).not.toContain("tiny:latest");
  });

  it("unloads the model when the longer of two answers ends after the shorter one asked for keep_alive 0", async () => {
    const held = holdNextAnswer();
    const long = answer();
    await held.running;
    expect((await answer(0)).status).toBe(200);
    expect(await loadedNames()).toContain("tiny:latest");

    held.finish();
    expect((await long).status).toBe(200);
    await expect.poll(loadedNames, { timeout: 2000 }).not.toContain("tiny:latest");
  });

  it("keeps the keep_alive of the later request when one that asked for 0 before it ends last", async () => {
    const held = holdNextAnswer();
    const long = answer(0);
    await held.running;
    expect((await answer("10m")).status).toBe(200);

    held.finish();
    expect((await long).status).toBe(200);
    const tiny = (await loaded()).find((model) => model.name === "tiny:latest");
    expect(tiny).toBeDefined();
    expect(new Date(tiny!.expires_at).getTime() - Date.now()).toBeGreaterThan(9 * 60_000);
    await postJson(`${service.url}/api/generate`, { model: "tiny", keep_alive: 0 });
  });

  it("answers keep_alive 0 for a model that is not loaded at once, without loading it; an unknown model is 404", async () => {
    const unload = await postJson(`${service.url}/api/chat`, { model: "idle", messages: [], keep_alive: 0 });
    expect(unload.status).toBe(200);
    expect(await unload.json()).toMatchObject({ done: true, done_reason: "unload" });
    const generated = await postJson(`${service.url}/api/generate`, { model: "idle", keep_alive: 0 });
    expect(await generated.json()).toMatchObject({ done_reason: "unload" });
    const loads = logLines.filter((line) => line.msg === "model loaded" && line.model === "idle:latest");
    expect(loads).toEqual([]);
    expect(await loadedNames()).not.toContain("idle:latest");

    const unknown = await postJson(`${service.url}/api/generate`, { model: "nowhere", keep_alive: 0 });
    expect(unknown.status).toBe(404);
  });
});
