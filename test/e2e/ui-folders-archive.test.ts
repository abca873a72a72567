import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, hasChromium, screenshot, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/** Whether the element has focus. */
const focused = (locator: Locator) => locator.evaluate((element) => element === document.activeElement);

/** Makes conversations with these titles for the signed-in page's user (oldest first). */
async function makeConversations(page: Page, titles: string[]) {
  await page.evaluate(async (names) => {
    const csrf = decodeURIComponent(document.cookie.match(/hearth_csrf=([^;]+)/)![1]!);
    for (const title of names)
      await fetch("/api/conversations", {
        method: "POST",
        headers: { "x-csrf-token": csrf, "content-type": "application/json" },
        body: JSON.stringify({ title }),
      });
  }, titles);
}

/**
 * Folders and Archived chats in a real Chromium on the built UI: a folder made from the list, a
 * conversation moved into it from its menu, another archived and found (and brought back) under
 * Archived chats; then the same in Chinese, on a phone's width.
 */
describe.skipIf(!hasChromium)("folders and archived chats in the browser", () => {
  let stand: UiStand;
  let en: Browser;
  let zh: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 5 } });
    en = await stand.browser({ locale: "en-US" });
    zh = await stand.browser({ locale: "zh-CN", width: 390, height: 844 });
    await signUpInUi(en.page, stand.url, "alice");
    await signUpInUi(zh.page, stand.url, "wangfang");
  });
  afterAll(() => stand?.close());

  it("makes a folder, moves a chat into it, archives another and finds it under Archived chats", async () => {
    const { page } = en;
    await makeConversations(page, ["Garden plan", "Quarterly report"]);
    await page.reload();
    const sidebar = page.locator("#conversation-sidebar");
    const item = (title: string) => sidebar.locator("li[data-conversation]", { hasText: title });
    await item("Quarterly report").waitFor();

    // A new folder, named in place; it takes focus once made.
    await sidebar.getByRole("button", { name: "New folder" }).click();
    await sidebar.getByLabel("Folder name").fill("Work");
    await sidebar.getByRole("button", { name: "Create" }).click();
    const folder = sidebar.getByRole("button", { name: "Work, 0 conversations" });
    await folder.waitFor();
    expect(await focused(folder)).toBe(true);
    // A second folder of the same name (whatever its case) is refused, said beside the field.
    await sidebar.getByRole("button", { name: "New folder" }).click();
    const name = sidebar.getByLabel("Folder name");
    await name.fill("WORK");
    await page.keyboard.press("Enter");
    await sidebar.getByRole("alert").getByText("You already have a folder with this name").waitFor();
    expect(await name.getAttribute("aria-invalid")).toBe("true");
    await page.keyboard.press("Escape");
    expect(await focused(sidebar.getByRole("button", { name: "New folder" }))).toBe(true);

    // Moved into the folder from the conversation's menu, by the keyboard.
    const menu = item("Quarterly report").locator("details.item-menu");
    await menu.locator("summary").focus();
    await page.keyboard.press("Enter");
    const move = menu.getByLabel("Move to folder");
    await move.selectOption({ label: "Work" });
    await screenshot(page, "ui-folders-move-menu-en");
    await menu.getByRole("button", { name: "Move", exact: true }).focus();
    await page.keyboard.press("Enter");
    await sidebar.getByRole("button", { name: "Work, 1 conversation" }).waitFor();
    await expect.poll(() => item("Quarterly report").count()).toBe(0);
    // Opened, the folder lists it; its menu button has focus again where it now is.
    const work = sidebar.getByRole("button", { name: "Work, 1 conversation" });
    await work.click();
    expect(await work.getAttribute("aria-expanded")).toBe("true");
    await sidebar.locator(".folder-items").getByRole("link", { name: "Quarterly report" }).waitFor();

    // Archived from its menu: it leaves the list, and the list says so.
    const gardenMenu = item("Garden plan").locator("details.item-menu");
    await gardenMenu.locator("summary").click();
    await gardenMenu.getByRole("button", { name: "Archive" }).click();
    await expect.poll(() => item("Garden plan").count()).toBe(0);
    await sidebar.getByRole("status").getByText("“Garden plan” archived").waitFor({ state: "attached" });
    // Nor does the list's search find it.
    await page.getByLabel("Search conversations").fill("garden");
    await sidebar.getByText("No conversations match.").waitFor();
    await page.getByLabel("Search conversations").fill("");
    await sidebar.getByRole("button", { name: "Work, 1 conversation" }).waitFor();
    await sidebar.locator(".folder-items").getByRole("link", { name: "Quarterly report" }).waitFor();
    await screenshot(page, "ui-folders-en");

    // Found under Archived chats, searched there, and opened: the conversation says it is archived.
    await sidebar.getByRole("link", { name: "Archived chats" }).click();
    await page.getByRole("heading", { name: "Archived chats" }).waitFor();
    await page.getByLabel("Search archived chats").fill("GARDEN");
    const row = page.locator(".archived-list li", { hasText: "Garden plan" });
    await row.waitFor();
    await screenshot(page, "ui-archived-chats-en");
    await row.getByRole("link", { name: "Garden plan" }).click();
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    await page.getByText("This conversation is archived").waitFor();
    // Unarchived from there, it is back in the list; focus goes to the message box.
    await page.getByRole("button", { name: "Unarchive" }).click();
    await item("Garden plan").waitFor();
    expect(await focused(page.locator("#message-input"))).toBe(true);
    // And a screen reader hears it.
    await page
      .locator(".chat")
      .getByRole("status")
      .getByText("“Garden plan” is back in your chat list.")
      .waitFor({ state: "attached" });

    // Archive it again, then unarchive it from the Archived chats page: focus stays on the page.
    await item("Garden plan").locator("details.item-menu summary").click();
    await item("Garden plan").getByRole("button", { name: "Archive" }).click();
    await expect.poll(() => item("Garden plan").count()).toBe(0);
    await page.goto(`${stand.url}/archived`);
    await page.getByRole("button", { name: "Unarchive “Garden plan”" }).click();
    await page.getByText("No archived chats.").waitFor();
    await page.getByRole("status").getByText("“Garden plan” is back in your chat list.").waitFor({
      state: "attached",
    });
    expect(await focused(page.getByLabel("Search archived chats"))).toBe(true);
  });

  it("keeps a temporary chat out of the list, deletes it when another chat opens, and keeps one when told", async () => {
    const { page } = en;
    const sidebar = page.locator("#conversation-sidebar");
    const status = async (id: string) =>
      page.evaluate(async (conversation) => (await fetch(`/api/conversations/${conversation}`)).status, id);
    const ask = async (text: string) => {
      await page.getByLabel(/Send a message/).fill(text);
      await page.getByRole("button", { name: "Send" }).click();
      await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
      const answer = page.locator("article.message.assistant").last();
      await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
      return page.url().split("/c/")[1]!;
    };
    await page.goto(stand.url);
    const temporary = page.getByRole("button", { name: "Temporary chat" });
    await temporary.click();
    expect(await temporary.getAttribute("aria-pressed")).toBe("true");
    await page.getByText("Temporary chat: not in your chat list").waitFor();
    const secret = await ask("A surprise party for Bob");
    // In no list, and its note offers to keep it.
    await page.getByRole("button", { name: "Keep this chat" }).waitFor();
    expect(await sidebar.getByText("A surprise party for Bob").count()).toBe(0);
    await screenshot(page, "ui-temporary-chat-en");
    // Left for a new chat, it is deleted; the new chat is temporary too until switched off.
    await page.getByRole("button", { name: "+ New chat" }).click();
    await expect.poll(() => status(secret)).toBe(404);
    expect(await temporary.getAttribute("aria-pressed")).toBe("true");
    // Kept: it joins the list, a screen reader hears so, and the message box has focus.
    const kept = await ask("Plan the garden");
    await page.getByRole("button", { name: "Keep this chat" }).click();
    await sidebar.locator("li[data-conversation]", { hasText: "Plan the garden" }).waitFor();
    await page
      .locator(".chat")
      .getByRole("status")
      .getByText("Chat kept: it is in your chat list now.")
      .waitFor({ state: "attached" });
    expect(await focused(page.locator("#message-input"))).toBe(true);
    expect(await page.getByRole("button", { name: "Keep this chat" }).count()).toBe(0);
    // A kept chat stays when left; a new chat after it is an ordinary one.
    await page.getByRole("button", { name: "+ New chat" }).click();
    expect(await temporary.getAttribute("aria-pressed")).toBe("false");
    expect(await status(kept)).toBe(200);
    // Left for another page, a temporary chat is deleted too (it is in no list to come back to).
    await temporary.click();
    const left = await ask("A gift for Carol");
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByRole("heading", { name: "Knowledge bases" }).waitFor();
    await expect.poll(() => status(left)).toBe(404);

    // A link asks in a new chat at once, as Open WebUI's do (a browser's search-engine entry
    // http://HOST/?q=%s): its question sent, here in a temporary chat, and the address cleared of it.
    await page.goto(`${stand.url}/?q=${encodeURIComponent("Where is the spare key?")}&temporary-chat=true`);
    await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
    const linked = page.url().split("/c/")[1]!;
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    expect(await answer.textContent()).toContain("You said: Where is the spare key?");
    await page.getByRole("button", { name: "Keep this chat" }).waitFor();
    expect(await sidebar.getByText("Where is the spare key?").count()).toBe(0);
    // Back to the link's address asks nothing again: it was taken out of the history.
    await page.goBack();
    await expect.poll(() => new URL(page.url()).search).toBe("");
    await expect.poll(() => status(linked)).toBe(404);
    expect(await page.locator("article.message").count()).toBe(0);
  });

  it("deletes a folder, asking what becomes of its conversations, and keeps them when told", async () => {
    const { page } = en;
    await page.goto(stand.url);
    const sidebar = page.locator("#conversation-sidebar");
    // The folder's own menu (the folder is still open from before: its conversation's menu is inside it too).
    const folderMenu = sidebar
      .locator("li.folder", { hasText: "Work" })
      .locator(".folder-row details.item-menu");
    await folderMenu.locator("summary").click();
    await folderMenu.getByRole("button", { name: "Delete folder" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete the folder “Work”?" });
    await dialog.getByText("It holds 1 conversation.").waitFor();
    await dialog.getByRole("button", { name: "Delete folder and its conversations" }).waitFor();
    await screenshot(page, "ui-folders-delete-dialog-en");
    await dialog.getByRole("button", { name: "Delete folder, keep conversations" }).click();
    await dialog.waitFor({ state: "detached" });
    await expect.poll(() => sidebar.locator("li.folder").count()).toBe(0);
    // Its conversation is back in the main list; focus is on New folder, not lost.
    await sidebar.locator("li[data-conversation]", { hasText: "Quarterly report" }).waitFor();
    await expect.poll(() => focused(sidebar.getByRole("button", { name: "New folder" }))).toBe(true);
  });

  it("does the same in Chinese on a phone's width", async () => {
    const { page } = zh;
    await makeConversations(page, ["花园规划", "季度报告"]);
    await page.reload();
    const toggle = page.getByRole("button", { name: "对话", exact: true });
    const openDrawer = async () => {
      if ((await toggle.getAttribute("aria-expanded")) !== "true") await toggle.click();
    };
    await openDrawer();
    const sidebar = page.locator("#conversation-sidebar");
    await sidebar.getByRole("button", { name: "新建文件夹" }).click();
    await sidebar.getByLabel("文件夹名称").fill("工作");
    await sidebar.getByRole("button", { name: "创建" }).click();
    await sidebar.getByRole("button", { name: "工作，0 个对话" }).waitFor();
    const menu = sidebar
      .locator("li[data-conversation]", { hasText: "季度报告" })
      .locator("details.item-menu");
    await menu.locator("summary").click();
    await menu.getByLabel("移至文件夹").selectOption({ label: "工作" });
    await menu.getByRole("button", { name: "移动", exact: true }).click();
    const folder = sidebar.getByRole("button", { name: "工作，1 个对话" });
    await folder.click();
    await sidebar.locator(".folder-items").getByRole("link", { name: "季度报告" }).waitFor();
    const garden = sidebar
      .locator("li[data-conversation]", { hasText: "花园规划" })
      .locator("details.item-menu");
    await garden.locator("summary").click();
    await garden.getByRole("button", { name: "归档" }).click();
    await expect
      .poll(() => sidebar.locator("li[data-conversation]", { hasText: "花园规划" }).count())
      .toBe(0);
    // The phone's width holds the drawer with its folders without scrolling sideways.
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth),
    ).toBe(true);
    await screenshot(page, "ui-folders-zh-CN-390");
    await sidebar.getByRole("link", { name: "已归档对话" }).click();
    await page.getByRole("heading", { name: "已归档对话" }).waitFor();
    await page
      .locator(".archived-list li", { hasText: "花园规划" })
      .getByText(/^归档于 /)
      .waitFor();
    await page.getByRole("button", { name: "取消归档“花园规划”" }).waitFor();
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth),
    ).toBe(true);
    await screenshot(page, "ui-archived-chats-zh-CN-390");
  });

  it("keeps a conversation's menu on screen, whole, with a folder of the longest name", async () => {
    // A folder name of 100 characters (the most taken): the menu's "Move to folder" select does not
    // grow to it, so the menu stays within the screen, at a desktop's width and a phone's.
    const longName = "字".repeat(100);
    for (const [browser, title, deleteName, openDrawer] of [
      [en, "Long folder check", "Delete", false],
      [zh, "长文件夹检查", "删除", true],
    ] as const) {
      const { page } = browser;
      await page.goto(stand.url);
      await makeConversations(page, [title]);
      await page.evaluate(async (name) => {
        const csrf = decodeURIComponent(document.cookie.match(/hearth_csrf=([^;]+)/)![1]!);
        await fetch("/api/folders", {
          method: "POST",
          headers: { "x-csrf-token": csrf, "content-type": "application/json" },
          body: JSON.stringify({ name }),
        });
      }, longName);
      await page.reload();
      if (openDrawer) await page.getByRole("button", { name: "对话", exact: true }).click();
      const sidebar = page.locator("#conversation-sidebar");
      const menu = sidebar.locator("li[data-conversation]", { hasText: title }).locator("details.item-menu");
      await menu.locator("summary").click();
      const actions = menu.locator(".item-menu-actions");
      await actions.waitFor();
      // The long name is one of the select's options, readable whole in its title.
      await menu.locator(`option[title="${longName}"]`).waitFor({ state: "attached" });
      const box = (await actions.boundingBox())!;
      const viewport = page.viewportSize()!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
      const remove = menu.getByRole("button", { name: deleteName, exact: true });
      const removeBox = (await remove.boundingBox())!;
      expect(removeBox.x).toBeGreaterThanOrEqual(0);
      expect(removeBox.x + removeBox.width).toBeLessThanOrEqual(viewport.width);
      // Nothing covers it: a click would reach it.
      await remove.click({ trial: true, timeout: 5000 });
      await screenshot(page, `ui-folders-long-name-menu-${viewport.width}`);
      await page.keyboard.press("Escape");
    }
  });
});
