/**
 * Model service benchmarks (issue 3): serving overhead against node-llama-cpp called directly,
 * inference cache hits against misses, and the admission queue under 50 concurrent clients.
 * `npm run bench -- model`. Uses ../shared/models/stories260K.gguf when present, else the tiny test model.
 */
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { createLogger, loadConfig } from "@hearth/core";
import { serveModel } from "@hearth/model";
import { getLlama, LlamaChat, LlamaLogLevel } from "node-llama-cpp";
import { AdmissionQueue } from "../packages/model/src/serving/admission-queue.js";
import { listenOnLoopback } from "../test/support/ports.js";
import { sharedFile } from "../test/support/shared-data.js";
import { writeTinyGguf } from "../test/support/tiny-gguf.js";
import { stealMeter } from "./cpu-steal.js";

const THREADS = 1;

/**
 * The benchmark's HTTP client (plain JavaScript, run in a worker thread): one request per message.
 * It uses node:http with a keep-alive Agent and reads the raw chunks itself, looking for the first
 * SSE `data:` line that carries content, so that what it times is the server, not a client
 * library's stream machinery (fetch/undici adds its own web-stream hops per chunk).
 */
const HTTP_CLIENT = `
const { parentPort } = require("node:worker_threads");
const http = require("node:http");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const CONTENT = Buffer.from('"content":"');
parentPort.on("message", (request) => {
  const payload = Buffer.from(JSON.stringify(request.body));
  const url = new URL(request.url);
  const started = performance.now();
  const req = http.request(
    {
      agent,
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: "POST",
      headers: { "content-type": "application/json", "content-length": payload.length, ...request.headers },
    },
    (response) => {
      let first = 0;
      const chunks = [];
      response.on("data", (chunk) => {
        if (!first) {
          // The first SSE event whose delta carries text (a non-empty "content" string).
          let at = chunk.indexOf(CONTENT);
          while (at !== -1) {
            if (chunk[at + CONTENT.length] !== 0x22) {
              first = performance.now();
              break;
            }
            at = chunk.indexOf(CONTENT, at + 1);
          }
        }
        chunks.push(chunk);
      });
      response.on("end", () => {
        const end = performance.now();
        const text = Buffer.concat(chunks).toString("utf8");
        const tokens = Number((/"completion_tokens":(\\d+)/.exec(text) || [])[1] || 0);
        parentPort.postMessage({
          ttft: (first || end) - started,
          seconds: (end - started) / 1000,
          generationSeconds: (end - (first || end)) / 1000,
          tokens,
          cache: response.headers["x-hearth-cache"] ?? null,
        });
      });
    },
  );
  req.setNoDelay(true);
  req.end(payload);
});
`;

interface ClientResult {
  ttft: number;
  seconds: number;
  /** From the first token to the end of the answer. */
  generationSeconds: number;
  tokens: number;
  cache: string | null;
}

/** An HTTP client in a worker thread: a real client is another process, not the service's own thread. */
function httpClient() {
  const worker = new Worker(HTTP_CLIENT, { eval: true });
  return {
    request: (url: string, body: unknown, headers: Record<string, string> = {}) =>
      new Promise<ClientResult>((resolve) => {
        worker.once("message", resolve);
        worker.postMessage({ url, body, headers });
      }),
    close: () => worker.terminate(),
  };
}
const CONTEXT = 512;
const MAX_TOKENS = 200;
/** Answers timed for their first token only are short, so that hundreds fit in a run. */
const TTFT_TOKENS = 8;
/** Rounds timed for the first token: a p99 needs hundreds of samples. */
const TTFT_ROUNDS = 300;
/** Cache hits timed per figure, and answered untimed between the first figure and the second. */
const HITS_TIMED = 1000;
const HITS_WARM_UP = 5000;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const ms = (value: number) => `${value.toFixed(3)} ms`;
const p50p99 = (values: number[]) => `${ms(percentile(values, 50))} / ${ms(percentile(values, 99))}`;

/** Times `count` calls of `once` (given the call's index), one after the other; each returns its own time in ms. */
async function timeEach(count: number, once: (run: number) => Promise<number>): Promise<number[]> {
  const times: number[] = [];
  for (let run = 0; run < count; run++) times.push(await once(run));
  return times;
}

async function start(dir: string, model: Record<string, unknown>) {
  const config = loadConfig({
    env: {},
    cwd: dir,
    overrides: {
      dataDir: dir,
      model: {
        modelsDir: dir,
        port: 0,
        threads: THREADS,
        contextSize: CONTEXT,
        ollamaAutodetect: false,
        ...model,
      },
    },
  });
  return serveModel(config, createLogger({ level: "silent" }));
}

