import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeModelService } from "../../packages/web/test/support/fake-model-service.js";
import { signIn as signInOverApi } from "../../packages/web/test/support/web-client.js";
import type { WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type Browser, hasChromium, launchBrowser, screenshot, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * What a conversation keeps when things go wrong, in a real Chromium on the built UI: the previous
 * answer after a regeneration that fails, an error in the reader's language after a reload, the
 * typed message across an expired sign-in; and web search offered only when an engine is configured.
 */
describe.skipIf(!hasChromium)("what the chat keeps, in the browser", () => {
  let stand: UiStand;
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  let desk: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 5 } });
    ({ model, web, url } = stand);
    desk = await stand.browser({ locale: "en-US" });
    await signUpInUi(desk.page, url, "kept");
  });
  afterAll(() => stand?.close());

  const ask = async (browser: Browser, text: string) => {
    const { page } = browser;
    await page.getByLabel(/Send a message|输入消息/).fill(text);
    await page.getByRole("button", { name: /^(Send|发送)$/ }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).not.toBe("streaming");
    return answer;
  };

  it("keeps the previous answer when Regenerate fails, and says so", async () => {
    const { page } = desk;
    const answer = await ask(desk, "a good question");
    await expect.poll(() => answer.getAttribute("data-status")).toBe("done");
    expect(await answer.textContent()).toContain("You said: a good question");
    // The model service no longer has the model: the regeneration fails before it answers.
    model.options.models = ["another"];
    try {
      await page.getByRole("button", { name: "Regenerate" }).click();
      await expect
        .poll(() => page.getByRole("alert").allTextContents())
        .toContainEqual(expect.stringContaining("The previous answer is kept"));
      const shown = page.locator("article.message.assistant");
      await expect.poll(() => shown.count()).toBe(1);
      expect(await shown.getAttribute("data-status")).toBe("done");
      expect(await shown.textContent()).toContain("You said: a good question");
      await screenshot(page, "kept-regenerate-failed");
      model.options.models = ["tiny-story"];
      // After a reload the stored conversation still holds it.
      await page.reload();
      await expect
        .poll(() => page.locator("article.message.assistant").textContent())
        .toContain("You said: a good question");
      expect(await page.locator("article.message.assistant").getAttribute("data-status")).toBe("done");
      // The model breaks off before its first word: an edit that fails leaves the conversation as it was and gives the edit back to its box.
      model.options.failAfterWords = 0;
      await page.getByRole("button", { name: "Edit" }).click();
      await page.locator(".edit-form textarea").fill("a changed question");
      await page.getByRole("button", { name: "Save and send" }).click();
      await expect
        .poll(() => page.getByRole("alert").allTextContents())
        .toContainEqual(expect.stringContaining("your edit is back in its box"));
      expect(await page.locator(".edit-form textarea").inputValue()).toBe("a changed question");
      expect(await page.locator("article.message.assistant").textContent()).toContain(
        "You said: a good question",
      );
    } finally {
      model.options.models = ["tiny-story"];
      model.options.failAfterWords = undefined;
    }
  });

  it("shows a stored error in the reader's language after a reload, as it did live", async () => {
    const zh = await launchBrowser({ locale: "zh-CN" });
    try {
      const { page } = zh;
      await signUpInUi(page, url, "zhu");
      // The picker has chosen the model before the model service loses it (else, on a slow
      // machine, it lists only "another" and the question is answered).
      await expect.poll(() => page.getByRole("combobox", { name: "模型" }).inputValue()).toBe("tiny-story");
      model.options.models = ["another"];
      const answer = await ask(zh, "会失败的问题");
      expect(await answer.getAttribute("data-status")).toBe("error");
      const live = await answer.locator(".badge.error").textContent();
      const stored = await web.db
        .selectFrom("messages")
        .select(["error", "error_code"])
        .where("status", "=", "error")
        .orderBy("created_at", "desc")
        .executeTakeFirstOrThrow();
      expect(live).not.toContain(stored.error!);
      model.options.models = ["tiny-story"];
      await page.reload();
      const reloaded = page.locator("article.message.assistant .badge.error");
      await reloaded.waitFor();
      expect(await reloaded.textContent()).toBe(live);
      expect(live).toMatch(/^错误：\p{Script=Han}/u);
      expect(stored.error_code).toBeTruthy();
      await screenshot(page, "kept-zh-stored-error");
    } finally {
      model.options.models = ["tiny-story"];
      await zh.close();
    }
  });

  it("says that the sign-in expired, and keeps the typed message for after signing in again", async () => {
    const zh = await launchBrowser({ locale: "zh-CN" });
    try {
      const { page } = zh;
      await signUpInUi(page, url, "lapse");
      await ask(zh, "第一条消息");
      // While a message is being typed, the session ends on the server (it expired, or an
      // administrator signed the account out).
      await page.getByLabel("输入消息", { exact: false }).fill("一条很长的、打了很久的消息");
      const account = await web.db
        .selectFrom("users")
        .select("id")
        .where("username", "=", "lapse")
        .executeTakeFirstOrThrow();
      await web.db.deleteFrom("sessions").where("user_id", "=", account.id).execute();
      // A sign-in (anyone's) clears the service's short-lived auth cache, as every change of
      // access does (else its 10 s TTL would); a refused one changes nothing, and clears nothing.
      await signInOverApi(web.app, "kept");
      // The page learns of the expiry from Enter, or first from a request of its own (the
      // conversation list refreshing after the first answer): either way it asks for a sign-in.
      const signIn = page.locator("#auth-title");
      await Promise.race([
        page
          .getByLabel("输入消息", { exact: false })
          .press("Enter")
          .catch(() => {}),
        signIn.waitFor(),
      ]);
      await signIn.waitFor();
      await expect
        .poll(() => page.getByRole("alert").allTextContents())
        .toContain("登录已过期，请重新登录；尚未发送的消息已为你保留。");
      await screenshot(page, "kept-session-expired");
      await page.getByLabel("用户名").fill("lapse");
      await page.getByLabel(/^密码$/).fill("correct horse battery");
      await page.getByRole("button", { name: /^登录$/ }).click();
      const box = page.getByLabel("输入消息", { exact: false });
      await box.waitFor();
      await expect.poll(() => box.inputValue()).toBe("一条很长的、打了很久的消息");
      // Sent, the draft is gone: a reload shows an empty box.
      await box.press("Enter");
      await expect
        .poll(() => page.locator("article.message.assistant").last().getAttribute("data-status"))
        .toBe("done");
      await page.reload();
      await page.locator("article.message.assistant").first().waitFor();
      expect(await page.getByLabel("输入消息", { exact: false }).inputValue()).toBe("");
    } finally {
      await zh.close();
    }
  });
});
