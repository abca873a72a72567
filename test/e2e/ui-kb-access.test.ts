/**
 * A reviewer's findings on the knowledge page in a real Chromium on the built UI: a shared base's
 * badge says what its member may do with it; the base shown is in the address (a reload opens it
 * again, Back and Forward go between bases); a member whose write access is lowered while the page
 * is open is told so on the first refused write, and the write controls go.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, hasChromium } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/** A request of the signed-in page's user to the web service (its CSRF token sent), answered as JSON. */
function call(page: Page, method: string, path: string, body?: unknown): Promise<unknown> {
  return page.evaluate(
    async ([method, path, body]) => {
      const csrf = decodeURIComponent(document.cookie.match(/hearth_csrf=([^;]+)/)![1]!);
      const response = await fetch(path as string, {
        method: method as string,
        headers: { "x-csrf-token": csrf, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return response.status === 204 ? {} : response.json();
    },
    [method, path, body] as const,
  );
}

describe.skipIf(!hasChromium)("a shared knowledge base as its member sees it", () => {
  let stand: UiStand;
  let root: Browser;
  let alice: Browser;
  let teamDocs: string;
  let handbook: string;
  let groupId: string;

  beforeAll(async () => {
    stand = await startUiStand({ knowledgeAndSearch: true });
    root = await stand.signedIn("root", { locale: "en-US" });
    alice = await stand.signedIn("alice", { locale: "en-US" });
    const aliceId = (
      await stand.web.db
        .selectFrom("users")
        .select("id")
        .where("username", "=", "alice")
        .executeTakeFirstOrThrow()
    ).id;
    groupId = ((await call(root.page, "POST", "/api/admin/groups", { name: "team" })) as { id: string }).id;
    await call(root.page, "PUT", `/api/admin/groups/${groupId}/members`, { userIds: [aliceId] });
    const share = async (name: string, permission: "read" | "write") => {
      const { id } = (await call(root.page, "POST", "/api/knowledge-bases", { name })) as { id: string };
      await call(root.page, "PUT", `/api/knowledge-bases/${id}/access`, {
        visibility: "shared",
        shares: [{ groupId, permission }],
      });
      return id;
    };
    teamDocs = await share("Team docs", "write");
    handbook = await share("Handbook", "read");
  });
  afterAll(async () => {
    await stand?.close();
  });

  it("says on a shared base's badge whether its member may edit it", async () => {
    const { page } = alice;
    await page.goto(`${stand.url}/knowledge`);
    const badge = (name: string) =>
      page.locator(".kb-list li", { has: page.getByRole("button", { name, exact: true }) }).locator(".badge");
    await expect.poll(() => badge("Team docs").textContent()).toBe("Shared · can edit");
    expect(await badge("Handbook").textContent()).toBe("Shared · read only");
    const zh = await stand.browser({ locale: "zh-CN" });
    await zh.context.addCookies(await alice.context.cookies());
    await zh.page.goto(`${stand.url}/knowledge`);
    await zh.page.getByText("共享 · 只读", { exact: true }).waitFor();
  });

  it("keeps the base shown in the address: a reload opens it again, Back and Forward go between bases", async () => {
    const { page } = alice;
    await page.goto(`${stand.url}/knowledge`);
    await page.getByRole("button", { name: "Team docs", exact: true }).click();
    await page.getByRole("heading", { name: "Team docs" }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/knowledge/${teamDocs}`);
    await page.reload();
    await page.getByRole("heading", { name: "Team docs" }).waitFor();
    await page.getByRole("button", { name: "Handbook", exact: true }).click();
    await page.getByRole("heading", { name: "Handbook" }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/knowledge/${handbook}`);
    await page.goBack();
    await page.getByRole("heading", { name: "Team docs" }).waitFor();
    expect(await page.getByRole("heading", { name: "Handbook" }).count()).toBe(0);
    await page.goForward();
    await page.getByRole("heading", { name: "Handbook" }).waitFor();
    // The list alone: no base shown.
    await page.getByRole("link", { name: "Knowledge" }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe("/knowledge");
    expect(await page.locator("#kb-title").count()).toBe(0);
  });

  it("tells a member whose access was lowered meanwhile that they can only read now, and hides the write controls", async () => {
    const { page } = alice;
    await page.goto(`${stand.url}/knowledge/${teamDocs}`);
    await page.locator('input[type="file"]:not([webkitdirectory])').setInputFiles({
      name: "notes.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("Team notes."),
    });
    const remove = page.getByRole("button", { name: /^Delete.*notes\.txt/ });
    await remove.waitFor();
    // The base's owner makes the group read-only while alice's page is open.
    await call(root.page, "PUT", `/api/knowledge-bases/${teamDocs}/access`, {
      visibility: "shared",
      shares: [{ groupId, permission: "read" }],
    });
    page.once("dialog", (dialog) => void dialog.accept());
    await remove.click();
    const alert = page.getByRole("alert");
    await expect.poll(() => alert.textContent()).toMatch(/^You can now only read this knowledge base/);
    expect(await page.getByText("You do not have access to this.").count()).toBe(0);
    await expect.poll(() => remove.count()).toBe(0);
    expect(await page.locator('input[type="file"]').count()).toBe(0);
    expect(await page.getByLabel("Add a web page by its address").count()).toBe(0);
    expect(
      await page
        .locator(".kb-list li", { has: page.getByRole("button", { name: "Team docs", exact: true }) })
        .locator(".badge")
        .textContent(),
    ).toBe("Shared · read only");
    // Said in the language of the moment.
    await page.getByRole("combobox", { name: "Language" }).selectOption("zh-CN");
    await expect.poll(() => alert.textContent()).toMatch(/^你现在只能阅读此知识库/);
    await page.getByRole("combobox", { name: "语言" }).selectOption("en");
  });

  it("refuses a watched folder that does not exist, lists a valid one's files at once, each marked as from the folder", async () => {
    const folder = mkdtempSync(join(tmpdir(), "hearth-watched-"));
    stand.services!.readWatchFolders = true;
    try {
      writeFileSync(join(folder, "policy.txt"), "Expenses are filed monthly.");
      const { page } = root;
      await page.goto(`${stand.url}/knowledge`);
      await page.getByLabel("New knowledge base").fill("Mirrored");
      await page.getByRole("button", { name: "Create" }).click();
      await page.getByRole("heading", { name: "Mirrored" }).waitFor();
      await page.getByText("Knowledge base settings", { exact: true }).click();
      const form = page.getByRole("form", { name: "Knowledge base settings" });
      const field = form.getByLabel("Folder on the server to mirror");
      await field.fill(join(folder, "no-such-folder"));
      await form.getByRole("button", { name: "Save settings" }).click();
      await form
        .getByText("This folder does not exist on the knowledge service's machine", { exact: false })
        .waitFor();
      expect(await field.getAttribute("aria-invalid")).toBe("true");
      expect(await form.getByText("Settings saved", { exact: false }).count()).toBe(0);

      await field.fill(folder);
      await form.getByRole("button", { name: "Save settings" }).click();
      await page
        .getByText("Settings saved: the watched folder is being read now", { exact: false })
        .waitFor();
      // Listed without a Re-sync, and marked as mirrored from the folder.
      const row = page.locator("tr", { has: page.getByRole("link", { name: "policy.txt" }) });
      await row.waitFor({ timeout: 5_000 });
      expect(await row.locator(".folder-badge").textContent()).toBe("from the watched folder");
      // Deleting it says that the next sync adds it back while its file is there.
      const asked: string[] = [];
      page.once("dialog", (dialog) => {
        asked.push(dialog.message());
        void dialog.dismiss();
      });
      await row.getByRole("button", { name: /^Delete/ }).click();
      await expect.poll(() => asked.length).toBe(1);
      expect(asked[0]).toMatch(/the next sync \(Re-sync, or the scheduled one\) adds it back/);
    } finally {
      stand.services!.readWatchFolders = false;
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