/**
 * The floor under any HTTP layer on this machine: a bare node:http server in the same process that
 * answers a POST with SSE headers and one content event at once. Timed with the same client, its
 * first-token time is what the hand-off to the client process and back costs without any server work.
 */
function bareSseServer(): Promise<{ url: string; close(): Promise<void> }> {
  const event = 'data: {"choices":[{"index":0,"delta":{"content":"Once"}}]}\n\n';
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.socket?.setNoDelay(true);
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(`${event}data: {"usage":{"completion_tokens":1}}\n\ndata: [DONE]\n\n`);
    });
  });
  return listenOnLoopback(server);
}

async function servingOverhead(dir: string, modelFile: string, modelName: string) {
  const service = await start(dir, { parallel: 1 });
  const llama = await getLlama({ gpu: false, maxThreads: THREADS, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: join(dir, modelFile) });
  const context = await model.createContext({ contextSize: CONTEXT, sequences: 1, threads: THREADS });
  const sequence = context.getSequence();
  const messages = [{ role: "user" as const, content: "Tell me a story about a cat." }];

  const direct = async (maxTokens = MAX_TOKENS) => {
    const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
    const started = performance.now();
    let first = 0;
    let tokens = 0;
    await chat.generateResponse(
      [
        { type: "user", text: messages[0]!.content },
        { type: "model", response: [] },
      ],
      {
        maxTokens,
        temperature: 0,
        onResponseChunk: (chunk) => {
          if (!first) first = performance.now();
          tokens += chunk.tokens.length;
        },
      },
    );
    const end = performance.now();
    chat.dispose({ disposeSequence: false });
    return {
      ttft: first - started,
      tokensPerSecond: tokens / ((end - started) / 1000),
      decodeRate: (tokens - 1) / ((end - first) / 1000),
      tokens,
    };
  };

  const client = httpClient();
  const viaHttp = async (maxTokens = MAX_TOKENS) => {
    const result = await client.request(
      `${service.url}/v1/chat/completions`,
      {
        model: modelName,
        messages,
        stream: true,
        stream_options: { include_usage: true },
        temperature: 0,
        max_tokens: maxTokens,
      },
      { "x-hearth-cache": "bypass" },
    );
    return {
      ttft: result.ttft,
      tokensPerSecond: result.tokens / result.seconds,
      decodeRate: (result.tokens - 1) / result.generationSeconds,
      tokens: result.tokens,
    };
  };

  const bare = await bareSseServer();
  const viaBare = async () => (await client.request(`${bare.url}/v1/chat/completions`, {})).ttft;

  for (let warm = 0; warm < 3; warm++) {
    await direct();
    await viaHttp();
  }
  // A service in use has its request path compiled by V8's optimising tiers. A few hundred short
  // answers take it most of the way (longer warm-ups did not move these figures; bench/README.md,
  // "Fourth session"), as the runs above get node-llama-cpp's per-token code there.
  for (let warm = 0; warm < 300; warm++) {
    await client.request(
      `${service.url}/v1/chat/completions`,
      { model: modelName, messages, stream: true, temperature: 0, max_tokens: 1 },
      { "x-hearth-cache": "bypass" },
    );
    await viaBare();
  }
  const directRuns: Awaited<ReturnType<typeof direct>>[] = [];
  const httpRuns: Awaited<ReturnType<typeof viaHttp>>[] = [];
  for (let run = 0; run < 30; run++) {
    directRuns.push(await direct());
    httpRuns.push(await viaHttp());
  }
  const median = (values: number[]) => percentile(values, 50);
  // Paired runs ran back to back, so their ratio is less exposed to the machine's load swings.
  const paired = (pick: (run: { tokensPerSecond: number; decodeRate: number }) => number) =>
    median(httpRuns.map((run, index) => pick(run) / pick(directRuns[index]!)));
  console.log(
    `serving overhead (${modelName}, ${THREADS} thread, ${MAX_TOKENS} tokens, 30 interleaved runs each)`,
  );
  console.log("  tokens/s after the first token (decode rate, as Ollama's eval rate), median:");
  console.log(
    `    direct node-llama-cpp ${median(directRuns.map((run) => run.decodeRate)).toFixed(1)}, /v1/chat/completions SSE ${median(httpRuns.map((run) => run.decodeRate)).toFixed(1)}, ratio ${paired((run) => run.decodeRate).toFixed(3)} (target >= 0.97)`,
  );
  console.log("  tokens/s end to end (request to last token, time to first token included), median:");
  console.log(
    `    direct node-llama-cpp ${median(directRuns.map((run) => run.tokensPerSecond)).toFixed(1)}, /v1/chat/completions SSE ${median(httpRuns.map((run) => run.tokensPerSecond)).toFixed(1)}, ratio ${paired((run) => run.tokensPerSecond).toFixed(3)}`,
  );

  // Time to first token. A p99 needs hundreds of samples (of 30, the "p99" is the maximum), and
  // each HTTP request and each bare one is timed right after a direct run, as a service's requests
  // follow generation. The service's own part of each request's time to first token (from admission
  // to its first token, the hearth_model_time_to_first_token_seconds it records) is read from
  // /metrics after the request, outside the timing: what remains is what the HTTP layer added.
  const ttftSumLine = new RegExp(
    `^hearth_model_time_to_first_token_seconds_sum\\{service="model",model="${modelName}"\\} (\\S+)$`,
    "m",
  );
  const serviceTtftSum = async () => {
    const sum = ttftSumLine.exec(await (await fetch(`${service.url}/metrics`)).text())?.[1];
    if (sum === undefined) throw new Error("the service's /metrics has no time-to-first-token sum");
    return Number(sum) * 1000;
  };
  const directShort: number[] = [];
  const directAgain: number[] = [];
  const httpShort: number[] = [];
  const layer: number[] = [];
  const bareRuns: number[] = [];
  let before = await serviceTtftSum();
  const steal = stealMeter();
  for (let round = 0; round < TTFT_ROUNDS; round++) {
    directShort.push((await direct(TTFT_TOKENS)).ttft);
    const answer = await viaHttp(TTFT_TOKENS);
    const after = await serviceTtftSum();
    httpShort.push(answer.ttft);
    layer.push(answer.ttft - (after - before));
    before = after;
    directAgain.push((await direct(TTFT_TOKENS)).ttft);
    bareRuns.push(await viaBare());
  }
  const stealShare = steal();
  console.log(
    `time to first token (${TTFT_ROUNDS} interleaved rounds of ${TTFT_TOKENS}-token answers; each request timed right after a direct run), p50/p99:`,
  );
  console.log(`  direct node-llama-cpp:                   ${p50p99(directShort)}`);
  console.log(`  /v1/chat/completions SSE:                ${p50p99(httpShort)}`);
  console.log(
    `  time to first token added by HTTP p50/p99: ${p50p99(layer)} (target <= 2 ms at p99; per request, the client's time to first token minus the service's own)`,
  );
  console.log(`  of which the machine's floor (bare node:http SSE answer, same client): ${p50p99(bareRuns)}`);
  console.log(
    `  steal during these rounds (the share of the CPUs' time the hypervisor gave other guests): ${stealShare.toFixed(1)} %`,
  );
  console.log(
    `  paired instead with the direct run before it: ${p50p99(httpShort.map((value, index) => value - directShort[index]!))}; the pairing's own spread (a direct run minus the one before it): ${p50p99(directAgain.map((value, index) => value - directShort[index]!))}`,
  );
  await client.close();
  await bare.close();
  await context.dispose();
  await model.dispose();
  await service.close();
}

