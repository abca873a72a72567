import type { Locator } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeModelService } from "../../packages/web/test/support/fake-model-service.js";
import { hasChromium, screenshot } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/** How long a step waits for the page (a loaded machine answers in seconds, not at once). */
const WAIT = { timeout: 10_000 };

/**
 * Memory in a real Chromium on the built UI: memories added in Settings, still listed after a
 * reload with the switch on, sent with the next chat's message, changed, and cleared after a
 * confirmation.
 */
describe.skipIf(!hasChromium)("memory, in the browser", () => {
  let stand: UiStand;
  let model: FakeModelService;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 5 } });
    ({ model } = stand);
  });
  afterAll(() => stand?.close());

  it("adds memories in Settings, keeps them after a reload, and sends them with a chat once memory is on", async () => {
    const { page } = await stand.signedIn("yu", { locale: "en-US" });
    const nav = page.getByRole("navigation", { name: /Main/ });
    await nav.getByRole("link", { name: "Settings" }).click();
    const section = page.getByRole("region", { name: "Memory" });
    await section.getByText("No memories yet.").waitFor(WAIT);
    const toggle = section.getByRole("switch", { name: "Use memory in chats" });
    expect(await toggle.isChecked()).toBe(false);

    const form = section.getByRole("form", { name: "New memory" });
    const field = form.getByLabel("What to remember");
    expect(await field.getAttribute("maxlength")).toBe("1000");
    for (const memory of ["I work in Go", "My team is called Atlas"]) {
      await field.fill(memory);
      await form.getByRole("button", { name: "Add memory" }).click();
      await expect.poll(() => section.getByRole("status").textContent(), WAIT).toBe("Memory added.");
      await expect.poll(() => field.inputValue(), WAIT).toBe("");
    }
    // Switched at once; kept with the account once the service has it.
    const saved = page.waitForResponse(
      (response) =>
        response.url().endsWith("/api/account/preferences") && response.request().method() === "PUT",
    );
    await toggle.check();
    expect((await saved).status()).toBe(200);

    // Kept with the account: listed after a reload, newest first, memory still on.
    await page.reload();
    const listed = section.getByRole("list", { name: "Memory" }).getByRole("listitem");
    await expect
      .poll(() => listed.allTextContents(), WAIT)
      .toEqual(["My team is called AtlasEditDelete", "I work in GoEditDelete"]);
    expect(await section.getByText("2 of 100 memories").count()).toBe(1);
    expect(await toggle.isChecked()).toBe(true);
    await screenshot(page, "memory-settings");

    // Changed in place, by keyboard: Edit focuses the text, Escape and Cancel put focus back on
    // Edit, and so does saving.
    const focused = (locator: Locator) => locator.evaluate((element) => element === document.activeElement);
    const editButton = section.getByRole("button", { name: "Edit memory: I work in Go" });
    const edit = section.getByRole("form", { name: "Edit memory" });
    const editField = edit.getByLabel("What to remember");
    await editButton.focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => focused(editField), WAIT).toBe(true);
    await page.keyboard.type(" and C");
    await page.keyboard.press("Escape");
    await edit.waitFor({ state: "detached", ...WAIT });
    await expect.poll(() => focused(editButton), WAIT).toBe(true);
    expect(await listed.allTextContents()).toContain("I work in GoEditDelete");
    await page.keyboard.press("Enter");
    await expect.poll(() => focused(editField), WAIT).toBe(true);
    await edit.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => focused(editButton), WAIT).toBe(true);
    await page.keyboard.press("Enter");
    await editField.fill("I work in Go and Rust");
    await edit.getByRole("button", { name: "Save memory" }).click();
    await expect.poll(() => section.getByRole("status").textContent(), WAIT).toBe("Memory saved.");
    await edit.waitFor({ state: "detached", ...WAIT });
    await expect
      .poll(() => focused(section.getByRole("button", { name: "Edit memory: I work in Go and Rust" })), WAIT)
      .toBe(true);

    // The next chat's message carries them in its system prompt.
    await nav.getByRole("link", { name: "Chat" }).click();
    const box = page.locator("#message-input");
    await box.fill("What do you know about me?");
    await page.keyboard.press("Enter");
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), WAIT).toBe("done");
    expect(model.requests.at(-1)!.messages[0]).toEqual({
      role: "system",
      content:
        "About the user (what they asked you to remember):\n- My team is called Atlas\n- I work in Go and Rust",
    });

    // Cleared after a confirmation.
    await nav.getByRole("link", { name: "Settings" }).click();
    page.once("dialog", (dialog) => void dialog.accept());
    await section.getByRole("button", { name: "Clear all memories" }).click();
    await expect
      .poll(() => section.getByRole("status").textContent(), WAIT)
      .toBe("All memories deleted (2).");
    await section.getByText("No memories yet.").waitFor(WAIT);
  });
});
