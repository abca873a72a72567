import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, hasChromium, screenshot } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/** A ChatGPT message node of conversations.json. */
const node = (id: string, parent: string | null, children: string[], role?: string, text?: string) => ({
  id,
  parent,
  children,
  message: role
    ? {
        id,
        author: { role },
        create_time: 1_700_000_000,
        content: { content_type: "text", parts: [text] },
        metadata: role === "assistant" ? { model_slug: "gpt-4o" } : {},
        recipient: "all",
      }
    : null,
});

/**
 * Importing chats from the conversation list, in a real Chromium on the built UI: a ChatGPT export
 * chosen in the file picker (its conversations.json, or the .zip as downloaded) shows up in the list
 * and opens, a skipped conversation is named with the reason, and a file that is no export is
 * refused in words.
 */
describe.skipIf(!hasChromium)("importing conversations in the browser", () => {
  let stand: UiStand;
  let desk: Browser;
  let files: string;

  beforeAll(async () => {
    stand = await startUiStand();
    desk = await stand.signedIn("root", { locale: "en-US" });
    files = mkdtempSync(join(tmpdir(), "hearth-import-"));
  });
  afterAll(async () => {
    await stand?.close();
    if (files) rmSync(files, { recursive: true, force: true });
  });

  /** Chooses `file` in the file picker the Import button opens. */
  const choose = async (file: string) => {
    const { page } = desk;
    const chooser = page.waitForEvent("filechooser");
    await page.getByRole("button", { name: "Import chats" }).click();
    await (await chooser).setFiles(file);
  };

  it("imports a ChatGPT export chosen in the file picker, lists its conversation and opens it", async () => {
    const { page } = desk;
    const file = join(files, "conversations.json");
    writeFileSync(
      file,
      JSON.stringify([
        {
          title: "Sourdough starter",
          create_time: 1_700_000_000,
          current_node: "a1",
          mapping: {
            root: node("root", null, ["u1"]),
            u1: node("u1", "root", ["a1"], "user", "How often do I feed a starter?"),
            a1: node("a1", "u1", [], "assistant", "Once a day at room temperature."),
          },
        },
        { title: "Nothing here", mapping: { root: node("root", null, []) } },
      ]),
    );
    await choose(file);
    const outcome = page.locator(".import-outcome");
    await outcome.getByText("Imported 1 of 2 conversations from conversations.json (ChatGPT).").waitFor();
    await outcome.getByText("Skipped “Nothing here”: it has no message with text").waitFor();
    const entry = page.locator("#conversation-sidebar").getByRole("link", { name: "Sourdough starter" });
    await entry.click();
    await page.locator("article.message.user", { hasText: "How often do I feed a starter?" }).waitFor();
    await page.locator("article.message.assistant", { hasText: "Once a day at room temperature." }).waitFor();
    expect(page.url()).toMatch(/\/c\/[0-9a-f-]{36}$/);
    await screenshot(page, "ui-import-chatgpt");
  });

  it("imports ChatGPT's data export as downloaded: the .zip chosen in the file picker", async () => {
    const { page } = desk;
    const file = join(files, "chatgpt-export.zip");
    const conversations = [
      {
        title: "Rye crumb",
        create_time: 1_700_000_000,
        current_node: "a1",
        mapping: {
          root: node("root", null, ["u1"]),
          u1: node("u1", "root", ["a1"], "user", "Why is my rye bread gummy?"),
          a1: node("a1", "u1", [], "assistant", "Let it cool a full day before cutting."),
        },
      },
    ];
    writeFileSync(
      file,
      zipSync({
        "conversations.json": strToU8(JSON.stringify(conversations)),
        "chat.html": strToU8("<html><body>Rye crumb</body></html>"),
        "user.json": strToU8("{}"),
      }),
    );
    await choose(file);
    const outcome = page.locator(".import-outcome");
    await outcome.getByText("Imported 1 of 1 conversations from chatgpt-export.zip (ChatGPT).").waitFor();
    await page.locator("#conversation-sidebar").getByRole("link", { name: "Rye crumb" }).click();
    await page.locator("article.message.assistant", { hasText: "Let it cool a full day" }).waitFor();

    const other = join(files, "photos.zip");
    writeFileSync(other, zipSync({ "photo.txt": strToU8("not a photo") }));
    await choose(other);
    await page
      .getByRole("alert")
      .getByText(/The \.zip is not ChatGPT's data export/)
      .waitFor();
  });

  it("says in words why a file that is not an export is refused", async () => {
    const { page } = desk;
    const notJson = join(files, "notes.json");
    writeFileSync(notJson, "these are my notes, not JSON");
    await choose(notJson);
    await page
      .getByRole("alert")
      .getByText(
        "The file is not JSON. Choose a JSON export (a .json file) or ChatGPT's data export (a .zip file).",
      )
      .waitFor();
    const otherJson = join(files, "settings.json");
    writeFileSync(otherJson, JSON.stringify({ theme: "dark" }));
    await choose(otherJson);
    await page
      .getByRole("alert")
      .getByText(/not a conversation export Hearth reads/)
      .waitFor();
  });
});
