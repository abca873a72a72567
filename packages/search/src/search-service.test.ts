import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { SearchClient, SearchClientError } from "@hearth/contracts";
import { type ConfigInput, createLogger, type HearthConfig, loadConfig } from "@hearth/core";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  closedPort,
  hasOpenssl,
  selfSignedHttpsServer,
  UNRESOLVABLE_HOST,
} from "../../../test/support/unreachable-endpoints.js";
import { ENGINE_FIXTURES } from "../test/engine-fixtures.js";
import { ReplayServer, sendJson } from "../test/replay-server.js";
import { createSearchService, serveSearch } from "./index.js";

const folder = mkdtempSync(join(tmpdir(), "hearth-search-"));
const fixture = (type: string) => ENGINE_FIXTURES.find((candidate) => candidate.type === type)!;
let embeddingCalls = 0;
/** Whether the `/revocable/` engine refuses its key now (an operator's key revoked or expired). */
let keyRevoked = false;
/** Whether the `/recovering/` engine (Bing's format) fails now. */
let recoveringDown = false;

const ARTICLE = `<html><body><nav>menu</nav><article><h1>Release</h1><p>${"Node.js 20 ships a stable test runner and the permission model. ".repeat(6)}</p></article></body></html>`;

const engines: ReplayServer = new ReplayServer((request, response) => {
  const path = new URL(request.url, "http://x").pathname;
  if (path.startsWith("/searxng/")) return sendJson(response, 200, fixture("searxng").ok);
  if (path.startsWith("/v7.0/")) return sendJson(response, 200, fixture("bing").ok);
  if (path.startsWith("/res/v1/")) return sendJson(response, 200, fixture("brave").ok);
  if (path.startsWith("/deep/")) {
    // A Bing-format engine with as many distinct results as it is asked for.
    const count = Number(new URL(request.url, "http://x").searchParams.get("count"));
    const value = Array.from({ length: count }, (_, index) => {
      const text = createHash("sha256").update(String(index)).digest("hex");
      return { url: `https://deep${index}.example.com/`, name: text, snippet: text };
    });
    return sendJson(response, 200, { webPages: { value } });
  }
  if (path.startsWith("/down/")) return sendJson(response, 500, { error: "down" });
  if (path.startsWith("/recovering/"))
    return recoveringDown
      ? sendJson(response, 503, { error: "busy" })
      : sendJson(response, 200, fixture("bing").ok);
  // A SearXNG whose own engines did not answer: none of them (CAPTCHA, timeout), or one of them.
  if (path.startsWith("/searxng-blocked/"))
    return sendJson(response, 200, {
      ...(fixture("searxng").ok as object),
      results: [],
      unresponsive_engines: [
        ["bing", "timeout"],
        ["google", "CAPTCHA"],
      ],
    });
  if (path.startsWith("/searxng-partial/"))
    return sendJson(response, 200, {
      ...(fixture("searxng").ok as object),
      unresponsive_engines: [["google", "CAPTCHA"]],
    });
  if (path.startsWith("/revocable/"))
    return keyRevoked
      ? sendJson(response, 401, { error: "invalid API key" })
      : sendJson(response, 200, fixture("searxng").ok);
  if (path.startsWith("/hang/")) return; // never answers
  if (path.startsWith("/limited/"))
    return sendJson(response, 429, "Too Many Requests", { "retry-after": "60" });
  // Engines that echo the request line, or the key after a long text, in their 401 message.
  if (path.startsWith("/echo/"))
    return sendJson(response, 401, { error: { message: `invalid credentials in GET ${request.url}` } });
  if (path.startsWith("/echo-headers/"))
    return sendJson(response, 403, {
      message: `refused ${request.headers.authorization} for ${request.url}`,
    });
  if (path.startsWith("/echo-late/")) {
    const key = new URL(request.url, "http://x").searchParams.get("k");
    return sendJson(response, 401, { message: `${"The credentials were refused. ".repeat(6)}Key: ${key}` });
  }
  if (path.startsWith("/malformed/")) return sendJson(response, 200, '{"results": [{"url": ');
  if (path.startsWith("/huge/")) {
    response.writeHead(200, { "content-type": "application/json" });
    response.write('{"results":[');
    const chunk = `{"url":"https://huge.example.com/${"x".repeat(1000)}","title":"t","content":"c"},`;
    for (let i = 0; i < 10_000 && !response.destroyed; i++) response.write(chunk);
    return response.end("{}]}");
  }
  if (path.startsWith("/evil/")) {
    return sendJson(response, 200, {
      results: [
        { url: "javascript:alert(document.cookie)", title: "Click here", content: "x" },
        {
          url: `http://pages.test:${new URL(engines.url).port}/article`,
          title: "Node release notes",
          content: "notes",
        },
        { url: "http://169.254.169.254/latest/meta-data/", title: "Metadata", content: "instance data" },
        { url: "https://casino.example.com/", title: "最新六合彩开奖结果", content: "在线博彩" },
        { url: "https://rude.example.com/", title: "You idiot guide", content: "a guide" },
      ],
    });
  }
  if (path.startsWith("/pages/")) {
    const page = (name: string) => `http://pages.test:${new URL(engines.url).port}${name}`;
    return sendJson(response, 200, {
      results: [
        { url: page("/long"), title: "A long page", content: "long" },
        { url: page("/untyped"), title: "A page without a type", content: "untyped" },
        { url: page("/gone?token=s3cr3t-in-query"), title: "A page gone", content: "the engine's snippet" },
        { url: "http://169.254.169.254/latest/meta-data/", title: "Metadata", content: "instance data" },
      ],
    });
  }
  if (path === "/article") {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    return response.end(ARTICLE);
  }
  if (path === "/long") {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    return response.end(`${ARTICLE}<!--${"x".repeat(100_000)}-->`);
  }
  if (path === "/untyped") {
    response.writeHead(200);
    return response.end(ARTICLE);
  }
  if (path === "/v1/embeddings") {
    embeddingCalls += 1;
    const { input } = JSON.parse(request.body) as { input: string[] };
    // The query points one way; texts mentioning "zh" or "发布" point the same way.
    const data = input.map((text, index) => ({
      object: "embedding",
      index,
      embedding: index === 0 || /发布/.test(text) ? [1, 0] : [0, 1],
    }));
    return sendJson(response, 200, {
      object: "list",
      data,
      model: "embed",
      usage: { prompt_tokens: 1, total_tokens: 1 },
    });
  }
  sendJson(response, 404, { error: "no route" });
});

