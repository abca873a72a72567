import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeModelService } from "../../packages/web/test/support/fake-model-service.js";
import { type Browser, hasChromium, screenshot } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * Message versions in a real Chromium on the built UI: an edited message keeps the one it replaced
 * as a version ("‹ 1 / 2 ›" under it), which the keyboard switches back to, the old answer with it;
 * the next turn goes on from the version shown; the buttons are off while an answer is written; a
 * regeneration keeps the previous answer likewise, a stopped one putting it back; an answer is rated
 * (thumbs down with a comment) on its version, kept after a reload, and read under Admin → Feedback.
 * A chat is branched from an answer into a new chat that goes on on its own.
 */
describe.skipIf(!hasChromium)("message versions, in the browser", () => {
  let stand: UiStand;
  let model: FakeModelService;
  let desk: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 5 } });
    ({ model } = stand);
    desk = await stand.signedIn("versions", { locale: "en-US" });
  });
  afterAll(() => stand?.close());

  const answers = () => desk.page.locator("article.message.assistant");
  const questions = () => desk.page.locator("article.message.user");
  /** What the page's live regions say now (screen readers hear these), the empty ones left out. */
  const spoken = (browser: Browser) =>
    browser.page
      .locator('[role="status"], [role="alert"], [aria-live]')
      .evaluateAll((regions) => regions.map((region) => region.textContent?.trim() ?? "").filter(Boolean));
  const settled = async () =>
    expect.poll(() => answers().last().getAttribute("data-status"), { timeout: 10_000 }).toBe("done");

  it("edits a message, shows 2 / 2, switches to 1 / 2 with the old answer, and goes on from the version shown", async () => {
    const { page } = desk;
    await page.getByLabel(/Send a message/).fill("What is a hearth?");
    await page.getByRole("button", { name: "Send" }).click();
    await settled();
    await questions().first().getByRole("button", { name: "Edit" }).click();
    await page.getByRole("textbox", { name: "Edit" }).fill("What is a chimney?");
    await page.getByRole("button", { name: "Save and send" }).click();
    await expect.poll(() => answers().first().textContent()).toContain("You said: What is a chimney?");
    await settled();
    // "‹ 2 / 2 ›" under the edited message, named for screen readers.
    const versions = questions().first().getByRole("group", { name: "Version 2 of 2" });
    await versions.waitFor();
    expect(await versions.textContent()).toContain("2 / 2");
    expect(await versions.getByRole("button", { name: "Next version" }).isDisabled()).toBe(true);
    await screenshot(page, "versions-edited");
    // With the keyboard: version 1, the message as it was and its answer.
    await versions.getByRole("button", { name: "Previous version" }).focus();
    await page.keyboard.press("Enter");
    const first = questions().first().getByRole("group", { name: "Version 1 of 2" });
    await first.waitFor();
    expect(await first.textContent()).toContain("1 / 2");
    expect(await questions().first().locator(".user-text").textContent()).toBe("What is a hearth?");
    expect(await answers().first().textContent()).toContain("You said: What is a hearth?");
    expect(await page.getByText("What is a chimney?").count()).toBe(0);
    // Focus stays on the version buttons (the one pressed is off at the first version: the other).
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute("aria-label")))
      .toBe("Next version");
    // The next turn goes on from the version shown: that path is what the model is sent.
    await page.getByLabel(/Send a message/).fill("And its history?");
    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => answers().count()).toBe(2);
    await settled();
    expect(model.requests.at(-1)!.messages.map((m) => m.content)).toEqual([
      "What is a hearth?",
      "Hello from the model. You said: What is a hearth?",
      "And its history?",
    ]);
    // After a reload, the same.
    await page.reload();
    await questions().first().getByRole("group", { name: "Version 1 of 2" }).waitFor();
    expect(await answers().count()).toBe(2);
    // And back to version 2.
    await questions().first().getByRole("button", { name: "Next version" }).click();
    await questions().first().getByRole("group", { name: "Version 2 of 2" }).waitFor();
    expect(await answers().count()).toBe(1);
    expect(await answers().first().textContent()).toContain("You said: What is a chimney?");
    // While an answer is written, the version buttons are off.
    model.options.delayMs = 60;
    model.options.words = Array.from({ length: 200 }, (_, i) => ` w${i}`);
    try {
      await page.getByLabel(/Send a message/).fill("A long one, please");
      await page.getByRole("button", { name: "Send" }).click();
      await expect.poll(() => answers().last().textContent()).toContain("w3");
      expect(await questions().first().getByRole("button", { name: "Previous version" }).isDisabled()).toBe(
        true,
      );
      await page.getByRole("button", { name: "Stop" }).click();
      await expect.poll(() => answers().last().getAttribute("data-status")).toBe("stopped");
      // A stopped answer is said to be stopped, not complete.
      await expect.poll(() => spoken(desk)).toContain("The answer was stopped.");
      expect(await spoken(desk)).not.toContain("The answer is complete.");
      expect(await questions().first().getByRole("button", { name: "Previous version" }).isDisabled()).toBe(
        false,
      );
    } finally {
      model.options.delayMs = 5;
      model.options.words = undefined;
    }
  });

  it("keeps the previous answer when regenerating, as a version under the answer, a stopped regeneration too", async () => {
    const { page } = desk;
    await page.getByRole("button", { name: "+ New chat" }).click();
    model.options.words = ["First", " take."];
    try {
      await page.getByLabel(/Send a message/).fill("Tell me a story");
      await page.getByRole("button", { name: "Send" }).click();
      await settled();
    } finally {
      model.options.words = undefined;
    }
    await page.getByRole("button", { name: "Regenerate" }).click();
    await expect.poll(() => answers().last().textContent()).toContain("Hello from the model.");
    await settled();
    const under = answers().last().getByRole("group", { name: "Version 2 of 2" });
    await under.waitFor();
    // A regeneration stopped keeps the previous answer, as it was.
    model.options.delayMs = 60;
    model.options.words = Array.from({ length: 200 }, (_, i) => ` w${i}`);
    try {
      await page.getByRole("button", { name: "Regenerate" }).click();
      await expect.poll(() => answers().last().textContent()).toContain("w3");
      await page.getByRole("button", { name: "Stop" }).click();
    } finally {
      model.options.delayMs = 5;
      model.options.words = undefined;
    }
    // Stopped: the previous answer is kept, still version 2 of 2, and only that is said.
    await answers().last().getByRole("group", { name: "Version 2 of 2" }).waitFor();
    await expect.poll(() => spoken(desk)).toContain("Stopped: the previous answer is kept.");
    expect(await spoken(desk)).not.toContain("The answer is complete.");
    await answers().last().getByRole("button", { name: "Previous version" }).click();
    await answers().last().getByRole("group", { name: "Version 1 of 2" }).waitFor();
    expect(await answers().last().textContent()).toContain("First take. You said: Tell me a story");

    // Rated: thumbs down opens a box for a comment (focused), saved and said; focus goes back to the thumb.
    const pressed = (name: string) =>
      answers().last().getByRole("button", { name, exact: true }).getAttribute("aria-pressed");
    await answers().last().getByRole("button", { name: "Bad answer" }).click();
    const box = page.getByRole("textbox", { name: "What was wrong with it? (optional)" });
    await expect.poll(() => box.evaluate((element) => element === document.activeElement)).toBe(true);
    expect(await pressed("Bad answer")).toBe("true");
    await box.fill("Too short, and it ignores the question.");
    await screenshot(page, "answer-feedback-comment");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect.poll(() => spoken(desk)).toContain("Thanks for your feedback.");
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute("aria-label")))
      .toBe("Bad answer");
    await screenshot(page, "answer-feedback");
    // Kept after a reload, with the version it was given to; the other version is not rated.
    await page.reload();
    await answers().last().getByRole("group", { name: "Version 1 of 2" }).waitFor();
    expect([await pressed("Bad answer"), await pressed("Good answer")]).toEqual(["true", "false"]);
    expect(await answers().last().textContent()).toContain(
      "Your comment: Too short, and it ignores the question.",
    );
    // The rating changed, and changed back, keeps its comment, offered in the box each time.
    for (const [thumb, question] of [
      ["Good answer", "What was good about it? (optional)"],
      ["Bad answer", "What was wrong with it? (optional)"],
    ] as const) {
      await answers().last().getByRole("button", { name: thumb }).click();
      const offered = page.getByRole("textbox", { name: question });
      await expect.poll(() => offered.inputValue()).toBe("Too short, and it ignores the question.");
      await offered.press("Escape");
      expect(await pressed(thumb)).toBe("true");
    }
    await page.reload();
    expect(await answers().last().textContent()).toContain(
      "Your comment: Too short, and it ignores the question.",
    );
    await answers().last().getByRole("button", { name: "Next version" }).click();
    await answers().last().getByRole("group", { name: "Version 2 of 2" }).waitFor();
    expect(await pressed("Bad answer")).toBe("false");
    // Thumbs up there, the box skipped with Escape; pressed again, the rating is taken back.
    await answers().last().getByRole("button", { name: "Good answer" }).click();
    await page.getByRole("textbox", { name: "What was good about it? (optional)" }).press("Escape");
    await expect.poll(() => page.getByRole("textbox", { name: /optional/ }).count()).toBe(0);
    expect(await pressed("Good answer")).toBe("true");
    await answers().last().getByRole("button", { name: "Good answer" }).click();
    await expect.poll(() => pressed("Good answer")).toBe("false");
    await page.reload();
    await answers().last().getByRole("group", { name: "Version 2 of 2" }).waitFor();
    expect(await pressed("Good answer")).toBe("false");

    // The administrator (this first account) reads it under Admin → Feedback.
    await page.goto(`${stand.url}/admin/feedback`);
    // Its periods read as English does ("Last 24 hours", not "Last 1 days").
    await expect
      .poll(() => page.getByLabel("Period").locator("option").allTextContents())
      .toEqual(["Last 24 hours", "Last 7 days", "Last 30 days", "Last 90 days", "Last 366 days"]);
    const tables = page.locator("section[aria-labelledby=feedback-title] table");
    await expect.poll(() => tables.first().locator("tbody tr").count()).toBe(1);
    expect(await tables.first().locator("tbody td").allTextContents()).toEqual([
      "tiny-story",
      "0",
      "1",
      "0%",
    ]);
    const comment = tables.nth(1).locator("tbody tr");
    expect(await comment.count()).toBe(1);
    const cells = await comment.locator("td").allTextContents();
    expect(cells.slice(1, 5)).toEqual([
      "versions",
      "tiny-story",
      "Bad",
      "Too short, and it ignores the question.",
    ]);
    await comment.getByText("Show the start of the answer").click();
    await expect
      .poll(() => comment.locator("details").textContent())
      .toContain("First take. You said: Tell me a story");
    await screenshot(page, "admin-feedback");
  });

  it("says only that a regeneration stopped, in Chinese too", async () => {
    const zh = await stand.signedIn("banben", { locale: "zh-CN" });
    const { page } = zh;
    const replies = () => page.locator("article.message.assistant");
    await page.getByLabel(/输入消息/).fill("讲个故事");
    await page.getByRole("button", { name: "发送" }).click();
    await expect.poll(() => replies().last().getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    model.options.delayMs = 60;
    model.options.words = Array.from({ length: 200 }, (_, i) => ` w${i}`);
    try {
      await page.getByRole("button", { name: "重新生成" }).click();
      await expect.poll(() => replies().last().textContent()).toContain("w3");
      await page.getByRole("button", { name: "停止" }).click();
    } finally {
      model.options.delayMs = 5;
      model.options.words = undefined;
    }
    await expect.poll(() => spoken(zh)).toContain("已停止，已保留之前的回答。");
    expect(await spoken(zh)).not.toContain("回答已完成。");
  });
  it("branches a chat from an answer into a new chat that goes on on its own, in Chinese", async () => {
    const zh = await stand.signedIn("fenzhi", { locale: "zh-CN" });
    const { page } = zh;
    const replies = () => page.locator("article.message.assistant");
    for (const question of ["第一个问题", "第二个问题"]) {
      await page.getByLabel(/输入消息/).fill(question);
      await page.getByRole("button", { name: "发送" }).click();
      await expect.poll(() => replies().last().getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    }
    await expect.poll(() => replies().count()).toBe(2);
    const source = page.url();
    await replies().first().getByRole("button", { name: "从此处新建分支对话" }).click();
    await expect.poll(() => page.url()).not.toBe(source);
    expect(page.url()).toMatch(/\/c\/[^/]+$/);
    // The new chat holds the first question and its answer, titled as a branch of the first chat;
    // focus is at its heading, as on opening a conversation from the list.
    await expect.poll(() => page.locator("article.message").count()).toBe(2);
    await expect
      .poll(() =>
        page.evaluate(
          () => document.activeElement?.id === "page-heading" && document.activeElement.textContent,
        ),
      )
      .toMatch(/（分支）$/);
    expect(await page.locator("article.message.user").allTextContents()).toEqual([
      expect.stringContaining("第一个问题"),
    ]);
    const list = page.getByRole("navigation", { name: /对话/ });
    await list
      .getByRole("link", { name: /（分支）$/ })
      .first()
      .waitFor();
    // It goes on on its own; the first chat keeps its four messages.
    await page.getByLabel(/输入消息/).fill("分支里的问题");
    await page.getByRole("button", { name: "发送" }).click();
    await expect.poll(() => replies().last().getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    expect(model.requests.at(-1)!.messages.map((m) => m.content)).toEqual([
      "第一个问题",
      "Hello from the model. You said: 第一个问题",
      "分支里的问题",
    ]);
    await page.goto(source);
    await expect.poll(() => page.locator("article.message").count()).toBe(4);
  });
});
