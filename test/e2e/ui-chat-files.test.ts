import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, hasChromium, holdRequests, screenshot } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/** A file to attach, given by its bytes (no file on disk to remove afterwards). */
const file = (name: string, text: string, mimeType = "text/plain") => ({
  name,
  mimeType,
  buffer: Buffer.from(text),
});

/**
 * Files attached to a chat in a real Chromium on the built UI: the paperclip attaches a document
 * to a new chat (made for it), its upload shown in progress, then its status; the answer to the
 * next message cites it, and the citation opens its passage; the file is removed; one whose import
 * was cancelled reads Cancelled, not as a failure; a refused file says why in the Knowledge page's
 * words, and one larger than the service takes is refused before it is sent, naming the limit.
 * Then the same in Chinese, the file dropped on the composer.
 */
describe.skipIf(!hasChromium)("files in a chat in the browser", () => {
  let stand: UiStand;
  let en: Browser;
  let zh: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 5 }, knowledgeAndSearch: true });
    en = await stand.signedIn("alice", { locale: "en-US" });
    zh = await stand.signedIn("wangfang", { locale: "zh-CN", width: 390, height: 844 });
  });
  afterAll(() => stand?.close());

  it("attaches a file with progress and status, and the answer cites it and opens its passage", async () => {
    const { page } = en;
    const box = page.getByLabel(/Send a message/);
    await box.fill("What is the deposit?");
    // The upload is held on its way until released, so that it is seen in progress.
    const release = await holdRequests(page, "**/api/conversations/*/files");
    const chooser = page.waitForEvent("filechooser");
    await page.getByRole("button", { name: "Attach files" }).click();
    await (await chooser).setFiles(
      file("lease.txt", "Tenancy agreement.\n\nThe deposit is three months of rent."),
    );
    const files = page.getByRole("region", { name: "Files in this chat" });
    const row = files.getByRole("listitem").filter({ hasText: "lease.txt" });
    // Uploading: its progress bar and status, in a chat made for it (the draft went with it).
    await row.getByRole("progressbar", { name: "lease.txt" }).waitFor();
    expect(await row.textContent()).toContain("Uploading");
    await expect.poll(() => page.url(), { timeout: 10_000 }).toMatch(/\/c\/[0-9a-f-]{36}$/);
    expect(await box.inputValue()).toBe("What is the deposit?");
    release();
    await expect.poll(() => row.getAttribute("data-status"), { timeout: 10_000 }).toBe("indexed");
    expect(await row.textContent()).toContain("Indexed");
    // Listed nowhere else: not among the knowledge bases to choose.
    expect(await page.locator(".kb-picker").count()).toBe(0);
    await screenshot(page, "ui-chat-files-en");

    await page.getByRole("button", { name: "Send" }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    const citation = answer
      .getByRole("navigation", { name: "Sources" })
      .getByRole("link", { name: "lease.txt" });
    await citation.click();
    const dialog = page.getByRole("dialog", { name: "lease.txt" });
    await expect
      .poll(() => dialog.locator(".source-text mark").textContent())
      .toBe("The deposit is three months of rent.");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });

    // Removed: gone from the chat, focus left in the composer.
    await row.getByRole("button", { name: "Remove: lease.txt" }).click();
    await expect.poll(() => files.count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("message-input");

    // A file the knowledge service refuses says why, as the Knowledge page says it.
    await page
      .locator('.composer input[type="file"]:not([webkitdirectory])')
      .setInputFiles(file("setup.exe", "MZ\u0090binary", "application/octet-stream"));
    const refused = files.getByRole("listitem").filter({ hasText: "setup.exe" });
    await expect.poll(() => refused.getAttribute("data-status"), { timeout: 10_000 }).toBe("failed");
    expect(await refused.locator(".document-error").textContent()).toMatch(/Windows/);
  });

  it("shows an attachment whose import was cancelled as cancelled, not as a failure, as the Knowledge page does", async () => {
    const { page } = en;
    stand.services!.holdIngestion = true;
    try {
      await page
        .locator('.composer input[type="file"]:not([webkitdirectory])')
        .setInputFiles(file("draft.txt", "A draft never indexed."));
      const row = page
        .getByRole("region", { name: "Files in this chat" })
        .getByRole("listitem")
        .filter({ hasText: "draft.txt" });
      await expect.poll(() => row.getAttribute("data-status"), { timeout: 10_000 }).toBe("queued");
      // Its import cancelled as the CLI's Ctrl-C cancels it: through the web service's jobs route.
      await page.evaluate(async () => {
        const chat = location.pathname.split("/").pop();
        const listing = await (await fetch(`/api/conversations/${chat}/files`)).json();
        const { jobId } = listing.documents.find((d: { name: string }) => d.name === "draft.txt");
        const csrf = decodeURIComponent(/(?:^|;\s*)hearth_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? "");
        const answer = await fetch(`/api/jobs/${jobId}/cancel`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-csrf-token": csrf },
          body: "{}",
        });
        if (!answer.ok) throw new Error(`cancel answered ${answer.status}`);
      });
      await expect.poll(() => row.getAttribute("data-status"), { timeout: 10_000 }).toBe("failed");
      expect(await row.textContent()).toContain("draft.txt: Cancelled");
      expect(await row.locator(".error-text").count()).toBe(0);
      expect(await row.locator(".document-error").textContent()).toMatch(/upload it again/);
    } finally {
      stand.services!.holdIngestion = false;
    }
  });

  it("refuses at once, in Chinese, a file larger than the knowledge service takes, saying the limit", async () => {
    const { page } = zh;
    stand.services!.maxUploadBytes = 1024 * 1024;
    try {
      // A chat page that has read the limit, listed with the knowledge bases.
      const listed = page.waitForResponse((response) => response.url().endsWith("/api/knowledge-bases"));
      await page.goto(stand.url);
      await listed;
      const sent: string[] = [];
      page.on("request", (request) => {
        if (request.method() === "POST" && /\/files$/.test(request.url())) sent.push(request.url());
      });
      await page
        .locator('.composer input[type="file"]:not([webkitdirectory])')
        .setInputFiles(file("scan.txt", "a".repeat(2 * 1024 * 1024)));
      const row = page
        .getByRole("region", { name: "本对话的文件" })
        .getByRole("listitem")
        .filter({ hasText: "scan.txt" });
      await expect.poll(() => row.getAttribute("data-status")).toBe("error");
      expect(await row.locator(".error-text").textContent()).toBe("文件超过本站接受的大小：最大 1 MiB。");
      expect(sent).toEqual([]);
    } finally {
      stand.services!.maxUploadBytes = 100 * 1024 * 1024;
    }
  });

  it("attaches a file dropped on the composer, in Chinese", async () => {
    const { page } = zh;
    const box = page.locator("#message-input");
    // (The stand-in knowledge service matches Latin words of four letters or more.)
    await box.fill("deposit 是多少？");
    await box.evaluate((element) => {
      const data = new DataTransfer();
      data.items.add(
        new File(["租赁合同。\n\nThe deposit is two months of rent."], "合同.txt", { type: "text/plain" }),
      );
      element.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: data }));
    });
    const files = page.getByRole("region", { name: "本对话的文件" });
    const row = files.getByRole("listitem").filter({ hasText: "合同.txt" });
    await expect.poll(() => row.getAttribute("data-status"), { timeout: 10_000 }).toBe("indexed");
    expect(await row.textContent()).toContain("已索引");
    expect(await row.getByRole("button", { name: "移除：合同.txt" }).count()).toBe(1);
    await screenshot(page, "ui-chat-files-zh");
    await page.getByRole("button", { name: "发送" }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    await answer
      .getByRole("navigation", { name: "引用来源" })
      .getByRole("link", { name: "合同.txt" })
      .click();
    await expect
      .poll(() => page.getByRole("dialog", { name: "合同.txt" }).locator(".source-text mark").textContent())
      .toBe("The deposit is two months of rent.");
  });
});
