import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeModelService } from "../../packages/web/test/support/fake-model-service.js";
import { setFilterWords, signIn } from "../../packages/web/test/support/web-client.js";
import type { WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type Browser, hasChromium, launchBrowser, screenshot, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * The chat UI's details a reviewer found wanting, in a real Chromium on the built UI: a phone-width
 * page that stays on the screen with code and math in an answer, server errors in the reader's
 * language, focus after Stop and around rename, no empty conversation left by a refused message,
 * and an answer read aloud with a local voice only (speechSynthesis stood in for).
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

  it("renames a conversation from the field it focuses, cancels with Escape (not one ending an input method's composition), and cannot save a blank title", async () => {
    const { page } = desk;
    const item = page.locator(".conversation-list li", { hasText: "a long story please" });
    await item.locator("summary").click();
    await item.getByRole("button", { name: "Rename" }).click();
    const field = page.getByRole("textbox", { name: "Rename" });
    await expect.poll(() => field.evaluate((input) => input === document.activeElement)).toBe(true);
    await screenshot(page, "ui-details-rename");
    // Typing replaces the selected title.
    await page.keyboard.type("Draft title");
    // An Escape that ends an input method's composition (choosing Chinese characters) cancels nothing.
    const kept = await field.evaluate(async (input) => {
      input.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", isComposing: true, bubbles: true }));
      await new Promise((drawn) => requestAnimationFrame(() => setTimeout(drawn)));
      return input.isConnected;
    });
    expect(kept).toBe(true);
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

  it("names the model that wrote each answer, and says when one was cut off at the length limit, after a reload too", async () => {
    model.options.models = ["tiny-story", "stories260K:latest"];
    const browser = await stand.signedIn("mia");
    const { page } = browser;
    try {
      await ask(browser, "first, from the tiny one");
      await page.getByRole("combobox", { name: "Model" }).selectOption("stories260K:latest");
      model.options.finishReason = "length";
      await ask(browser, "then from the other, cut off");
      const names = () => page.locator("article.message.assistant .answer-model").allTextContents();
      const notices = () => page.locator("article.message.assistant .length-notice").allTextContents();
      await expect.poll(names).toEqual(["tiny-story", "stories260K:latest"]);
      await expect.poll(notices).toEqual(["Cut off at the length limit."]);
      expect(await page.locator("article.message.assistant").last().locator(".length-notice").count()).toBe(
        1,
      );
      // As stored: the same after a reload.
      await page.reload();
      await expect.poll(names).toEqual(["tiny-story", "stories260K:latest"]);
      expect(await notices()).toEqual(["Cut off at the length limit."]);
      await screenshot(page, "ui-details-answer-models");
    } finally {
      model.options.models = ["tiny-story"];
      model.options.finishReason = undefined;
    }
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

  it("reads an answer aloud with a local voice only, never a network one, and stops on Stop, another answer or leaving the chat", async () => {
    // Chromium headless has no voices: a stand-in speechSynthesis lists Google's network voices
    // (the default among them) beside two local ones, and records what it is asked to say.
    const speechStub = (withLocalVoices: boolean) => {
      const voice = (name: string, lang: string, localService: boolean, isDefault: boolean) => ({
        name,
        lang,
        voiceURI: name,
        localService,
        default: isDefault,
      });
      const voices = [
        voice("Google US English", "en-US", false, true),
        voice("Google 普通话（中国大陆）", "zh-CN", false, false),
        ...(withLocalVoices
          ? [voice("eSpeak English", "en-US", true, false), voice("Tingting", "zh-CN", true, false)]
          : []),
      ];
      type Utterance = { text: string; voice: { name: string } | null; lang: string; rate: number } & {
        onend: (() => void) | null;
        onerror: ((event: { error: string }) => void) | null;
      };
      const record = window as unknown as {
        spoken: Array<{ text: string; voice: string | null; lang: string; rate: number }>;
        cancels: number;
      };
      record.spoken = [];
      record.cancels = 0;
      let current: Utterance | null = null;
      const synth = Object.assign(new EventTarget(), {
        getVoices: () => voices,
        speak(utterance: Utterance) {
          current = utterance;
          record.spoken.push({
            text: utterance.text,
            voice: utterance.voice?.name ?? null,
            lang: utterance.lang,
            rate: utterance.rate,
          });
        },
        cancel() {
          record.cancels++;
          const was = current;
          current = null;
          was?.onerror?.({ error: "interrupted" });
        },
        pause() {},
        resume() {},
      });
      class StubUtterance {
        voice = null;
        lang = "";
        rate = 1;
        onend = null;
        onerror = null;
        constructor(readonly text: string) {}
      }
      Object.defineProperty(window, "speechSynthesis", { value: synth, configurable: true });
      Object.defineProperty(window, "SpeechSynthesisUtterance", { value: StubUtterance, configurable: true });
    };
    type Spoken = { text: string; voice: string | null; lang: string; rate: number };
    const reader = await stand.browser({ locale: "en-US" });
    await reader.context.addInitScript(speechStub, true);
    await signUpInUi(reader.page, url, "listener");
    const { page } = reader;
    const spoken = () => page.evaluate(() => (window as unknown as { spoken: Spoken[] }).spoken);
    model.options.reasoning = ["The user asks how to deploy; keep it short. "];
    model.options.words = [
      "Deploy with **hearth up** [1].\n\n```bash\nhearth up --port 8080\n```\n\nThen sign in. ",
    ];
    try {
      await ask(reader, "How do I deploy?");
      // (ask gives the last answer, which the next question's answer becomes.)
      const first = page.locator("article.message.assistant").nth(0);
      const readFirst = first.getByRole("button", { name: "Read aloud" });
      await readFirst.click();
      expect(await spoken()).toEqual([
        {
          text: "Deploy with hearth up.\nThen sign in. You said: How do I deploy?",
          voice: "eSpeak English",
          lang: "en-US",
          rate: 1,
        },
      ]);
      // Stop while it speaks; read again after.
      await first.getByRole("button", { name: "Stop reading" }).click();
      await first.getByRole("button", { name: "Read aloud" }).waitFor();

      model.options.reasoning = undefined;
      model.options.words = ["用 hearth up 部署，然后登录。"];
      await ask(reader, "怎么部署？");
      const second = page.locator("article.message.assistant").nth(1);
      await readFirst.click();
      await first.getByRole("button", { name: "Stop reading" }).waitFor();
      // Another answer read stops the first: one answer speaks at a time, in its language's voice.
      await second.getByRole("button", { name: "Read aloud" }).click();
      await first.getByRole("button", { name: "Read aloud" }).waitFor();
      await second.getByRole("button", { name: "Stop reading" }).waitFor();
      const said = await spoken();
      expect(said.at(-1)).toEqual({
        text: "用 hearth up 部署，然后登录。 You said: 怎么部署？",
        voice: "Tingting",
        lang: "zh-CN",
        rate: 1,
      });
      // No network voice was ever asked to speak.
      expect(said.every((entry) => entry.voice === "eSpeak English" || entry.voice === "Tingting")).toBe(
        true,
      );

      // Leaving the chat stops it. Settings offers the local voices only, and keeps the choice here.
      const cancels = await page.evaluate(() => (window as unknown as { cancels: number }).cancels);
      await page.getByRole("link", { name: "Settings" }).click();
      await expect
        .poll(() => page.evaluate(() => (window as unknown as { cancels: number }).cancels))
        .toBeGreaterThan(cancels);
      const voiceSelect = page.getByLabel("Voice", { exact: true });
      await voiceSelect.waitFor();
      expect(await voiceSelect.locator("option").allTextContents()).toEqual([
        "Automatic (a voice for the answer's language)",
        "eSpeak English (en-US)",
        "Tingting (zh-CN)",
      ]);
      await voiceSelect.selectOption("Tingting");
      await page.getByLabel("Speed").fill("1.5");
      await page.getByRole("button", { name: "Try the voice" }).click();
      expect((await spoken()).at(-1)).toMatchObject({ voice: "Tingting", rate: 1.5 });
      expect(await page.evaluate(() => localStorage.getItem("hearth.readAloud"))).toBe(
        JSON.stringify({ voiceURI: "Tingting", rate: 1.5 }),
      );
      await screenshot(page, "read-aloud-settings-en-1280");

      // A browser with network voices only: no button, and Settings says why.
      const elsewhere = await stand.browser({ locale: "en-US" });
      await elsewhere.context.addInitScript(speechStub, false);
      await signUpInUi(elsewhere.page, url, "no-voices");
      model.options.words = ["An answer. "];
      const answer = await ask(elsewhere, "Anything?");
      await answer.getByRole("button", { name: "Copy" }).waitFor();
      expect(await answer.getByRole("button", { name: "Read aloud" }).count()).toBe(0);
      await elsewhere.page.getByRole("link", { name: "Settings" }).click();
      await elsewhere.page.getByText("No voice is installed on this device").waitFor();
      expect(
        await elsewhere.page.evaluate(() => (window as unknown as { spoken: unknown[] }).spoken.length),
      ).toBe(0);
    } finally {
      model.options.words = undefined;
      model.options.reasoning = undefined;
    }
  });
});
