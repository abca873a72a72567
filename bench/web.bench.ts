/**
 * Web service streaming benchmarks (issue 6):
 *  1. Time to first token added by the web service's public API over calling the upstream directly,
 *     side by side with nginx as a plain reverse proxy and a bare node:http pipe (the naive Node
 *     proxy), with 100 streams held open (each client opens its next stream when one ends), and
 *     again with 100 streams started in the same millisecond (medians of 3 interleaved runs).
 *  2. 1,000 concurrent streaming chats through the web service: completed vs dropped, and the
 *     web service's resident memory.
 * The upstream is a synthetic OpenAI SSE server (51 chunks, 20 ms apart), in its own process; the
 * web service runs in its own process (with a real SQLite database and API-key auth), nginx in
 * its own. The load generator shares the machine, as the issue describes.
 *
 * Before measuring, each target carries HEARTH_BENCH_WEB_CONCURRENCY (100) streams held open for
 * HEARTH_BENCH_WEB_WARMUP_SECONDS (20: about 2,000 streams at 100), as a Node service in use has its
 * request path optimised by V8.
 *
 * `npm run bench -- web` prints the figures; HEARTH_BENCH_WEB_RUNS, HEARTH_BENCH_WEB_SECONDS,
 * HEARTH_BENCH_WEB_WARMUP_SECONDS and HEARTH_BENCH_WEB_STREAMS shrink it for a quick look.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../test/support/ports.js";
import { stealMeter } from "./cpu-steal.js";

const CHUNKS = 51;
const INTERVAL_MS = 20;
const self = fileURLToPath(import.meta.url);

// ---- roles run in child processes -------------------------------------------------------------

async function runUpstream(): Promise<void> {
  const head = (model: string, i: number) =>
    `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,"model":"${model}","choices":[{"index":0,"delta":{"content":"token${i} "},"finish_reason":null}]}\n\n`;
  const server = createServer((req, res) => {
    if (req.url === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"object":"list","data":[{"id":"bench","object":"model","created":0,"owned_by":"bench"}]}');
      return;
    }
    if (req.url === "/api/show") {
      // As the model service describes a model: the web service sizes prompts to its context.
      req.resume();
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"parameters":"num_ctx 4096","model_info":{"llama.context_length":4096}}');
      return;
    }
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      let i = 0;
      const tick = () => {
        if (res.destroyed) return;
        if (i < CHUNKS) {
          res.write(head("bench", i));
          i += 1;
          setTimeout(tick, INTERVAL_MS);
        } else {
          res.write(
            'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,"model":"bench","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":51,"total_tokens":56}}\n\n',
          );
          res.end("data: [DONE]\n\n");
        }
      };
      tick();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => process.send?.({ port: (server.address() as AddressInfo).port }));
}

async function runWeb(): Promise<void> {
  const { createLogger, loadConfig } = await import("@hearth/core");
  const { serveWeb } = await import("@hearth/web");
  const dataDir = process.env.BENCH_DATA_DIR!;
  const workers = Number(process.env.HEARTH_BENCH_WEB_WORKERS ?? 1);
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      logLevel: "silent",
      web: { host: "127.0.0.1", port: 0, workers },
      services: {
        modelUrl: process.env.BENCH_UPSTREAM!,
        searchUrl: "http://127.0.0.1:9",
        knowledgeUrl: "http://127.0.0.1:9",
      },
    } as never,
  });
  const web = await serveWeb(config, createLogger({ level: "silent" }));
  const signup = await fetch(`${web.url}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "bench", password: "bench password" }),
  });
  const cookies = signup.headers.getSetCookie().map((c) => c.split(";")[0]!);
  const csrf = decodeURIComponent(cookies.find((c) => c.startsWith("hearth_csrf="))!.split("=")[1]!);
  const key = await fetch(`${web.url}/api/account/api-keys`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: cookies.join("; "), "x-csrf-token": csrf },
    body: JSON.stringify({ name: "bench" }),
  });
  process.on("SIGTERM", () => void web.close().finally(() => process.exit(0)));
  process.send?.({ port: Number(new URL(web.url).port), key: ((await key.json()) as { key: string }).key });
}

/** The naive Node proxy the issue compares with: node:http in, node:http keep-alive out, `pipe`. */
async function runPipe(): Promise<void> {
  const upstream = new URL(process.env.BENCH_UPSTREAM!);
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const server = createServer((req, res) => {
    const out = request(
      {
        agent,
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on("error", () => res.destroy());
    req.pipe(out);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => process.send?.({ port: (server.address() as AddressInfo).port }));
}

if (process.env.HEARTH_BENCH_ROLE === "upstream") await runUpstream();
if (process.env.HEARTH_BENCH_ROLE === "pipe") await runPipe();
if (process.env.HEARTH_BENCH_ROLE === "web") await runWeb();

// ---- the load generator --------------------------------------------------------------------

function startChild(
  role: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; message: { port: number; key?: string } }> {
  const extra =
    role === "web" && process.env.HEARTH_BENCH_WEB_NODE_ARGS
      ? process.env.HEARTH_BENCH_WEB_NODE_ARGS.split(" ")
      : [];
  // tsx runs this file; the web service itself comes from the packages' built dist, as `npm start`
  // runs it (resolved through the "source" condition, tsx would compile it anew, adding a
  // function-naming call to every closure the request path creates).
  const child = spawn(process.execPath, [...extra, "--import", "tsx", self], {
    env: { ...process.env, HEARTH_BENCH_ROLE: role, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("message", (message) =>
      resolve({ child, message: message as { port: number; key?: string } }),
    );
    child.once("exit", (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

async function startNginx(
  upstreamPort: number,
): Promise<{ port: number; pid: number | undefined; stop(): void } | undefined> {
  if (spawnSync("nginx", ["-v"]).status !== 0) return undefined;
  const prefix = mkdtempSync(join(tmpdir(), "hearth-bench-nginx-"));
  const port = await freePort();
  writeFileSync(
    join(prefix, "nginx.conf"),
    `daemon off; worker_processes 1; pid ${prefix}/nginx.pid; error_log ${prefix}/error.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${prefix}; proxy_temp_path ${prefix};
  upstream model { server 127.0.0.1:${upstreamPort}; keepalive 256; }
  server { listen 127.0.0.1:${port};
    location / { proxy_pass http://model; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; } } }`,
  );
  const child = spawn("nginx", ["-p", prefix, "-c", join(prefix, "nginx.conf")], { stdio: "ignore" });
  return {
    port,
    pid: child.pid,
    stop() {
      child.kill("SIGTERM");
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

interface StreamResult {
  ttftMs: number;
  complete: boolean;
}

function stream(agent: Agent, port: number, key?: string): Promise<StreamResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    let ttft = -1;
    let tail = "";
    const body = '{"model":"bench","stream":true,"messages":[{"role":"user","content":"hi"}]}';
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/v1/chat/completions",
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
      },
      (res) => {
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (ttft < 0 && chunk.includes('"content"')) ttft = performance.now() - started;
          tail = (tail + chunk).slice(-64);
        });
        res.on("end", () =>
          resolve({ ttftMs: ttft, complete: res.statusCode === 200 && tail.includes("[DONE]") }),
        );
        res.on("error", () => resolve({ ttftMs: ttft, complete: false }));
      },
    );
    req.on("error", () => resolve({ ttftMs: ttft, complete: false }));
    req.end(body);
  });
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const median = (values: number[]) => percentile(values, 50);

async function wave(port: number, count: number, key?: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const results = await Promise.all(Array.from({ length: count }, () => stream(agent, port, key)));
  agent.destroy();
  const ttfts = results.filter((r) => r.ttftMs >= 0).map((r) => r.ttftMs);
  return {
    p50: percentile(ttfts, 50),
    p99: percentile(ttfts, 99),
    completed: results.filter((r) => r.complete).length,
    dropped: results.filter((r) => !r.complete).length,
  };
}

/** A process and its children (the web service's cluster workers, nginx's worker). */
function processTree(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    return [pid, ...children.map(Number)];
  } catch {
    return [pid];
  }
}

/** A figure summed over a process and its children; a process that ended in between counts 0. */
function sumOverTree(pid: number | undefined, read: (id: number) => number): number {
  if (!pid) return Number.NaN;
  return processTree(pid).reduce((total, id) => {
    try {
      return total + read(id);
    } catch {
      return total;
    }
  }, 0);
}

/** Resident memory of the web process and its cluster workers, in MB. */
const rssMb = (pid: number | undefined) =>
  sumOverTree(
    pid,
    (id) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${id}/status`, "utf8"))?.[1] ?? 0) / 1024,
  );

/** CPU time (user + system) used so far by a process and its children, in ms (10 ms ticks). */
const cpuMs = (pid: number | undefined) =>
  sumOverTree(pid, (id) => {
    const fields = readFileSync(`/proc/${id}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  });

/**
 * Times so far the kernel took the CPU from a process's main thread (its event loop; nginx's worker)
 * while it still had work: on a shared 2-core machine, each is a wait that lands on some request.
 */
const preemptions = (pid: number | undefined) =>
  sumOverTree(pid, (id) =>
    Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${id}/status`, "utf8"))?.[1] ?? 0),
  );

/**
 * `concurrency` streams open at every moment for `seconds`: each simulated client opens its next
 * stream as soon as its last one ends (a closed loop), the first ones spread over one stream's
 * length, so requests arrive as they do in use rather than all in the same millisecond.
 */
async function steady(port: number, concurrency: number, seconds: number, key?: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const streamMs = CHUNKS * INTERVAL_MS;
  const until = performance.now() + seconds * 1000;
  const ttfts: number[] = [];
  let dropped = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, index) => {
      await new Promise((resolve) => setTimeout(resolve, (index * streamMs) / concurrency));
      while (performance.now() < until) {
        const result = await stream(agent, port, key);
        if (result.ttftMs >= 0) ttfts.push(result.ttftMs);
        if (!result.complete) dropped += 1;
      }
    }),
  );
  agent.destroy();
  return { p50: percentile(ttfts, 50), p99: percentile(ttfts, 99), dropped, count: ttfts.length };
}

interface Target {
  name: string;
  port: number;
  key: string | undefined;
  pid: number | undefined;
}

/** Runs `measure` on every target in turn, `runs` times, and prints medians and what each adds over direct. */
async function compare(
  title: string,
  targets: Target[],
  runs: number,
  measure: (target: Target) => Promise<{ p50: number; p99: number; dropped: number; count: number }>,
) {
  const figures = new Map(
    targets.map((target) => [
      target.name,
      {
        p50: [] as number[],
        p99: [] as number[],
        cpu: [] as number[],
        preempted: [] as number[],
        steal: [] as number[],
        dropped: 0,
        count: 0,
      },
    ]),
  );
  for (let i = 0; i < runs; i++) {
    for (const target of targets) {
      const cpuBefore = cpuMs(target.pid);
      const preemptedBefore = preemptions(target.pid);
      const steal = stealMeter();
      const result = await measure(target);
      const entry = figures.get(target.name)!;
      entry.p50.push(result.p50);
      entry.p99.push(result.p99);
      // The proxy's own work per stream (request, 52 chunks, end): less sensitive than latency
      // to what else the shared machine is running.
      entry.cpu.push((cpuMs(target.pid) - cpuBefore) / Math.max(1, result.count));
      entry.preempted.push((preemptions(target.pid) - preemptedBefore) / Math.max(1, result.count));
      entry.steal.push(steal());
      entry.dropped += result.dropped;
      entry.count += result.count;
    }
  }
  const direct = figures.get("direct")!;
  console.log(
    `${title}, medians of ${runs} interleaved runs (steal: the share of the CPUs' time the hypervisor gave other guests meanwhile):`,
  );
  for (const [name, entry] of figures) {
    const p50 = median(entry.p50);
    const p99 = median(entry.p99);
    const added =
      name === "direct"
        ? ""
        : ` | added over direct: p50 ${(p50 - median(direct.p50)).toFixed(2)} ms, p99 ${(p99 - median(direct.p99)).toFixed(2)} ms | CPU ${median(entry.cpu).toFixed(2)} ms, preempted ${median(entry.preempted).toFixed(1)} times per stream`;
    console.log(
      `  ${name.padEnd(6)} TTFT p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, streams ${entry.count}, dropped ${entry.dropped}, steal ${median(entry.steal).toFixed(1)} %${added}`,
    );
  }
}

export async function run(): Promise<void> {
  const runs = Number(process.env.HEARTH_BENCH_WEB_RUNS ?? 3);
  const seconds = Number(process.env.HEARTH_BENCH_WEB_SECONDS ?? 6);
  const warmUpSeconds = Number(process.env.HEARTH_BENCH_WEB_WARMUP_SECONDS ?? 20);
  const big = Number(process.env.HEARTH_BENCH_WEB_STREAMS ?? 1000);
  const concurrency = Number(process.env.HEARTH_BENCH_WEB_CONCURRENCY ?? 100);
  const upstream = await startChild("upstream");
  const upstreamUrl = `http://127.0.0.1:${upstream.message.port}`;
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-bench-web-"));
  const web = await startChild("web", { BENCH_DATA_DIR: dataDir, BENCH_UPSTREAM: upstreamUrl });
  const pipe = await startChild("pipe", { BENCH_UPSTREAM: upstreamUrl });
  const nginx = await startNginx(upstream.message.port);
  await new Promise((resolve) => setTimeout(resolve, 300));
  try {
    const targets: Target[] = [
      { name: "direct", port: upstream.message.port, key: undefined, pid: undefined },
      ...(nginx ? [{ name: "nginx", port: nginx.port, key: undefined, pid: nginx.pid }] : []),
      { name: "node", port: pipe.message.port, key: undefined, pid: pipe.child.pid },
      { name: "web", port: web.message.port, key: web.message.key, pid: web.child.pid },
    ];
    // Warm-up: connections open and the Node processes' request paths optimised by V8, as in a
    // service in use. With 2 s (about 200 streams) the bare pipe's p99 was higher (bench/README.md,
    // web service, "Fourth session", warm-up).
    for (const target of targets) await steady(target.port, concurrency, warmUpSeconds, target.key);
    console.log(`warm-up: ${concurrency} streams held open for ${warmUpSeconds} s through each target`);
    await compare(
      `${concurrency} concurrent streams held for ${seconds} s (${CHUNKS} chunks, ${INTERVAL_MS} ms apart; each client opens its next stream when one ends)`,
      targets,
      runs,
      (target) => steady(target.port, concurrency, seconds, target.key),
    );
    await compare(
      `${concurrency} streams started in the same millisecond (a burst)`,
      targets,
      runs,
      async (target) => ({ ...(await wave(target.port, concurrency, target.key)), count: concurrency }),
    );

    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(web.child.pid));
    }, 100);
    const started = performance.now();
    const result = await wave(web.message.port, big, web.message.key);
    clearInterval(sampler);
    console.log(
      `${big} concurrent streams through the web service: completed ${result.completed}, dropped ${result.dropped}, TTFT p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, wall ${((performance.now() - started) / 1000).toFixed(1)} s, web RSS peak ${peak.toFixed(0)} MB`,
    );
  } finally {
    nginx?.stop();
    web.child.kill("SIGTERM");
    pipe.child.kill("SIGTERM");
    upstream.child.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  }
}
