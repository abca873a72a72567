/**
 * Admin → Search providers → Test through the web service, on the real search service: each test
 * asks the engines themselves, so a provider that has just started failing shows its error rather
 * than the answer the search service cached from the test before; a provider is tested on its own,
 * a disabled one too, and one that answers with no results (a typo in a custom engine's results
 * path) is flagged on the page.
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
import { ensureUiBuilt, hasChromium, launchBrowser, screenshot } from "../support/browser.js";

describe("testing search providers from the admin page", () => {
  let dataDir: string;
  /** A SearXNG-like engine: answering, refusing a revoked key, or over its quota. */
  let engine: Server;
  let engineCalls = 0;
  let engineState: "ok" | "key-revoked" | "over-quota" = "ok";
  let search: { app: FastifyInstance; close(): Promise<void> };
  let model: FakeModelService;
  let web: WebHarness;
  /** Where the web service listens, for the browser. */
  let url: string;
  let admin: Session;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "hearth-search-test-"));
    engine = createServer((request, response) => {
      const json = { "content-type": "application/json" };
      const answer = {
        results: [{ url: "https://example.org/oil", title: "Brent crude", content: "Brent at $82." }],
      };
      // The disabled engines' path: always answering, and not counted with the others' calls.
      if (request.url?.startsWith("/standby")) {
        response.writeHead(200, json);
        // Asked about "blocked": some of this SearXNG's own engines did not answer, as SearXNG says it.
        const partly = request.url.includes("blocked")
          ? { unresponsive_engines: [["google", "CAPTCHA"]] }
          : {};
        return response.end(JSON.stringify({ ...answer, ...partly }));
      }
      engineCalls += 1;
      if (engineState === "key-revoked") {
        response.writeHead(401, json);
        return response.end(JSON.stringify({ error: "invalid API key" }));
      }
      if (engineState === "over-quota") {
        response.writeHead(429, { ...json, "retry-after": "60" });
        return response.end(JSON.stringify({ error: "too many requests" }));
      }
      response.writeHead(200, json);
      response.end(JSON.stringify(answer));
    });
    await new Promise<void>((resolve) => engine.listen(0, "127.0.0.1", resolve));
    const enginePort = (engine.address() as { port: number }).port;
    const config = loadConfig({
      env: {},
      cwd: dataDir,
      overrides: {
        dataDir,
        search: {
          providers: [
            { id: "searxng", type: "searxng", url: `http://127.0.0.1:${enginePort}`, retries: 0 },
            // Not enabled yet: an operator checks them first. The custom one's `results` path has a
            // typo ("result"), so it answers with nothing.
            {
              id: "standby",
              type: "searxng",
              url: `http://127.0.0.1:${enginePort}/standby`,
              retries: 0,
              enabled: false,
            },
            {
              id: "mysearch",
              type: "custom",
              url: `http://127.0.0.1:${enginePort}/standby/api?q={query}`,
              response: { results: "result", title: "title", url: "url" },
              retries: 0,
              enabled: false,
            },
          ],
        },
      },
    });
    search = await createSearchService(config, createLogger({ level: "silent" }));
    const searchUrl = await search.app.listen({ host: "127.0.0.1", port: 0 });
    model = await startFakeModelService();
    web = await startWeb({ modelUrl: model.url, searchUrl });
    ensureUiBuilt();
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    admin = await signUp(web.app, "admin");
  });
  afterAll(async () => {
    await web?.close();
    await model?.close();
    await search?.close();
    await new Promise((resolve) => engine?.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  const test = async (providers?: string[]) =>
    (
      await web.app.inject({
        method: "POST",
        url: "/api/admin/search/test",
        headers: admin.headers,
        payload: { query: "brent crude today", ...(providers ? { providers } : {}) },
      })
    ).json();

  it("reaches the engine on every test, so a key revoked since the last test shows", async () => {
    expect(await test()).toMatchObject({
      providers: [{ id: "searxng", status: "ok", results: 1 }],
      resultCount: 1,
    });
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

  it("lists every engine, disabled ones too, and tests one on its own with its result count", async () => {
    const listed = await web.app.inject({ url: "/api/admin/search/providers", headers: admin.headers });
    expect(listed.json()).toMatchObject({
      providers: [
        { id: "searxng", type: "searxng", enabled: true },
        { id: "standby", type: "searxng", enabled: false },
        { id: "mysearch", type: "custom", enabled: false },
      ],
    });
    // Each with its standing state: the first engine cooling down after its 429 (Retry-After: 60).
    const [searxng, standby] = listed.json().providers;
    expect(Date.parse(searxng.state.coolDownUntil)).toBeGreaterThan(Date.now() + 50_000);
    expect(searxng.state.lastCall).toMatchObject({ status: "rate-limited" });
    expect(standby.state).toMatchObject({ breaker: "closed", coolDownUntil: null, lastCall: null });
    expect(await test(["standby"])).toMatchObject({
      providers: [{ id: "standby", status: "ok", results: 1 }],
      resultCount: 1,
    });
    // Answered while some of its own engines did not: the test says which.
    const partly = await web.app.inject({
      method: "POST",
      url: "/api/admin/search/test",
      headers: admin.headers,
      payload: { query: "blocked crude", providers: ["standby"] },
    });
    expect(partly.json()).toMatchObject({
      providers: [
        { id: "standby", status: "ok", results: 1, warning: expect.stringContaining("google (CAPTCHA)") },
      ],
    });
    // Answered, with nothing: what a typo in `results` gives, told apart from a working engine by its count.
    expect(await test(["mysearch"])).toMatchObject({
      providers: [{ id: "mysearch", status: "ok", results: 0 }],
      resultCount: 0,
    });
  });

  describe.skipIf(!hasChromium)("on the page", () => {
    for (const [locale, words] of [
      [
        "en-US",
        {
          disabled: "Disabled (enabled: false)",
          ok: "OK",
          testAll: "Test providers",
          testing: "Testing…",
          coolingDown: "Cooling down until",
          notAsked: "Not asked yet",
          test: (id: string) => `Test (${id})`,
          noResults: "Answered, but with no results.",
        },
      ],
      [
        "zh-CN",
        {
          disabled: "已停用（enabled: false）",
          ok: "正常",
          testAll: "测试搜索引擎",
          testing: "正在测试…",
          coolingDown: "冷却中，直到",
          notAsked: "尚未调用",
          test: (id: string) => `测试（${id}）`,
          noResults: "有应答，但没有结果。",
        },
      ],
    ] as const) {
      it(`offers each engine a test, disabled ones too, and flags one that answers with no results (${locale})`, async () => {
        const browser = await launchBrowser({ locale });
        try {
          await browser.context.addCookies(
            admin.cookie.split("; ").map((pair) => {
              const [name, ...value] = pair.split("=");
              return { name: name!, value: value.join("="), url };
            }),
          );
          const { page } = browser;
          await page.goto(`${url}/admin/search`);
          const row = (id: string) =>
            page.locator("section[aria-labelledby=providers-title] tbody tr", { hasText: id });
          await expect.poll(() => row("standby").textContent()).toContain(words.disabled);
          expect(await row("searxng").textContent()).not.toContain(words.disabled);
          // Before any test on the page, each engine's standing state: the first one cooling down
          // after its 429, with its last error; the custom one answered (its API test above).
          await expect
            .poll(() => row("searxng").locator("td").nth(1).textContent())
            .toContain(words.coolingDown);
          expect(await row("searxng").locator(".provider-last-error").textContent()).toContain("429");
          expect(await row("mysearch").locator("td").nth(1).textContent()).toBe(words.ok);

          // A test that takes a while shows that it runs, and cannot be sent twice.
          let tests = 0;
          let release = () => {};
          const held = new Promise<void>((resolve) => (release = resolve));
          await page.route("**/api/admin/search/test", async (route) => {
            tests += 1;
            await held;
            await route.continue();
          });
          const testAll = page.locator("section[aria-labelledby=providers-title] form button[type=submit]");
          await testAll.click();
          await expect.poll(() => testAll.textContent()).toBe(words.testing);
          expect(await testAll.isDisabled()).toBe(true);
          expect(
            await page.locator("section[aria-labelledby=providers-title]").getAttribute("aria-busy"),
          ).toBe("true");
          expect(await row("searxng").locator("td").nth(1).textContent()).toBe(words.testing);
          expect(await row("searxng").getAttribute("aria-busy")).toBe("true");
          // A disabled engine is not in a test of the enabled ones.
          expect(await row("standby").locator("td").nth(1).textContent()).not.toBe(words.testing);
          await testAll.click({ force: true });
          await page.locator("section[aria-labelledby=providers-title] form input").press("Enter");
          release();
          await expect.poll(() => testAll.textContent()).toBe(words.testAll);
          expect(tests).toBe(1);
          expect(await testAll.isDisabled()).toBe(false);
          await page.unroute("**/api/admin/search/test");

          await page.getByRole("button", { name: words.test("mysearch"), exact: true }).click();
          const warning = row("mysearch").locator(".provider-warning");
          await expect.poll(() => warning.textContent()).toMatch(new RegExp(`^${words.noResults}`));
          const cells = row("mysearch").locator("td");
          expect(await cells.nth(1).textContent()).toBe(words.ok);
          expect(await cells.nth(2).textContent()).toBe("0");

          await page.getByRole("button", { name: words.test("standby"), exact: true }).click();
          await expect.poll(() => row("standby").locator("td").nth(2).textContent()).toBe("1");
          expect(await row("standby").locator(".provider-warning").count()).toBe(0);
          // The first engine's outcome stays shown beside the second's.
          expect(await warning.count()).toBe(1);
          await screenshot(page, `admin-search-providers-${locale}`);
        } finally {
          await browser.close();
        }
      });
    }

    it("offers no test while no engine is configured: the note says how to add one", async () => {
      const browser = await launchBrowser();
      try {
        await browser.context.addCookies(
          admin.cookie.split("; ").map((pair) => {
            const [name, ...value] = pair.split("=");
            return { name: name!, value: value.join("="), url };
          }),
        );
        const { page } = browser;
        // What the web service answers with no engine under search.providers.
        await page.route("**/api/search/status", (route) => route.fulfill({ json: { configured: false } }));
        await page.goto(`${url}/admin/search`);
        await page.getByRole("note").getByText("No web search engine is configured").waitFor();
        const testAll = page.getByRole("button", { name: "Test providers", exact: true });
        expect(await testAll.isDisabled()).toBe(true);
      } finally {
        await browser.close();
      }
    });
  });
});
