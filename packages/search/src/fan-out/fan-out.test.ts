import { searchProviderSchema } from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReplayServer, sendJson } from "../../test/replay-server.js";
import { createProvider } from "../providers/create-provider.js";
import { fanOut, ProviderSlot } from "./fan-out.js";

const page = (label: string) => ({
  results: [{ url: `https://${label}.example.com/a`, title: `${label} result`, content: "snippet" }],
});

/** An engine's answer of about 10 MB. */
const HUGE_BODY = `{"results":[${`{"url":"https://huge.example.com/${"x".repeat(1000)}","title":"t","content":"c"},`.repeat(10_000)}{}]}`;

const server: ReplayServer = new ReplayServer(async (request, response) => {
  const engine = request.url.split("/")[1]!;
  switch (engine) {
    case "ok":
    case "ok2":
      return sendJson(response, 200, page(engine));
    case "hang":
      return; // never answers
    case "limited":
      return sendJson(response, 429, "Too Many Requests", { "retry-after": "30" });
    case "malformed":
      return sendJson(response, 200, '{"results": [{"url": "https://x.example.com", "title": ');
    case "huge":
      // One write of a body built once: 10,000 small writes cost this process's event loop (which
      // the engine's client shares here) more than reading is allowed by the deadline on a busy machine.
      response.writeHead(200, { "content-type": "application/json" });
      return response.end(HUGE_BODY);
    case "flaky": {
      const calls = server.requests.filter((r) => r.url.startsWith("/flaky")).length;
      return calls % 2 === 1 ? sendJson(response, 503, "busy") : sendJson(response, 200, page("flaky"));
    }
    case "echo":
      return sendJson(response, 401, { message: `invalid key ${request.url.split("/")[2]}` });
    case "moved":
      response.writeHead(302, { location: "https://elsewhere.example.com/search?key=sk-moved-0123" });
      return response.end();
    case "failing":
      return sendJson(response, 500, { error: "down" });
    case "slow-first": {
      const calls = server.requests.filter((r) => r.url.startsWith("/slow-first")).length;
      if (calls === 1) await new Promise((resolve) => setTimeout(resolve, 2000));
      return sendJson(response, 200, page("slow-first"));
    }
  }
  sendJson(response, 404, "no such engine");
});

function slot(
  engine: string,
  extra: Record<string, unknown> = {},
  breaker = { failureThreshold: 5, cooldownMs: 30_000 },
) {
  const config = searchProviderSchema.parse({
    id: engine,
    type: "searxng",
    url: `${server.url}/${engine}`,
    retries: 0,
    ...extra,
  });
  return new ProviderSlot(createProvider(config), config, breaker);
}
const callsTo = (engine: string) => server.requests.filter((r) => r.url.startsWith(`/${engine}/`)).length;

beforeAll(async () => {
  await server.start();
});
afterAll(async () => {
  await server.close();
});

