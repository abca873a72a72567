import type { Locator } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, hasChromium, screenshot, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/** Whether the element has focus. */
const focused = (locator: Locator) => locator.evaluate((element) => element === document.activeElement);

/**
 * Share links in a real Chromium on the built UI: one user shares a conversation from its menu,
 * another opens the link on a phone, reads the conversation as it was shared (rendered as in the
 * chat), and continues it in their own chats.
 */
describe.skipIf(!hasChromium)("sharing a conversation in the browser", () => {
  let stand: UiStand;
  let alice: Browser;
  let bob: Browser;
  /** The link the first test shared. */
  let sharedLink: string;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 5 } });
    alice = await stand.browser({ locale: "en-US" });
    bob = await stand.browser({ locale: "en-US", width: 390, height: 800 });
    await signUpInUi(alice.page, stand.url, "alice");
    await signUpInUi(bob.page, stand.url, "bob");
  });
  afterAll(() => stand?.close());

  /** Sends a message in the open chat and waits for its answer to end. */
  const ask = async (text: string) => {
    const { page } = alice;
    await page.getByLabel("Send a message").fill(text);
    await page.getByRole("button", { name: "Send", exact: true }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
  };

  it("shares from the conversation's menu; another user reads the snapshot and continues it in their chats", async () => {
    const { page } = alice;
    await ask("Feed the starter **daily**");
    const menu = page.locator("#conversation-sidebar details.item-menu").first();
    await menu.locator("summary").click();
    await menu.getByRole("button", { name: "Share" }).click();
    const dialog = page.getByRole("dialog", { name: /^Share “/ });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Create link" }).click();
    const field = dialog.getByRole("textbox", { name: "Link" });
    await expect.poll(() => field.inputValue()).toMatch(/\/s\/[A-Za-z0-9_-]{22,}$/);
    const link = await field.inputValue();
    // The link takes focus in place of the button that made it; Copy, Update and Stop are beside it.
    expect(await focused(field)).toBe(true);
    for (const name of ["Copy link", "Update link", "Stop sharing"])
      await dialog.getByRole("button", { name }).waitFor();
    await screenshot(page, "ui-share-dialog");
    // Escape closes it, back on the menu it came from.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    expect(await focused(menu.locator("summary"))).toBe(true);
    // Said after sharing: not in the link until it is updated.
    await ask("a later message");

    const phone = bob.page;
    await phone.goto(link);
    await phone.getByRole("heading", { name: "Feed the starter **daily**" }).waitFor();
    await phone.getByText(/^Shared by alice on /).waitFor();
    // Rendered as the chat renders answers: the Markdown the answer echoes is bold.
    await phone.locator("article.message.assistant strong", { hasText: "daily" }).waitFor();
    expect(await phone.locator("article.message").count()).toBe(2);
    expect(await phone.locator("main").textContent()).not.toContain("a later message");
    // Read-only: nothing to send, edit or regenerate.
    expect(await phone.locator("#message-input").count()).toBe(0);
    expect(await phone.getByRole("button", { name: /^(Edit|Regenerate)$/ }).count()).toBe(0);
    // A phone's width holds it without scrolling sideways.
    expect(
      await phone.evaluate(
        () => document.documentElement.scrollWidth <= document.documentElement.clientWidth,
      ),
    ).toBe(true);
    await screenshot(phone, "ui-share-page-phone");

    await phone.getByRole("button", { name: "Continue in my chats" }).click();
    await phone.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    await phone.locator("article.message.user", { hasText: "Feed the starter **daily**" }).waitFor();
    await phone.locator("article.message.assistant strong", { hasText: "daily" }).waitFor();
    // Bob's own conversation now: he can write in it.
    expect(await phone.locator("#message-input").isEnabled()).toBe(true);
    sharedLink = link;
  });

  it("lets an administrator turn share links off in Admin → Settings: the link stops opening, and the owner is told", async () => {
    const { page } = alice;
    const shareLinks = () => page.getByLabel("Share links");
    await page.goto(`${stand.url}/admin/settings`);
    await shareLinks().selectOption({ label: "Off" });
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator("output", { hasText: "Saved" }).waitFor();
    try {
      await bob.page.goto(sharedLink);
      await bob.page.getByRole("heading", { name: "Shared conversation not found" }).waitFor();
      await page.goto(stand.url);
      const menu = page.locator("#conversation-sidebar details.item-menu").first();
      await menu.locator("summary").click();
      await menu.getByRole("button", { name: "Share" }).click();
      const dialog = page.getByRole("dialog", { name: /^Share “/ });
      await dialog.getByText("An administrator has turned share links off").waitFor();
      await page.keyboard.press("Escape");
    } finally {
      await page.goto(`${stand.url}/admin/settings`);
      await shareLinks().selectOption({ label: "Anyone signed in can open them" });
      await page.getByRole("button", { name: "Save" }).click();
      await page.locator("output", { hasText: "Saved" }).waitFor();
    }
    await bob.page.goto(sharedLink);
    await bob.page.getByRole("heading", { name: "Feed the starter **daily**" }).waitFor();
  });

  it("keeps an answer inside its message: raw HTML laid over the page covers neither the share page's header nor the chat", async () => {
    const { page } = alice;
    // A fake "session expired" page as raw HTML in an answer (imported here; a model can write it),
    // beside a formula, whose layout is inline styles; and a box made absolute by a class of the
    // page's own (KaTeX's), sized and shifted by the styles KaTeX uses.
    const phishing = [
      '<div style="position:fixed;top:0;left:0;width:100vw;height:100vh;z-index:2147483647;background:#fff;padding:40px"><h1>Session expired</h1><p>Your Hearth session has expired. <a href="http://127.0.0.1:9610/login">Sign in again</a></p></div>',
      '<div class="katex"><span class="cd-label-left" style="top:-80em;left:-80em;width:400em;height:400em;background-color:white">Sign in again</span></div>',
    ].join("\n\n");
    const { id, shareUrl } = await page.evaluate(
      async ({ content }) => {
        const csrf = decodeURIComponent(document.cookie.match(/hearth_csrf=([^;]+)/)![1]!);
        const post = async (url: string, body?: unknown) =>
          (
            await fetch(url, {
              method: "POST",
              headers: {
                "x-csrf-token": csrf,
                ...(body ? { "content-type": "application/json" } : {}),
              },
              ...(body ? { body: JSON.stringify(body) } : {}),
            })
          ).json();
        const imported = await post("/api/conversations/import", {
          title: "Covered?",
          messages: [
            { role: "user", content: "hello" },
            { role: "assistant", content: `${content}\n\n$$\\frac{a}{b} + x^2$$` },
          ],
        });
        const id = imported.conversations[0].id as string;
        return { id, shareUrl: (await post(`/api/conversations/${id}/share`)).url as string };
      },
      { content: phishing },
    );
    /** Whether what is seen at the middle of the element is the element (or within it). */
    const onTop = (locator: Locator) =>
      locator.evaluate((element) => {
        const box = element.getBoundingClientRect();
        const seen = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
        return seen !== null && element.contains(seen);
      });
    for (const [viewer, url, heading] of [
      [bob.page, new URL(shareUrl, stand.url).href, bob.page.getByText(/^Shared by alice on /)],
      [page, `${stand.url}/c/${id}`, page.getByRole("button", { name: "Send", exact: true })],
    ] as const) {
      await viewer.goto(url);
      const answer = viewer.locator("article.message.assistant").last();
      // Raw HTML is text: the fake page reads as the markup it is, and lays nothing over the page.
      await answer.getByText(/<h1>Session expired<\/h1>/).waitFor();
      expect(await answer.locator(".markdown h1, .markdown div[style]").count()).toBe(0);
      await heading.waitFor();
      expect(await onTop(heading), url).toBe(true);
      // The page's top left corner is the page's, not the answer's box.
      expect(
        await viewer.evaluate(() => document.elementFromPoint(2, 2)?.closest("article.message") ?? null),
        url,
      ).toBeNull();
      // The formula is laid out still: KaTeX's inline heights and shifts are kept.
      await answer.locator(".katex-display").waitFor();
      expect(await answer.locator('.katex [style*="height:"]').count()).toBeGreaterThan(0);
      expect(await answer.locator('.katex [style*="top:"]').count()).toBeGreaterThan(0);
    }
    await screenshot(bob.page, "ui-share-page-contained");
  });

  it("tells the owner, before sharing, that a conversation's knowledge citations become readable through the link", async () => {
    const { page } = alice;
    await page.evaluate(async () => {
      const csrf = decodeURIComponent(document.cookie.match(/hearth_csrf=([^;]+)/)![1]!);
      await fetch("/api/conversations/import", {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": csrf },
        body: JSON.stringify({
          title: "Cites a private base",
          messages: [
            { role: "user", content: "What does the handbook say?" },
            {
              role: "assistant",
              content: "Six months [1].",
              citations: [
                {
                  n: 1,
                  kind: "document",
                  title: "handbook.pdf",
                  url: "/api/knowledge/bases/b1/documents/d1/file",
                  snippet: "six months",
                },
              ],
            },
          ],
        }),
      });
    });
    await page.goto(stand.url);
    const note =
      /cites passages from knowledge bases\. Anyone who opens the link can read those passages \(up to 300 characters each\), those of private bases too/;
    for (const [title, told] of [
      ["Cites a private base", true],
      ["Feed the starter **daily**", false],
    ] as const) {
      const menu = page.locator("#conversation-sidebar li", { hasText: title }).locator("details.item-menu");
      await menu.locator("summary").click();
      await menu.getByRole("button", { name: "Share" }).click();
      const dialog = page.getByRole("dialog", { name: /^Share “/ });
      await dialog.getByRole("button", { name: /^(Create|Update) link$/ }).waitFor();
      expect(await dialog.getByText(note).count(), title).toBe(told ? 1 : 0);
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached" });
    }
  });
});