async function cache(dir: string, modelName: string) {
  const service = await start(dir, {});
  const client = httpClient();
  const ask = async (content: string) => {
    const result = await client.request(`${service.url}/v1/chat/completions`, {
      model: modelName,
      messages: [{ role: "user", content }],
      temperature: 0,
      max_tokens: 64,
    });
    return { time: result.seconds * 1000, cache: result.cache };
  };
  await ask("warm up");
  const misses = await timeEach(50, async (run) => (await ask(`question number ${run}`)).time);
  const hits = (count: number) =>
    timeEach(count, async () => {
      const result = await ask("question number 7");
      if (result.cache !== "hit") throw new Error("expected a cache hit");
      return result.time;
    });
  // The same client against a bare node:http server answering at once: the machine's floor.
  const bare = await bareSseServer();
  const bareAnswers = (count: number) =>
    timeEach(count, async () => (await client.request(`${bare.url}/`, {})).seconds * 1000);

  // Right after the misses the hit path has not yet been optimised by V8, and its compiler threads
  // share the two cores with the client; a service in use answers hits from optimised code. Both are
  // shown: the first hits after start, then hits (and the floor) after a few thousand.
  const coldHits = await hits(HITS_TIMED);
  const coldFloor = await bareAnswers(HITS_TIMED);
  await hits(HITS_WARM_UP);
  await bareAnswers(HITS_WARM_UP);
  const warmHits = await hits(HITS_TIMED);
  const warmFloor = await bareAnswers(HITS_TIMED);
  await bare.close();
  console.log(
    `inference cache (${modelName}, non-streaming, 64 tokens, 50 misses, ${HITS_TIMED} hits timed at start and again after ${HITS_TIMED + HITS_WARM_UP})`,
  );
  console.log(`  miss p50/p99: ${p50p99(misses)}`);
  console.log(`  hit  p50/p99, in use: ${p50p99(warmHits)} (target < 2 ms at p99)`);
  console.log(`  hit  p50/p99, the first ${HITS_TIMED} after start: ${p50p99(coldHits)}`);
  console.log(`  miss/hit p50: ${(percentile(misses, 50) / percentile(warmHits, 50)).toFixed(1)}x`);
  console.log(
    `  the machine's floor (bare node:http answer, same client) p50/p99, in use: ${p50p99(warmFloor)}; at start: ${p50p99(coldFloor)}`,
  );
  await client.close();
  await service.close();
}