describe("fan-out", () => {
  it("answers from the healthy engines by the deadline when others hang, answer 429, malformed JSON or 10 MB", async () => {
    const slots = ["ok", "hang", "limited", "malformed", "huge", "ok2"].map((engine) => slot(engine));
    const started = performance.now();
    const { answers, outcomes } = await fanOut(slots, { query: "q", limit: 10, deadlineMs: 1500 });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(2500); // the deadline (long enough to read 4 MB on a loaded 2-core machine) plus slack
    expect(answers.map((answer) => answer.hits[0]!.title)).toEqual(["ok result", "ok2 result"]);
    const status = Object.fromEntries(outcomes.map((outcome) => [outcome.id, outcome.status]));
    expect(status).toEqual({
      ok: "ok",
      hang: "timeout",
      limited: "rate-limited",
      malformed: "error",
      huge: "error",
      ok2: "ok",
    });
    expect(outcomes.find((o) => o.id === "huge")!.error).toMatch(/byte limit/);
    expect(outcomes.find((o) => o.id === "malformed")!.error).toMatch(/malformed JSON/);
    for (const outcome of outcomes) expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("gives up on an engine at its own timeout, before the deadline", async () => {
    const { outcomes } = await fanOut([slot("hang", { timeoutMs: 100 }), slot("ok")], {
      query: "q",
      limit: 5,
      deadlineMs: 3000,
    });
    expect(outcomes[0]).toMatchObject({ id: "hang", status: "timeout" });
    expect(outcomes[0]!.latencyMs).toBeLessThan(1000);
  });

  it("times an engine out even when its call ignores the abort signal (as fetch may after a GC)", async () => {
    const config = searchProviderSchema.parse({
      id: "deaf",
      type: "searxng",
      url: `${server.url}/hang`,
      timeoutMs: 100,
      retries: 0,
    });
    const deaf = { id: "deaf", type: "searxng", search: () => new Promise<never>(() => {}) };
    const started = performance.now();
    const { outcomes } = await fanOut(
      [new ProviderSlot(deaf, config, { failureThreshold: 5, cooldownMs: 1000 })],
      {
        query: "q",
        limit: 5,
        deadlineMs: 3000,
      },
    );
    expect(outcomes[0]).toMatchObject({ id: "deaf", status: "timeout" });
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it("never calls an engine more often than its token bucket allows, across concurrent queries", async () => {
    const limited = slot("ok", { rateLimit: { perSecond: 2 } });
    const before = callsTo("ok");
    const results = await Promise.all(
      Array.from({ length: 10 }, () => fanOut([limited], { query: "q", limit: 5, deadlineMs: 2000 })),
    );
    expect(callsTo("ok") - before).toBe(2);
    const statuses = results.map((result) => result.outcomes[0]!.status);
    expect(statuses.filter((s) => s === "ok")).toHaveLength(2);
    expect(statuses.filter((s) => s === "rate-limited")).toHaveLength(8);
  });

  it("honours Retry-After: a rate-limited engine is skipped, not called, until the time has passed", async () => {
    const limited = slot("limited");
    await fanOut([limited], { query: "q", limit: 5, deadlineMs: 2000 });
    const calls = callsTo("limited");
    const { outcomes } = await fanOut([limited], { query: "q", limit: 5, deadlineMs: 2000 });
    expect(outcomes[0]).toMatchObject({ status: "rate-limited" });
    expect(outcomes[0]!.error).toMatch(/wait 30 s/);
    expect(outcomes[0]!.latencyMs).toBeLessThan(50);
    expect(callsTo("limited")).toBe(calls);
  });

  it("retries a 503 with backoff within the deadline", async () => {
    const flaky = slot("flaky", { retries: 2 });
    const { outcomes, answers } = await fanOut([flaky], { query: "q", limit: 5, deadlineMs: 3000 });
    expect(outcomes[0]!.status).toBe("ok");
    expect(answers[0]!.hits[0]!.title).toBe("flaky result");
    expect(callsTo("flaky")).toBe(2);
  });

  it("reports a redirect as refused, with the engine's URL without its query, and does not retry it", async () => {
    const moved = slot("moved", { retries: 2 });
    const { outcomes } = await fanOut([moved], { query: "q", limit: 5, deadlineMs: 3000 });
    expect(outcomes[0]).toMatchObject({ status: "error" });
    expect(outcomes[0]!.error).toBe(
      `${server.url}/moved/search answered HTTP 302, a redirect to https://elsewhere.example.com/search; redirects are not followed (set the provider's url to where it points)`,
    );
    expect(callsTo("moved")).toBe(1);
  });

  it("opens the breaker after repeated failures, skips the engine, then probes it back", async () => {
    const failing = slot("failing", {}, { failureThreshold: 2, cooldownMs: 150 });
    for (let i = 0; i < 2; i++) await fanOut([failing], { query: "q", limit: 5, deadlineMs: 2000 });
    const calls = callsTo("failing");
    const skipped = await fanOut([failing], { query: "q", limit: 5, deadlineMs: 2000 });
    expect(skipped.outcomes[0]!.status).toBe("skipped-by-breaker");
    expect(callsTo("failing")).toBe(calls);
    expect(failing.breaker.state).toBe("open");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const probe = await fanOut([failing], { query: "q", limit: 5, deadlineMs: 2000 });
    expect(probe.outcomes[0]!.status).toBe("error");
    expect(callsTo("failing")).toBe(calls + 1);
    expect(failing.breaker.state).toBe("open");
  });

  it("never reports an API key an engine echoes back in its error", async () => {
    const config = searchProviderSchema.parse({
      id: "echo",
      type: "custom",
      url: `${server.url}/echo/{apiKey}/search?q={query}`,
      apiKey: "sk-live-abcdef123456",
      retries: 0,
      response: { results: "r", title: "t", url: "u" },
    });
    const echo = new ProviderSlot(createProvider(config), config, { failureThreshold: 5, cooldownMs: 1000 });
    const { outcomes } = await fanOut([echo], { query: "q", limit: 5, deadlineMs: 2000 });
    expect(outcomes[0]!.status).toBe("error");
    expect(outcomes[0]!.error).not.toContain("sk-live-abcdef123456");
    expect(outcomes[0]!.error).toContain("[redacted]");
  });

  it("hedges a slow call: a second call answers first", async () => {
    const hedged = slot("slow-first", { hedgeAfterMs: 50 });
    const started = performance.now();
    const { outcomes } = await fanOut([hedged], { query: "q", limit: 5, deadlineMs: 3000 });
    expect(outcomes[0]!.status).toBe("ok");
    expect(performance.now() - started).toBeLessThan(1500); // the first call alone takes 2000 ms
    expect(callsTo("slow-first")).toBe(2);
  });
});
