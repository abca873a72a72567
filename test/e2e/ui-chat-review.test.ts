import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeModelService } from "../../packages/web/test/support/fake-model-service.js";
import { type Browser, hasChromium } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * What a review of the chat in Chromium found: an edit box that Enter did not send, a chat's web
 * search mode forgotten, a heading saying "New chat" while the first answer streams, a conversation
 * opened just short of its end, and no keyboard shortcuts.
 */
describe.skipIf(!hasChromium)("the chat, as reviewed in the browser", () => {
  let stand: UiStand;
  let model: FakeModelService;
  let desk: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 2 }, knowledgeAndSearch: true });
    model = stand.model;
    desk = await stand.signedIn("root", { locale: "en-US" });
    await desk.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stand.url });
  });
  afterAll(() => stand?.close());

  const box = () => desk.page.getByLabel(/Send a message/);
  const lastAnswer = () => desk.page.locator("article.message.assistant").last();
  const ask = async (text: string) => {
    await box().fill(text);
    await desk.page.keyboard.press("Enter");
    await expect.poll(() => lastAnswer().getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
  };
  const newChat = async () => {
    await desk.page.getByRole("button", { name: "+ New chat" }).click();
    await desk.page.getByRole("heading", { name: "New chat" }).waitFor({ state: "attached" });
  };

  it("sends an edited message on Enter, as the message box does; Shift+Enter is a new line, Escape cancels", async () => {
    const { page } = desk;
    await ask("first question");
    const question = page.locator("article.message.user").last();
    await question.getByRole("button", { name: "Edit" }).click();
    const edit = question.getByRole("textbox", { name: "Edit" });
    await edit.press("Escape");
    await edit.waitFor({ state: "detached" });
    await question.getByRole("button", { name: "Edit" }).click();
    await edit.fill("changed");
    await edit.press("Shift+Enter");
    await edit.pressSequentially("second line");
    expect(await edit.inputValue()).toBe("changed\nsecond line");
    await edit.press("Enter");
    await edit.waitFor({ state: "detached" });
    await expect
      .poll(() => page.locator("article.message.user").last().locator(".user-text").textContent())
      .toBe("changed\nsecond line");
    await expect.poll(() => lastAnswer().getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
  });

  it("shows the new chat's title in its heading and tab while the first answer is still streaming", async () => {
    const { page } = desk;
    await newChat();
    model.options.words = Array.from({ length: 80 }, (_, i) => `word${i} `);
    model.options.delayMs = 50;
    try {
      await box().fill("Budget for the garden shed");
      await page.keyboard.press("Enter");
      await expect.poll(() => lastAnswer().getAttribute("data-status")).toBe("streaming");
      await expect.poll(() => page.title()).toBe("Budget for the garden shed – Hearth");
      expect(await page.locator("#page-heading").textContent()).toBe("Budget for the garden shed");
      expect(await lastAnswer().getAttribute("data-status")).toBe("streaming");
      await expect.poll(() => lastAnswer().getAttribute("data-status"), { timeout: 15_000 }).toBe("done");
    } finally {
      model.options.words = undefined;
      model.options.delayMs = 2;
    }
  });

  it("opens a chat with the web search mode it was sent with", async () => {
    const { page } = desk;
    await newChat();
    const search = page.getByRole("combobox", { name: "Web search" });
    await search.selectOption("on");
    await ask("search the web for this");
    const url = page.url();
    await newChat();
    await search.selectOption("off");
    await page.goto(url);
    await lastAnswer().waitFor();
    await expect.poll(() => search.inputValue()).toBe("on");
    // Changed in the open chat: kept at once, before any message.
    await search.selectOption("auto");
    await newChat();
    await page.goto(url);
    await lastAnswer().waitFor();
    await expect.poll(() => search.inputValue()).toBe("auto");
    await search.selectOption("off");
  });

  it("opens a long conversation at its very end once its formulas and diagrams are laid out", async () => {
    const { page } = desk;
    const filler = Array.from({ length: 12 }, (_, i) => `Paragraph ${i} of a long answer.`).join("\n\n");
    const last = [
      "$$\\sum_{i=1}^{n} \\frac{a_i}{b_i}$$",
      "```mermaid\nflowchart TD\n  A --> B\n  B --> C\n  C --> D\n  D --> E\n```",
      "```ts\nconst a = 1;\n```",
      "The end.",
    ].join("\n\n");
    const messages = Array.from({ length: 8 }, (_, i) => [
      { role: "user", content: `Question ${i}` },
      { role: "assistant", content: i === 7 ? `${filler}\n\n${last}` : filler },
    ]).flat();
    const id = await page.evaluate(
      async (body) => {
        const csrf = decodeURIComponent(document.cookie.match(/hearth_csrf=([^;]+)/)![1]!);
        const response = await fetch("/api/conversations/import", {
          method: "POST",
          headers: { "x-csrf-token": csrf, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        return ((await response.json()) as { conversations: Array<{ id: string }> }).conversations[0]!.id;
      },
      { title: "Long one", messages },
    );
    await page.goto(`${stand.url}/c/${id}`);
    await lastAnswer().locator(".diagram-view svg").waitFor({ timeout: 15_000 });
    const gap = () =>
      page.locator(".messages").evaluate((list) => list.scrollHeight - list.scrollTop - list.clientHeight);
    await expect.poll(gap).toBeLessThan(2);
    // Its buttons are above the composer, not under it.
    const regenerate = lastAnswer().getByRole("button", { name: "Regenerate" });
    const list = await page.locator(".messages").boundingBox();
    const button = await regenerate.boundingBox();
    expect(button!.y + button!.height).toBeLessThanOrEqual(list!.y + list!.height + 1);
  });

  it("has ChatGPT's keyboard shortcuts, listed in a dialog that Escape closes; Skip to content goes to the message box", async () => {
    const { page } = desk;
    await ask("shortcut answer");
    const url = page.url();
    expect(url).toContain("/c/");
    // Ctrl+Shift+C: the last answer's Markdown, said copied.
    await page.locator("#page-heading").focus();
    await page.keyboard.press("Control+Shift+C");
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toMatch(/shortcut answer/);
    await page.getByRole("status").filter({ hasText: "Last answer copied" }).waitFor();
    // Ctrl+Shift+O: a new chat, its message box focused.
    await page.keyboard.press("Control+Shift+O");
    await expect.poll(() => new URL(page.url()).pathname).toBe("/");
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("message-input");
    // Shift+Esc: the message box, from anywhere.
    await page.getByRole("button", { name: "+ New chat" }).focus();
    await page.keyboard.press("Shift+Escape");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("message-input");
    // Ctrl+/: the list, a dialog named by its heading; Escape closes it.
    await page.keyboard.press("Control+/");
    const dialog = page.getByRole("dialog", { name: "Keyboard shortcuts" });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("Open a new chat");
    expect(await dialog.locator("kbd").first().textContent()).toBe("Ctrl");
    // While a modal dialog is open the page behind it is inert: no shortcut acts on it.
    await page.goto(url);
    await lastAnswer().waitFor();
    await page.keyboard.press("Control+/");
    await dialog.waitFor();
    await page.keyboard.press("Control+Shift+O");
    await page.waitForTimeout(300);
    expect(new URL(page.url()).pathname).toBe(new URL(url).pathname);
    expect(await dialog.isVisible()).toBe(true);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    // Also in the header's menu.
    await page.getByRole("button", { name: "Keyboard shortcuts" }).click();
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "detached" });
    // Skip to content, the first stop of the page, goes to the message box.
    await page.goto(url);
    await lastAnswer().waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("message-input");
  });

  it("says the shortcuts in Chinese", async () => {
    const zh = await stand.signedIn("zhuser", { locale: "zh-CN" });
    await zh.page.keyboard.press("Control+/");
    const dialog = zh.page.getByRole("dialog", { name: "键盘快捷键" });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("打开新对话");
    expect(await dialog.textContent()).toContain("复制最后一条回答");
  });
});
