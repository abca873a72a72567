import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeModelService } from "../../packages/web/test/support/fake-model-service.js";
import type { WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type Browser, hasChromium, screenshot, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * Answers being written, in a real Chromium on the built UI: a conversation opened again while its
 * answer streams shows it growing, with Stop and without Regenerate; a Stop is stored as what was
 * shown, marked stopped; another tab sees the answer being written and then written; a link to a
 * conversation that is not there says so; knowledge bases are chosen per conversation, kept with it
 * (the same user opens it with them in another browser), and one deleted after it was chosen leaves
 * the choice with a warning, the answer going on.
 */
describe.skipIf(!hasChromium)("answers being written, in the browser", () => {
  let stand: UiStand;
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  let desk: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 5 }, knowledgeAndSearch: true });
    ({ model, web, url } = stand);
    desk = await stand.browser({ locale: "en-US" });
    await signUpInUi(desk.page, url, "live");
  });
  afterAll(() => stand?.close());

  const long = (n: number) => Array.from({ length: n }, (_, i) => `word${i} `);
  const lastAnswer = () => desk.page.locator("article.message.assistant").last();
  const answerText = async () => (await lastAnswer().textContent()) ?? "";

  it("shows the answer still being written when its conversation is opened again, with Stop; a Stop is stored as shown", async () => {
    const { page } = desk;
    model.options.delayMs = 60;
    model.options.words = long(400);
    try {
      await page.getByRole("button", { name: "+ New chat" }).click();
      await page.getByLabel(/Send a message/).fill("a very long story");
      await page.getByRole("button", { name: "Send" }).click();
      await expect.poll(answerText).toContain("word3");
      const conversation = new URL(page.url()).pathname;
      // Away (another page of the app), then back with the browser's Back.
      await page.getByRole("button", { name: "+ New chat" }).click();
      await page.getByText("Ask anything.").waitFor();
      await page.goBack();
      await expect.poll(() => new URL(page.url()).pathname).toBe(conversation);
      // The answer goes on growing here, with Stop; no Regenerate or Edit while it is written.
      await expect.poll(answerText).toMatch(/word\d\d/);
      const before = await answerText();
      await expect.poll(answerText).not.toBe(before);
      expect(await lastAnswer().getAttribute("data-status")).toBe("streaming");
      expect(await page.getByRole("button", { name: "Stop" }).count()).toBe(1);
      expect(await page.getByRole("button", { name: "Regenerate" }).count()).toBe(0);
      expect(await page.getByRole("button", { name: "Edit" }).count()).toBe(0);
      await screenshot(page, "live-turn-reopened");
      await page.getByRole("button", { name: "Stop" }).click();
      await expect.poll(() => lastAnswer().getAttribute("data-status")).toBe("stopped");
      await page.getByRole("button", { name: "Regenerate" }).waitFor();
      const shown = (await lastAnswer().locator(".markdown, .user-text").first().textContent())?.trim();
      expect(shown).toMatch(/word\d+$/);
      expect(shown).not.toContain("word399");
      // After a reload: stopped (not interrupted), and not a word more than was shown.
      await page.reload();
      await expect.poll(() => lastAnswer().getAttribute("data-status")).toBe("stopped");
      expect(await lastAnswer().textContent()).toContain("Stopped");
      expect(await lastAnswer().textContent()).not.toContain("Interrupted");
      expect((await lastAnswer().locator(".markdown").first().textContent())?.trim()).toBe(shown);
    } finally {
      model.options.delayMs = 5;
      model.options.words = undefined;
    }
  });

  it("shows another tab's answer as being written, growing, offers no Regenerate meanwhile, and shows it when done", async () => {
    const { page } = desk;
    const other = await page.context().newPage();
    model.options.delayMs = 40;
    model.options.words = long(200);
    try {
      await page.getByRole("button", { name: "+ New chat" }).click();
      await page.getByLabel(/Send a message/).fill("write in one tab");
      await page.getByRole("button", { name: "Send" }).click();
      await expect.poll(answerText).toContain("word3");
      await other.goto(page.url());
      const watched = other.locator("article.message.assistant").last();
      await other.getByText("This answer is still being written").waitFor();
      expect(await watched.getAttribute("data-status")).toBe("streaming");
      expect(await other.getByRole("button", { name: "Regenerate" }).count()).toBe(0);
      expect(await other.getByRole("button", { name: "Edit" }).count()).toBe(0);
      // The answer as the service has stored it so far, read again as it grows.
      const watchedText = async () => (await watched.locator(".markdown").textContent()) ?? "";
      await expect.poll(watchedText, { timeout: 5000 }).toMatch(/word\d/);
      const first = await watchedText();
      await expect.poll(watchedText, { timeout: 5000 }).not.toBe(first);
      expect(await watched.getAttribute("data-status")).toBe("streaming");
      // Done in the first tab: the other one reads it again and shows it, Regenerate back.
      await expect.poll(() => lastAnswer().getAttribute("data-status"), { timeout: 15_000 }).toBe("done");
      await expect.poll(() => watched.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
      expect(await watched.textContent()).toContain("word199");
      expect((await watchedText()).match(/word0 /g)).toHaveLength(1);
      await other.getByRole("button", { name: "Regenerate" }).waitFor();
      expect(await other.getByText("This answer is still being written").count()).toBe(0);
    } finally {
      await other.close();
      model.options.delayMs = 5;
      model.options.words = undefined;
    }
  });

  it("says a conversation that is not there was not found, with a way to a new chat", async () => {
    const { page } = desk;
    await page.goto(`${url}/c/00000000-0000-4000-8000-000000000000`);
    await page.getByRole("heading", { name: "Conversation not found" }).waitFor();
    expect(await page.getByText("Ask anything.").count()).toBe(0);
    expect(await page.getByLabel(/Send a message/).count()).toBe(0);
    await page.getByRole("button", { name: "New chat", exact: true }).click();
    await page.getByText("Ask anything.").waitFor();
    expect(new URL(page.url()).pathname).toBe("/");
  });

  it("keeps the knowledge bases chosen per conversation, and starts a new chat with none", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByLabel("New knowledge base").fill("manual");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "manual" }).waitFor();
    await page.getByRole("link", { name: "Chat", exact: true }).click();
    await page.getByRole("button", { name: "+ New chat" }).click();
    await page.getByLabel("manual").check();
    await page.getByLabel(/Send a message/).fill("grounded question");
    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => lastAnswer().getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    const grounded = new URL(page.url()).pathname;
    expect(await page.getByLabel("manual").isChecked()).toBe(true);
    // A new chat starts with none; a conversation chosen without opens without.
    await page.getByRole("button", { name: "+ New chat" }).click();
    await page.getByText("Ask anything.").waitFor();
    expect(await page.getByLabel("manual").isChecked()).toBe(false);
    await page.getByLabel(/Send a message/).fill("plain question");
    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => lastAnswer().getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    const plain = new URL(page.url()).pathname;
    expect(await page.getByLabel("manual").isChecked()).toBe(false);
    // Each conversation opens with its own choice.
    await page.locator(".conversation-list a", { hasText: "grounded question" }).click();
    await expect.poll(() => page.getByLabel("manual").isChecked()).toBe(true);
    await page.locator(".conversation-list a", { hasText: "plain question" }).click();
    await expect.poll(() => page.getByLabel("manual").isChecked()).toBe(false);
    expect(new URL(page.url()).pathname).toBe(plain);
    expect(plain).not.toBe(grounded);
    expect(await web.db.selectFrom("conversations").select("id").execute()).not.toHaveLength(0);
  });

  it("keeps a conversation's knowledge bases with it: the same user in a fresh browser opens it with them", async () => {
    const { page } = desk;
    const pathOf = async (title: string) =>
      new URL((await page.locator(".conversation-list a", { hasText: title }).getAttribute("href"))!, url)
        .pathname;
    const grounded = await pathOf("grounded question");
    const plain = await pathOf("plain question");
    // Another device: a fresh profile (its own tab storage), signed in as the same user.
    const other = await stand.browser({ locale: "en-US" });
    await other.page.goto(url);
    await other.page.getByLabel("User name").fill("live");
    await other.page.getByLabel(/^Password$/).fill("correct horse battery");
    await other.page.getByRole("button", { name: "Sign in" }).click();
    await other.page.getByLabel(/Send a message/).waitFor();
    const openThere = async (path: string) => {
      await other.page.goto(`${url}${path}`);
      await other.page.locator("article.message.assistant").first().waitFor();
    };
    // Chosen for a message sent with it.
    await openThere(grounded);
    await expect.poll(() => other.page.getByLabel("manual").isChecked()).toBe(true);

    // Ticked in the picker of a conversation open here, before any message is sent with it.
    await page.locator(".conversation-list a", { hasText: "plain question" }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(plain);
    await expect.poll(() => page.getByLabel("manual").isChecked()).toBe(false);
    const kept = page.waitForResponse(
      (response) => response.request().method() === "PATCH" && response.url().endsWith(plain.slice(3)),
    );
    await page.getByLabel("manual").check();
    expect((await kept).status()).toBe(200);
    await openThere(plain);
    await expect.poll(() => other.page.getByLabel("manual").isChecked()).toBe(true);
    // Unticked there, it opens unticked here too.
    await other.page.getByLabel("manual").uncheck();
    await expect
      .poll(
        async () =>
          (
            (await (await page.request.get(`${url}/api/conversations${plain.slice(2)}`)).json()) as {
              chosenKnowledgeBaseIds: string[];
            }
          ).chosenKnowledgeBaseIds,
      )
      .toEqual([]);
    await page.locator(".conversation-list a", { hasText: "grounded question" }).click();
    await expect.poll(() => page.getByLabel("manual").isChecked()).toBe(true);
    await page.locator(".conversation-list a", { hasText: "plain question" }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(plain);
    await expect.poll(() => page.getByLabel("manual").isChecked()).toBe(false);
  });

  it("answers on when a chosen base was deleted meanwhile, says so, and no longer chooses it", async () => {
    const { page, context } = desk;
    await page.locator(".conversation-list a", { hasText: "grounded question" }).click();
    await expect.poll(() => page.getByLabel("manual").isChecked()).toBe(true);
    // Deleted elsewhere (another tab, the API) while the conversation is open.
    const { knowledgeBases } = (await (await page.request.get(`${url}/api/knowledge-bases`)).json()) as {
      knowledgeBases: Array<{ id: string; name: string }>;
    };
    const manual = knowledgeBases.find((base) => base.name === "manual")!.id;
    const csrf = (await context.cookies()).find((cookie) => cookie.name === "hearth_csrf")!.value;
    const deleted = await page.request.delete(`${url}/api/knowledge-bases/${manual}`, {
      headers: { "x-csrf-token": decodeURIComponent(csrf) },
    });
    expect(deleted.status()).toBe(204);
    const sent: unknown[] = [];
    page.on("request", (request) => {
      if (request.method() === "POST" && request.url().endsWith("/messages"))
        sent.push(request.postDataJSON());
    });
    const ask = async (text: string) => {
      await page.getByLabel(/Send a message/).fill(text);
      await page.getByRole("button", { name: "Send" }).click();
      await expect.poll(() => lastAnswer().getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    };
    await ask("still grounded?");
    expect(await lastAnswer().locator(".grounding-warning").allTextContents()).toEqual([
      "A chosen knowledge base is gone (deleted, or no longer shared with you): this answer was written without it, and it is no longer chosen.",
    ]);
    await expect.poll(() => page.getByLabel("manual").count()).toBe(0);
    await ask("and now?");
    expect(await lastAnswer().locator(".grounding-warning").count()).toBe(0);
    expect(sent).toEqual([
      expect.objectContaining({ content: "still grounded?", knowledgeBaseIds: [manual] }),
      expect.objectContaining({ content: "and now?", knowledgeBaseIds: [] }),
    ]);
  });
});