const logLines: string[] = [];
const logger = createLogger({
  level: "debug",
  destination: new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  }),
});

function configWith(search: ConfigInput["search"], extra: ConfigInput = {}): HearthConfig {
  return loadConfig({ env: {}, cwd: folder, overrides: { dataDir: folder, search, ...extra } });
}

const providers = () => [
  { id: "searxng", type: "searxng" as const, url: `${engines.url}/searxng`, rateLimit: { perSecond: 50 } },
  {
    id: "bing",
    type: "bing" as const,
    apiKey: "bing-secret-key-123",
    url: `${engines.url}/v7.0/search`,
    rateLimit: { perSecond: 50 },
  },
  {
    id: "brave",
    type: "brave" as const,
    apiKey: "brave-secret-key-456",
    url: `${engines.url}/res/v1/web/search`,
    rateLimit: { perSecond: 50 },
  },
];

const closers: Array<() => Promise<void>> = [];
async function service(config: HearthConfig) {
  const built = await createSearchService(config, logger, {
    resolver: async (hostname) => (hostname === "pages.test" ? [{ address: "127.0.0.1", family: 4 }] : []),
  });
  closers.push(built.close);
  return built.app;
}
const search = (app: Awaited<ReturnType<typeof service>>, body: unknown) =>
  app.inject({
    method: "POST",
    url: "/v1/search",
    payload: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });

beforeAll(async () => {
  await engines.start();
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});
afterAll(async () => {
  await engines.close();
  rmSync(folder, { recursive: true, force: true });
});

describe("search service configuration", () => {
  it("starts ready with no provider, and /v1/search says how to configure one", async () => {
    const app = await service(configWith({}));
    expect((await app.inject({ url: "/readyz" })).statusCode).toBe(200);
    const response = await search(app, { query: "node 20" });
    expect(response.statusCode).toBe(503);
    expect(response.json().error.code).toBe("SEARCH_NO_PROVIDERS");
    expect(response.json().error.message).toContain("search.providers");
  });

  it("logs a missing provider once, as a warning without a stack, and lists the providers it has", async () => {
    const app = await service(configWith({}));
    const from = logLines.length;
    for (let i = 0; i < 3; i++) expect((await search(app, { query: `q${i}` })).statusCode).toBe(503);
    const said = logLines
      .slice(from)
      .map((line) => JSON.parse(line) as { level: number; msg: string; code?: string; err?: unknown })
      .filter((line) => line.code === "SEARCH_NO_PROVIDERS");
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ level: 40 });
    expect(said[0]!.err).toBeUndefined();
    expect((await app.inject({ url: "/v1/providers" })).json()).toEqual({ providers: [] });
    const configured = await service(configWith({ providers: providers() }));
    const listed = (await configured.inject({ url: "/v1/providers" })).json() as { providers: unknown[] };
    expect(listed.providers).toContainEqual(
      expect.objectContaining({ id: "bing", type: "bing", enabled: true }),
    );
    expect(JSON.stringify(listed)).not.toContain("secret");
  });

  it("accepts the issue's hearth.yaml example and names a provider's missing key at start-up", () => {
    const cwd = mkdtempSync(join(folder, "yaml-"));
    writeFileSync(
      join(cwd, "hearth.yaml"),
      "search:\n  providers:\n    - { id: searxng, type: searxng, url: http://127.0.0.1:8888, timeoutMs: 3000, rateLimit: { perSecond: 2 } }\n",
    );
    const config = loadConfig({ env: {}, cwd });
    expect(config.search.providers[0]).toMatchObject({
      id: "searxng",
      type: "searxng",
      timeoutMs: 3000,
      rateLimit: { perSecond: 2 },
      weight: 1,
    });
    writeFileSync(join(cwd, "hearth.yaml"), "search:\n  providers:\n    - { id: brave, type: brave }\n");
    expect(() => loadConfig({ env: {}, cwd })).toThrow(/CONFIG_INVALID|search\.providers\.0\.apiKey/);
    try {
      loadConfig({ env: {}, cwd });
    } catch (error) {
      expect((error as { code: string }).code).toBe("CONFIG_INVALID");
      expect((error as Error).message).toContain("search.providers.0.apiKey");
    }
    writeFileSync(
      join(cwd, "hearth.yaml"),
      "search:\n  providers:\n    - { id: g, type: google, apiKey: k }\n",
    );
    expect(() => loadConfig({ env: {}, cwd })).toThrow(/search\.providers\.0\.cx/);
  });

  it("refuses to start when a word list file is missing", async () => {
    await expect(
      createSearchService(
        configWith({ filter: { lists: [{ id: "x", action: "block", file: join(folder, "none.txt") }] } }),
        logger,
      ),
    ).rejects.toMatchObject({
      code: "SEARCH_WORD_LIST_UNREADABLE",
    });
  });

  it("refuses to start when a word list file is not UTF-8 (saved as GBK), saying to save it as UTF-8", async () => {
    const file = join(folder, "gbk-words.txt");
    writeFileSync(file, Buffer.from("d0b9c3dc0a", "hex")); // 泄密 in GBK, as Notepad's "ANSI" saves it
    await expect(
      createSearchService(
        configWith({ filter: { lists: [{ id: "illegal", action: "block", file }] } }),
        logger,
      ),
    ).rejects.toMatchObject({
      code: "SEARCH_WORD_LIST_UNREADABLE",
      message: expect.stringMatching(/"illegal" \(.*gbk-words\.txt\): not UTF-8 text.*save it as UTF-8/),
    });
  });
});

