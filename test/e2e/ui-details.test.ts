import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeModelService } from "../../packages/web/test/support/fake-model-service.js";
import { setFilterWords, signIn } from "../../packages/web/test/support/web-client.js";
import type { WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type Browser, hasChromium, launchBrowser, screenshot, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * The chat UI's details a reviewer found wanting, in a real Chromium on the built UI: a phone-width
 * page that stays on the screen with code and math in an answer, server errors in the reader's
 * language, focus after Stop and around rename, and no empty conversation left by a refused message.
 * The model service is a local stand-in (its answers are set per test).
 */
describe.skipIf(!hasChromium)("chat UI details in the browser", () => {
  let stand: UiStand;
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  /** The first account (admin), on a phone in Chinese. */
  let phone: Browser;
  /** A second account on a desktop browser in English. */
  let desk: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 5 } });
    ({ model, web, url } = stand);
    phone = await stand.browser({ locale: "zh-CN", width: 390, height: 844 });
    desk = await stand.browser({ locale: "en-US" });
    await signUpInUi(phone.page, url, "root");
    await signUpInUi(desk.page, url, "dana");
  });
  afterAll(() => stand?.close());

  /** Sends a message from the composer and waits for the answer to end. */
  const ask = async (browser: Browser, text: string, send = /^(Send|发送)$/) => {
    const { page } = browser;
    await page.getByLabel(/Send a message|输入消息/).fill(text);
    await page.getByRole("button", { name: send }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    return answer;
  };

  it("keeps a phone-width chat on the screen when an answer holds a long code line and display math", async () => {
    const { page } = phone;
    model.options.words = [
      `Here:\n\n\`\`\`js\nconst longLine = "${"x".repeat(160)}";\n\`\`\`\n\n$$\\sum_{i=1}^{n} ${"a_i + b_i + c_i + d_i + ".repeat(8)}z$$\n`,
    ];
    try {
      const answer = await ask(phone, "code and math");
      await answer.locator("pre code").waitFor();
      await answer.locator(".katex-display").waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      // The code scrolls in its own box, and the Send button is on the screen.
      expect(await answer.locator("pre code").evaluate((code) => code.scrollWidth > code.clientWidth)).toBe(
        true,
      );
      const send = await page.getByRole("button", { name: "发送" }).boundingBox();
      expect(send!.x + send!.width).toBeLessThanOrEqual(390);
      await screenshot(page, "ui-details-phone-code");
    } finally {
      model.options.words = undefined;
    }
  });

  it("keeps the admin tables inside a phone's width (they scroll in their own box)", async () => {
    const { page } = phone;
    await page.getByRole("link", { name: "管理" }).click();
    await page.getByRole("tab", { name: "审计日志" }).click();
    await expect.poll(() => page.locator('tr[data-action="user.signup"]').count()).toBe(2);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.getByRole("link", { name: "聊天" }).click();
  });

  it("sets a new chat's system prompt, sent with its turns, and pins the chat from its menu by keyboard", async () => {
    const { page } = phone;
    const line = page.locator("details.system-prompt > summary");
    await expect.poll(() => line.textContent()).toBe("系统提示词：无");
    await line.click();
    await page.getByRole("textbox", { name: "系统提示词" }).fill("用正式的中文回答。");
    await page.getByRole("button", { name: "保存", exact: true }).click();
    await expect.poll(() => line.textContent()).toBe("系统提示词：用正式的中文回答。");
    await ask(phone, "你好");
    expect(model.requests.at(-1)!.messages[0]).toEqual({ role: "system", content: "用正式的中文回答。" });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // Pinned from the drawer's menu with the keyboard: listed under 已置顶, its menu button focused.
    await page.getByRole("button", { name: "对话", exact: true }).click();
    await page.getByLabel("“你好”的更多操作").click();
    await page.getByRole("button", { name: "置顶", exact: true }).press("Enter");
    const pinned = page.getByRole("list", { name: "已置顶" });
    await expect.poll(() => pinned.getByRole("link", { name: "你好" }).count()).toBe(1);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute("aria-label")))
      .toBe("“你好”的更多操作");
    await screenshot(page, "ui-details-pinned");
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByRole("navigation", { name: "对话" }).isVisible()).toBe(false);
  });

  it("says a wrong password in Chinese on a Chinese browser", async () => {
    const visitor = await launchBrowser({ locale: "zh-CN" });
    try {
      const { page } = visitor;
      const missing: string[] = [];
      page.on("response", (response) => {
        if (response.status() === 404) missing.push(response.url());
      });
      await page.goto(url);
      await page.locator("#auth-title").waitFor();
      // The sign-in card is as tall as its fields, not the page.
      const card = await page.locator("form.form-card").boundingBox();
      expect(card!.height).toBeLessThan(500);
      await page.getByLabel("用户名").fill("dana");
      await page.getByLabel(/^密码$/).fill("not the password");
      await page.getByRole("button", { name: /^登录$/ }).click();
      await expect.poll(() => page.getByRole("alert").textContent()).toBe("用户名或密码错误。");
      // Nothing the page asked for was missing (the icon is inline: no /favicon.ico).
      expect(missing).toEqual([]);
    } finally {
      await visitor.close();
    }
  });

  it("gives focus back to the message box after Stop", async () => {
    const { page } = desk;
    model.options.words = Array.from({ length: 400 }, (_, i) => `word${i} `);
    try {
      await page.getByLabel(/Send a message/).fill("a long story please");
      await page.getByRole("button", { name: "Send" }).click();
      const streaming = page.locator('article.message.assistant[data-status="streaming"]');
      await expect.poll(async () => (await streaming.textContent()) ?? "").toContain("word3");
      await page.getByRole("button", { name: "Stop" }).click();
      await expect
        .poll(() => page.locator("article.message.assistant").last().getAttribute("data-status"))
        .toBe("stopped");
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("message-input");
    } finally {
      model.options.words = undefined;
    }
  });

  it("renames a conversation from the field it focuses, cancels with Escape, and cannot save a blank title", async () => {
    const { page } = desk;
    const item = page.locator(".conversation-list li", { hasText: "a long story please" });
    await item.locator("summary").click();
    await item.getByRole("button", { name: "Rename" }).click();
    const field = page.getByRole("textbox", { name: "Rename" });
    await expect.poll(() => field.evaluate((input) => input === document.activeElement)).toBe(true);
    await screenshot(page, "ui-details-rename");
    // Typing replaces the selected title.
    await page.keyboard.type("Draft title");
    await page.keyboard.press("Escape");
    await expect.poll(() => field.count()).toBe(0);
    expect(await item.getByRole("link", { name: "a long story please" }).count()).toBe(1);
    await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe("SUMMARY");

    await item.locator("summary").click();
    await item.getByRole("button", { name: "Rename" }).click();
    await field.fill("   ");
    expect(await page.getByRole("button", { name: "Save", exact: true }).isDisabled()).toBe(true);
    await field.press("Enter");
    expect(await page.locator(".error-text").count()).toBe(0);
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => field.count()).toBe(0);
  });

  it("edits a message from the text it focuses, saying that saving sends it again, and cancels with Escape", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "a long story please" }).click();
    const question = page.locator("article.message.user").first();
    await question.getByRole("button", { name: "Edit" }).click();
    const box = question.getByRole("textbox", { name: "Edit" });
    await expect.poll(() => box.evaluate((area) => area === document.activeElement)).toBe(true);
    expect(await question.getByRole("button", { name: "Save and send" }).count()).toBe(1);
    await page.keyboard.type(" with dragons");
    await page.keyboard.press("Escape");
    await expect.poll(() => box.count()).toBe(0);
    expect(await question.locator(".user-text").textContent()).toBe("a long story please");
    await expect
      .poll(() =>
        question
          .getByRole("button", { name: "Edit" })
          .evaluate((button) => button === document.activeElement),
      )
      .toBe(true);
  });

  it("names a conversation's menu button by its action, and closes the menu with Escape", async () => {
    const { page } = desk;
    const menu = page.getByLabel("More actions for a long story please", { exact: true });
    await menu.click();
    const details = page.locator(".conversation-list details").filter({ has: menu });
    expect(await details.getAttribute("open")).not.toBeNull();
    await screenshot(page, "ui-details-menu");
    await page.keyboard.press("Escape");
    await expect.poll(() => details.getAttribute("open")).toBeNull();
    await expect.poll(() => menu.evaluate((summary) => summary === document.activeElement)).toBe(true);
  });

  it("says when a conversation search matches nothing", async () => {
    const { page } = desk;
    await page.getByRole("searchbox", { name: "Search conversations" }).fill("zebra crossing");
    await page.getByText("No conversations match.").waitFor();
    expect(await page.locator(".conversation-list li").count()).toBe(0);
    await page.getByRole("searchbox", { name: "Search conversations" }).fill("");
    await expect.poll(() => page.getByText("No conversations match.").count()).toBe(0);
  });

  it("names the theme button by what it shows, and colours code for the dark theme", async () => {
    const { page } = desk;
    model.options.words = ["```js\nconst answer = 42;\n```\n\nand $x^2$"];
    try {
      const answer = await ask(desk, "a code block");
      const background = () =>
        answer.locator("pre code").evaluate((code) => getComputedStyle(code).backgroundColor);
      expect(await background()).toBe("rgb(255, 255, 255)");
      await page.getByRole("button", { name: "Dark theme" }).click();
      await page.getByRole("button", { name: "Light theme" }).waitFor();
      expect(await background()).toBe("rgb(13, 17, 23)");
      // The formula is read once: its TeX source is not left behind as text.
      expect(await answer.locator(".katex-mathml").textContent()).not.toContain("x^2");
      await page.getByRole("button", { name: "Light theme" }).click();
    } finally {
      model.options.words = undefined;
    }
  });

  it("closes the phone's conversation drawer with Escape", async () => {
    const { page } = phone;
    const toggle = page.getByRole("button", { name: "对话", exact: true });
    await toggle.click();
    const drawer = page.getByRole("navigation", { name: "对话" });
    await drawer.waitFor();
    await page.getByRole("searchbox", { name: "搜索对话" }).focus();
    await page.keyboard.press("Escape");
    await expect.poll(() => drawer.isVisible()).toBe(false);
    expect(await toggle.getAttribute("aria-expanded")).toBe("false");
  });

  it("leaves no empty conversation behind a refused first message", async () => {
    const { page } = desk;
    const admin = await signIn(web.app, "root");
    const settings = (words: string[]) => setFilterWords(web.app, admin, words);
    const conversations = async () =>
      (
        await web.db
          .selectFrom("conversations")
          .innerJoin("users", "users.id", "conversations.user_id")
          .select("conversations.id")
          .where("users.username", "=", "dana")
          .execute()
      ).length;
    const before = await conversations();
    await settings(["forbidden"]);
    try {
      await page.getByRole("button", { name: "+ New chat" }).click();
      await page.getByLabel(/Send a message/).fill("a forbidden thing");
      await page.getByRole("button", { name: "Send" }).click();
      await expect
        .poll(() => page.locator(".chat > .error-text").textContent())
        .toBe("Error: The message contains a word this site does not allow. Refused: forbidden");
      expect(new URL(page.url()).pathname).toBe("/");
      await expect.poll(conversations).toBe(before);
      await expect.poll(() => page.locator(".conversation-list li", { hasText: "New chat" }).count()).toBe(0);
    } finally {
      await settings([]);
    }
  });

  it("tells a user who opens an admin page that it is for administrators, with the way to the chat", async () => {
    const { page } = desk;
    await page.goto(`${url}/admin/users`);
    await page.getByRole("heading", { name: "For administrators only" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/admin/users");
    expect(await page.title()).toBe("For administrators only – Hearth");
    await page.getByRole("link", { name: "Go to the chat" }).click();
    await page.getByLabel(/Send a message/).waitFor();
    expect(new URL(page.url()).pathname).toBe("/");
  });

  it("scrolls a conversation taller than the window in its own box, never the whole page", async () => {
    // Each answer has hidden status lines for screen readers ("Copied"): placed against the page,
    // not the conversation, they made the page itself taller than the window.
    model.options.words = [Array.from({ length: 60 }, (_, i) => `Line ${i + 1}.`).join("\n\n")];
    try {
      for (const browser of [desk, phone]) {
        const { page } = browser;
        await ask(browser, "a tall answer");
        const sizes = () =>
          page.evaluate(() => ({
            page: document.scrollingElement!.scrollHeight,
            window: innerHeight,
            messages: document.querySelector(".messages")!.scrollHeight,
          }));
        const { page: height, window, messages } = await sizes();
        expect(messages).toBeGreaterThan(window);
        expect(height).toBeLessThanOrEqual(window);
      }
    } finally {
      model.options.words = undefined;
    }
  });
});
