import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, contentEdges, hasChromium, screenshot, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * With the knowledge and search services down (the stand gives the web service none: their URLs
 * are http://127.0.0.1:9), creating a knowledge base and testing the search engines say which
 * service cannot be reached, in English and Chinese, not the model service, which answers.
 */
describe.skipIf(!hasChromium)("a service that does not answer, named on the page", () => {
  let stand: UiStand;
  let url: string;
  const browsers: Partial<Record<"en" | "zh-CN", Browser>> = {};

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["stories260K:latest"] } });
    ({ url } = stand);
    browsers.en = await stand.browser({ locale: "en-US" });
    await signUpInUi(browsers.en.page, url, "root");
    browsers["zh-CN"] = await stand.browser({ locale: "zh-CN" });
    await browsers["zh-CN"].context.addCookies(await browsers.en.context.cookies());
  });
  afterAll(() => stand?.close());

  for (const [locale, words] of [
    [
      "en",
      {
        knowledge: "Knowledge",
        newBase: "New knowledge base",
        create: "Create",
        knowledgeDown: "Error: The knowledge service cannot be reached.",
        admin: "Admin",
        providers: "Search providers",
        test: "Test providers",
        searchDown: "Error: The search service cannot be reached.",
      },
    ],
    [
      "zh-CN",
      {
        knowledge: "知识库",
        newBase: "新建知识库",
        create: "创建",
        knowledgeDown: "错误：无法连接知识库服务。",
        admin: "管理",
        providers: "搜索引擎",
        test: "测试搜索引擎",
        searchDown: "错误：无法连接搜索服务。",
      },
    ],
  ] as const) {
    it(`names the knowledge and the search service when they are down (${locale})`, async () => {
      const { page } = browsers[locale]!;
      await page.goto(url);
      await page.getByRole("link", { name: words.knowledge, exact: true }).click();
      await page.getByLabel(words.newBase).fill("Manuals");
      await page.getByRole("button", { name: words.create, exact: true }).click();
      await expect.poll(() => page.getByRole("alert").allTextContents()).toContain(words.knowledgeDown);

      await page.getByRole("link", { name: words.admin, exact: true }).click();
      await page.getByRole("tab", { name: words.providers, exact: true }).click();
      await page.getByRole("button", { name: words.test, exact: true }).click();
      await expect.poll(() => page.getByRole("alert").allTextContents()).toContain(words.searchDown);
    });
  }
});

/**
 * The model service stopped (the stand-in drops every connection) and the web service out of
 * reach (the page's requests to it fail, as a dropped network fails them): a saved conversation
 * stays readable with only sending paused, the page carries on by itself once the model service is
 * back, and a message the server never got is not shown as asked.
 */
