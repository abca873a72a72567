import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FileChooser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeKnowledge } from "../../packages/web/test/support/fake-knowledge-search.js";
import type { FakeModelService } from "../../packages/web/test/support/fake-model-service.js";
import { setFilterWords, signIn } from "../../packages/web/test/support/web-client.js";
import { type Browser, hasChromium, screenshot, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/** The id (or name, or tag) of the focused element. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const element = document.activeElement;
    return element?.id || element?.getAttribute("aria-label") || element?.tagName.toLowerCase() || "";
  });

/** What a control's aria-describedby points at, as read out. */
const description = (locator: Locator) =>
  locator.evaluate((element) =>
    (element.getAttribute("aria-describedby") ?? "")
      .split(" ")
      .filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent ?? "")
      .join(" "),
  );

/**
 * Records what a screen reader hears from the live region `selector` (read back by `heard`): for
 * each change in it, the text of the nearest aria-atomic box around what changed, else of what
 * changed (ARIA's rule: a region that is not atomic says only the changed nodes).
 */
const listen = (page: Page, selector: string) =>
  page.evaluate((selector) => {
    const heard: string[] = [];
    Object.assign(window, { heard });
    const say = (node: Node) => {
      const start = node instanceof Element ? node : node.parentElement;
      if (!start?.closest(selector)) return;
      const atomic = start.closest('[aria-atomic="true"]');
      const text = (atomic?.closest(selector) ? atomic : node).textContent?.trim();
      if (text) heard.push(text);
    };
    new MutationObserver((mutations) => {
      for (const mutation of mutations)
        if (mutation.type === "characterData") say(mutation.target);
        else mutation.addedNodes.forEach(say);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  }, selector);
const heard = (page: Page) => page.evaluate(() => (window as unknown as { heard: string[] }).heard);

/**
 * Each box on the page that scrolls (its content wider or taller than it): its role and name, or
 * "unreachable" when a keyboard cannot scroll it, neither focusable nor holding anything that is
 * (axe's scrollable-region-focusable).
 */
const scrollers = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>("body *")]
      .filter((element) => {
        const style = getComputedStyle(element);
        return (
          (/auto|scroll/.test(style.overflowX) && element.scrollWidth > element.clientWidth) ||
          (/auto|scroll/.test(style.overflowY) && element.scrollHeight > element.clientHeight)
        );
      })
      .map((element) => {
        const within = element.querySelector("a[href], button, input, select, textarea, [tabindex='0']");
        if (element.tabIndex < 0 && !within)
          return `unreachable: ${element.tagName.toLowerCase()}.${element.className}`;
        return `${element.getAttribute("role") ?? element.tagName.toLowerCase()}: ${element.getAttribute("aria-label") ?? ""}`;
      }),
  );

const scrollWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

/** WCAG 1.4.12's text spacing, as a reader's style sheet sets it. */
const TEXT_SPACING = `* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
  word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }`;

const box = async (locator: Locator) => (await locator.boundingBox())!;
const overlap = (
  a: { x: number; y: number; width: number; height: number },
  b: { x: number; y: number; width: number; height: number },
) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** Files for the knowledge page, in a fresh folder. */
function files(contents: Record<string, string>): string[] {
  const folder = mkdtempSync(join(tmpdir(), "hearth-a11y-audit-"));
  return Object.entries(contents).map(([name, text]) => {
    writeFileSync(join(folder, name), text);
    return join(folder, name);
  });
}

/**
 * A WCAG 2.2 AA audit's findings, in a real Chromium on the built UI: the page reflowing at 320 px
 * and with wider text spacing, the model picker on a phone, ingestion outcomes announced, focus
 * kept where an action removes or disables what had it, task-list boxes named, source links big
 * enough to hit, the language options marked with their language, the skip link reaching the
 * conversation, and a new chat named while its first answer is written.
 */
