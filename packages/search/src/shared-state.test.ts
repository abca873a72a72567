import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConfigInput, createLogger, loadConfig } from "@hearth/core";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ReplayServer, sendJson } from "../test/replay-server.js";
import { createSearchService } from "./search-service.js";

const REDIS_URL = process.env.HEARTH_TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";

/** Whether a Redis answers (a fresh clone without one skips these tests). */
const redisUp = await new Promise<boolean>((resolve) => {
  const url = new URL(REDIS_URL);
  const socket = new Socket();
  socket.setTimeout(500);
  socket.once("connect", () => {
    socket.destroy();
    resolve(true);
  });
  socket.once("error", () => resolve(false));
  socket.once("timeout", () => {
    socket.destroy();
    resolve(false);
  });
  socket.connect(Number(url.port || 6379), url.hostname);
});

const folder = mkdtempSync(join(tmpdir(), "hearth-search-redis-"));
const prefix = `hearth-test:${randomUUID()}:`;
let limitedCalls = 0;
const engines = new ReplayServer((request, response) => {
  if (request.url.startsWith("/limited/")) {
    limitedCalls += 1;
    return sendJson(response, 429, "Too Many Requests", { "retry-after": "30" });
  }
  sendJson(response, 200, {
    results: [{ url: "https://example.com/a", title: "A result", content: "text" }],
  });
});
const logger = createLogger({ level: "silent" });
const closers: Array<() => Promise<void>> = [];

async function replica(search: ConfigInput["search"]) {
  const config = loadConfig({ env: {}, cwd: folder, overrides: { dataDir: folder, search } });
  const service = await createSearchService(config, logger);
  closers.push(service.close);
  return (body: unknown) =>
    service.app
      .inject({
        method: "POST",
        url: "/v1/search",
        payload: JSON.stringify(body),
        headers: { "content-type": "application/json" },
      })
      .then((r) => r.json());
}

beforeAll(async () => {
  await engines.start();
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});
afterAll(async () => {
  await engines.close();
  if (redisUp) {
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  }
  rmSync(folder, { recursive: true, force: true });
});

describe.skipIf(!redisUp)("search replicas sharing Redis", () => {
  it("never lets two replicas together call an engine more often than its rate limit", async () => {
    const search = {
      providers: [
        { id: "engine", type: "searxng" as const, url: `${engines.url}/engine`, rateLimit: { perSecond: 2 } },
      ],
      cache: { enabled: false },
      redis: { url: REDIS_URL, keyPrefix: `${prefix}limit:` },
    };
    const [a, b] = [await replica(search), await replica(search)];
    const before = engines.requests.length;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b)({ query: `q${i}` }).catch(() => undefined)),
    );
    expect(engines.requests.length - before).toBe(2);
    const statuses = answers.map((answer) =>
      answer?.providers ? answer.providers[0].status : answer?.error?.code,
    );
    expect(statuses.filter((status) => status === "ok")).toHaveLength(2);
  });

  it("shares an engine's Retry-After: the other replica skips it without calling", async () => {
    const search = {
      providers: [{ id: "limited", type: "searxng" as const, url: `${engines.url}/limited` }],
      cache: { enabled: false },
      redis: { url: REDIS_URL, keyPrefix: `${prefix}cooldown:` },
    };
    const [a, b] = [await replica(search), await replica(search)];
    await a({ query: "first" });
    expect(limitedCalls).toBe(1);
    const answer = await b({ query: "second" });
    expect(answer.error.code).toBe("SEARCH_RATE_LIMITED");
    expect(answer.error.details.providers[0]).toMatchObject({
      status: "rate-limited",
      error: expect.stringMatching(/wait (29|30) s/),
    });
    expect(limitedCalls).toBe(1);
  });

  it("shares the result cache between replicas", async () => {
    const search = {
      providers: [{ id: "engine", type: "searxng" as const, url: `${engines.url}/engine` }],
      redis: { url: REDIS_URL, keyPrefix: `${prefix}cache:` },
    };
    const [a, b] = [await replica(search), await replica(search)];
    await a({ query: "shared cache" });
    const asked = engines.requests.length;
    const answer = await b({ query: "Shared  Cache" });
    expect(answer.cached).toBe(true);
    expect(answer.results[0].url).toBe("https://example.com/a");
    expect(engines.requests.length).toBe(asked);
  });
});

describe("search with an unreachable Redis", () => {
  it("starts and searches with in-process limits and cache", async () => {
    const search = await replica({
      providers: [{ id: "engine", type: "searxng" as const, url: `${engines.url}/engine` }],
      redis: { url: "redis://127.0.0.1:1/0" },
    });
    const answer = await search({ query: "still works" });
    expect(answer.providers[0].status).toBe("ok");
    expect((await search({ query: "still works" })).cached).toBe(true);
  });
});