describe("POST /v1/search", () => {
  it("merges the engines' answers: one result per page listing every engine that found it, with each provider's outcome", async () => {
    const app = await service(configWith({ providers: providers(), cache: { enabled: false } }));
    const response = await search(app, { query: "node 20", limit: 5 });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.results).toHaveLength(3);
    expect(body.results[0]).toMatchObject({
      url: "https://nodejs.org/en/blog/release/v20.0.0",
      title: "Node.js 20 is now available!",
      sources: ["searxng", "bing", "brave"],
      publishedAt: "2023-04-18T00:00:00.000Z",
    });
    expect(body.results[1].url).toBe("https://www.example.com/news/node-20?utm_source=feed");
    expect(body.providers.map((p: { id: string; status: string }) => `${p.id}:${p.status}`)).toEqual([
      "searxng:ok",
      "bing:ok",
      "brave:ok",
    ]);
    expect(JSON.stringify(logLines)).not.toContain("secret-key");
  });

  it("answers a repeated query from the cache without asking the engines again", async () => {
    const app = await service(configWith({ providers: providers() }));
    await search(app, { query: "Node 20" });
    const asked = engines.requests.length;
    const again = (await search(app, { query: "  node   20 " })).json();
    expect(engines.requests.length).toBe(asked);
    expect(again.cached).toBe(true);
    expect(again.providers.map((p: { id: string; status: string }) => `${p.id}:${p.status}`)).toEqual([
      "searxng:ok",
      "bing:ok",
      "brave:ok",
    ]);
    expect(again.results[0].sources).toEqual(["searxng", "bing", "brave"]);
    const metrics = (await app.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(/hearth_search_cache_requests_total\{result="hit"[^}]*\} 1/);
    expect(metrics).toMatch(/hearth_search_queries_total\{outcome="ok"[^}]*\} 1/);
    expect(metrics).toMatch(/hearth_search_provider_requests_total\{provider="bing",status="ok"[^}]*\} 1/);
    expect(metrics).toMatch(/hearth_search_provider_success_ratio\{provider="brave"[^}]*\} 1/);
    expect(metrics).toMatch(/hearth_search_provider_breaker_state\{provider="searxng"[^}]*\} 0/);
    expect(metrics).toMatch(/hearth_search_provider_latency_seconds_bucket/);
  });

  it("keeps an answer an engine failed in only briefly, so its results are back soon after it recovers; a cached answer says how each engine answered", async () => {
    const recovering = {
      id: "recovering",
      type: "bing" as const,
      apiKey: "recovering-key-0123",
      url: `${engines.url}/recovering/v7.0/search`,
      retries: 0,
    };
    const statuses = (body: { providers: Array<{ id: string; status: string }> }) =>
      body.providers.map((p) => `${p.id}:${p.status}`);
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const app = await service(configWith({ providers: [providers()[1]!, recovering] }));
      recoveringDown = true;
      const failedIn = (await search(app, { query: "node 20" })).json();
      expect(statuses(failedIn)).toEqual(["bing:ok", "recovering:error"]);
      expect(failedIn.results[0].sources).toEqual(["bing"]);
      recoveringDown = false;
      const asked = engines.requests.length;
      const replayed = (await search(app, { query: "node 20" })).json();
      expect(engines.requests.length).toBe(asked);
      expect(replayed.cached).toBe(true);
      expect(statuses(replayed)).toEqual(["bing:ok", "recovering:error"]);
      expect(replayed.providers[1].error).toContain("HTTP 503");
      // Half a minute on, the engine is asked again and its results are back.
      vi.setSystemTime(Date.now() + 31_000);
      const recovered = (await search(app, { query: "node 20" })).json();
      expect(recovered.cached).toBeUndefined();
      expect(statuses(recovered)).toEqual(["bing:ok", "recovering:ok"]);
      expect(recovered.results[0].sources).toEqual(["bing", "recovering"]);
      // An answer every engine gave in full is kept for search.cache.ttlSeconds (600).
      vi.setSystemTime(Date.now() + 300_000);
      const kept = (await search(app, { query: "node 20" })).json();
      expect(kept.cached).toBe(true);
      expect(statuses(kept)).toEqual(["bing:ok", "recovering:ok"]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("answers a larger limit afresh when the cached answer was fetched for a smaller one, and a smaller limit from the cache", async () => {
    const deep = {
      id: "deep",
      type: "bing" as const,
      apiKey: "deep-key-0123",
      url: `${engines.url}/deep/v7.0/search`,
      rateLimit: { perSecond: 50 },
    };
    const app = await service(configWith({ providers: [deep] }));
    expect((await search(app, { query: "deep query", limit: 5 })).json().results).toHaveLength(5);
    const asked = engines.requests.length;
    const larger = (await search(app, { query: "deep query", limit: 50 })).json();
    expect(larger.cached).toBeUndefined();
    expect(larger.results).toHaveLength(50);
    expect(engines.requests.length).toBe(asked + 1);
    const smaller = (await search(app, { query: "deep query", limit: 30 })).json();
    expect(smaller.cached).toBe(true);
    expect(smaller.results).toHaveLength(30);
    expect(engines.requests.length).toBe(asked + 1);
  });

  it("asks the engines again for a query it has cached when the request says cache: false, still skipping one cooling down", async () => {
    const revocable = {
      id: "revocable",
      type: "searxng" as const,
      url: `${engines.url}/revocable`,
      retries: 0,
    };
    const limited = { id: "limited", type: "searxng" as const, url: `${engines.url}/limited`, retries: 0 };
    const app = await service(configWith({ providers: [providers()[0]!, revocable, limited] }));
    const statuses = (body: { providers: Array<{ id: string; status: string }> }) =>
      body.providers.map((p) => `${p.id}:${p.status}`);
    keyRevoked = false;
    const first = (await search(app, { query: "node 20" })).json();
    expect(statuses(first)).toEqual(["searxng:ok", "revocable:ok", "limited:rate-limited"]);
    keyRevoked = true;
    const limitedCalls = () =>
      engines.requests.filter((request) => request.url.startsWith("/limited/")).length;
    const limitedBefore = limitedCalls();
    const fresh = (await search(app, { query: "node 20", cache: false })).json();
    expect(fresh.cached).toBeUndefined();
    expect(fresh.providers).toEqual([
      expect.objectContaining({ id: "searxng", status: "ok" }),
      expect.objectContaining({ id: "revocable", status: "error", error: expect.stringContaining("401") }),
      // Its engine asked for 60 s of quiet: the cool-down holds, cache or not.
      expect.objectContaining({
        id: "limited",
        status: "rate-limited",
        error: expect.stringContaining("wait"),
      }),
    ]);
    expect(limitedCalls()).toBe(limitedBefore);
  });

  it("answers with whatever arrived when one engine fails, and a clear error when all fail", async () => {
    const down = { id: "down", type: "searxng" as const, url: `${engines.url}/down`, retries: 0 };
    const app = await service(configWith({ providers: [...providers(), down], cache: { enabled: false } }));
    const partial = (await search(app, { query: "node 20" })).json();
    expect(partial.results.length).toBe(3);
    expect(partial.providers.find((p: { id: string }) => p.id === "down")).toMatchObject({
      status: "error",
      error: expect.stringContaining("HTTP 500"),
    });
    const failed = await search(app, { query: "node 20", providers: ["down"] });
    expect(failed.statusCode).toBe(502);
    expect(failed.json().error).toMatchObject({
      code: "SEARCH_ALL_PROVIDERS_FAILED",
      details: { providers: [{ id: "down", status: "error" }] },
    });
    const metrics = (await app.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(/hearth_search_provider_success_ratio\{provider="down"[^}]*\} 0/);
    expect(metrics).toMatch(/hearth_search_queries_total\{outcome="error"[^}]*\} 1/);
  });

  it("reports a SearXNG none of whose engines answered as failed, naming them, and one some of whose engines answered with a warning", async () => {
    const searxng = (id: string) => ({
      id,
      type: "searxng" as const,
      url: `${engines.url}/${id}`,
      retries: 0,
    });
    const app = await service(
      configWith({
        providers: [providers()[1]!, searxng("searxng-blocked"), searxng("searxng-partial")],
        cache: { enabled: false },
      }),
    );
    const body = (await search(app, { query: "node 20" })).json();
    expect(body.providers).toEqual([
      expect.objectContaining({ id: "bing", status: "ok" }),
      expect.objectContaining({
        id: "searxng-blocked",
        status: "error",
        error: "SearXNG's engines did not answer: bing (timeout), google (CAPTCHA)",
      }),
      expect.objectContaining({
        id: "searxng-partial",
        status: "ok",
        results: 3,
        warning: "SearXNG's engines did not answer: google (CAPTCHA)",
      }),
    ]);
    expect(body.results[0].sources).toEqual(["bing", "searxng-partial"]);
  });

  it("logs why an engine failed while others answered: once per failure, not per retry, a 429's cool-down once, keys redacted", async () => {
    const down = { id: "down", type: "searxng" as const, url: `${engines.url}/down`, retries: 1 };
    const limited = { id: "limited", type: "searxng" as const, url: `${engines.url}/limited`, retries: 0 };
    const echo = {
      id: "echo",
      type: "custom" as const,
      url: `${engines.url}/echo/search?q={query}&k={apiKey}`,
      apiKey: "echo-SECRET-4242",
      retries: 0,
      response: { results: "r", title: "t", url: "u" },
    };
    const partial = { id: "partial", type: "searxng" as const, url: `${engines.url}/searxng-partial` };
    const app = await service(
      configWith({
        providers: [providers()[1]!, down, limited, echo, partial],
        cache: { enabled: false },
      }),
    );
    const from = logLines.length;
    const downCalls = () => engines.requests.filter((request) => request.url.startsWith("/down/")).length;
    const downBefore = downCalls();
    for (let i = 0; i < 2; i++) expect((await search(app, { query: "node 20" })).statusCode).toBe(200);
    expect(downCalls() - downBefore).toBe(4); // a call and its retry, twice
    const warned = logLines
      .slice(from)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.level === 40);
    const about = (provider: string) => warned.filter((line) => line.provider === provider);
    expect(about("down")).toEqual([
      expect.objectContaining({
        status: "error",
        error: expect.stringContaining("HTTP 500"),
        msg: "search engine failed",
      }),
      expect.objectContaining({ status: "error", error: expect.stringContaining("HTTP 500") }),
    ]);
    // The second query skipped the engine while it cools down: its 429 is logged once, with the wait.
    expect(about("limited")).toEqual([
      expect.objectContaining({ status: "rate-limited", coolDownSeconds: 60 }),
    ]);
    expect(about("echo")).toEqual([
      expect.objectContaining({ status: "error", error: expect.stringContaining("[redacted]") }),
      expect.objectContaining({ status: "error" }),
    ]);
    expect(JSON.stringify(warned)).not.toContain("SECRET");
    // SearXNG's engines that did not answer, the same on both queries: said once.
    expect(about("partial")).toEqual([
      expect.objectContaining({ warning: "SearXNG's engines did not answer: google (CAPTCHA)" }),
    ]);
    expect(about("bing")).toEqual([]);
  });

  it("says why an engine could not be reached: a refused connection, a name that does not resolve", async () => {
    const refusedUrl = `http://127.0.0.1:${await closedPort()}`;
    const unreachable = [
      { id: "refused", type: "searxng" as const, url: refusedUrl, retries: 0 },
      { id: "unresolved", type: "searxng" as const, url: `http://${UNRESOLVABLE_HOST}`, retries: 0 },
    ];
    const app = await service(configWith({ providers: unreachable, cache: { enabled: false } }));
    const failed = await search(app, { query: "node" });
    expect(failed.statusCode).toBe(502);
    expect(failed.json().error).toMatchObject({
      code: "SEARCH_ALL_PROVIDERS_FAILED",
      details: {
        providers: [
          {
            id: "refused",
            status: "error",
            error: `cannot reach ${refusedUrl}/search: connection refused (ECONNREFUSED)`,
          },
          {
            id: "unresolved",
            status: "error",
            // A sandbox without DNS says it cannot ask rather than that the name is unknown.
            error: expect.stringMatching(
              /^cannot reach http:\/\/hearth-test\.invalid\/search: (hearth-test\.invalid does not resolve \(ENOTFOUND\)|DNS did not answer \(EAI_AGAIN\))$/,
            ),
          },
        ],
      },
    });
  });

  it.skipIf(!hasOpenssl())("says that an engine's TLS certificate was refused", async () => {
    const untrusted = await selfSignedHttpsServer();
    try {
      const engine = { id: "untrusted", type: "searxng" as const, url: untrusted.url, retries: 0 };
      const app = await service(configWith({ providers: [engine], cache: { enabled: false } }));
      const failed = await search(app, { query: "node" });
      expect(failed.json().error.details.providers).toEqual([
        expect.objectContaining({
          error: `cannot reach ${untrusted.url}/search: the TLS certificate was refused: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)`,
        }),
      ]);
    } finally {
      await untrusted.close();
    }
  });

  it("answers 429 with Retry-After when every chosen engine is rate-limited or cooling down", async () => {
    const limited = { id: "limited", type: "searxng" as const, url: `${engines.url}/limited`, retries: 0 };
    const slow = { ...providers()[0]!, id: "slow", rateLimit: { perSecond: 0.5, burst: 1 } };
    const app = await service(configWith({ providers: [limited, slow], cache: { enabled: false } }));
    expect((await search(app, { query: "node 20", providers: ["slow"] })).statusCode).toBe(200);
    const skipped = await search(app, { query: "node 20", providers: ["slow"] });
    expect(skipped.statusCode).toBe(429);
    expect(skipped.headers["retry-after"]).toBe("2");
    expect(skipped.json().error).toMatchObject({
      code: "SEARCH_RATE_LIMITED",
      details: { providers: [{ id: "slow", status: "rate-limited" }] },
    });
    // The engine's own 429 (Retry-After: 60), then its cool-down beside the empty bucket: the sooner counts.
    const refused = await search(app, { query: "node 20", providers: ["limited"] });
    expect([refused.statusCode, refused.headers["retry-after"]]).toEqual([429, "60"]);
    const both = await search(app, { query: "node 20", providers: ["limited", "slow"] });
    expect([both.statusCode, both.headers["retry-after"]]).toEqual([429, "2"]);
  });

  it("lists each engine's standing state: breaker open after repeated failures, a cool-down, its last call", async () => {
    const down = { id: "down", type: "searxng" as const, url: `${engines.url}/down`, retries: 0 };
    const limited = { id: "limited", type: "searxng" as const, url: `${engines.url}/limited`, retries: 0 };
    const app = await service(
      configWith({
        providers: [providers()[0]!, down, limited],
        cache: { enabled: false },
        breakerFailureThreshold: 2,
        breakerCooldownMs: 60_000,
      }),
    );
    const listed = async () =>
      Object.fromEntries(
        (
          (await app.inject({ url: "/v1/providers" })).json().providers as Array<{
            id: string;
            state: unknown;
          }>
        ).map((provider) => [provider.id, provider.state]),
      );
    // Never asked yet: closed, no cool-down, no last call.
    expect((await listed()).down).toEqual({
      breaker: "closed",
      consecutiveFailures: 0,
      breakerRetryAt: null,
      coolDownUntil: null,
      lastCall: null,
    });
    const before = Date.now();
    await search(app, { query: "node 20" });
    await search(app, { query: "node 20" });
    const state = await listed();
    expect(state.searxng).toMatchObject({ breaker: "closed", lastCall: { status: "ok" } });
    expect(state.down).toMatchObject({
      breaker: "open",
      consecutiveFailures: 2,
      lastCall: { status: "error", error: expect.stringContaining("500") },
    });
    const retryAt = Date.parse((state.down as { breakerRetryAt: string }).breakerRetryAt);
    expect(retryAt).toBeGreaterThanOrEqual(before + 60_000);
    const coolDown = Date.parse((state.limited as { coolDownUntil: string }).coolDownUntil);
    expect(coolDown).toBeGreaterThanOrEqual(before + 59_000);
    expect(state.limited).toMatchObject({ lastCall: { status: "rate-limited" } });
  });

  it("never shows an API key an engine echoes, URL-encoded or cut short, in the error answer or the log", async () => {
    const custom = (id: string, path: string) => ({
      id,
      type: "custom" as const,
      url: `${engines.url}/${path}/search?q={query}&k={apiKey}`,
      apiKey: "cu/st+om=SECRET8888",
      retries: 0,
      response: { results: "r", title: "t", url: "u" },
    });
    const google = {
      id: "google",
      type: "google" as const,
      apiKey: "go ogle!SECRET7777",
      cx: "cx1",
      url: `${engines.url}/echo/customsearch/v1`,
      retries: 0,
    };
    // Secrets written straight into a provider's URL and headers instead of {apiKey}.
    const written = {
      id: "written",
      type: "custom" as const,
      url: `${engines.url}/echo-headers/search?q={query}&format=json&token=URL%2BTOKEN4444`,
      headers: { Authorization: "Bearer HDRTOKEN5555" },
      retries: 0,
      response: { results: "r", title: "t", url: "u" },
    };
    const app = await service(
      configWith({
        providers: [custom("echo", "echo"), custom("late", "echo-late"), google, written],
        cache: { enabled: false },
      }),
    );
    const logged = logLines.length;
    const failed = await search(app, { query: "node 20" });
    expect(failed.statusCode).toBe(502);
    const outcomes = failed.json().error.details.providers as Array<{ id: string; error: string }>;
    expect(outcomes.map((outcome) => outcome.id)).toEqual(["echo", "late", "google", "written"]);
    for (const outcome of outcomes) expect(outcome.error).toContain("[redacted]");
    const shown = failed.body + logLines.slice(logged).join("");
    expect(shown).toContain("SEARCH_ALL_PROVIDERS_FAILED");
    // Raw, encodeURIComponent, form-encoded, and any piece a cut could leave.
    for (const piece of [
      "SECRET",
      "cu/st",
      "cu%2Fst",
      "go+ogle",
      "go%20ogle",
      "go ogle",
      "TOKEN4444",
      "HDRTOKEN5555",
    ])
      expect(shown).not.toContain(piece);
    // A short setting in the URL is no secret: the rest of the message stays readable.
    expect(outcomes.find((outcome) => outcome.id === "written")?.error).toContain("format=json");
  });

  it("answers from the others within the deadline when one engine hangs, one answers 429, one malformed JSON and one 10 MB", async () => {
    const faulty = ["hang", "limited", "malformed", "huge"].map((id) => ({
      id,
      type: "searxng" as const,
      url: `${engines.url}/${id}`,
      retries: 0,
    }));
    // A deadline long enough for the 10 MB answer to be read and refused on a loaded machine; the
    // hanging engine still runs into it (its status says so), and the answer comes from the others.
    const app = await service(
      configWith({ providers: [providers()[0]!, ...faulty], deadlineMs: 4000, cache: { enabled: false } }),
    );
    const response = await search(app, { query: "node 20" });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.results.map((r: { url: string }) => r.url)).toContain(
      "https://nodejs.org/en/blog/release/v20.0.0",
    );
    const statuses = Object.fromEntries(
      body.providers.map((p: { id: string; status: string }) => [p.id, p.status]),
    );
    expect(statuses).toEqual({
      searxng: "ok",
      hang: "timeout",
      limited: "rate-limited",
      malformed: "error",
      huge: "error",
    });
  });

  it("answers no page of another site: neither through DNS rebinding (Host) nor a cross-site request (Origin)", async () => {
    const app = await service(configWith({ providers: providers(), cache: { enabled: false } }));
    const rebound = await app.inject({ url: "/v1/providers", headers: { host: "evil.example:8082" } });
    expect(rebound.statusCode).toBe(403);
    expect(rebound.json().error.code).toBe("HOST_NOT_ALLOWED");
    const crossSite = await app.inject({
      method: "POST",
      url: "/v1/search",
      headers: { "content-type": "application/json", origin: "https://evil.example" },
      payload: JSON.stringify({ query: "hearth" }),
    });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.json().error.code).toBe("ORIGIN_NOT_ALLOWED");
    expect((await search(app, { query: "hearth" })).statusCode).toBe(200);
  });

  it("rejects bad input with stable codes and never crashes", async () => {
    const app = await service(configWith({ providers: providers(), cache: { enabled: false } }));
    const cases: Array<[unknown, number, string]> = [
      [{ query: "" }, 400, "SEARCH_QUERY_INVALID"],
      [{ query: " \u0000\u0007 \t" }, 400, "SEARCH_QUERY_INVALID"],
      [{ query: "x".repeat(100_000) }, 400, "SEARCH_QUERY_INVALID"],
      [{ query: "node", providers: ["nope"] }, 400, "SEARCH_PROVIDER_UNKNOWN"],
      [{ query: "node", limit: 0 }, 400, "INVALID_REQUEST"],
      [{ query: 42 }, 400, "INVALID_REQUEST"],
      [{}, 400, "INVALID_REQUEST"],
      ['{"query": "node"', 400, "INVALID_JSON"],
    ];
    for (const [body, status, code] of cases) {
      const response = await search(app, body);
      expect(response.statusCode, JSON.stringify(body).slice(0, 40)).toBe(status);
      expect(response.json().error.code).toBe(code);
    }
    const plain = await app.inject({
      method: "POST",
      url: "/v1/search",
      payload: JSON.stringify({ query: "node" }),
      headers: { "content-type": "text/plain" },
    });
    expect(plain.statusCode).toBe(415);
    expect(plain.json().error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    const before = engines.requests.length;
    const controlled = await search(app, { query: "node\u0000 20\u001b[31m", providers: ["searxng"] });
    expect(controlled.statusCode).toBe(200);
    const sent = new URL(engines.requests.slice(before)[0]!.url, "http://x").searchParams.get("q");
    expect(sent).toBe("node 20 [31m");
  });

  it("counts the query's length in characters, as documented, not in UTF-16 code units", async () => {
    const app = await service(configWith({ providers: providers(), cache: { enabled: false } }));
    for (const character of ["😀", "𠀀"]) {
      expect((await search(app, { query: character.repeat(600) })).statusCode).toBe(200);
      const long = await search(app, { query: character.repeat(1001) });
      expect(long.statusCode).toBe(400);
      expect(long.json().error).toMatchObject({
        code: "SEARCH_QUERY_INVALID",
        message: expect.stringContaining("The query is 1001 characters long; at most 1000 are accepted"),
      });
    }
  });

  it("drops javascript: URLs, filters results by word list and fetches content only from safe addresses", async () => {
    const lists = join(folder, "lists");
    rmSync(lists, { recursive: true, force: true });
    const { mkdirSync } = await import("node:fs");
    mkdirSync(lists);
    writeFileSync(join(lists, "block.txt"), "制造炸药\n");
    writeFileSync(join(lists, "drop.txt"), "六合彩\n");
    writeFileSync(join(lists, "mask.txt"), "idiot\n");
    const config = configWith({
      providers: [{ id: "evil", type: "searxng", url: `${engines.url}/evil` }],
      cache: { enabled: false },
      fetch: { allowPrivateRanges: ["127.0.0.1/32"], maxPages: 5 },
      filter: {
        lists: [
          { id: "weapons", action: "block", file: join(lists, "block.txt") },
          { id: "gambling", action: "drop", file: join(lists, "drop.txt") },
          { id: "abuse", action: "mask", file: join(lists, "mask.txt") },
        ],
      },
    });
    const app = await service(config);
    const blocked = await search(app, { query: "如何 制·造·炸·药" });
    expect(blocked.statusCode).toBe(451);
    expect(blocked.json().error).toMatchObject({
      code: "SEARCH_QUERY_BLOCKED",
      details: { lists: ["weapons"] },
    });

    const body = (await search(app, { query: "node release", fetch: true })).json();
    const urls = body.results.map((result: { url: string }) => result.url);
    expect(urls.some((url: string) => url.startsWith("javascript:"))).toBe(false);
    expect(urls).not.toContain("https://casino.example.com/");
    expect(body.results.find((r: { url: string }) => r.url.startsWith("https://rude")).title).toBe(
      "You ***** guide",
    );
    const page = body.results.find((r: { url: string }) => r.url.includes("pages.test"));
    expect(page.content).toContain("stable test runner");
    expect(page.content).not.toContain("menu");
    const metadata = body.results.find((r: { url: string }) => r.url.includes("169.254.169.254"));
    expect(metadata.content).toBeUndefined();

    const metrics = (await app.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(/hearth_search_filter_hits_total\{list="weapons",action="block"[^}]*\} 1/);
    expect(metrics).toMatch(/hearth_search_filter_hits_total\{list="gambling",action="drop"[^}]*\} 1/);
    expect(metrics).toMatch(/hearth_search_page_fetches_total\{outcome="blocked"[^}]*\} 1/);
    const logged = logLines.join("");
    expect(logged).not.toContain("炸");
    expect(logged).not.toContain("node release");
  });

  it("does not fetch a result page at one of Hearth's own services, though its range is allowed", async () => {
    // The result page lies where the configuration says the model service is.
    const config = configWith(
      {
        providers: [{ id: "evil", type: "searxng", url: `${engines.url}/evil` }],
        cache: { enabled: false },
        fetch: { allowPrivateRanges: ["127.0.0.1/32"], maxPages: 5 },
      },
      { services: { modelUrl: `http://pages.test:${new URL(engines.url).port}` } },
    );
    const app = await service(config);
    const body = (await search(app, { query: "node release", fetch: true })).json();
    const page = body.results.find((r: { url: string }) => r.url.includes("pages.test"));
    expect(page.content).toBeUndefined();
    expect((await app.inject({ url: "/metrics" })).body).toMatch(
      /hearth_search_page_fetches_total\{outcome="blocked"[^}]*\} 2/,
    );
  });

  it("reads the start of a long page and one sent without a type, and says why a page gave no content", async () => {
    const config = configWith({
      providers: [{ id: "pages", type: "searxng", url: `${engines.url}/pages` }],
      cache: { enabled: false },
      fetch: { allowPrivateRanges: ["127.0.0.1/32"], maxPages: 5, maxBytes: 50_000 },
    });
    const app = await service(config);
    const logged = logLines.length;
    const body = (await search(app, { query: "pages", fetch: true })).json();
    const result = (path: string) => body.results.find((r: { url: string }) => r.url.includes(path));
    // Over maxBytes: its first 50,000 bytes are read, and the answer says so.
    expect(result("/long")).toMatchObject({
      content: expect.stringContaining("stable test runner"),
      contentTruncated: true,
    });
    expect(result("/untyped").content).toContain("stable test runner");
    expect(result("/untyped")).not.toHaveProperty("contentTruncated");
    expect(result("/gone")).toMatchObject({
      snippet: "the engine's snippet",
      contentError: { code: "SEARCH_FETCH_FAILED", message: expect.stringContaining("answered HTTP 404") },
    });
    expect(result("/gone")).not.toHaveProperty("content");
    expect(result("169.254.169.254")).toMatchObject({
      contentError: { code: "SEARCH_FETCH_BLOCKED", message: expect.stringContaining("linkLocal") },
    });
    // Logged with the host and the reason, never the URL's query; a refused address as a warning.
    const lines = logLines.slice(logged).map((line) => JSON.parse(line));
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 30,
        msg: "page fetch failed",
        host: `pages.test:${new URL(engines.url).port}`,
        code: "SEARCH_FETCH_FAILED",
        reason: expect.stringContaining("404"),
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: "page fetch refused",
        host: "169.254.169.254",
        code: "SEARCH_FETCH_BLOCKED",
      }),
    );
    expect(logLines.slice(logged).join("")).not.toContain("s3cr3t");
  });

  it("re-ranks with the model service's embeddings when configured", async () => {
    const config = configWith(
      { providers: providers().slice(0, 1), cache: { enabled: false }, ranking: { embeddingModel: "embed" } },
      { services: { modelUrl: engines.url } },
    );
    const app = await service(config);
    const body = (await search(app, { query: "node 20" })).json();
    expect(embeddingCalls).toBe(1);
    expect(body.results[0].title).toBe("Node.js 20 发布");
  });
});

describe("SearchClient", () => {
  it("searches over HTTP and surfaces error codes", async () => {
    const config = configWith({ providers: providers(), port: 0, cache: { enabled: false } });
    const served = await serveSearch(config, logger);
    closers.push(served.close);
    const client = new SearchClient({ baseUrl: served.url });
    const answer = await client.search({ query: "node 20", limit: 2 }).catch((error: SearchClientError) => {
      throw new Error(JSON.stringify(error.details));
    });
    expect(answer.results).toHaveLength(2);
    expect(answer.results[0]!.sources).toEqual(["searxng", "bing", "brave"]);
    const error = await client
      .search({ query: "node", providers: ["nope"] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SearchClientError);
    expect((error as SearchClientError).code).toBe("SEARCH_PROVIDER_UNKNOWN");
  });
});
