import type { Locator } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeModelService } from "../../packages/web/test/support/fake-model-service.js";
import { type Browser, hasChromium, screenshot } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * Continue (ChatGPT's "Continue generating") in a real Chromium on the built UI: an answer the model
 * cut off at the length limit, or that was stopped, has Continue under it; the model goes on from
 * where it ends, and the same answer grows as it streams, with Stop. The model service is a local
 * stand-in that goes on with an answer it is sent last (as the model service does).
 */
describe.skipIf(!hasChromium)("continuing an answer in the browser", () => {
  let stand: UiStand;
  let model: FakeModelService;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 5 } });
    ({ model } = stand);
  });
  afterAll(() => stand?.close());

  /** An answer's text as it reads (its Markdown rendered). */
  const textOf = async (answer: Locator) => ((await answer.locator(".markdown").textContent()) ?? "").trim();

  /** Sends a message from the composer and waits for its answer to end. */
  const ask = async ({ page }: Browser, text: string) => {
    await page.getByLabel(/Send a message|输入消息/).fill(text);
    await page.getByRole("button", { name: /^(Send|发送)$/ }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    return answer;
  };

  it("goes on with an answer cut off at the length limit, in the same answer, stopped and continued again", async () => {
    const browser = await stand.signedIn("mia");
    const { page } = browser;
    const answers = page.locator("article.message.assistant");
    const continueButton = () => answers.last().getByRole("button", { name: "Continue" });
    try {
      // A whole answer has nothing more to write: no Continue.
      await ask(browser, "a short one");
      expect(await continueButton().count()).toBe(0);

      model.options.finishReason = "length";
      const answer = await ask(browser, "a long story");
      await expect
        .poll(() => answer.locator(".length-notice").textContent())
        .toBe("Cut off at the length limit.");
      const begun = await textOf(answer);
      expect(begun).toContain("You said: a long story");
      // Only the last answer goes on.
      expect(await answers.first().getByRole("button", { name: "Continue" }).count()).toBe(0);

      // It streams into the same answer, with Stop; stopped, it says so and may go on again.
      model.options.finishReason = undefined;
      model.options.continuation = Array.from({ length: 300 }, (_, i) => ` more${i}`);
      model.options.delayMs = 30;
      await continueButton().click();
      await expect.poll(() => textOf(answer)).toContain("more3");
      expect(await answers.count()).toBe(2);
      expect(await answer.getAttribute("data-status")).toBe("streaming");
      expect(await answer.locator(".length-notice").count()).toBe(0);
      await page.getByRole("button", { name: "Stop" }).click();
      await expect.poll(() => answer.getAttribute("data-status")).toBe("stopped");
      const stopped = await textOf(answer);
      expect(stopped.startsWith(`${begun} more0 more1 more2 more3`)).toBe(true);
      expect(stopped).not.toContain("more299");
      await screenshot(page, "ui-continue-stopped");

      model.options.continuation = [" and", " they", " lived", " happily."];
      model.options.delayMs = 5;
      await continueButton().click();
      await expect.poll(() => answer.getAttribute("data-status")).toBe("done");
      await expect.poll(() => textOf(answer)).toBe(`${stopped} and they lived happily.`);
      // Whole now: no notice, no Continue; one answer, as stored after a reload too.
      expect(await answer.locator(".length-notice").count()).toBe(0);
      expect(await continueButton().count()).toBe(0);
      await page.reload();
      await expect.poll(() => textOf(answers.last())).toBe(`${stopped} and they lived happily.`);
      expect(await answers.count()).toBe(2);
      expect(await continueButton().count()).toBe(0);
    } finally {
      model.options.finishReason = undefined;
      model.options.continuation = undefined;
      model.options.delayMs = 5;
    }
  });

  it("says 继续生成 in Chinese, and keeps the answer as it was when the model cannot go on", async () => {
    const browser = await stand.signedIn("lin", { locale: "zh-CN" });
    const { page } = browser;
    try {
      model.options.finishReason = "length";
      const answer = await ask(browser, "讲一个很长的故事");
      const before = await textOf(answer);
      model.options.finishReason = undefined;
      model.options.refusal = {
        status: 503,
        code: "SERVICE_NOT_READY",
        message: "the model service is starting",
      };
      await answer.getByRole("button", { name: "继续生成" }).click();
      // Said beside the composer; the answer as it was, cut off, with 继续生成 to try again.
      await expect
        .poll(() => page.getByRole("alert").allTextContents())
        .toContainEqual(expect.stringContaining("未能继续生成"));
      expect(await textOf(answer)).toBe(before);
      expect(await answer.getAttribute("data-status")).toBe("done");
      expect(await answer.locator(".length-notice").textContent()).toBe("已达到长度上限，回答被截断。");
      model.options.refusal = undefined;
      await answer.getByRole("button", { name: "继续生成" }).click();
      await expect.poll(() => textOf(answer)).toBe(`${before} and so on.`);
      await expect.poll(() => answer.getAttribute("data-status")).toBe("done");
    } finally {
      model.options.finishReason = undefined;
      model.options.refusal = undefined;
    }
  });
});