describe.skipIf(!hasChromium)("the accessibility audit's findings", () => {
  let stand: UiStand;
  let model: FakeModelService;
  let services: FakeKnowledge;
  let url: string;
  /** The first account (admin), on a desktop browser in English. */
  let desk: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 2 }, knowledgeAndSearch: true });
    ({ model, url } = stand);
    services = stand.services!;
    // No web search engine: Admin → Search providers shows how to add one (an example that scrolls).
    services.noProviders = true;
    desk = await stand.browser({ locale: "en-US" });
    await signUpInUi(desk.page, url, "ada");
  });
  afterAll(() => stand?.close());

  /** Sends a message from the composer and waits for the answer to end. */
  const ask = async (page: Page, text: string) => {
    await page.getByLabel(/Send a message|输入消息/).fill(text);
    await page.getByRole("button", { name: /^(Send|发送)$/ }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    return answer;
  };

  /** Opens the knowledge page with a new base of that name. */
  const newBase = async (page: Page, name: string) => {
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByLabel("New knowledge base").fill(name);
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name }).waitFor();
  };

  it("reflows every page at 320 px (400% zoom) and with wider text spacing, the header wrapping", async () => {
    const { page } = desk;
    await page.goto(`${url}/admin`);
    await page.getByRole("tab").first().waitFor();
    const tabs = await page
      .getByRole("tab")
      .evaluateAll((elements) => elements.map((element) => element.id.replace("admin-tab-", "")));
    expect(tabs.length).toBeGreaterThan(5);
    try {
      await page.setViewportSize({ width: 320, height: 200 });
      for (const path of [
        "/",
        "/settings",
        "/knowledge",
        "/assistants",
        ...tabs.map((tab) => `/admin/${tab}`),
      ]) {
        await page.goto(`${url}${path}`);
        await page.locator("#page-heading").waitFor({ state: "attached" });
        await page.waitForLoadState("networkidle");
        expect(await scrollWidth(page), path).toBeLessThanOrEqual(320);
        const menu = await box(page.getByRole("button", { name: "Menu" }));
        expect(menu.x + menu.width, path).toBeLessThanOrEqual(320);
      }
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(url);
      await page.getByLabel("Model").waitFor();
      await page.addStyleTag({ content: TEXT_SPACING });
      expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
      const menu = await box(page.getByRole("button", { name: "Menu" }));
      expect(menu.x + menu.width).toBeLessThanOrEqual(390);
      await screenshot(page, "a11y-audit-text-spacing-390");
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto(url);
    }
  });

  it("keeps the model picker readable, big enough and clear of the menu button on a phone", async () => {
    const user = await stand.browser({ locale: "en-US", width: 320, height: 640 });
    await signUpInUi(user.page, url, "uma");
    const cases: Array<[Browser, string, number]> = [
      [desk, "en", 390],
      [desk, "en", 320],
      [desk, "zh-CN", 320],
      [user, "en", 320],
      [user, "zh-CN", 390],
      [user, "en", 390],
    ];
    try {
      for (const [{ page }, locale, width] of cases) {
        const label = `${page === desk.page ? "admin" : "user"} ${locale} ${width}`;
        await page.evaluate((locale) => localStorage.setItem("hearth.locale", locale), locale);
        await page.setViewportSize({ width, height: 640 });
        await page.goto(url);
        const picker = page.locator(
          '.model-picker select[aria-label="Model"], .model-picker select[aria-label="模型"]',
        );
        await picker.waitFor();
        const select = await box(picker);
        // Wide enough to tell models apart (a name like "stories260K:la…", where English had "st…"), tall enough to hit.
        expect(select.width, label).toBeGreaterThanOrEqual(120);
        expect(select.height, label).toBeGreaterThanOrEqual(24);
        expect(select.x + select.width, label).toBeLessThanOrEqual(width);
        const menu = await box(page.locator("button.menu-toggle"));
        expect(overlap(select, menu), label).toBe(false);
        for (const link of await page.locator("header nav a:visible").all())
          expect(overlap(select, await box(link)), label).toBe(false);
        expect(await scrollWidth(page), label).toBeLessThanOrEqual(width);
      }
      // A user in English at 390 px still has the header in one row, Settings behind the menu.
      expect((await box(user.page.locator("header.topbar"))).height).toBeLessThan(56);
      await screenshot(user.page, "a11y-audit-model-picker-user-en-390");
      await user.page.getByRole("button", { name: "Menu" }).click();
      await user.page.locator("#topbar-menu").getByRole("link", { name: "Settings" }).click();
      await user.page.getByRole("heading", { name: "Settings", level: 2 }).waitFor();
    } finally {
      await desk.page.evaluate(() => localStorage.setItem("hearth.locale", "en"));
      await desk.page.setViewportSize({ width: 1280, height: 800 });
      await desk.page.goto(url);
    }
  });

  it("announces each upload's ingestion outcome, indexed or failed and why, in the uploads' live region of its own base", async () => {
    const { page } = desk;
    await newBase(page, "outcomes");
    const uploads = page.locator('ul.uploads[aria-live="polite"]');
    await listen(page, "ul.uploads");
    await page
      .locator('input[type="file"]:not([webkitdirectory])')
      .setInputFiles(files({ "fine.txt": "A fine manual." }));
    await expect.poll(() => uploads.locator("li").first().textContent()).toMatch(/fine\.txt.*Indexed$/);
    // A screen reader hears which file was indexed, not "Indexed" alone.
    const said = await heard(page);
    expect(said.some((text) => /fine\.txt.*Indexed/.test(text))).toBe(true);
    expect(said.filter((text) => !text.includes("fine.txt"))).toEqual([]);
    services.holdIngestion = true;
    try {
      await page
        .locator('input[type="file"]:not([webkitdirectory])')
        .setInputFiles(files({ "bad.txt": "Never indexed." }));
      const bad = uploads.locator("li", { hasText: "bad.txt" });
      await expect.poll(() => bad.textContent()).toMatch(/Uploaded/);
      // Another base shows none of this one's uploads, nor its files in the picker; back on this
      // one, they are there as they were, the import still running.
      await newBase(page, "elsewhere");
      expect(await uploads.count()).toBe(0);
      expect(
        await page
          .locator('input[type="file"]:not([webkitdirectory])')
          .evaluate((input: HTMLInputElement) => input.files?.length),
      ).toBe(0);
      await page.getByRole("button", { name: "outcomes" }).click();
      await page.getByRole("heading", { name: "outcomes" }).waitFor();
      expect(await uploads.locator("li").allTextContents()).toEqual([
        expect.stringMatching(/bad\.txt.*Uploaded/),
      ]);
      await page.getByRole("button", { name: "Cancel import: bad.txt" }).focus();
      await page.keyboard.press("Enter");
      await expect
        .poll(() => bad.textContent())
        .toMatch(/Cancelled: The import was cancelled before the document was indexed/);
      // The button went with the import; focus did not go to the page's start but to its document's row.
      await expect
        .poll(() =>
          page.evaluate(
            () => document.activeElement?.closest("tr")?.textContent?.includes("bad.txt") ?? false,
          ),
        )
        .toBe(true);
      expect((await heard(page)).filter((text) => !/(fine|bad)\.txt/.test(text))).toEqual([]);
      await page.getByLabel("Language").selectOption("zh-CN");
      await expect.poll(() => bad.textContent()).toMatch(/已取消：文档建立索引之前导入已被取消/);
    } finally {
      services.holdIngestion = false;
      // A language chosen while signed in is kept with the account: chosen back as it was chosen.
      await Promise.all([
        page.waitForResponse(
          (response) =>
            response.url().endsWith("/api/account/preferences") && response.request().method() === "PUT",
        ),
        page.locator("#topbar-menu select").selectOption("en"),
      ]);
      await page.reload();
    }
  });

  it("keeps focus on the sharing selects while a change is saved, and near a deleted knowledge base", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByLabel("New group").fill("readers");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("button", { name: "Delete group: readers" }).waitFor();
    await newBase(page, "first-base");
    await newBase(page, "second-base");

    const visibility = page.getByLabel("Visibility", { exact: true });
    await visibility.focus();
    await page.keyboard.press("ArrowDown");
    await expect.poll(() => visibility.inputValue()).toBe("shared");
    const share = page.locator(".sharing li select");
    await share.waitFor();
    expect(await focused(page)).toBe("Visibility");
    await share.focus();
    await page.keyboard.press("ArrowDown");
    await expect.poll(() => share.inputValue()).toBe("read");
    await page.waitForLoadState("networkidle");
    expect(await page.evaluate(() => document.activeElement?.matches(".sharing li select"))).toBe(true);

    // Deleting the open base: focus goes to the base beside it in the list.
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Delete knowledge base" }).click();
    await expect.poll(() => page.getByRole("button", { name: "second-base" }).count()).toBe(0);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.closest(".kb-list") !== null))
      .toBe(true);
  });

  it("keeps focus near a deleted account and on the conversations after the last Load more", async () => {
    const { page } = desk;
    for (const username of ["bea", "cal"])
      await stand.web.app.inject({
        method: "POST",
        url: "/api/auth/signup",
        payload: { username, password: "correct horse battery" },
      });
    await page.getByRole("link", { name: "Admin" }).click();
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Delete account: bea" }).click();
    await expect.poll(() => page.locator('tr[data-user="bea"]').count()).toBe(0);
    await expect.poll(() => focused(page)).toMatch(/^API keys: /);

    // More conversations than a page of the list (50): Load more brings the rest, and goes.
    await page.evaluate(async () => {
      const token = decodeURIComponent(/hearth_csrf=([^;]+)/.exec(document.cookie)![1]!);
      for (let i = 0; i < 51; i++)
        await fetch("/api/conversations", {
          method: "POST",
          headers: { "content-type": "application/json", "x-csrf-token": token },
          body: JSON.stringify({ title: `conversation ${i}` }),
        });
    });
    await page.getByRole("link", { name: "Chat", exact: true }).click();
    const more = page.getByRole("button", { name: "Load more" });
    await more.focus();
    await page.keyboard.press("Enter");
    await more.waitFor({ state: "detached" });
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.closest(".conversation-list") !== null))
      .toBe(true);
  });

  it("names task-list boxes by their items, gives source links room to hit, colours code legibly, and says a cited document was removed", async () => {
    const { page } = desk;
    await newBase(page, "handbook");
    await page
      .locator('input[type="file"]:not([webkitdirectory])')
      .setInputFiles(files({ "vacation.txt": "25 vacation days." }));
    await expect.poll(() => page.locator("tbody tr").count()).toBe(1);
    await page.getByRole("link", { name: "Chat", exact: true }).click();
    await page.getByRole("button", { name: "+ New chat" }).click();
    await page.getByLabel("handbook").check();
    model.options.words = ["- [x] done\n- [ ] open\n\n```python\nprint(len(days))\n```\n\nSee [1]."];
    try {
      const answer = await ask(page, "How many vacation days?");
      const done = answer.getByRole("checkbox", { name: "done" });
      expect(await done.isChecked()).toBe(true);
      expect(await done.isDisabled()).toBe(true);
      expect(await answer.getByRole("checkbox", { name: "open" }).isChecked()).toBe(false);
      const source = answer.getByRole("navigation", { name: "Sources" }).getByRole("link");
      expect((await box(source.first())).height).toBeGreaterThanOrEqual(24);
      // The built-in function's orange, darkened to 5:1 on white (highlight.js's is 3.5:1).
      await page.evaluate(() => {
        document.documentElement.dataset.theme = "light";
      });
      const builtIn = answer.locator(".hljs-built_in").first();
      expect(await builtIn.evaluate((element) => getComputedStyle(element).color)).toBe("rgb(188, 76, 0)");
      // The cited document deleted since: its source says so, with the passage the answer kept,
      // and offers no file that is not there.
      const [, baseId, documentId] = /knowledge-bases\/([^/]+)\/documents\/([^/]+)\//.exec(
        (await source.first().getAttribute("href"))!,
      )!;
      const ada = await signIn(stand.web.app, "ada");
      const deleted = await stand.web.app.inject({
        method: "DELETE",
        url: `/api/knowledge-bases/${baseId}/documents/${documentId}`,
        headers: ada.headers,
      });
      expect(deleted.statusCode).toBe(204);
      await source.first().click();
      const dialog = page.getByRole("dialog", { name: "vacation.txt" });
      await dialog.getByText("This document was removed from the knowledge base.").waitFor();
      expect(await dialog.locator("blockquote").textContent()).toBe("25 vacation days.");
      expect(await dialog.getByRole("link").count()).toBe(0);
      await dialog.getByRole("button", { name: "Close" }).click();
      await dialog.waitFor({ state: "hidden" });
    } finally {
      model.options.words = undefined;
    }
  });

  it("marks the language options with their language, in the header and on Settings", async () => {
    const { page } = desk;
    const lang = (select: Locator, value: string) =>
      select.locator(`option[value="${value}"]`).getAttribute("lang");
    const header = page.locator("#topbar-menu").getByLabel("Language");
    expect(await lang(header, "zh-CN")).toBe("zh-CN");
    expect(await lang(header, "en")).toBe("en");
    await page.getByRole("link", { name: "Settings" }).click();
    const settings = page.locator(".page").getByLabel("Language");
    expect(await lang(settings, "zh-CN")).toBe("zh-CN");
    expect(await lang(settings, "en")).toBe("en");
  });

  it("skips past the conversation list to the message box on the chat page, to the heading elsewhere", async () => {
    const { page } = desk;
    await page.goto(url);
    await page.locator("#message-input").waitFor();
    await page.keyboard.press("Tab");
    expect(await focused(page)).not.toBe("message-input");
    await page.keyboard.press("Enter");
    await expect.poll(() => focused(page)).toBe("message-input");
    await page.goto(`${url}/settings`);
    await page.locator("#page-heading").waitFor();
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await expect.poll(() => focused(page)).toBe("page-heading");
  });

  it("names a new chat in its heading and the tab's title while its first answer is written", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "Chat", exact: true }).click();
    await page.getByRole("button", { name: "+ New chat" }).click();
    model.options.words = Array.from({ length: 200 }, (_, i) => `word${i} `);
    model.options.delayMs = 20;
    try {
      await page.getByLabel(/Send a message/).fill("a slow first answer");
      await page.getByRole("button", { name: "Send" }).click();
      const stop = page.getByRole("button", { name: "Stop" });
      await stop.waitFor();
      await expect.poll(() => page.url()).toMatch(/\/c\//);
      // Named from the start, and by its title as soon as the chat has one (the answer still written).
      expect(await page.locator("#page-heading").textContent()).toMatch(/^(New chat|a slow first answer)$/);
      await expect.poll(() => page.title()).toBe("a slow first answer – Hearth");
      expect(await page.locator("#page-heading").textContent()).toBe("a slow first answer");
      expect(await stop.isVisible()).toBe(true);
      await stop.click();
    } finally {
      model.options.words = undefined;
      model.options.delayMs = 2;
    }
  });
  it("keeps focus on Import chats while a file is imported, and shows what it takes", async () => {
    const { page } = desk;
    await page.goto(url);
    await page.getByLabel("Model").waitFor();
    await page.waitForLoadState("networkidle");
    const importButton = page.getByRole("button", { name: "Import chats" });
    const hint =
      "ChatGPT's data export (the .zip as downloaded, or its conversations.json), or a JSON export from Hearth or Open WebUI";
    expect(await description(importButton)).toBe(hint);
    expect(await page.getByText(hint).isVisible()).toBe(true);

    const [file] = files({ "chats.json": "[]" });
    // Listened for before the key is pressed: a chooser opened before Playwright intercepts it is lost.
    const choose = (chooser: FileChooser) => void chooser.setFiles(file!);
    page.on("filechooser", choose);
    try {
      await importButton.focus();
      await page.keyboard.press("Enter");
      await page
        .locator(".import-outcome p:not(.muted), #conversation-sidebar [role=alert]")
        .first()
        .waitFor();
    } finally {
      page.off("filechooser", choose);
    }
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Import chats");
  });

  it("puts focus on Stop while a regenerated or edited message is answered, then on the message box", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "Chat", exact: true }).click();
    await page.getByRole("button", { name: "+ New chat" }).click();
    await ask(page, "tell me something");
    const onStop = () =>
      page.evaluate(() => document.activeElement?.matches(".composer button.stop") ?? false);
    const last = page.locator("article.message.assistant").last();
    model.options.words = Array.from({ length: 60 }, (_, i) => `word${i} `);
    model.options.delayMs = 20;
    try {
      await page.getByRole("button", { name: "Regenerate" }).focus();
      await page.keyboard.press("Enter");
      await expect.poll(onStop).toBe(true);
      await expect.poll(() => last.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
      await expect.poll(() => focused(page)).toBe("message-input");

      await page.locator("article.message.user").getByRole("button", { name: "Edit" }).focus();
      await page.keyboard.press("Enter");
      await page.keyboard.type(" again");
      await page.getByRole("button", { name: "Save and send" }).focus();
      await page.keyboard.press("Enter");
      await expect.poll(onStop).toBe(true);
      await expect.poll(() => last.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
      await expect.poll(() => focused(page)).toBe("message-input");
    } finally {
      model.options.words = undefined;
      model.options.delayMs = 2;
    }
  });

  it("shows the message box's # hint, and ties a refused message's reason to the box until the message is changed", async () => {
    const { page } = desk;
    const ada = await signIn(stand.web.app, "ada");
    await setFilterWords(stand.web.app, ada, ["forbidden"]);
    try {
      await page.getByRole("link", { name: "Chat", exact: true }).click();
      await page.getByRole("button", { name: "+ New chat" }).click();
      const box = page.locator("#message-input");
      const mentions = "Type # and a knowledge base name to use it";
      expect(await description(box)).toBe(mentions);
      expect(await page.getByText(mentions).isVisible()).toBe(true);
      await box.fill("say forbidden things");
      await box.press("Enter");
      const alert = page.locator(".chat > [role=alert]");
      await alert.waitFor();
      await expect.poll(() => box.inputValue()).toBe("say forbidden things");
      expect(await box.getAttribute("aria-invalid")).toBe("true");
      const reason = (await alert.textContent())!;
      expect(await description(box)).toContain(reason);
      await box.press("End");
      await page.keyboard.type("!");
      await expect.poll(() => box.getAttribute("aria-invalid")).toBe(null);
      expect(await description(box)).toBe(mentions);
    } finally {
      await setFilterWords(stand.web.app, ada, []);
    }
  });
  it("shows a new API key with a Copy button that takes focus and says Copied", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByLabel("New API key").fill("laptop");
    await page.getByLabel("New API key").press("Enter");
    await expect.poll(() => focused(page)).toBe("Copy the API key");
    await page.keyboard.press("Enter");
    await page
      .getByRole("status")
      .filter({ hasText: /^Copied$/ })
      .waitFor();
    expect(await focused(page)).toBe("Copied");
  });

  it("approves a pending user from the Pending filter with focus kept and the change said, asks before making an administrator or disabling, and closes the keys panel with Escape", async () => {
    const { page } = desk;
    const ada = await signIn(stand.web.app, "ada");
    const signup = (signup: string) =>
      stand.web.app.inject({
        method: "PATCH",
        url: "/api/admin/settings",
        headers: ada.headers,
        payload: { signup },
      });
    const account = async (username: string) =>
      (await stand.web.app.inject({ url: "/api/admin/users", headers: ada.headers }))
        .json<{ users: Array<{ username: string; role: string; status: string }> }>()
        .users.find((user) => user.username === username)!;
    expect((await signup("approval")).statusCode).toBe(200);
    try {
      const dave = await stand.web.app.inject({
        method: "POST",
        url: "/api/auth/signup",
        payload: { username: "dave", password: "correct horse battery" },
      });
      expect(dave.statusCode).toBe(202);
    } finally {
      await signup("open");
    }
    await page.goto(`${url}/admin/users`);
    const filter = page.getByRole("button", { name: /^Pending \(\d+\)$/ });
    await expect.poll(() => filter.textContent()).toBe("Pending (1)");
    await filter.click();
    await expect.poll(() => page.locator("tr[data-user]").count()).toBe(1);

    // One arrow key approves dave (a select changes on it): said, and focus stays in the table's place.
    await page.getByLabel("Status: dave").focus();
    await page.keyboard.press("ArrowUp");
    await page.getByRole("status").filter({ hasText: "dave approved" }).waitFor();
    expect((await account("dave")).status).toBe("active");
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Pending (0)");
    // The pressed filter with no one left stays usable where focus is.
    await page.keyboard.press("Enter");
    await expect.poll(() => filter.getAttribute("aria-pressed")).toBe("false");
    await expect.poll(() => page.locator('tr[data-user="dave"]').count()).toBe(1);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Pending (0)");

    // Making an administrator asks first: an arrow key passing over it changes nothing.
    let asked = "";
    page.once("dialog", (dialog) => {
      asked = dialog.message();
      void dialog.dismiss();
    });
    const role = page.getByLabel("Role: dave");
    await role.focus();
    await page.keyboard.press("ArrowDown");
    await expect.poll(() => asked).toMatch(/dave/);
    expect(await role.inputValue()).toBe("user");
    expect((await account("dave")).role).toBe("user");
    // So does disabling an account; confirmed, it is done.
    page.once("dialog", (dialog) => {
      asked = dialog.message();
      void dialog.accept();
    });
    asked = "";
    await page.getByLabel("Status: dave").selectOption("disabled");
    await expect.poll(() => asked).toMatch(/dave/);
    await expect.poll(async () => (await account("dave")).status).toBe("disabled");

    // A user's keys panel closes with Escape, as the other panels do, focus back on its button.
    await page.getByRole("button", { name: "API keys: dave" }).click();
    await expect.poll(() => focused(page)).toBe("user-keys-title");
    await page.keyboard.press("Escape");
    await expect.poll(() => page.locator("#user-keys").count()).toBe(0);
    expect(await focused(page)).toBe("API keys: dave");

    // Making a knowledge base public asks first too.
    await newBase(page, "open-base");
    const visibility = page.getByLabel("Visibility", { exact: true });
    asked = "";
    page.once("dialog", (dialog) => {
      asked = dialog.message();
      void dialog.dismiss();
    });
    await visibility.selectOption("public");
    await expect.poll(() => asked).toMatch(/open-base/);
    expect(await visibility.inputValue()).toBe("private");
  });

  it("lets the keyboard scroll every box that scrolls, each a named region: tables and the example at 320 px, code in answers", async () => {
    const { page } = desk;
    try {
      await page.setViewportSize({ width: 320, height: 640 });
      for (const [path, region] of [
        ["/admin/usage", "region: Usage"],
        ["/admin/audit", "region: Audit log"],
        ["/admin/search", "region: Example configuration (hearth.yaml)"],
      ] as const) {
        await page.goto(`${url}${path}`);
        await page.locator("#page-heading").waitFor({ state: "attached" });
        await page.waitForLoadState("networkidle");
        const found = await scrollers(page);
        expect(found, path).toContain(region);
        expect(
          found.filter((scroller) => scroller.startsWith("unreachable")),
          path,
        ).toEqual([]);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
    await page.goto(url);
    model.options.words = [
      `Here:\n\n\`\`\`js\nconst longLine = "${"x".repeat(300)}";\n\`\`\`\n\n$$${"a_i + b_i + ".repeat(40)}z$$\n`,
    ];
    try {
      const answer = await ask(page, "a long line of code");
      await answer.locator("pre code").waitFor();
      await answer.locator(".katex-display").waitFor();
      const found = await scrollers(page);
      expect(found).toContain("region: Code, js");
      expect(found).toContain("region: Formula");
      expect(found.filter((scroller) => scroller.startsWith("unreachable"))).toEqual([]);
    } finally {
      model.options.words = undefined;
    }
  });
});
