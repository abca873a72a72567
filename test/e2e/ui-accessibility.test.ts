import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeModelService } from "../../packages/web/test/support/fake-model-service.js";
import { type Browser, hasChromium, launchBrowser, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/** WCAG's contrast ratio of two CSS colours as getComputedStyle gives them (rgb()/rgba(), opaque). */
function contrast(a: string, b: string): number {
  const luminance = (color: string) => {
    const [r, g, b] = color
      .match(/[\d.]+/g)!
      .slice(0, 3)
      .map((v) => {
        const c = Number(v) / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  };
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light! + 0.05) / (dark! + 0.05);
}

const style = (locator: Locator, property: string, pseudo?: string) =>
  locator.evaluate((element, [name, pseudo]) => getComputedStyle(element, pseudo).getPropertyValue(name!), [
    property,
    pseudo,
  ] as const);

/** The id (or tag) of the focused element. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const element = document.activeElement;
    return element?.id || element?.getAttribute("aria-label") || element?.tagName.toLowerCase() || "";
  });

const setTheme = (page: Page, theme: "light" | "dark") =>
  page.evaluate((theme) => {
    document.documentElement.dataset.theme = theme;
  }, theme);

/**
 * The accessibility audit's findings (WCAG 2.2 AA), in a real Chromium on the built UI: the chat
 * readable when zoomed in, contrast of the Stop button, form controls, placeholders and the open
 * conversation, where focus goes after an action removes what had it, page titles, the phone's
 * drawer, the conversation menus, the admin tabs and keys panel, form errors and landmarks.
 */
describe.skipIf(!hasChromium)("accessibility in the browser", () => {
  let stand: UiStand;
  let model: FakeModelService;
  let url: string;
  /** The first account (admin), on a desktop browser in English. */
  let desk: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 2 }, knowledgeAndSearch: true });
    ({ model, url } = stand);
    desk = await stand.browser({ locale: "en-US" });
    await signUpInUi(desk.page, url, "ada");
  });
  afterAll(() => stand?.close());

  /** Sends a message from the composer and waits for the answer to end. */
  const ask = async (page: Page, text: string) => {
    await page.getByLabel(/Send a message/).fill(text);
    await page.getByRole("button", { name: "Send" }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    return answer;
  };

  it("shows a readable part of the answer at 200% and 400% zoom (short screens scroll as a page)", async () => {
    // 1280x800 at 200% is 640x400 CSS pixels; 1280x1024 at 400% is 320x256.
    const zoomed = await launchBrowser({ locale: "en-US", width: 640, height: 400 });
    model.options.words = Array.from({ length: 80 }, (_, i) => `Line ${i} of a long answer.\n\n`);
    try {
      const { page } = zoomed;
      await signUpInUi(page, url, "zoe");
      const answer = await ask(page, "a long answer please");
      /** How much of the answer the reader can see at once, scrolled to it: not clipped by the screen or its box. */
      const visible = () =>
        answer.evaluate((element) => {
          element.scrollIntoView({ block: "start" });
          const rect = element.getBoundingClientRect();
          const box = element.closest(".messages")!.getBoundingClientRect();
          const top = Math.max(rect.top, box.top, 0);
          const bottom = Math.min(rect.bottom, box.bottom, innerHeight);
          return bottom - top;
        });
      expect(await visible()).toBeGreaterThanOrEqual(400 * 0.6);
      await page.setViewportSize({ width: 320, height: 256 });
      expect(await visible()).toBeGreaterThanOrEqual(256 * 0.6);
    } finally {
      model.options.words = undefined;
      await zoomed.close();
    }
  });

  it("gives the Stop button, form controls, placeholders and the open conversation enough contrast in both themes", async () => {
    const { page } = desk;
    await ask(page, "first conversation");
    const box = page.getByLabel(/Send a message/);
    const active = page.locator(".conversation-list li.active");
    const panel = page.locator(".sidebar");
    model.options.words = Array.from({ length: 400 }, (_, i) => `word${i} `);
    model.options.delayMs = 20;
    try {
      await box.fill("a slow answer");
      await page.getByRole("button", { name: "Send" }).click();
      const stop = page.getByRole("button", { name: "Stop" });
      await stop.waitFor();
      for (const theme of ["dark", "light"] as const) {
        await setTheme(page, theme);
        const background = await style(box, "background-color");
        expect(
          contrast(await style(stop, "color"), await style(stop, "background-color")),
        ).toBeGreaterThanOrEqual(4.5);
        expect(contrast(await style(box, "border-top-color"), background)).toBeGreaterThanOrEqual(3);
        expect(contrast(await style(box, "color", "::placeholder"), background)).toBeGreaterThanOrEqual(4.5);
        // The open conversation is told by more than its background: bold, and a bar that stands out.
        expect(Number(await style(active.locator("> a"), "font-weight"))).toBeGreaterThanOrEqual(600);
        const bar = (await style(active, "box-shadow")).match(/rgba?\([^)]*\)/)?.[0];
        expect(bar).toBeDefined();
        expect(contrast(bar!, await style(panel, "background-color"))).toBeGreaterThanOrEqual(3);
      }
      await stop.click();
    } finally {
      model.options.words = undefined;
      model.options.delayMs = 2;
    }
  });

  it("names each page in the tab's title and moves focus to its heading on navigation", async () => {
    const { page } = desk;
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Knowledge" }).click();
    await expect.poll(() => page.title()).toBe("Knowledge – Hearth");
    await expect.poll(() => focused(page)).toBe("page-heading");
    expect(await page.locator("#page-heading").textContent()).toBe("Knowledge bases");
    await page.getByRole("link", { name: "Settings" }).click();
    await expect.poll(() => page.title()).toBe("Settings – Hearth");
    await expect.poll(() => focused(page)).toBe("page-heading");
    await page.getByLabel("Language").first().selectOption("zh-CN");
    await expect.poll(() => page.title()).toBe("设置 – Hearth");
    await page.getByLabel("语言").first().selectOption("en");
    // A conversation's page is named by its title; the chat has headings for it and the composer.
    await page.getByRole("link", { name: "Chat", exact: true }).click();
    await page.getByRole("link", { name: "first conversation" }).click();
    await expect.poll(() => page.title()).toBe("first conversation – Hearth");
    await expect.poll(() => focused(page)).toBe("page-heading");
    expect(await page.getByRole("heading", { name: "first conversation" }).count()).toBe(1);
    expect(await page.getByRole("form", { name: "Write a message" }).count()).toBe(1);
  });

  it("keeps focus near a renamed or deleted conversation, and closes a menu focus leaves", async () => {
    const { page } = desk;
    await page.getByRole("button", { name: "+ New chat" }).click();
    await ask(page, "second conversation");
    const open = async (title: string) => {
      await page.getByLabel(`More actions for ${title}`).focus();
      await page.keyboard.press("Enter");
    };
    // One menu open at a time: opening another, or leaving one, closes it.
    await open("second conversation");
    await open("first conversation");
    expect(await page.locator("details.item-menu[open]").count()).toBe(1);
    await page.getByLabel("Search conversations").focus();
    expect(await page.locator("details.item-menu[open]").count()).toBe(0);

    // Renaming the open conversation: focus is back on its menu button, the title follows.
    await open("second conversation");
    await page.getByRole("button", { name: "Rename" }).click();
    await page.getByLabel("Rename").fill("renamed conversation");
    await page.keyboard.press("Enter");
    await expect.poll(() => focused(page)).toBe("More actions for renamed conversation");
    await expect.poll(() => page.title()).toBe("renamed conversation – Hearth");

    // Deleting the open conversation: focus goes to the conversation after it in the list.
    await open("renamed conversation");
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => page.url()).toBe(`${url}/`);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.textContent))
      .toBe("first conversation");
  });

  it("keeps focus near a deleted document and a revoked API key, whose secret shown once goes with it", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByLabel("New knowledge base").fill("manuals");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "manuals" }).waitFor();
    const folder = mkdtempSync(join(tmpdir(), "hearth-a11y-"));
    const files = ["a.txt", "b.txt"].map((name) => {
      writeFileSync(join(folder, name), `The ${name} manual.`);
      return join(folder, name);
    });
    await page.locator('input[type="file"]:not([webkitdirectory])').setInputFiles(files);
    await expect.poll(() => page.locator("tbody tr").count()).toBe(2);
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Delete: a.txt" }).click();
    await expect.poll(() => page.locator("tbody tr").count()).toBe(1);
    await expect.poll(() => focused(page)).not.toBe("body");

    await page.getByRole("link", { name: "Settings" }).click();
    for (const name of ["laptop", "phone"]) {
      await page.getByLabel("New API key").fill(name);
      await page.getByRole("button", { name: "Create" }).click();
      await page.getByRole("button", { name: `Revoke: ${name}` }).waitFor();
    }
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Revoke: laptop" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Revoke: laptop" }).count()).toBe(0);
    await expect.poll(() => focused(page)).toBe("Revoke: phone");
    // The key shown once (phone's, the last created) stays while another is revoked, and goes with
    // its own: no Copy button for a key that no longer works.
    const shownOnce = page.locator(".key-once");
    expect(await shownOnce.getByRole("button", { name: "Copy the API key" }).count()).toBe(1);
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Revoke: phone" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Revoke: phone" }).count()).toBe(0);
    await expect.poll(() => shownOnce.count()).toBe(0);
  });

  it("shows the user-name and password rules before they are broken and ties errors to their fields", async () => {
    const visitor = await launchBrowser({ locale: "en-US" });
    try {
      const { page } = visitor;
      await page.goto(url);
      await page.getByRole("button", { name: "No account? Create one" }).click();
      const password = page.getByLabel(/^Password$/);
      const rule = await password.getAttribute("aria-describedby");
      expect(await page.locator(`#${rule}`).textContent()).toContain("At least 8 characters");
      const username = page.getByLabel("User name");
      const nameRule = await username.getAttribute("aria-describedby");
      expect(await page.locator(`#${nameRule}`).textContent()).toBe(
        "2 to 64 letters, digits or _ . @ - (no spaces).",
      );
      // A name the service would refuse: its rule, on the field, before anything is sent.
      const signups: string[] = [];
      page.on("request", (request) => {
        if (request.url().endsWith("/api/auth/signup")) signups.push(request.url());
      });
      await username.fill("John Smith");
      await password.fill("correct horse battery");
      await page.getByLabel("Confirm password").fill("correct horse battery");
      await page.getByRole("button", { name: "Create account" }).click();
      await expect
        .poll(() => page.getByRole("alert").textContent())
        .toBe("User name: 2 to 64 letters, digits or _ . @ - (no spaces).");
      expect(await username.getAttribute("aria-invalid")).toBe("true");
      // One that would pass for another's (a Cyrillic а among Latin letters): the script rule.
      await username.fill("\u0430lice");
      await page.getByRole("button", { name: "Create account" }).click();
      await expect
        .poll(() => page.getByRole("alert").textContent())
        .toMatch(/^User name: letters of one script only/);
      expect(await username.getAttribute("aria-invalid")).toBe("true");
      expect(signups).toEqual([]);
      await page.getByLabel("User name").fill("shorty");
      await password.fill("short");
      await page.getByLabel("Confirm password").fill("short");
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByRole("alert").waitFor();
      expect(await password.getAttribute("aria-invalid")).toBe("true");
      const ids = (await password.getAttribute("aria-describedby"))!.split(" ");
      expect(await page.locator(`#${ids.at(-1)}`).getAttribute("role")).toBe("alert");
      expect(await page.getByLabel("User name").getAttribute("aria-invalid")).toBeNull();
    } finally {
      await visitor.close();
    }
  });

  it("shows the rule for a new password in Settings and ties a wrong current password's error to its field", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "Settings" }).click();
    const next = page.getByLabel("New password", { exact: true });
    const rule = await next.getAttribute("aria-describedby");
    expect(await page.locator(`#${rule}`).textContent()).toContain("At least 8 characters");
    const current = page.getByLabel("Current password");
    await current.fill("not my password");
    await next.fill("another long password");
    await page.getByLabel("Confirm new password").fill("another long password");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect.poll(() => current.getAttribute("aria-invalid")).toBe("true");
    const error = await current.getAttribute("aria-describedby");
    expect(await page.locator(`#${error}`).getAttribute("role")).toBe("alert");
    expect(await next.getAttribute("aria-invalid")).toBeNull();
  });

  it("puts focus on the message box after signing up or in, and on the plain sign-in form after signing out from any page", async () => {
    const visitor = await launchBrowser({ locale: "en-US" });
    try {
      const { page } = visitor;
      await signUpInUi(page, url, "shorty");
      await expect.poll(() => focused(page)).toBe("message-input");
      // Signed out from a temporary chat: the chat goes first, while the session may delete it.
      await page.getByRole("button", { name: "Temporary chat" }).click();
      await page.getByLabel(/Send a message/).fill("Just between us");
      await page.getByRole("button", { name: "Send" }).click();
      await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
      const temporary = page.url().split("/c/")[1]!;
      await page.getByRole("button", { name: "Keep this chat" }).waitFor();
      await page.getByRole("button", { name: /^Sign out/ }).click();
      await expect.poll(() => focused(page)).toBe("auth-title");
      await expect.poll(() => page.title()).toBe("Sign in – Hearth");
      await page.getByLabel("User name").fill("shorty");
      await page.getByLabel(/^Password$/).fill("correct horse battery");
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect.poll(() => focused(page)).toBe("message-input");
      expect(
        await page.evaluate(async (id) => (await fetch(`/api/conversations/${id}`)).status, temporary),
      ).toBe(404);
      // Signed out, a link's question waits for the sign-in, then is asked.
      await page.getByRole("button", { name: /^Sign out/ }).click();
      await expect.poll(() => focused(page)).toBe("auth-title");
      await page.goto(`${url}/?q=${encodeURIComponent("Asked from a link")}`);
      await page.getByLabel("User name").fill("shorty");
      await page.getByLabel(/^Password$/).fill("correct horse battery");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
      await page.locator("article.message.user", { hasText: "Asked from a link" }).waitFor();
      // Signed out on purpose from another page, the chat's requests that follow get a 401 before
      // the page has learnt of the sign-out (its session probe is slow here): still the plain form,
      // not "Your session has expired".
      await page.getByRole("link", { name: "Settings" }).click();
      await page.getByRole("heading", { name: "Settings" }).waitFor();
      await page.route("**/api/auth/session", async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        await route.continue();
      });
      const unauthorized: string[] = [];
      page.on("response", (response) => {
        if (response.status() === 401) unauthorized.push(new URL(response.url()).pathname);
      });
      await page.getByRole("button", { name: /^Sign out/ }).click();
      await expect.poll(() => focused(page)).toBe("auth-title");
      await page.unroute("**/api/auth/session");
      expect(new URL(page.url()).pathname).toBe("/");
      expect(await page.getByRole("alert").count()).toBe(0);
      expect(unauthorized).toEqual([]);
    } finally {
      await visitor.close();
    }
  });

  it("closes the phone's conversation drawer when focus leaves it or on Escape", async () => {
    const phone = await launchBrowser({ locale: "en-US", width: 390, height: 844 });
    try {
      const { page } = phone;
      await signUpInUi(page, url, "pia");
      const toggle = page.getByRole("button", { name: "Conversations" });
      const drawer = page.getByRole("navigation", { name: "Conversations" });
      await toggle.click();
      await drawer.waitFor();
      // The drawer spans the screen's width (not 16rem beside the chat).
      expect((await drawer.boundingBox())!.width).toBeGreaterThan(380);
      await page.getByLabel(/Send a message/).focus();
      await drawer.waitFor({ state: "hidden" });
      await toggle.click();
      await drawer.waitFor();
      await page.keyboard.press("Escape");
      await drawer.waitFor({ state: "hidden" });
    } finally {
      await phone.close();
    }
  });

  it("moves between admin tabs with the arrow keys and keeps the tab in the address", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "Admin" }).click();
    const users = page.getByRole("tab", { name: "Users" });
    await users.focus();
    await page.keyboard.press("ArrowRight");
    const models = page.getByRole("tab", { name: "Models" });
    await expect.poll(() => models.getAttribute("aria-selected")).toBe("true");
    expect(await focused(page)).toBe("admin-tab-models");
    expect(await users.getAttribute("tabindex")).toBe("-1");
    expect(page.url()).toBe(`${url}/admin/models`);
    const panel = page.getByRole("tabpanel", { name: "Models" });
    expect(await models.getAttribute("aria-controls")).toBe(await panel.getAttribute("id"));
    await page.reload();
    await expect
      .poll(() => page.getByRole("tab", { name: "Models" }).getAttribute("aria-selected"))
      .toBe("true");
    await expect.poll(() => page.title()).toBe("Models – Admin – Hearth");
    await page.getByRole("tab", { name: "Models" }).focus();
    await page.keyboard.press("ArrowLeft");
    await expect.poll(() => page.url()).toBe(`${url}/admin/users`);
  });

  it("moves focus into the admin keys panel and back to its opener, and near a deleted group", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "Admin" }).click();

    // The keys panel: its opener says whether it is open; focus goes into it, and back on Close.
    const opener = page.getByRole("button", { name: "API keys: ada" });
    await opener.click();
    expect(await opener.getAttribute("aria-expanded")).toBe("true");
    await expect.poll(() => focused(page)).toBe("user-keys-title");
    await page.getByRole("button", { name: "Close" }).click();
    expect(await opener.getAttribute("aria-expanded")).toBe("false");
    await expect.poll(() => focused(page)).toBe("API keys: ada");

    // Deleting a group: focus goes to the next group's first button.
    for (const name of ["first-group", "second-group"]) {
      await page.getByLabel("New group").fill(name);
      await page.getByRole("button", { name: "Create" }).click();
      await page.getByRole("button", { name: `Delete group: ${name}` }).waitFor();
    }
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Delete group: first-group" }).click();
    await expect.poll(() => focused(page)).toBe("Rename: second-group");
  });
});
