import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writePreferences } from "../../packages/web/src/accounts/preferences-store.js";
import type { FakeModelService } from "../../packages/web/test/support/fake-model-service.js";
import { setFilterWords, signIn as signInOverApi } from "../../packages/web/test/support/web-client.js";
import type { WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type Browser, hasChromium, screenshot } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/** How long a step waits for the page (a loaded machine answers in seconds, not at once). */
const WAIT = { timeout: 10_000 };

const INSTRUCTIONS = "I review SQL for a bank. Answer briefly, and point out risky queries first.";

/**
 * Personal chat defaults in a real Chromium on the built UI: custom instructions, a default model
 * and a theme and language set in Settings; a new chat that starts with them; and another browser
 * (a fresh profile, as another device) signed in as the same user that shows the same theme and
 * language.
 */
describe.skipIf(!hasChromium)("personal chat defaults, in the browser", () => {
  let stand: UiStand;
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  let desk: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story", "big-model"], delayMs: 5 } });
    ({ model, web, url } = stand);
    desk = await stand.signedIn("mei", { locale: "en-US" });
  });
  afterAll(() => stand?.close());

  it("starts a new chat with the instructions and default model saved in Settings", async () => {
    const { page } = desk;
    await page.getByRole("navigation", { name: /Main/ }).getByRole("link", { name: "Settings" }).click();
    const form = page.getByRole("form", { name: "Chat defaults" });
    const instructions = form.getByLabel("Custom instructions");
    await instructions.waitFor();
    // The field says its rule and its limit to a screen reader, and counts as it is typed.
    expect(await instructions.getAttribute("maxlength")).toBe("10000");
    await instructions.fill(INSTRUCTIONS);
    await expect
      .poll(() => form.getByText(/of 10000 characters/).textContent(), WAIT)
      .toBe(`${INSTRUCTIONS.length} of 10000 characters`);
    const describedBy = (await instructions.getAttribute("aria-describedby"))!.split(" ");
    for (const id of describedBy) expect(await page.locator(`#${id}`).count(), id).toBe(1);

    // A word the administrator blocks: refused beside the field, which is marked and focused.
    const admin = await signInOverApi(web.app, "mei");
    await setFilterWords(web.app, admin, ["risky"]);
    try {
      await form.getByRole("button", { name: "Save chat defaults" }).click();
      const refusal = form.getByRole("alert");
      await expect.poll(() => refusal.textContent(), WAIT).toContain("risky");
      expect(await instructions.getAttribute("aria-invalid")).toBe("true");
      expect(await instructions.getAttribute("aria-describedby")).toContain(
        (await refusal.getAttribute("id"))!,
      );
      expect(await instructions.evaluate((element) => element === document.activeElement)).toBe(true);
      await screenshot(page, "preferences-refused");
    } finally {
      await setFilterWords(web.app, admin, []);
    }

    await form.getByLabel("Default model").selectOption("big-model");
    await form.getByRole("button", { name: "Save chat defaults" }).click();
    await expect
      .poll(() => form.getByRole("status").textContent(), WAIT)
      .toBe("Chat defaults saved. New chats start with them.");
    expect(await instructions.getAttribute("aria-invalid")).toBeNull();

    // A new chat: the instructions are its system prompt, shown and changeable before it starts.
    await page.getByRole("navigation", { name: /Main/ }).getByRole("link", { name: "Chat" }).click();
    const prompt = page.locator("details.system-prompt");
    await expect
      .poll(() => prompt.locator("summary").textContent(), WAIT)
      .toBe(`System prompt: ${INSTRUCTIONS}`);
    await expect
      .poll(() => page.getByRole("combobox", { name: "Model" }).inputValue(), WAIT)
      .toBe("big-model");
    await prompt.locator("summary").click();
    await expect
      .poll(() => page.getByLabel("System prompt", { exact: true }).inputValue(), WAIT)
      .toBe(INSTRUCTIONS);
    await expect.poll(() => prompt.getByText("From your custom instructions").isVisible(), WAIT).toBe(true);
    await page.keyboard.press("Escape");

    await page.getByLabel("Send a message").fill("SELECT * FROM accounts");
    await page.getByRole("button", { name: "Send" }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), WAIT).toBe("done");
    // Stored with the conversation, and sent to the model first, with the default model.
    const sent = model.requests.at(-1)!;
    expect(sent.model).toBe("big-model");
    expect(sent.messages[0]).toEqual({ role: "system", content: INSTRUCTIONS });
    const stored = await web.db
      .selectFrom("conversations")
      .select(["system_prompt", "title"])
      .where("title", "=", "SELECT * FROM accounts")
      .executeTakeFirstOrThrow();
    expect(stored.system_prompt).toBe(INSTRUCTIONS);
    // The conversation's settings show it after a reload as its own system prompt.
    await page.reload();
    await expect
      .poll(() => prompt.locator("summary").textContent(), WAIT)
      .toBe(`System prompt: ${INSTRUCTIONS}`);
    await screenshot(page, "preferences-new-chat");
  });

  it("sets a chat's controls in its panel before the first message, sends them, and resets them", async () => {
    // On a phone's width: the panel fits, one field to a row.
    const { page } = await stand.signedIn("tuner", { locale: "en-US", width: 390, height: 800 });
    const panel = page.locator("details.chat-controls");
    const summary = panel.locator("summary");
    await expect.poll(() => summary.textContent(), WAIT).toBe("Chat controls: model defaults");
    await summary.click();
    const temperature = panel.getByLabel("Temperature", { exact: true });
    const maxTokens = panel.getByLabel("Max output tokens");
    // Opened, the first field has focus; every field shows the model's default as "Default".
    await expect
      .poll(() => temperature.evaluate((element) => element === document.activeElement), WAIT)
      .toBe(true);
    for (const label of [
      "Temperature",
      "Top P",
      "Top K",
      "Min P",
      "Max output tokens",
      "Seed",
      "Frequency penalty",
      "Presence penalty",
      "Repeat penalty",
    ]) {
      const field = panel.getByLabel(label, { exact: true });
      expect(await field.getAttribute("placeholder"), label).toBe("Default");
      expect(await field.inputValue(), label).toBe("");
    }
    // Its meaning and range are its description.
    const repeatPenalty = panel.getByLabel("Repeat penalty");
    expect(await repeatPenalty.getAttribute("aria-describedby")).toContain("chat-control-repeatPenalty-hint");
    expect(await page.locator("#chat-control-repeatPenalty-hint").textContent()).toMatch(
      /above 1 the answer repeats itself less.*1 changes nothing\. Above 0, up to 2\.$/,
    );
    // Out of range: said beside the field, which is marked and focused; nothing is kept.
    await temperature.fill("3");
    await maxTokens.fill("256");
    // A repeat penalty of 0 would divide by zero: above 0 it must be.
    await repeatPenalty.fill("0");
    await panel.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => temperature.getAttribute("aria-invalid"), WAIT).toBe("true");
    const error = page.locator("#chat-control-temperature-error");
    expect(await error.textContent()).toBe("Enter a number from 0 to 2, or leave it empty.");
    expect(await temperature.getAttribute("aria-describedby")).toContain("chat-control-temperature-error");
    expect(await temperature.evaluate((element) => element === document.activeElement)).toBe(true);
    expect(await repeatPenalty.getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator("#chat-control-repeatPenalty-error").textContent()).toBe(
      "Enter a number above 0, up to 2, or leave it empty.",
    );
    await temperature.fill("0");
    await panel.getByLabel("Frequency penalty").fill("0.5");
    await repeatPenalty.fill("1.1");
    await panel.getByRole("button", { name: "Save" }).click();
    const tuned =
      "Chat controls: Temperature 0, Max output tokens 256, Frequency penalty 0.5, Repeat penalty 1.1";
    await expect.poll(() => summary.textContent(), WAIT).toBe(tuned);
    // Saved, the panel folds and focus goes back to its line.
    expect(await summary.evaluate((element) => element === document.activeElement)).toBe(true);
    const box = (await panel.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    await summary.click();
    await screenshot(page, "chat-controls-390");
    await page.keyboard.press("Escape");

    // The first message makes the conversation with them, and its turn sends them to the model.
    await page.getByLabel("Send a message").fill("Pick a number");
    await page.getByRole("button", { name: "Send" }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), WAIT).toBe("done");
    const sent = model.requests.at(-1)!;
    expect([
      sent.temperature,
      sent.max_tokens,
      sent.top_p,
      sent.top_k,
      sent.seed,
      sent.frequency_penalty,
      sent.presence_penalty,
      sent.repeat_penalty,
    ]).toEqual([0, 256, undefined, undefined, undefined, 0.5, undefined, 1.1]);
    // Kept with the conversation: a reload shows them; Regenerate sends them again.
    await page.reload();
    await expect.poll(() => summary.textContent(), WAIT).toBe(tuned);
    const sentBefore = model.requests.length;
    await page.getByRole("button", { name: "Regenerate" }).click();
    await expect.poll(() => model.requests.length, WAIT).toBe(sentBefore + 1);
    await expect.poll(() => answer.getAttribute("data-status"), WAIT).toBe("done");
    const regenerated = model.requests.at(-1)!;
    expect([
      regenerated.temperature,
      regenerated.max_tokens,
      regenerated.frequency_penalty,
      regenerated.repeat_penalty,
    ]).toEqual([0, 256, 0.5, 1.1]);

    // Reset to defaults: the next turn leaves the parameters to the model.
    await summary.click();
    await panel.getByRole("button", { name: "Reset to defaults" }).click();
    await expect.poll(() => summary.textContent(), WAIT).toBe("Chat controls: model defaults");
    const before = model.requests.length;
    await page.getByLabel("Send a message").fill("Another");
    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => model.requests.length, WAIT).toBe(before + 1);
    const reset = model.requests.at(-1)!;
    expect([reset.temperature, reset.max_tokens, reset.frequency_penalty, reset.repeat_penalty]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("keeps the theme and language chosen in Settings with the account, for another browser", async () => {
    const { page } = desk;
    await page.getByRole("navigation", { name: /Main/ }).getByRole("link", { name: "Settings" }).click();
    await page
      .locator("main")
      .getByRole("combobox", { name: /^Theme/ })
      .selectOption("dark");
    await page
      .locator("main")
      .getByRole("combobox", { name: /^Language/ })
      .selectOption("zh-CN");
    await expect.poll(() => page.evaluate(() => document.documentElement.lang), WAIT).toBe("zh-CN");
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await expect
      .poll(
        () =>
          web.db
            .selectFrom("user_preferences")
            .select(["language", "theme"])
            .executeTakeFirst()
            .then((row) => row && { ...row }),
        WAIT,
      )
      .toEqual({ language: "zh-CN", theme: "dark" });

    // Another device: a fresh profile, English and the light theme until the user signs in.
    const phone = await stand.browser({ locale: "en-US" });
    const other = phone.page;
    await other.emulateMedia({ colorScheme: "light" });
    await other.goto(url);
    await other.locator("#auth-title").waitFor();
    expect(await other.evaluate(() => document.documentElement.lang)).toBe("en");
    expect(await other.evaluate(() => document.documentElement.dataset.theme)).toBe("light");
    await other.getByLabel("User name").fill("mei");
    await other.getByLabel(/^Password$/).fill("correct horse battery");
    await other.getByRole("button", { name: /^Sign in$/ }).click();
    await expect.poll(() => other.evaluate(() => document.documentElement.lang), WAIT).toBe("zh-CN");
    expect(await other.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await other.getByRole("navigation", { name: "主导航" }).getByRole("link", { name: "设置" }).click();
    const form = other.getByRole("form", { name: "个性化" });
    await expect.poll(() => form.getByLabel("自定义指令").inputValue(), WAIT).toBe(INSTRUCTIONS);
    expect(await form.getByLabel("默认模型").inputValue()).toBe("big-model");
    await screenshot(other, "preferences-other-device-zh");
  });

  it("starts a new chat without instructions over the limit, saying so, and the chat works", async () => {
    const { page } = await stand.signedIn("emoji", { locale: "en-US" });
    // Instructions stored over the limit (counted otherwise before, or under a larger limit):
    // 6,000 emoji are 12,000 of the limit's characters (UTF-16 units), as Settings counts them.
    const { id } = await web.db
      .selectFrom("users")
      .select("id")
      .where("username", "=", "emoji")
      .executeTakeFirstOrThrow();
    await writePreferences(web.db, id, { instructions: "😀".repeat(6000) });
    await page.reload();
    await page
      .getByText("Your custom instructions are over 10000 characters, so this chat starts without them")
      .waitFor(WAIT);
    await expect
      .poll(() => page.locator("details.system-prompt summary").textContent(), WAIT)
      .toBe("System prompt: none");
    await page.getByLabel("Send a message").fill("hello");
    await page.getByRole("button", { name: "Send" }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), WAIT).toBe("done");
    expect(model.requests.at(-1)!.messages).toEqual([{ role: "user", content: "hello" }]);
    // Settings counts them as the service does.
    await page.getByRole("navigation", { name: /Main/ }).getByRole("link", { name: "Settings" }).click();
    await page.getByText("12000 of 10000 characters").waitFor(WAIT);
  });
});
