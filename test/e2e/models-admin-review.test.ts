import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRegistryServer } from "../../packages/model/test/registry-server.js";
import { startModelService } from "../../packages/model/test/start-model-service.js";
import {
  type FakeKnowledge,
  startFakeKnowledgeAndSearch,
} from "../../packages/web/test/support/fake-knowledge-search.js";
import { signIn, signUp } from "../../packages/web/test/support/web-client.js";
import { startWeb, type WebHarness } from "../../packages/web/test/support/web-harness.js";
import {
  type Browser,
  ensureUiBuilt,
  hasChromium,
  holdRequests,
  launchBrowser,
  signUpInUi,
} from "../support/browser.js";
import { tinyGgufBytes } from "../support/tiny-gguf.js";

/** What the focused element is: its tag and its accessible label or text. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    return `${element?.tagName} ${element?.getAttribute("aria-label") ?? element?.textContent ?? ""}`;
  });

/**
 * A reviewer's findings on Admin → Models and what the rest of the app makes of it: the chat
 * following models pulled, deleted or allowed; a pull's outcome and failure reasons in the reader's
 * language; the version switch named by its direction; focus after a delete; access ticked at once;
 * a model's details; an assistant on a model its audience may not use; the no-model card's size.
 */
describe("Admin → Models as a reviewer found it", () => {
  let dir: string;
  let registryServer: Awaited<ReturnType<typeof startRegistryServer>>;
  let model: Awaited<ReturnType<typeof startModelService>>;
  let services: FakeKnowledge;
  let web: WebHarness;
  let root: Browser | undefined;
  let bob: Browser | undefined;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-e2e-models-review-"));
    registryServer = await startRegistryServer(
      [
        { reference: "library/tiny:latest", bytes: tinyGgufBytes({ seed: 31 }) },
        { reference: "library/tiny:v2", bytes: tinyGgufBytes({ seed: 32 }) },
      ],
      { "page.gguf": "<!doctype html><title>Not a model</title>" },
    );
    model = await startModelService(dir);
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb({ modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url });
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await bob?.close();
    await root?.close();
    await web?.close();
    await services?.close();
    await model?.close();
    await registryServer?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!hasChromium)(
    "keeps the chat, the assistants and the no-model card in step with Admin → Models",
    async () => {
      ensureUiBuilt();
      root = await launchBrowser({ locale: "en-US" });
      const { page } = root;
      await signUpInUi(page, url, "root");
      const card = page.getByTestId("model-guidance");
      await expect.poll(() => card.locator("h2").textContent()).toBe("No model is installed yet");

      // A pull from Admin → Models: its row names the model and version installed, the field is
      // cleared, and the chat, opened without a reload, offers the model.
      await page.getByRole("link", { name: "Admin" }).click();
      await page.getByRole("tab", { name: "Models" }).click();
      const field = page.getByLabel(/^(Pull a model|拉取模型)/);
      const pull = async (reference: string) => {
        await field.fill(reference);
        await page.getByRole("button", { name: /^(Pull|拉取)$/ }).click();
      };
      const outputs = page.locator(".pulls li output");
      const tiny = `${registryServer.url}/library/tiny:latest`;
      await pull(tiny);
      expect(await field.inputValue()).toBe("");
      await expect
        .poll(() => outputs.last().textContent(), { timeout: 30_000 })
        .toBe("Done: tiny:latest 1.0.0 installed");
      await page.getByRole("link", { name: "Chat" }).click();
      const picker = page.getByRole("combobox", { name: "Model" });
      await expect.poll(() => picker.locator("option").allTextContents()).toEqual(["tiny:latest"]);
      expect(await card.count()).toBe(0);

      // The same bytes again: already up to date (the outcome shown before, on leaving the page, is
      // put away); a new pull keeps it beside its own row, each dismissable.
      await page.getByRole("link", { name: "Admin" }).click();
      await page.getByRole("tab", { name: "Models" }).click();
      await pull(tiny);
      await expect
        .poll(() => outputs.allTextContents(), { timeout: 30_000 })
        .toEqual(["Done: tiny:latest is already up to date (1.0.0)"]);
      // A failure a retry will not fix: its reason, with no word of resuming; in Chinese, no English.
      await pull(`${registryServer.url}/files/page.gguf`);
      await expect
        .poll(() => outputs.last().textContent(), { timeout: 30_000 })
        .toBe(
          `Error: The model could not be pulled: ${registryServer.url}/files/page.gguf is not a GGUF file. Check the URL: it must lead to the .gguf file itself, not to a web page.`,
        );
      await page.getByRole("combobox", { name: "Language" }).selectOption("zh-CN");
      await expect
        .poll(() => outputs.last().textContent())
        .toBe(
          `错误：拉取模型失败：${registryServer.url}/files/page.gguf 不是 GGUF 文件。请检查 URL：它必须直接指向 .gguf 文件，而不是网页。`,
        );
      await pull(`${registryServer.url}/library/nosuch:v9`);
      const host = new URL(registryServer.url).host;
      await expect
        .poll(() => outputs.last().textContent(), { timeout: 30_000 })
        .toBe(`错误：模型仓库 ${host} 中没有名为 library/nosuch:v9 的模型或标签。`);
      await page.getByRole("combobox", { name: "语言" }).selectOption("en");
      expect(await outputs.last().textContent()).toBe(
        `Error: The registry ${host} has no model or tag named library/nosuch:v9.`,
      );
      await page.getByRole("button", { name: /^Dismiss: .*nosuch/ }).click();
      expect(await outputs.allTextContents()).toEqual([
        "Done: tiny:latest is already up to date (1.0.0)",
        expect.stringMatching(/page\.gguf is not a GGUF file/),
      ]);
      // Focus goes to the next outcome's button (none after the last: the one before it).
      await expect.poll(() => focused(page)).toMatch(/^BUTTON Dismiss: .*page\.gguf$/);

      // Its details: size, family and context length, from the model service.
      const row = page.locator("tr", { hasText: "tiny:latest" });
      await row.locator("details.model-details summary").click();
      const details = row.locator(".model-details dl");
      await expect.poll(() => details.locator("dt").allTextContents()).toContain("Context length");
      const described = Object.fromEntries(
        await details
          .locator(".model-detail")
          .evaluateAll((entries) =>
            entries.map((entry) => [entry.children[0]?.textContent, entry.children[1]?.textContent]),
          ),
      );
      expect(described).toMatchObject({
        Size: expect.stringMatching(/^\d+(\.\d)? (KiB|MiB)$/),
        Family: "llama",
        "Context length": expect.stringMatching(/^[\d,]+ tokens$/),
      });
      // On a phone's width the details stay on the screen.
      await page.setViewportSize({ width: 390, height: 800 });
      const right = await details.evaluate((element) => element.getBoundingClientRect().right);
      expect(right).toBeLessThanOrEqual(390);
      await page.setViewportSize({ width: 1280, height: 800 });

      // Admins only, ticked: shown at once, busy until the server answers; a refusal puts it back.
      const adminOnly = page.getByRole("checkbox", { name: "Admins only: tiny:latest" });
      const cell = row.locator("td.allowed-groups");
      const release = await holdRequests(page, "**/api/admin/models/*/access", "PUT");
      await adminOnly.click();
      expect(await adminOnly.isChecked()).toBe(true);
      expect(await cell.getAttribute("aria-busy")).toBe("true");
      release();
      await expect.poll(() => cell.getAttribute("aria-busy")).toBe(null);
      expect(await adminOnly.isChecked()).toBe(true);
      await page.unrouteAll();
      await page.route("**/api/admin/models/*/access", (route) =>
        route.fulfill({
          status: 500,
          contentType: "application/json",
          body: JSON.stringify({ error: { code: "INTERNAL_ERROR", message: "boom" } }),
        }),
      );
      await adminOnly.click();
      // Unticked at once, then ticked again with the error once the server refused.
      await expect
        .poll(() => page.locator(".error-text").first().textContent())
        .toMatch(/the log has the details/);
      expect(await adminOnly.isChecked()).toBe(true);
      await page.unrouteAll();

      // An assistant shared publicly on an admin-only model: the administrator is warned.
      await page.getByRole("link", { name: "Assistants" }).first().click();
      await page.getByRole("button", { name: "New assistant" }).click();
      await page.getByLabel("Name", { exact: true }).fill("Storyteller");
      await page.getByLabel("Visibility").selectOption("public");
      await expect
        .poll(() => page.locator(".audience-warning").textContent())
        .toBe(
          "tiny:latest is for administrators only: the others this assistant is shared with will not see it in their model picker.",
        );
      await page.getByRole("button", { name: "Create assistant" }).click();
      await page.locator("tr", { hasText: "Storyteller" }).waitFor();

      // Bob may not use the model: the assistant is marked so, and his chat's card is its own size.
      bob = await launchBrowser({ locale: "en-US" });
      await signUpInUi(bob.page, url, "bob");
      const bobCard = bob.page.getByTestId("model-guidance");
      await expect.poll(() => bobCard.locator("h2").textContent()).toBe("No model is available to you");
      const height = await bobCard.evaluate((element) => element.getBoundingClientRect().height);
      expect(height).toBeLessThan(250);
      await bob.page.goto(`${url}/assistants`);
      const bobRow = bob.page.locator("tr", { hasText: "Storyteller" });
      await expect
        .poll(() => bobRow.locator(".badge.unavailable").textContent())
        .toBe("its model is not available to you");
      await bob.page.getByRole("link", { name: "Chat" }).click();
      await bobCard.waitFor();

      // Opened to everyone by another administrator (here, root): Bob's window, given focus again,
      // offers it without a reload.
      await page.getByRole("link", { name: "Admin" }).click();
      await page.getByRole("tab", { name: "Models" }).click();
      await page.getByRole("checkbox", { name: "Admins only: tiny:latest" }).click();
      await expect
        .poll(() => page.getByRole("checkbox", { name: "Admins only: tiny:latest" }).isChecked())
        .toBe(false);
      await expect.poll(() => page.locator("td.allowed-groups[aria-busy]").count()).toBe(0);
      // Focus reads the models at most once a second (focus and a tab shown again come together).
      await bob.page.waitForTimeout(1100);
      expect(await bob.page.evaluate(() => document.visibilityState)).toBe("visible");
      await bob.page.evaluate(() => window.dispatchEvent(new Event("focus")));
      await expect
        .poll(() => bob!.page.getByRole("combobox", { name: "Model" }).locator("option").allTextContents())
        .toContain("tiny:latest");

      // A second model, then both deleted: focus goes to the next row's Delete, then to the Pull field;
      // the chat, opened without a reload, no longer offers them.
      await pull(`${registryServer.url}/library/tiny:v2`);
      await page.getByRole("button", { name: "Delete: tiny:v2" }).waitFor({ timeout: 30_000 });
      page.on("dialog", (dialog) => void dialog.accept());
      await page.getByRole("button", { name: "Delete: tiny:latest" }).click();
      await expect.poll(() => page.getByRole("button", { name: "Delete: tiny:latest" }).count()).toBe(0);
      await expect.poll(() => focused(page)).toBe("BUTTON Delete: tiny:v2");
      await page.getByRole("button", { name: "Delete: tiny:v2" }).click();
      await expect.poll(() => page.getByRole("button", { name: "Delete: tiny:v2" }).count()).toBe(0);
      await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe("INPUT");
      expect(await page.evaluate(() => document.activeElement?.closest("label")?.textContent)).toMatch(
        /^Pull a model/,
      );
      await page.getByRole("link", { name: "Chat" }).click();
      await expect.poll(() => card.locator("h2").textContent()).toBe("No model is installed yet");
      expect(await page.getByRole("combobox", { name: "Model" }).count()).toBe(0);
    },
  );

  it("answers a model's details to administrators only", async () => {
    // The accounts the browser test made, or made here (the first is the administrator).
    const admin = await signIn(web.app, "root").catch(() => signUp(web.app, "root"));
    const bobSession = await signIn(web.app, "bob").catch(() => signUp(web.app, "bob"));
    const pulled = await fetch(`${model.url}/api/pull`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: `${registryServer.url}/library/tiny:latest`, stream: false }),
    });
    expect(pulled.status).toBe(200);
    const details = await web.app.inject({
      url: "/api/admin/models/tiny:latest/details",
      headers: admin.headers,
    });
    expect(details.statusCode).toBe(200);
    expect(details.json()).toMatchObject({
      model: "tiny:latest",
      size: expect.any(Number),
      family: "llama",
      contextLength: expect.any(Number),
    });
    const unknown = await web.app.inject({
      url: "/api/admin/models/nothere/details",
      headers: admin.headers,
    });
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, "MODEL_NOT_FOUND"]);
    const refused = await web.app.inject({
      url: "/api/admin/models/tiny:latest/details",
      headers: bobSession.headers,
    });
    expect(refused.statusCode).toBe(403);
  });
});
