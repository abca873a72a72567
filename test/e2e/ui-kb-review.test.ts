import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, hasChromium, screenshot, signUpInUi, uncovered } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/** Whether the element has focus. */
const focused = (locator: Locator) => locator.evaluate((element) => element === document.activeElement);

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
      return response.json();
    },
    [method, path, body] as const,
  );
}

/** A CSS colour as the page computes it (a variable of the theme shown). */
const themeColour = (page: Page, value: string) =>
  page.evaluate((colour) => {
    const probe = document.body.appendChild(document.createElement("span"));
    probe.style.color = colour;
    const computed = getComputedStyle(probe).color;
    probe.remove();
    return computed;
  }, value);

/** Whether the element's box lies wholly on a viewport of `width` × `height`. */
async function onScreen(locator: Locator, width: number, height: number): Promise<boolean> {
  const box = await locator.boundingBox();
  return !!box && box.x >= 0 && box.y >= 0 && box.x + box.width <= width && box.y + box.height <= height;
}

/**
 * A reviewer's findings on the knowledge page, the chat's knowledge base picker, the conversation
 * list and the sign-up form, in a real Chromium on the built UI: on a phone (390 × 844) a
 * conversation's ⋯ menu shows every action and a base's documents are cards with their switch and
 * Delete on the screen; a failed document has no "In answers" switch, says to upload it again, its
 * name muted and its upload's bar in the error colour, and the "#" list counts only the documents
 * answers may use; links follow the theme; a new base says it has no documents yet; a base without
 * an embedding model is tested on full text; an administrator's picker names another user's base's
 * owner; an import's outcome can be closed and goes with another page; a new account's form says
 * every field's error at once, focus on the first.
 */
