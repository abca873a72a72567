/**
 * Admin → Search providers → Test through the web service, on the real search service: each test
 * asks the engines themselves, so a provider that has just started failing shows its error rather
 * than the answer the search service cached from the test before.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, loadConfig } from "@hearth/core";
import { createSearchService } from "@hearth/search";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FakeModelService,
  startFakeModelService,
} from "../../packages/web/test/support/fake-model-service.js";
import { type Session, signUp } from "../../packages/web/test/support/web-client.js";
import { startWeb, type WebHarness } from "../../packages/web/test/support/web-harness.js";

describe("testing search providers from the admin page", () => {
  let dataDir: string;
  /** A SearXNG-like engine: answering, refusing a revoked key, or over its quota. */
  let engine: Server;
  let engineCalls = 0;
  let engineState: "ok" | "key-revoked" | "over-quota" = "ok";
  let search: { app: FastifyInstance; close(): Promise<void> };
  let model: FakeModelService;
  let web: WebHarness;
  let admin: Session;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "hearth-search-test-"));
    engine = createServer((_request, response) => {
      engineCalls += 1;
      const json = { "content-type": "application/json" };
      if (engineState === "key-revoked") {
        response.writeHead(401, json);
        return response.end(JSON.stringify({ error: "invalid API key" }));
      }
      if (engineState === "over-quota") {
        response.writeHead(429, { ...json, "retry-after": "60" });
        return response.end(JSON.stringify({ error: "too many requests" }));
      }
      response.writeHead(200, json);
      response.end(
        JSON.stringify({
          results: [{ url: "https://example.org/oil", title: "Brent crude", content: "Brent at $82." }],
        }),
      );
    });
    await new Promise<void>((resolve) => engine.listen(0, "127.0.0.1", resolve));
    const enginePort = (engine.address() as { port: number }).port;
    const config = loadConfig({
      env: {},
      cwd: dataDir,
      overrides: {
        dataDir,
        search: {
          providers: [{ id: "searxng", type: "searxng", url: `http://127.0.0.1:${enginePort}`, retries: 0 }],
        },
      },
    });
    search = await createSearchService(config, createLogger({ level: "silent" }));
    const searchUrl = await search.app.listen({ host: "127.0.0.1", port: 0 });
    model = await startFakeModelService();
    web = await startWeb({ modelUrl: model.url, searchUrl });
    admin = await signUp(web.app, "admin");
  });
  afterAll(async () => {
    await web?.close();
    await model?.close();
    await search?.close();
    await new Promise((resolve) => engine?.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  const test = async () =>
    (
      await web.app.inject({
        method: "POST",
        url: "/api/admin/search/test",
        headers: admin.headers,
        payload: { query: "brent crude today" },
      })
    ).json();

  it("reaches the engine on every test, so a key revoked since the last test shows", async () => {
    expect(await test()).toMatchObject({ providers: [{ id: "searxng", status: "ok" }], resultCount: 1 });
    engineState = "key-revoked";
    expect(await test()).toMatchObject({
      providers: [{ id: "searxng", status: "error", error: expect.stringContaining("401") }],
      resultCount: 0,
    });
    expect(engineCalls).toBe(2);
  });

  it("still leaves an engine alone while it asked to wait, and says so", async () => {
    engineState = "over-quota";
    expect(await test()).toMatchObject({ providers: [{ id: "searxng", status: "rate-limited" }] });
    const calls = engineCalls;
    expect(await test()).toMatchObject({
      providers: [{ id: "searxng", status: "rate-limited", error: expect.stringContaining("wait") }],
    });
    expect(engineCalls).toBe(calls);
  });
});
