import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startModelService } from "../../packages/model/test/start-model-service.js";
import {
  type FakeKnowledge,
  startFakeKnowledgeAndSearch,
} from "../../packages/web/test/support/fake-knowledge-search.js";
import { signIn, signUp } from "../../packages/web/test/support/web-client.js";
import { startWeb, type WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type Browser, ensureUiBuilt, hasChromium, launchBrowser, signUpInUi } from "../support/browser.js";
import { tinyGgufBytes } from "../support/tiny-gguf.js";

/** A tiny GGUF padded to about 8 MB: read 64 bytes at a time, its hash takes seconds. */
function bigModel(seed: number): Uint8Array {
  const model = tinyGgufBytes({ seed });
  const file = new Uint8Array(model.length + 8_000_000);
  file.set(model);
  return file;
}

/**
 * A model file dropped into the models folder is hashed by the model service to be registered, in
 * the background: Admin → Models shows it as "Registering… n%" at once (not the model service as
 * unreachable while a big file is hashed), with no versions or rollback until it is done, and then
 * its versions without a reload.
 */
describe("a model being registered on Admin → Models", () => {
  let dir: string;
  let model: Awaited<ReturnType<typeof startModelService>>;
  let services: FakeKnowledge;
  let web: WebHarness;
  let browser: Browser | undefined;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-e2e-registering-"));
    model = await startModelService(dir, {}, undefined, { hashChunkBytes: 64 });
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb({ modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url });
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await services?.close();
    await model?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!hasChromium)(
    "shows Registering… n% with no versions or rollback, then its versions, in English and Chinese",
    async () => {
      ensureUiBuilt();
      browser = await launchBrowser({ locale: "en-US" });
      const { page } = browser;
      await signUpInUi(page, url, "root");
      await page.getByRole("link", { name: "Admin" }).click();
      await page.getByRole("tab", { name: "Models" }).click();

      for (const [file, seed, name, language, registering, versions] of [
        ["big.gguf", 42, "big:latest", "en", /^Registering… \d+%$/, "Versions: big:latest"],
        ["other.gguf", 43, "other:latest", "zh-CN", /^正在登记… \d+%$/, "版本：other:latest"],
      ] as const) {
        if (language === "zh-CN")
          await page.getByRole("combobox", { name: "Language" }).selectOption("zh-CN");
        await writeFile(join(dir, file), bigModel(seed));
        // Models shown again reads the models (as a page opened now would), past the model service's
        // one-second-old scan of the models folder: the scan finds the file and starts its hash.
        await new Promise((settle) => setTimeout(settle, 1100));
        await page.getByRole("tab", { name: language === "en" ? "Users" : "用户" }).click();
        await page.getByRole("tab", { name: language === "en" ? "Models" : "模型" }).click();
        const row = page.locator("tr", { hasText: name });
        const note = row.locator(".registering");
        await expect.poll(() => note.textContent(), { timeout: 10_000 }).toMatch(registering);
        expect(await row.getByRole("list").count()).toBe(0);
        expect(await row.getByRole("button", { name: /Roll back|Roll forward|回滚|升级/ }).count()).toBe(0);
        // Read again until it is registered: its versions, without a reload.
        await expect
          .poll(() => page.getByRole("list", { name: versions }).locator("li").count(), { timeout: 60_000 })
          .toBe(1);
        expect(await note.count()).toBe(0);
      }
    },
  );

  it("lists it registering with how much is hashed, through the web service", async () => {
    // The first account is the administrator: "root", signed up in the browser, or here when there is none.
    const admin = await signIn(web.app, "root").catch(() => signUp(web.app, "root"));
    await writeFile(join(dir, "listed.gguf"), bigModel(41));
    const versions = async () =>
      (await web.app.inject({ url: "/api/admin/models/versions", headers: admin.headers })).json() as {
        reachable: boolean;
        models: Array<{ name: string }>;
      };
    const listed = await versions();
    expect(listed.reachable).toBe(true);
    expect(listed.models.find((entry) => entry.name === "listed:latest")).toEqual({
      name: "listed:latest",
      size: expect.any(Number),
      registering: { completed: expect.any(Number), total: expect.any(Number) },
      versions: [],
    });
    const removal = await web.app.inject({
      method: "DELETE",
      url: "/api/admin/models/listed:latest",
      headers: admin.headers,
    });
    expect(removal.statusCode).toBe(409);
    expect(removal.json().error.code).toBe("MODEL_REGISTERING");
    await expect
      .poll(async () => (await versions()).models.find((entry) => entry.name === "listed:latest"), {
        timeout: 60_000,
        interval: 200,
      })
      .toMatchObject({ version: "1.0.0" });
  });
});