describe.skipIf(!hasChromium)("the reviewer's knowledge and list findings in the browser", () => {
  let stand: UiStand;
  let admin: Browser;
  let files: string;

  beforeAll(async () => {
    stand = await startUiStand({
      model: { models: ["tiny-story"], embeddingModels: ["bge-m3:latest"] },
      knowledgeAndSearch: true,
    });
    admin = await stand.signedIn("alice", { locale: "en-US" });
    files = mkdtempSync(join(tmpdir(), "hearth-kb-review-"));
  });
  afterAll(async () => {
    await stand?.close();
    if (files) rmSync(files, { recursive: true, force: true });
  });

  it("says every field's error of a new account at once, focus on the first field in error", async () => {
    for (const [locale, texts] of [
      ["en-US", ["User name: 2 to 64", "The password is too weak", "The two passwords do not match."]],
      ["zh-CN", ["用户名：2 到 64", "密码强度不够", "两次输入的密码不一致。"]],
    ] as const) {
      const { page } = await stand.browser({ locale });
      await page.goto(stand.url);
      await page.locator("#auth-title").waitFor();
      await page.getByRole("button", { name: /No account\? Create one|没有账号？注册/ }).click();
      const username = page.getByLabel(/User name|用户名/);
      const password = page.getByLabel(/^(Password|密码)$/);
      const confirmation = page.getByLabel(/^(Confirm password|确认密码)$/);
      await username.fill("a b");
      await password.fill("short");
      await confirmation.fill("other");
      await page.getByRole("button", { name: /^(Create account|注册)$/ }).click();
      for (const text of texts) await page.getByText(text).waitFor();
      for (const field of [username, password, confirmation])
        expect(await field.getAttribute("aria-invalid")).toBe("true");
      await expect.poll(() => focused(username)).toBe(true);
      // Each field is described by its own error.
      const describedBy = await password.getAttribute("aria-describedby");
      expect(await page.locator(`#${describedBy!.split(" ").at(-1)}`).textContent()).toContain(texts[1]);
    }
  });

  it("shows a conversation's whole ⋯ menu on a phone, as a sheet at the screen's bottom", async () => {
    const phone = await stand.browser({ locale: "zh-CN", width: 390, height: 844 });
    const { page } = phone;
    await signUpInUi(page, stand.url, "wangfang");
    await page.evaluate(async () => {
      const csrf = decodeURIComponent(document.cookie.match(/hearth_csrf=([^;]+)/)![1]!);
      for (const title of [
        "花园规划",
        "季度报告",
        "旅行清单",
        "读书笔记",
        "周会纪要",
        "年度总结",
        "采购计划",
      ])
        await fetch("/api/conversations", {
          method: "POST",
          headers: { "x-csrf-token": csrf, "content-type": "application/json" },
          body: JSON.stringify({ title }),
        });
    });
    await page.reload();
    await page.getByRole("button", { name: "对话", exact: true }).click();
    const sidebar = page.locator("#conversation-sidebar");
    // The list's last conversation, low in the drawer.
    const menu = sidebar
      .locator("li[data-conversation]", { hasText: "花园规划" })
      .locator("details.item-menu");
    await menu.scrollIntoViewIfNeeded();
    await menu.locator("summary").click();
    const actions = menu.locator(".item-menu-actions > button, .item-menu-actions > a");
    const names = await actions.allTextContents();
    for (const name of ["重命名", "置顶", "归档", "分享", "删除"])
      expect(
        names.some((text) => text.includes(name)),
        name,
      ).toBe(true);
    await screenshot(page, "kb-review-menu-zh-390");
    for (let index = 0; index < (await actions.count()); index++) {
      const action = actions.nth(index);
      expect(await onScreen(action, 390, 844), names[index]).toBe(true);
      expect(await uncovered(action), names[index]).toBe(true);
    }
  });

  it("lets an import's outcome be closed, focus back on Import, and leaves it behind on another page", async () => {
    const { page } = admin;
    const file = join(files, "conversations.json");
    writeFileSync(
      file,
      JSON.stringify([
        {
          title: "Sourdough starter",
          create_time: 1_700_000_000,
          current_node: "a1",
          mapping: {
            root: { id: "root", parent: null, children: ["u1"], message: null },
            u1: {
              id: "u1",
              parent: "root",
              children: [],
              message: {
                id: "u1",
                author: { role: "user" },
                create_time: 1_700_000_000,
                content: { content_type: "text", parts: ["How often do I feed a starter?"] },
                metadata: {},
                recipient: "all",
              },
            },
          },
        },
      ]),
    );
    const importOnce = async () => {
      const chooser = page.waitForEvent("filechooser");
      await page.getByRole("button", { name: "Import chats" }).click();
      await (await chooser).setFiles(file);
    };
    const outcome = page.locator('.import-outcome[role="status"]');
    const done = outcome.getByText(/^Imported 1 of 1 conversations from conversations\.json/);
    await importOnce();
    await done.waitFor();
    await outcome.getByRole("button", { name: "Close the import's result" }).click();
    await done.waitFor({ state: "detached" });
    expect(await focused(page.getByRole("button", { name: "Import chats" }))).toBe(true);
    // Still a live region, for the next import.
    expect(await outcome.count()).toBe(1);

    await importOnce();
    await done.waitFor();
    // Another conversation opened from the list: the outcome goes.
    await page
      .locator("#conversation-sidebar")
      .getByRole("link", { name: "Sourdough starter" })
      .first()
      .click();
    await page
      .locator("article.message.user", { hasText: "How often do I feed a starter?" })
      .first()
      .waitFor();
    expect(await done.count()).toBe(0);
  });

  it("shows failed documents as failed, counts only usable ones after #, colours links by the theme and lists the documents as cards on a phone", async () => {
    const { page } = admin;
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByRole("heading", { name: "Knowledge bases" }).waitFor();
    // A base searched by words only (no embedding model).
    await call(page, "POST", "/api/knowledge-bases", { name: "Docs EN", embeddingModel: null });
    await page.reload();
    await page.getByRole("button", { name: "Docs EN", exact: true }).click();
    await page.getByText("Searched by words only (no embedding model)").waitFor();

    // None yet: said, with how to add some.
    await page.getByText("No documents yet. Upload files or a folder").waitFor();
    // "Upload a folder" does not touch its picker.
    const folderLabel = page.locator("label.upload", { hasText: "Upload a folder" });
    const labelText = (await folderLabel.locator("span").boundingBox())!;
    const picker = (await folderLabel.locator("input").boundingBox())!;
    const gap =
      picker.y >= labelText.y + labelText.height
        ? picker.y - (labelText.y + labelText.height)
        : picker.x - (labelText.x + labelText.width);
    expect(gap).toBeGreaterThanOrEqual(4);

    // The retrieval test starts on full text; vectors and hybrid are offered disabled, saying why.
    const mode = page.getByLabel("Search by");
    expect(await mode.inputValue()).toBe("lexical");
    expect(await mode.locator("option[value=vector]").isDisabled()).toBe(true);
    expect(await mode.locator("option[value=hybrid]").isDisabled()).toBe(true);
    await page.getByText("Vectors and hybrid search need an embedding model").waitFor();

    await page.locator('input[type="file"]:not([webkitdirectory])').setInputFiles([
      { name: "good.txt", mimeType: "text/plain", buffer: Buffer.from("One usable passage.") },
      { name: "fake.pdf", mimeType: "application/pdf", buffer: Buffer.from("MZ\u0090\u0000ELF") },
    ]);
    const rowOf = (name: string) => page.locator("tr", { has: page.getByRole("link", { name }) });
    await expect.poll(() => rowOf("good.txt").getAttribute("data-status")).toBe("indexed");
    await expect.poll(() => rowOf("fake.pdf").getAttribute("data-status")).toBe("failed");
    expect(await page.getByText("No documents yet.").count()).toBe(0);

    // The failed one: no switch for answers, what to do instead, its name muted, its bar red.
    const failed = rowOf("fake.pdf");
    expect(await failed.getByRole("checkbox").count()).toBe(0);
    await failed
      .getByText("Not indexed, so not used in answers: delete it and upload the file again.")
      .waitFor();
    await failed.getByRole("button", { name: "Delete: fake.pdf" }).waitFor();
    const muted = await themeColour(page, "var(--muted)");
    const accent = await themeColour(page, "var(--accent)");
    const error = await themeColour(page, "var(--error)");
    const failedLink = failed.getByRole("link", { name: "fake.pdf" });
    expect(await failedLink.evaluate((a) => getComputedStyle(a).color)).toBe(muted);
    const bar = page.locator("ul.uploads li", { hasText: "fake.pdf" }).locator("progress");
    await expect.poll(() => bar.getAttribute("class")).toBe("failed");
    expect(await bar.evaluate((p) => getComputedStyle(p).accentColor)).toBe(error);
    const goodBar = page.locator("ul.uploads li", { hasText: "good.txt" }).locator("progress");
    expect(await goodBar.getAttribute("class")).toBeNull();

    // The good one: its switch, its passages named in the singular, its name in the theme's colour.
    const good = rowOf("good.txt");
    expect(await good.getByRole("checkbox", { name: /good\.txt/ }).isChecked()).toBe(true);
    await good.getByRole("button", { name: "Show the 1 passage of good.txt" }).waitFor();
    expect(await page.locator("thead th").allTextContents()).toContain("Passages");
    const goodLink = good.getByRole("link", { name: "good.txt" });
    expect(await goodLink.evaluate((a) => getComputedStyle(a).color)).toBe(accent);
    await page.evaluate(() => {
      document.documentElement.dataset.theme = "dark";
    });
    const darkAccent = await themeColour(page, "var(--accent)");
    expect(darkAccent).not.toBe(accent);
    expect(await goodLink.evaluate((a) => getComputedStyle(a).color)).toBe(darkAccent);
    // An answer's link and its [n] marker too (a rule for every link, visited ones alike).
    const answerLink = await page.evaluate(() => {
      const holder = document.body.appendChild(document.createElement("div"));
      holder.className = "markdown";
      holder.innerHTML =
        '<a href="https://example.com/">x</a><sup><a class="citation" href="#">[1]</a></sup>';
      const colours = [...holder.querySelectorAll("a")].map((a) => getComputedStyle(a).color);
      holder.remove();
      return colours;
    });
    expect(answerLink).toEqual([darkAccent, darkAccent]);
    await page.evaluate(() => {
      document.documentElement.dataset.theme = "light";
    });

    // The "#" list counts the document answers may use, not the failed one.
    await page.goto(stand.url);
    const box = page.getByLabel(/Send a message/);
    await box.click();
    await page.keyboard.type("#Docs");
    const list = page.getByRole("listbox", { name: "Knowledge bases" });
    await list.waitFor();
    expect(await list.getByRole("option").allTextContents()).toEqual(["#Docs EN1 document"]);
    await page.keyboard.press("Escape");

    // On a phone, in Chinese: each document a card, its switch and Delete on the screen, named with
    // a full-width colon; nothing to scroll sideways.
    const phone = await stand.browser({ locale: "zh-CN", width: 390, height: 844 });
    await phone.context.addCookies(await admin.context.cookies());
    await phone.page.goto(`${stand.url}/knowledge`);
    await phone.page.getByRole("button", { name: "Docs EN", exact: true }).click();
    const row = phone.page.locator("tr", { has: phone.page.getByRole("link", { name: "good.txt" }) });
    const remove = row.getByRole("button", { name: "删除：good.txt" });
    await remove.waitFor();
    await remove.scrollIntoViewIfNeeded();
    const toggle = row.locator(".document-switch");
    expect(await toggle.textContent()).toContain("用于回答");
    await screenshot(phone.page, "kb-review-documents-zh-390");
    for (const control of [remove, toggle]) {
      const box = (await control.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
      expect(await uncovered(control)).toBe(true);
    }
    const scroller = phone.page.locator(".table-scroll.documents-table");
    expect(await scroller.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true);
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });

  it("names another user's base with its owner in an administrator's picker and # list", async () => {
    const other = await stand.signedIn("bob", { locale: "zh-CN" });
    await call(other.page, "POST", "/api/knowledge-bases", { name: "中文资料库" });
    const { page } = admin;
    await page.goto(stand.url);
    const picker = page.locator("fieldset.kb-picker");
    await picker.getByText("中文资料库 · bob").waitFor();
    // The admin's own base by its name alone.
    expect(await picker.locator("label", { hasText: "Docs EN" }).textContent()).toBe(" Docs EN");
    const box = page.getByLabel(/Send a message/);
    await box.fill("");
    await box.click();
    await page.keyboard.type("#中文");
    const list = page.getByRole("listbox", { name: "Knowledge bases" });
    await list.waitFor();
    expect(await list.getByRole("option").allTextContents()).toEqual(["#中文资料库 · bob0 documents"]);
  });
});