async function queue(dir: string, modelName: string) {
  const service = await start(dir, {
    parallel: 2,
    queue: { concurrency: 2, maxQueue: 100, maxWaitMs: 600_000 },
  });
  const users = 10;
  const perUser = 5;
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: users * perUser }, async (_, index) => {
      const user = `user-${index % users}`;
      const begun = performance.now();
      const response = await fetch(`${service.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hearth-user": user, "x-hearth-cache": "bypass" },
        body: JSON.stringify({
          model: modelName,
          messages: [{ role: "user", content: `story ${index}` }],
          temperature: 0.8,
          max_tokens: 32,
        }),
      });
      const body = (await response.json()) as { choices?: unknown[] };
      return {
        user,
        status: response.status,
        answered: Array.isArray(body.choices),
        wait: performance.now() - begun,
      };
    }),
  );
  const total = performance.now() - started;
  const byUser = new Map<string, number[]>();
  for (const result of results) byUser.set(result.user, [...(byUser.get(result.user) ?? []), result.wait]);
  const userMeans = [...byUser.values()].map((waits) => waits.reduce((a, b) => a + b, 0) / waits.length);
  console.log(
    `admission queue (${modelName}, 50 concurrent clients from ${users} users, 2 slots, 32 tokens each)`,
  );
  console.log(
    `  answered: ${results.filter((result) => result.status === 200 && result.answered).length}/50, lost: ${results.filter((r) => r.status !== 200).length}, wall ${ms(total)}`,
  );
  console.log(
    `  mean time to answer per user, max/min: ${ms(Math.max(...userMeans))} / ${ms(Math.min(...userMeans))} = ${(Math.max(...userMeans) / Math.min(...userMeans)).toFixed(2)}`,
  );
  await service.close();

  // The queue's own cost per request, without a model: admit and release, uncontended and contended.
  const admission = new AdmissionQueue({ defaultConcurrency: 2, maxQueue: 100_000, maxWaitMs: 600_000 });
  const rounds = 50_000;
  let begun = performance.now();
  for (let round = 0; round < rounds; round++) (await admission.acquire("m", "u")).release();
  const uncontended = ((performance.now() - begun) * 1000) / rounds;
  begun = performance.now();
  await Promise.all(
    Array.from({ length: 2000 }, async (_, index) => {
      const slot = await admission.acquire("m", `u${index % 50}`);
      await Promise.resolve();
      slot.release();
    }),
  );
  const contended = ((performance.now() - begun) * 1000) / 2000;
  console.log(
    `  queue overhead per request: ${uncontended.toFixed(2)} µs uncontended, ${contended.toFixed(2)} µs with 2000 waiting from 50 users`,
  );
}

export async function run(): Promise<void> {
  // Figures on a shared machine swing with its load; print it beside them.
  console.log(
    `load average: ${loadavg()
      .map((value) => value.toFixed(2))
      .join(" ")}`,
  );
  const dir = await mkdtemp(join(tmpdir(), "hearth-bench-model-"));
  try {
    const stories = sharedFile("models", "stories260K.gguf");
    let file = "tiny.gguf";
    if (stories) {
      file = "stories260K.gguf";
      await copyFile(stories, join(dir, file));
    } else await writeTinyGguf(join(dir, file));
    const name = file.replace(".gguf", ":latest");
    await servingOverhead(dir, file, name);
    await cache(dir, name);
    await queue(dir, name);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
