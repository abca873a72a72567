import type { Locator } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeModelService } from "../../packages/web/test/support/fake-model-service.js";
import { type Browser, hasChromium, screenshot } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/** How long a step waits for the page (a loaded machine answers in seconds, not at once). */
const WAIT = { timeout: 10_000 };

/**
 * The prompt library in a real Chromium on the built UI: a prompt saved in Settings (shared by the
 * administrator), then "/sum" typed in the message box, the prompt chosen from its list with the
 * keyboard, its placeholders filled one after another with Tab, and the message sent; then
 * another user's browser in Chinese, which offers the shared prompt under Chinese labels.
 */
describe.skipIf(!hasChromium)("the prompt library, in the browser", () => {
  let stand: UiStand;
  let model: FakeModelService;
  let desk: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 5 } });
    ({ model } = stand);
    desk = await stand.signedIn("lin", { locale: "en-US" });
  });
  afterAll(() => stand?.close());

  it("saves a prompt in Settings, and inserts it with / and the keyboard, placeholders filled with Tab", async () => {
    const { page } = desk;
    const nav = page.getByRole("navigation", { name: /Main/ });
    await nav.getByRole("link", { name: "Settings" }).click();
    const section = page.getByRole("region", { name: "Prompts" });
    await section.getByText("No prompts yet.").waitFor();
    const form = section.getByRole("form", { name: "New prompt" });
    await form.getByLabel("Command").fill("summarize");
    await form.getByLabel("Title").fill("Summarize a topic");
    await form.getByLabel("Content").fill("Summarize {{topic}} for {{audience}}, signed {{USER_NAME}}.");
    await form.getByLabel("Shared with everyone").check();
    await form.getByRole("button", { name: "Add prompt" }).click();
    await expect.poll(() => section.getByRole("status").textContent(), WAIT).toBe("Prompt /summarize saved.");
    // A second of the user's own, also beginning with "sum", and one the same command refuses.
    await form.getByLabel("Command").fill("summary-short");
    await form.getByLabel("Title").fill("Short summary");
    await form.getByLabel("Content").fill("One line on {{topic}}.");
    await form.getByLabel("Shared with everyone").uncheck();
    await form.getByRole("button", { name: "Add prompt" }).click();
    await expect
      .poll(() => section.getByRole("status").textContent(), WAIT)
      .toBe("Prompt /summary-short saved.");
    await form.getByLabel("Command").fill("SUMMARY-short");
    await form.getByLabel("Title").fill("Again");
    await form.getByLabel("Content").fill("x");
    await form.getByRole("button", { name: "Add prompt" }).click();
    await expect
      .poll(() => form.getByRole("alert").textContent(), WAIT)
      .toContain("You already have a prompt");
    expect(await form.getByLabel("Command").getAttribute("aria-invalid")).toBe("true");
    // Changed in place: its form opens in the list, its first field focused; Escape closes it and
    // saving does, focus back on Edit.
    const focused = (locator: Locator) => locator.evaluate((element) => element === document.activeElement);
    const editButton = section.getByRole("button", { name: "Edit /summary-short" });
    await editButton.click();
    const edit = section.getByRole("form", { name: "Edit /summary-short" });
    await expect.poll(() => focused(edit.getByLabel("Command")), WAIT).toBe(true);
    await edit.getByLabel("Title").fill("Discarded");
    await page.keyboard.press("Escape");
    await edit.waitFor({ state: "detached", ...WAIT });
    await expect.poll(() => focused(editButton), WAIT).toBe(true);
    await page.keyboard.press("Enter");
    expect(await edit.getByLabel("Title").inputValue()).toBe("Short summary");
    await edit.getByLabel("Title").fill("One-line summary");
    await edit.getByRole("button", { name: "Save prompt" }).click();
    await expect
      .poll(() => section.getByRole("status").textContent(), WAIT)
      .toBe("Prompt /summary-short saved.");
    await edit.waitFor({ state: "detached", ...WAIT });
    await expect.poll(() => focused(editButton), WAIT).toBe(true);
    const listed = section.getByRole("listitem");
    await expect
      .poll(() => listed.allTextContents(), WAIT)
      .toEqual([
        expect.stringMatching(/^\/summarize Summarize a topicShared/),
        expect.stringMatching(/^\/summary-short One-line summary/),
      ]);
    await screenshot(page, "prompts-settings");

    await nav.getByRole("link", { name: "Chat" }).click();
    const box = page.locator("#message-input");
    await box.click();
    await page.keyboard.type("/sum");
    // A listbox the box points to: its options and the one chosen, read out as the arrows move.
    const list = page.getByRole("listbox", { name: "Prompts" });
    await list.waitFor(WAIT);
    const options = list.getByRole("option");
    expect(await options.allTextContents()).toEqual([
      "/summarizeSummarize a topicShared",
      "/summary-shortOne-line summary",
    ]);
    expect(await box.getAttribute("aria-controls")).toBe(await list.getAttribute("id"));
    const chosen = async () =>
      page.locator(`#${await box.getAttribute("aria-activedescendant")}`).textContent();
    expect(await chosen()).toBe("/summarizeSummarize a topicShared");
    await expect
      .poll(() => page.getByRole("status").filter({ hasText: "Prompts found" }).textContent(), WAIT)
      .toContain("Prompts found: 2.");
    await page.keyboard.press("ArrowDown");
    expect(await chosen()).toBe("/summary-shortOne-line summary");
    expect(await options.nth(1).getAttribute("aria-selected")).toBe("true");
    await page.keyboard.press("ArrowDown");
    expect(await chosen()).toBe("/summarizeSummarize a topicShared");
    await screenshot(page, "prompts-picker");
    await page.keyboard.press("Enter");
    await list.waitFor({ state: "detached", ...WAIT });
    // Inserted, its user's name filled in, its first placeholder selected to be typed over.
    await expect.poll(() => box.inputValue(), WAIT).toBe("Summarize {{topic}} for {{audience}}, signed lin.");
    const selected = () =>
      box.evaluate((el: HTMLTextAreaElement) => el.value.slice(el.selectionStart, el.selectionEnd));
    await expect.poll(selected, WAIT).toBe("{{topic}}");
    // Tab goes to the next placeholder, Shift+Tab back to the one before, the box keeping focus.
    await page.keyboard.press("Tab");
    expect(await selected()).toBe("{{audience}}");
    await page.keyboard.press("Shift+Tab");
    expect(await selected()).toBe("{{topic}}");
    await page.keyboard.type("Rust lifetimes");
    await page.keyboard.press("Tab");
    expect(await selected()).toBe("{{audience}}");
    await page.keyboard.type("beginners");
    await page.keyboard.press("Enter");
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), WAIT).toBe("done");
    expect(model.requests.at(-1)!.messages.at(-1)).toEqual({
      role: "user",
      content: "Summarize Rust lifetimes for beginners, signed lin.",
    });
    // Escape closes the list and leaves what was typed.
    await box.click();
    await page.keyboard.type("/sum");
    await list.waitFor(WAIT);
    await page.keyboard.press("Escape");
    await list.waitFor({ state: "detached", ...WAIT });
    expect(await box.inputValue()).toBe("/sum");
    await box.fill("");

    // Deleted after a confirmation: "/" no longer offers it.
    await nav.getByRole("link", { name: "Settings" }).click();
    page.once("dialog", (dialog) => void dialog.accept());
    await section.getByRole("button", { name: "Delete /summary-short" }).click();
    await expect
      .poll(() => section.getByRole("status").textContent(), WAIT)
      .toBe("Prompt /summary-short deleted.");
    expect(await section.getByRole("listitem").count()).toBe(1);
  });

  it("offers the shared prompt to another user, under Chinese labels", async () => {
    const { page } = await stand.signedIn("wei", { locale: "zh-CN" });
    await page.getByRole("navigation").getByRole("link", { name: "设置" }).first().click();
    const section = page.getByRole("region", { name: "提示词" });
    await expect
      .poll(() => section.getByRole("listitem").allTextContents(), WAIT)
      .toEqual([expect.stringMatching(/^\/summarize Summarize a topic共享$/)]);
    // Shared: not theirs to change.
    expect(await section.getByRole("button", { name: "编辑 /summarize" }).count()).toBe(0);
    await section.getByRole("form", { name: "新建提示词" }).getByLabel("命令").waitFor();
    await page.getByRole("navigation").getByRole("link", { name: "聊天" }).first().click();
    const box = page.locator("#message-input");
    await box.click();
    await page.keyboard.type("/ＳＵＭ");
    const list = page.getByRole("listbox", { name: "提示词" });
    await list.waitFor(WAIT);
    expect(await list.getByRole("option").allTextContents()).toEqual(["/summarizeSummarize a topic共享"]);
    await page.keyboard.press("Tab");
    await expect.poll(() => box.inputValue(), WAIT).toBe("Summarize {{topic}} for {{audience}}, signed wei.");
    await screenshot(page, "prompts-picker-zh");
  });
});
