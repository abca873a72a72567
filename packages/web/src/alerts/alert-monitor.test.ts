import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  Counter,
  createLogger,
  createServiceApp,
  Gauge,
  Histogram,
  LATENCY_BUCKETS_SECONDS,
} from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALERT_METRICS } from "./alert-thresholds.js";
import { createAlertMonitor, type MetricsTarget } from "./create-alert-monitor.js";
import type { AlertNotification, WebhookKind, WebhookTarget } from "./webhook-formats.js";

const silent = createLogger({ level: "silent" });
const TOKEN = "a-service-token-of-32-characters";
const DINGTALK_SECRET = "SEC-dingtalk-secret";
const FEISHU_SECRET = "feishu-secret";

interface Received {
  kind: WebhookKind;
  url: string;
  body: Record<string, unknown>;
}

/** Local receivers that answer like the real services do, including signature checks. */
async function startReceivers(
  received: Received[],
): Promise<{ server: Server; targets: WebhookTarget[]; refusing: WebhookTarget }> {
  const server = createServer(async (request: IncomingMessage, response) => {
    let text = "";
    for await (const chunk of request) text += chunk;
    const url = new URL(request.url ?? "/", "http://receiver");
    const kind = url.pathname.slice(1) as WebhookKind | "refusing";
    const body = JSON.parse(text) as Record<string, unknown>;
    response.setHeader("content-type", "application/json");
    if (kind === "refusing")
      return response.end(JSON.stringify({ errcode: 310000, errmsg: "keywords not in content" }));
    if (kind === "dingtalk") {
      const timestamp = url.searchParams.get("timestamp") ?? "";
      const expected = createHmac("sha256", DINGTALK_SECRET)
        .update(`${timestamp}\n${DINGTALK_SECRET}`)
        .digest("base64");
      if (url.searchParams.get("sign") !== expected)
        return response.end(JSON.stringify({ errcode: 310000, errmsg: "sign not match" }));
    }
    if (kind === "feishu") {
      const expected = createHmac("sha256", `${body.timestamp}\n${FEISHU_SECRET}`)
        .update("")
        .digest("base64");
      if (body.sign !== expected)
        return response.end(JSON.stringify({ code: 19021, msg: "sign match fail" }));
    }
    received.push({ kind, url: request.url ?? "", body });
    if (kind === "slack") return response.end("ok");
    response.end(
      JSON.stringify(
        kind === "feishu"
          ? { code: 0, msg: "success" }
          : kind === "generic"
            ? {}
            : { errcode: 0, errmsg: "ok" },
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    targets: [
      { kind: "generic", url: `${base}/generic` },
      { kind: "dingtalk", url: `${base}/dingtalk?access_token=abc`, secret: DINGTALK_SECRET },
      { kind: "feishu", url: `${base}/feishu`, secret: FEISHU_SECRET },
      { kind: "wecom", url: `${base}/wecom?key=abc` },
      { kind: "slack", url: `${base}/slack` },
    ],
    refusing: { kind: "dingtalk", url: `${base}/refusing` },
  };
}

/**
 * Small services that expose the alert metrics the way the real ones do: a model service with an
 * admission queue, a search service calling a provider, a knowledge service recording updates.
 */
async function startServices(providerUrl: string) {
  const model = createServiceApp({ service: "model", logger: silent, serviceToken: TOKEN });
  const firstToken = new Histogram({
    name: ALERT_METRICS.firstToken,
    help: "first token",
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [model.metrics],
  });
  const depth = new Gauge({
    name: ALERT_METRICS.queueDepth,
    help: "queue depth",
    labelNames: ["model"],
    registers: [model.metrics],
  });
  const capacity = new Gauge({
    name: ALERT_METRICS.queueCapacity,
    help: "queue capacity",
    labelNames: ["model"],
    registers: [model.metrics],
  });
  capacity.set({ model: "deepseek-r1:1.5b" }, 2);
  depth.set({ model: "deepseek-r1:1.5b" }, 0);
  // One slot; waiting requests queue (capacity 2), and the wait is part of the time to first token.
  let busy = Promise.resolve();
  let waiting = 0;
  model.app.post<{ Body: { workMs: number } }>("/api/generate", async (request, reply) => {
    if (waiting >= 2) return reply.code(429).send({ error: "queue full" });
    const started = performance.now();
    waiting++;
    depth.set({ model: "deepseek-r1:1.5b" }, waiting);
    const turn = busy;
    let release!: () => void;
    busy = new Promise((resolve) => (release = resolve));
    await turn;
    waiting--;
    depth.set({ model: "deepseek-r1:1.5b" }, waiting);
    await new Promise((resolve) => setTimeout(resolve, request.body.workMs));
    firstToken.observe((performance.now() - started) / 1000);
    release();
    return { response: "ok" };
  });

  const search = createServiceApp({ service: "search", logger: silent, serviceToken: TOKEN });
  const queries = new Counter({
    name: ALERT_METRICS.searchQueries,
    help: "queries",
    labelNames: ["outcome"],
    registers: [search.metrics],
  });
  search.app.get<{ Querystring: { q: string } }>("/v1/search", async (request) => {
    const response = await fetch(`${providerUrl}?q=${encodeURIComponent(request.query.q)}`);
    if (!response.ok) {
      queries.inc({ outcome: "error" });
      return { results: [] };
    }
    const results = ((await response.json()) as { results: unknown[] }).results;
    queries.inc({ outcome: results.length > 0 ? "ok" : "empty" });
    return { results };
  });

  const knowledge = createServiceApp({ service: "knowledge", logger: silent, serviceToken: TOKEN });
  const updated = new Gauge({
    name: ALERT_METRICS.knowledgeUpdated,
    help: "last update",
    labelNames: ["knowledge_base"],
    registers: [knowledge.metrics],
  });
  knowledge.app.post<{ Params: { base: string } }>("/v1/bases/:base/documents", async (request) => {
    updated.set({ knowledge_base: request.params.base }, Date.now() / 1000);
    return { ok: true };
  });

  const urls: Record<string, string> = {};
  for (const [name, service] of Object.entries({ model, search, knowledge })) {
    await service.app.listen({ host: "127.0.0.1", port: 0 });
    urls[name] = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
  }
  return { urls, close: () => Promise.all([model.app.close(), search.app.close(), knowledge.app.close()]) };
}

let received: Received[];
let receivers: Awaited<ReturnType<typeof startReceivers>>;
let services: Awaited<ReturnType<typeof startServices>>;
let provider: Server;
let providerKeyValid = true;

beforeAll(async () => {
  received = [];
  receivers = await startReceivers(received);
  // A search provider that rejects requests once its API key is revoked.
  provider = createServer((_request, response) => {
    response.setHeader("content-type", "application/json");
    if (!providerKeyValid) {
      response.statusCode = 401;
      return response.end(JSON.stringify({ error: "invalid api key" }));
    }
    response.end(JSON.stringify({ results: [{ title: "Hearth", url: "https://example.org" }] }));
  });
  await new Promise<void>((resolve) => provider.listen(0, "127.0.0.1", resolve));
  services = await startServices(`http://127.0.0.1:${(provider.address() as AddressInfo).port}/search`);
});

afterAll(async () => {
  await services.close();
  receivers.server.close();
  provider.close();
});

const target = (service: string): MetricsTarget => ({ service, url: `${services.urls[service]}/metrics` });
const post = (url: string, body: unknown) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-hearth-service-token": TOKEN },
    body: JSON.stringify(body),
  });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function monitor(
  targets: MetricsTarget[],
  thresholds: Parameters<typeof createAlertMonitor>[0]["thresholds"],
  webhooks = receivers.targets,
) {
  return createAlertMonitor({
    targets,
    webhooks,
    serviceToken: TOKEN,
    thresholds,
    memoryLimitBytes: 64 * 1024 ** 3,
  });
}

function notified(alert: string, status: AlertNotification["status"]): WebhookKind[] {
  return received
    .filter((entry) => {
      const text = JSON.stringify(entry.body);
      return (
        text.includes(alert) &&
        text.includes(
          status === "firing"
            ? entry.kind === "generic"
              ? '"status":"firing"'
              : "FIRING"
            : entry.kind === "generic"
              ? '"status":"resolved"'
              : "RESOLVED",
        )
      );
    })
    .map((entry) => entry.kind)
    .sort();
}

const ALL_KINDS = ["dingtalk", "feishu", "generic", "slack", "wecom"];

describe("createAlertMonitor", () => {
  it("fires on slow first tokens only after the condition held for its duration, and resolves", async () => {
    const alerts = monitor([target("model")], {
      inferenceP99Seconds: 0.3,
      inferenceWindowSeconds: 1,
      forSeconds: { inferenceLatency: 0.3 },
    });
    expect(await alerts.evaluate()).toEqual([]);
    // Three requests on one slot: the last waits for the two before it.
    await Promise.all([0, 1, 2].map(() => post(`${services.urls.model}/api/generate`, { workMs: 250 })));
    const pending = await alerts.evaluate();
    expect(pending).toMatchObject([{ alert: "HearthInferenceLatencyHigh", state: "pending" }]);
    expect(pending[0]!.value).toBeGreaterThan(0.3);
    expect(notified("HearthInferenceLatencyHigh", "firing")).toEqual([]);
    await sleep(350);
    expect(await alerts.evaluate()).toMatchObject([{ alert: "HearthInferenceLatencyHigh", state: "firing" }]);
    expect(notified("HearthInferenceLatencyHigh", "firing")).toEqual(ALL_KINDS);
    const generic = received.find(
      (entry) =>
        entry.kind === "generic" && JSON.stringify(entry.body).includes("HearthInferenceLatencyHigh"),
    )!;
    expect(generic.body).toMatchObject({
      source: "hearth",
      status: "firing",
      severity: "warning",
      threshold: 0.3,
      labels: { service: "model" },
    });

    // Fast answers for longer than the window bring P99 back down (100 of them: one outlier on a
    // busy CI machine does not decide the P99).
    await sleep(1100);
    await alerts.evaluate();
    for (let i = 0; i < 100; i++) await post(`${services.urls.model}/api/generate`, { workMs: 0 });
    expect(await alerts.evaluate()).toEqual([]);
    expect(notified("HearthInferenceLatencyHigh", "resolved")).toEqual(ALL_KINDS);
  });

  it("fires when the model's admission queue is full", async () => {
    const alerts = monitor([target("model")], { inferenceP99Seconds: 1000, forSeconds: { queueFull: 0 } });
    const requests = [0, 1, 2].map(() => post(`${services.urls.model}/api/generate`, { workMs: 400 }));
    await sleep(100);
    const firing = await alerts.evaluate();
    expect(firing).toMatchObject([
      {
        alert: "HearthQueueFull",
        state: "firing",
        labels: { service: "model", model: "deepseek-r1:1.5b" },
        value: 2,
      },
    ]);
    expect(notified("HearthQueueFull", "firing")).toEqual(ALL_KINDS);
    const wecom = received.find(
      (entry) => entry.kind === "wecom" && JSON.stringify(entry.body).includes("HearthQueueFull"),
    )!;
    expect(wecom.body).toMatchObject({ msgtype: "markdown" });
    await Promise.all(requests);
    expect(await alerts.evaluate()).toEqual([]);
    expect(notified("HearthQueueFull", "resolved")).toEqual(ALL_KINDS);
  });

  it("fires when search stops returning results because the provider rejects its key", async () => {
    const alerts = monitor([target("search")], { searchMinQueries: 5, forSeconds: { searchSuccess: 0 } });
    const search = (q: string) =>
      fetch(`${services.urls.search}/v1/search?q=${encodeURIComponent(q)}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
    for (let i = 0; i < 6; i++) await search(`部署 ${i}`);
    expect(await alerts.evaluate()).toEqual([]);
    providerKeyValid = false;
    for (let i = 0; i < 6; i++) await search(`部署 ${i}`);
    providerKeyValid = true;
    const firing = await alerts.evaluate();
    expect(firing).toMatchObject([
      { alert: "HearthSearchSuccessLow", state: "firing", labels: { service: "search" } },
    ]);
    expect(firing[0]!.value).toBeCloseTo(0.5, 5);
    expect(notified("HearthSearchSuccessLow", "firing")).toEqual(ALL_KINDS);
    const slack = received.find(
      (entry) => entry.kind === "slack" && JSON.stringify(entry.body).includes("HearthSearchSuccessLow"),
    )!;
    expect(String(slack.body.text)).toContain("50.0% of 12 searches");
  });

  it("fires when a knowledge base has not been updated for the configured period", async () => {
    const alerts = monitor([target("knowledge")], { knowledgeStaleSeconds: 1 });
    await post(`${services.urls.knowledge}/v1/bases/handbook/documents`, {});
    expect(await alerts.evaluate()).toEqual([]);
    await sleep(1200);
    expect(await alerts.evaluate()).toMatchObject([
      { alert: "HearthKnowledgeStale", state: "firing", labels: { knowledge_base: "handbook" } },
    ]);
    expect(notified("HearthKnowledgeStale", "firing")).toEqual(ALL_KINDS);
    const feishu = received.find(
      (entry) => entry.kind === "feishu" && JSON.stringify(entry.body).includes("HearthKnowledgeStale"),
    )!;
    expect(feishu.body).toMatchObject({ msg_type: "text" });
    await post(`${services.urls.knowledge}/v1/bases/handbook/documents`, {});
    expect(await alerts.evaluate()).toEqual([]);
    expect(notified("HearthKnowledgeStale", "resolved")).toEqual(ALL_KINDS);
  });

  it("fires when a service's memory grows past 80% of its limit", async () => {
    const MiB = 1024 * 1024;
    const resident = process.memoryUsage().rss;
    // A limit whose 80% is 100 MiB above what the process uses now.
    const threshold = resident + 100 * MiB;
    const alerts = createAlertMonitor({
      targets: [target("knowledge")],
      webhooks: receivers.targets,
      serviceToken: TOKEN,
      memoryLimitBytes: Math.round(threshold / 0.8),
      thresholds: { forSeconds: { memory: 0 } },
    });
    expect(await alerts.evaluate()).toEqual([]);
    // Then the process really grows past it, by 200 MiB steps: a large allocation can set off a
    // collection of the garbage earlier test files left in this worker, which shrinks it meanwhile.
    const ballast: Buffer[] = [];
    while (process.memoryUsage().rss < threshold + 200 * MiB && ballast.length < 10)
      ballast.push(Buffer.alloc(200 * MiB, 1));
    const firing = await alerts.evaluate();
    expect(firing).toMatchObject([
      { alert: "HearthMemoryHigh", state: "firing", labels: { service: "knowledge" } },
    ]);
    expect(firing[0]!.value).toBeGreaterThan(0.8);
    expect(ballast.at(-1)?.at(-1)).toBe(1);
    expect(notified("HearthMemoryHigh", "firing")).toEqual(ALL_KINDS);
  });

  it("fires when a service stops answering, and logs refused deliveries without the webhook URL", async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: "warn",
      destination: { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream,
    });
    const alerts = createAlertMonitor({
      targets: [{ service: "search", url: "http://127.0.0.1:1/metrics" }],
      webhooks: [receivers.targets[0]!, receivers.refusing],
      thresholds: { forSeconds: { serviceDown: 0 } },
      logger,
    });
    expect(await alerts.evaluate()).toMatchObject([
      { alert: "HearthServiceDown", state: "firing", labels: { service: "search" } },
    ]);
    expect(notified("HearthServiceDown", "firing")).toEqual(["generic"]);
    await sleep(50);
    const refusal = lines
      .map((line) => JSON.parse(line))
      .find((line) => line.code === "ALERT_DELIVERY_FAILED");
    expect(refusal).toMatchObject({ kind: "dingtalk", alert: "HearthServiceDown" });
    expect(lines.join("")).not.toContain("/refusing");
    expect(lines.join("")).not.toContain("access_token");
  });
});
