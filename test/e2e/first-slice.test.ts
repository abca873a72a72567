import { existsSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FakeModelService,
  startFakeModelService,
} from "../../packages/web/test/support/fake-model-service.js";
import { startWeb, type WebHarness } from "../../packages/web/test/support/web-harness.js";
import {
  type Browser,
  ensureUiBuilt,
  hasChromium,
  launchBrowser,
  screenshot,
  signUpInUi,
} from "../support/browser.js";

/**
 * Issue 2 point 8, first slice in a real Chromium: the built UI, the model picker, a streamed
 * answer, stop mid-stream, and the no-model guidance. The web service runs in process against a
 * local OpenAI-compatible SSE server (hearth-up-chat.test.ts runs the same chat on the real `hearth up`).
 */
describe.skipIf(!hasChromium)("first slice in the browser", () => {
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    ensureUiBuilt();
    model = await startFakeModelService({ models: ["tiny-story", "qwen-mini"], delayMs: 40 });
    web = await startWeb({ modelUrl: model.url });
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await model?.close();
  });

  it("sends a message and sees the answer stream in", async () => {
    const { page } = browser;
    await signUpInUi(page, url, "first");
    const picker = page.getByRole("combobox", { name: "Model" });
    await picker.waitFor();
    expect(await picker.inputValue()).toBe("tiny-story");
    await picker.selectOption("qwen-mini");
    await page.getByLabel(/Send a message/).fill("Tell me a story");
    await page.getByRole("button", { name: "Send" }).click();
    const answer = page.locator("article.message.assistant").last();
    // Streaming: the first words show while the Stop button is still there.
    await expect.poll(() => answer.textContent(), { timeout: 10_000 }).toContain("Hello");
    await expect.poll(async () => answer.getAttribute("data-status")).toBe("done");
    expect(await answer.textContent()).toContain("You said: Tell me a story");
    expect(model.requests.at(-1)?.model).toBe("qwen-mini");
    // A screen reader is told the answer is being written, then that it is complete (not each token).
    await expect
      .poll(() => page.locator('.chat > p[role="status"]').textContent())
      .toBe("The answer is complete.");
    expect(await page.locator(".messages").getAttribute("aria-live")).toBeNull();
    const file = await screenshot(page, "first-slice-chat");
    expect(statSync(file).size).toBeGreaterThan(1000);
  });

  it("stops an answer mid-stream", async () => {
    model.options.words = Array.from({ length: 200 }, (_, i) => ` word${i}`);
    const abandoned = model.abandoned;
    const { page } = browser;
    await page.getByLabel(/Send a message/).fill("A very long story please");
    await page.getByRole("button", { name: "Send" }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.textContent(), { timeout: 10_000 }).toContain("word3");
    await page.getByRole("button", { name: "Stop" }).click();
    // Stopped in the page, and stored as a stopped partial answer.
    await expect.poll(() => answer.getAttribute("data-status")).toBe("stopped");
    await expect.poll(() => model.abandoned).toBe(abandoned + 1);
    const length = ((await answer.textContent()) ?? "").length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(((await answer.textContent()) ?? "").length).toBe(length);
    expect(await answer.textContent()).not.toContain("word199");
    model.options.words = undefined;
  });

  it("opens a conversation with the model it was answered by, and remembers the last choice", async () => {
    const { page } = browser;
    const picker = page.getByRole("combobox", { name: "Model" });
    await page.getByRole("button", { name: "+ New chat" }).click();
    await picker.selectOption("tiny-story");
    await page.getByLabel(/Send a message/).fill("Another story");
    await page.getByRole("button", { name: "Send" }).click();
    await expect
      .poll(() => page.locator("article.message.assistant").last().getAttribute("data-status"))
      .toBe("done");
    // The first conversation was answered by qwen-mini: opening it sets the picker to it.
    await page.locator(".conversation-list a", { hasText: "Tell me a story" }).click();
    await expect.poll(() => picker.inputValue()).toBe("qwen-mini");
    // A reload starts from the model last chosen in the picker.
    await page.goto(`${url}/`);
    await expect.poll(() => picker.inputValue()).toBe("tiny-story");
  });

  it("says what to do when no model is installed", async () => {
    model.options.models = [];
    try {
      const { page } = browser;
      await page.goto(url);
      const guidance = page.getByTestId("model-guidance");
      await guidance.waitFor();
      const text = await guidance.textContent();
      expect(text).toContain(web.config.model.modelsDir);
      expect(text).toContain("OLLAMA_HOST");
      expect(text).toMatch(/pull/i);
      await screenshot(page, "first-slice-no-model");
    } finally {
      model.options.models = undefined;
    }
    expect(existsSync(web.config.model.modelsDir)).toBe(false);
  });
});