describe.skipIf(!hasChromium)("a conversation while the model or the web service is down", () => {
  let stand: UiStand;
  let browser: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["stories260K:latest"] } });
    browser = await stand.browser({ locale: "en-US" });
    await signUpInUi(browser.page, stand.url, "root");
  });
  afterAll(() => stand?.close());

  /** Sends a message from the composer and waits for its answer to be done. */
  const ask = async (page: Browser["page"], text: string) => {
    await page.locator("#message-input").fill(text);
    await page.getByRole("button", { name: "Send", exact: true }).click();
    await expect
      .poll(() => page.locator("article.message.assistant").last().getAttribute("data-status"))
      .toBe("done");
  };
  /** The thread's messages, as their texts (an answer's Markdown ends with a new line once rendered whole). */
  const threadOf = async (page: Browser["page"]) =>
    (await page.locator("article.message :is(.user-text, .markdown)").allTextContents()).map((text) =>
      text.trim(),
    );

  it("keeps a conversation readable with the model service down, and goes on once it is back, without a reload", async () => {
    const { page } = browser;
    await page.goto(stand.url);
    await ask(page, "hello there");
    const address = page.url();
    expect(address).toMatch(/\/c\//);
    const thread = await threadOf(page);

    stand.model.options.unreachable = true;
    try {
      await page.reload();
      const paused = page.locator(".sending-paused");
      await expect
        .poll(() => paused.textContent())
        .toBe("The model service cannot be reached; sending is paused — retrying…");
      // The thread as it was, its answer to copy; only sending (a message, an edit, a regeneration) paused.
      await expect.poll(() => threadOf(page)).toEqual(thread);
      expect(await page.getByTestId("model-guidance").count()).toBe(0);
      expect(await page.locator("#message-input").isDisabled()).toBe(true);
      expect(await page.getByRole("button", { name: "Copy message" }).count()).toBe(2);
      expect(await page.getByRole("button", { name: "Regenerate" }).count()).toBe(0);
      expect(await page.getByRole("button", { name: "Edit", exact: true }).count()).toBe(0);
      await screenshot(page, "ui-service-down-sending-paused");

      // In Chinese too, for the same account, on a phone: in line with the messages, off the screen's edges.
      const zh = await stand.browser({ locale: "zh-CN", width: 390, height: 844 });
      await zh.context.addCookies(await browser.context.cookies());
      await zh.page.goto(address);
      const zhPaused = zh.page.locator(".sending-paused");
      await expect.poll(() => zhPaused.textContent()).toBe("无法连接模型服务，发送已暂停——正在重试…");
      expect(await contentEdges(zhPaused)).toEqual(await contentEdges(zh.page.locator(".messages")));
      await screenshot(zh.page, "ui-service-down-sending-paused-zh-390");

      // A new chat has nothing to read: it says the service cannot be reached, not that no model is installed.
      await page.getByRole("button", { name: "+ New chat" }).click();
      const card = page.getByTestId("model-guidance");
      await expect.poll(() => card.locator("h2").textContent()).toBe("The model service cannot be reached");
      expect(await card.textContent()).not.toContain(".gguf");
      await page.goBack();
      await expect.poll(() => paused.count()).toBe(1);
    } finally {
      stand.model.options.unreachable = false;
    }
    // Back (the page asks again every 5 to 10 s): sending goes on, no reload.
    await expect.poll(() => page.locator(".sending-paused").count(), { timeout: 15_000 }).toBe(0);
    expect(await page.locator("#message-input").isDisabled()).toBe(false);
    await ask(page, "and again");
    expect(await page.locator("article.message").count()).toBe(4);
  });

  it("leaves the thread as it was and the text in the box when the server cannot be reached", async () => {
    const { page } = browser;
    const uncaught: string[] = [];
    page.on("pageerror", (error) => uncaught.push(error.message));
    await expect.poll(() => page.locator("article.message").count()).toBeGreaterThan(0);
    const thread = await threadOf(page);
    // Every request to the web service fails as a dropped network fails it ("Failed to fetch").
    await page.route("**/api/**", (route) => route.abort("connectionrefused"));
    try {
      await page.locator("#message-input").fill("never sent");
      await page.getByRole("button", { name: "Send", exact: true }).click();
      await expect
        .poll(() => page.getByRole("alert").allTextContents())
        .toContain("The server cannot be reached; your message was not sent.");
      expect(await page.locator("#message-input").inputValue()).toBe("never sent");
      expect(await threadOf(page)).toEqual(thread);
      expect(await page.getByRole("button", { name: "Regenerate" }).count()).toBe(1);
      await screenshot(page, "ui-service-down-not-sent");

      // A regeneration and an edit that never reach it change nothing either; the edit keeps its text.
      await page.getByRole("button", { name: "Regenerate" }).click();
      await expect
        .poll(() => page.getByRole("alert").allTextContents())
        .toContain("Error: The server cannot be reached; check the connection.");
      expect(await threadOf(page)).toEqual(thread);
      await page.getByRole("button", { name: "Edit", exact: true }).last().click();
      await page.locator(".edit-form textarea").fill("edited, never sent");
      await page.getByRole("button", { name: "Save and send" }).click();
      await expect.poll(() => page.locator(".edit-form textarea").inputValue()).toBe("edited, never sent");
      const answers = await page.locator("article.message.assistant .markdown").allTextContents();
      expect(answers.map((text) => text.trim())).toEqual(thread.filter((_, index) => index % 2 === 1));
    } finally {
      await page.unroute("**/api/**");
    }
    // Nothing was stored: the thread read again is the same, and the unsent text is still there.
    await page.reload();
    await expect.poll(() => threadOf(page)).toEqual(thread);
    expect(await page.locator("#message-input").inputValue()).toBe("never sent");
    expect(uncaught).toEqual([]);
  });

  it("reads the conversation again, as stored, when its answer's stream breaks off", async () => {
    const { page } = browser;
    // The answer's stream reaches the page cut after its first text: the server stored it whole.
    await page.route("**/api/conversations/*/messages", async (route) => {
      const response = await route.fetch();
      const body = await response.text();
      const cut = body.indexOf("\n\n", body.indexOf('"text-delta"')) + 2;
      await route.fulfill({ response, body: body.slice(0, cut) });
    });
    try {
      await page.locator("#message-input").fill("cut me off");
      await page.getByRole("button", { name: "Send", exact: true }).click();
      const answer = page.locator("article.message.assistant").last();
      await expect.poll(() => answer.getAttribute("data-status")).toBe("done");
      expect(await answer.textContent()).toContain("You said: cut me off");
      // The question as stored, with its id: it can be edited.
      expect(
        await page.locator("article.message.user").last().getByRole("button", { name: "Edit" }).count(),
      ).toBe(1);
      expect(await page.locator("#message-input").inputValue()).toBe("");
    } finally {
      await page.unroute("**/api/conversations/*/messages");
    }
  });
});
