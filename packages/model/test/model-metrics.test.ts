/**
 * The model service's /metrics as Prometheus scrapes it: the queue's waits however they end, answers
 * their clients stopped, and the series of models that are gone.
 */
import { mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { startReplayServer } from "./replay-server.js";
import { startModelService } from "./start-model-service.js";

let dir: string;
let replayOllama: Awaited<ReturnType<typeof startReplayServer>>;
let service: { url: string; close(): Promise<void> };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-model-metrics-"));
  await writeTinyGguf(join(dir, "tiny.gguf"));
  // Trained on a long context, so that its answer can run on while the model is deleted.
  await writeTinyGguf(join(dir, "long.gguf"), { seed: 7, contextLength: 4096 });
  replayOllama = await startReplayServer("ollama.json");
  service = await startModelService(dir, {
    ollamaHost: replayOllama.url,
    queue: { maxQueue: 2, maxWaitMs: 400, concurrency: 1 },
    parallel: 1,
    contextSize: 4096,
  });
});

afterAll(async () => {
  await service?.close();
  await replayOllama?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown, options: { user?: string; signal?: AbortSignal } = {}) =>
  fetch(`${service.url}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(options.user ? { "x-hearth-user": options.user } : {}),
    },
    body: JSON.stringify(body),
    signal: options.signal,
  });

const scrape = async () => (await fetch(`${service.url}/metrics`)).text();

/** A sample's value, found by its name and labels (in any order); undefined when there is none. */
function sample(metrics: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  for (const line of metrics.split("\n")) {
    const match = /^([^{ ]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const have = match[2]!.split(",");
    if (wanted.every((label) => have.includes(label))) return Number(match[3]);
  }
  return undefined;
}

/** A slow upstream model's answer (three seconds): it holds the only slot while others queue. */
const slowChat = {
  model: "slow",
  messages: [{ role: "user", content: "one" }],
  options: { temperature: 0.8 },
};

const waitingForSlow = async () =>
  sample(await scrape(), "hearth_model_queue_depth", { model: "slow:latest" }) ?? 0;

describe("queue wait", () => {
  it("observes the wait of a request that timed out in the queue, and of one whose client left it, by outcome", async () => {
    const running = await post("/api/chat", slowChat);
    const reader = running.body!.getReader();
    await reader.read();

    const timedOut = post("/api/chat", { ...slowChat, stream: false }, { user: "bob" });
    await expect.poll(waitingForSlow).toBe(1);
    const leaving = new AbortController();
    const left = post("/api/chat", slowChat, { user: "carol", signal: leaving.signal }).catch(
      () => undefined,
    );
    await expect.poll(waitingForSlow).toBe(2);
    leaving.abort();
    await left;
    // 503 MODEL_QUEUE_TIMEOUT.
    expect((await timedOut).status).toBe(503);
    await reader.cancel();

    const metrics = await scrape();
    const wait = (outcome: string, figure: "count" | "sum") =>
      sample(metrics, `hearth_model_queue_wait_seconds_${figure}`, { model: "slow:latest", outcome });
    expect(wait("timeout", "count")).toBe(1);
    // It waited the whole HEARTH_QUEUE_MAX_WAIT_MS (400 ms) before it was turned away.
    expect(wait("timeout", "sum")).toBeGreaterThanOrEqual(0.4);
    expect(wait("cancelled", "count")).toBe(1);
    // The request that held the slot was admitted at once.
    expect(wait("admitted", "count")).toBe(1);
  });
});

describe("an answer its client stopped", () => {
  /** The tiny model's answers timed, and the tokens it generated, as /metrics says. */
  const answers = async () => {
    const metrics = await scrape();
    return {
      timed: sample(metrics, "hearth_model_inference_duration_seconds_count", { model: "tiny:latest" }) ?? 0,
      generated:
        sample(metrics, "hearth_model_tokens_total", { model: "tiny:latest", kind: "completion" }) ?? 0,
    };
  };

  it("is timed and its generated tokens counted when it was streamed (Open WebUI's Stop), as when it was not", async () => {
    const before = await answers();
    const stopping = new AbortController();
    const response = await post(
      "/api/generate",
      { model: "tiny", prompt: "hello", raw: true, options: { temperature: 0.8, num_predict: 200 } },
      { signal: stopping.signal },
    );
    // Stopped once the answer has begun.
    await response.body!.getReader().read();
    stopping.abort();
    await expect.poll(async () => (await answers()).timed).toBe(before.timed + 1);
    expect((await answers()).generated).toBeGreaterThan(before.generated);
  });
});

describe("a model removed", () => {
  /** The lines of /metrics about a model. */
  const seriesOf = async (model: string) =>
    (await scrape()).split("\n").filter((line) => line.includes(`model="${model}"`));

  it("leaves /metrics: its queue gauges, histograms and counters, once deleted (/api/delete)", async () => {
    expect((await post("/api/copy", { source: "tiny", destination: "tiny-copy:v1" })).status).toBe(200);
    const chat = await post("/api/chat", {
      model: "tiny-copy:v1",
      messages: [{ role: "user", content: "hi" }],
      stream: false,
      options: { temperature: 0, num_predict: 3 },
    });
    expect(chat.status).toBe(200);
    const before = (await seriesOf("tiny-copy:v1")).join("\n");
    for (const name of [
      "hearth_model_queue_depth",
      "hearth_model_queue_capacity",
      "hearth_model_queue_wait_seconds_count",
      "hearth_model_inference_duration_seconds_count",
      "hearth_model_cache_requests_total",
      "hearth_model_tokens_total",
    ])
      expect(before).toContain(`${name}{`);

    const removal = await fetch(`${service.url}/api/delete`, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny-copy:v1" }),
    });
    expect(removal.status).toBe(200);
    expect(await seriesOf("tiny-copy:v1")).toEqual([]);
    // The model it was copied from keeps its own.
    expect((await seriesOf("tiny:latest")).join("\n")).toContain("hearth_model_queue_depth{");
  });

  it("stays out of /metrics when an answer it was streaming as it was deleted ends afterwards", async () => {
    const streaming = await post("/api/generate", {
      model: "long",
      prompt: "hello",
      raw: true,
      options: { temperature: 0, num_predict: 2000 },
    });
    const reader = streaming.body!.getReader();
    await reader.read();
    expect((await seriesOf("long:latest")).join("\n")).toContain("hearth_model_queue_wait_seconds_count{");

    const removal = await fetch(`${service.url}/api/delete`, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "long" }),
    });
    expect(removal.status).toBe(200);
    // Only the memory it still takes, loaded until its answer ends.
    expect((await seriesOf("long:latest")).map((line) => line.split("{")[0])).toEqual([
      "hearth_model_loaded",
      "hearth_model_memory_bytes",
    ]);

    // The answer goes on to its end (its time and tokens are recorded then).
    let answer = "";
    const decoder = new TextDecoder();
    for (let read = await reader.read(); !read.done; read = await reader.read())
      answer += decoder.decode(read.value, { stream: true });
    expect(answer).toContain('"done":true');
    expect(await seriesOf("long:latest")).toEqual([]);
  });

  it("leaves /metrics once its file is renamed in the models dir, as soon as the service sees it gone", async () => {
    await writeTinyGguf(join(dir, "renamed.gguf"), { seed: 6 });
    const generate = (model: string) =>
      post("/api/generate", {
        model,
        prompt: "hello",
        raw: true,
        stream: false,
        options: { temperature: 0, num_predict: 2 },
      });
    expect((await generate("renamed")).status).toBe(200);
    expect((await seriesOf("renamed:latest")).join("\n")).toContain("hearth_model_queue_depth{");

    await rename(join(dir, "renamed.gguf"), join(dir, "moved.gguf"));
    // Asked for by its old name, it is looked for on disk again.
    expect((await generate("renamed")).status).toBe(404);
    expect(await seriesOf("renamed:latest")).toEqual([]);
  });
});
