import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audit } from "../../packages/web/src/audit/audit-log.js";
import { signIn } from "../../packages/web/test/support/web-client.js";
import type { WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type Browser, hasChromium, screenshot, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * The admin review in a real Chromium: the audit log's "Load more" and filters, its details
 * readable; the settings' group limits and filter switches; an announcement banner written by the
 * administrator, seen, closed and brought back by an edit for a user on a phone; and a user who may
 * use no model told to ask an administrator, with no server path, on a phone in English and Chinese.
 */
describe.skipIf(!hasChromium)("admin audit log, settings and no-model guidance in the browser", () => {
  let stand: UiStand;
  let web: WebHarness;
  let url: string;
  let admin: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"] } });
    ({ web, url } = stand);
    admin = await stand.browser({ width: 1280 });
    await signUpInUi(admin.page, url, "root");
    for (let n = 0; n < 150; n++)
      await audit(web.db, { actorId: null, action: "model.pull", target: `m${n}` });
  });
  afterAll(() => stand?.close());

  it("shows older audit entries on Load more, filters by action, and wraps details", async () => {
    const { page } = admin;
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("tab", { name: "Audit log" }).click();
    const rows = page.locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(100);
    await page.getByRole("button", { name: "Load more" }).click();
    // 150 pulls and the sign-up.
    await expect.poll(() => rows.count()).toBe(151);
    expect(await page.getByRole("button", { name: "Load more" }).count()).toBe(0);
    await page.getByLabel("Action").selectOption("user.signup");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => rows.count()).toBe(1);
    // Details read as named lines, not JSON.
    expect(await rows.first().locator(".audit-details").textContent()).toMatch(
      /^Role: (User|Administrator)\n/,
    );
    await screenshot(page, "admin-audit-en-1280");
  });

  it("says that no entry matches an actor no one is, instead of a table of headers alone", async () => {
    const { page } = admin;
    await page.getByLabel("Action").selectOption("");
    await page.getByPlaceholder("User name").fill("nobody-at-all");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText("No entries match these filters.").waitFor();
    expect(await page.getByRole("columnheader", { name: "Target" }).count()).toBe(0);
    // Cleared, the filter shows the entries again.
    await page.getByPlaceholder("User name").fill("");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => page.locator("tbody tr").count()).toBe(100);
    expect(await page.getByText("No entries match these filters.").count()).toBe(0);
  });

  it("offers group limits and the filter's switches in Settings, and saves them", async () => {
    const root = await signIn(web.app, "root");
    const group = (
      await web.app.inject({
        method: "POST",
        url: "/api/admin/groups",
        headers: root.headers,
        payload: { name: "staff" },
      })
    ).json() as { id: string };
    const { page } = admin;
    await page.getByRole("tab", { name: "Settings" }).click();
    const staff = page.locator("fieldset.group-limits", { hasText: "staff" });
    await staff.getByLabel("Requests per day").fill("500");
    await page.getByLabel("Mask model answers").uncheck();
    await page.getByLabel(/^Allowed words/).fill("手机密码\n机密性\n");
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator("output").waitFor();
    const settings = (await web.app.inject({ url: "/api/admin/settings", headers: root.headers })).json() as {
      groupLimits: Record<string, unknown>;
      filter: { applyToOutput: boolean; applyToInput: boolean; allowedWords: string[] };
    };
    expect(settings.groupLimits[group.id]).toEqual({ requestsPerDay: 500 });
    expect(settings.filter).toMatchObject({
      applyToInput: true,
      applyToOutput: false,
      allowedWords: ["手机密码", "机密性"],
    });
    await screenshot(page, "admin-settings-en-1280");
    // Only "staff" may use the model from now on.
    await web.app.inject({
      method: "PUT",
      url: "/api/admin/models/tiny-story/access",
      headers: root.headers,
      payload: { groupIds: [group.id] },
    });
  });

  it("shows an administrator's banner to a user on a phone, inert, closed for good until its text is edited", async () => {
    const reader = await stand.signedIn("reader", { width: 390, height: 800 });
    const banners = reader.page.locator(".announcement");
    expect(await banners.count()).toBe(0);

    const { page } = admin;
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("tab", { name: "Banners" }).click();
    const text =
      "Maintenance tonight 22:00 <b>chats may stop</b>, see [the notice](https://intranet.example/notice)";
    await page.getByLabel("Text", { exact: true }).fill(text);
    await page.getByLabel("Type").selectOption("warning");
    await page.getByRole("button", { name: "Add banner" }).click();
    await expect.poll(() => page.locator("output").textContent()).toBe("Banner saved.");
    await expect.poll(() => page.locator("tbody tr").first().textContent()).toContain("Shown now");
    await screenshot(page, "admin-banners-en-1280");

    // The user sees it on their next navigation, as an alert (a warning), its HTML shown as text.
    await reader.page.getByRole("button", { name: "Menu" }).click();
    await reader.page.getByRole("link", { name: "Settings" }).click();
    const alert = reader.page.getByRole("alert").filter({ hasText: "Maintenance tonight" });
    await alert.waitFor();
    expect(await alert.textContent()).toContain(
      "Warning: Maintenance tonight 22:00 <b>chats may stop</b>, see the notice",
    );
    expect(await alert.locator("b").count()).toBe(0);
    expect(await alert.getByRole("link", { name: "the notice" }).getAttribute("href")).toBe(
      "https://intranet.example/notice",
    );
    const box = (await alert.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    await screenshot(reader.page, "announcement-banner-en-390");

    // Closed, it stays closed after a reload (kept with the account, not this tab).
    await reader.page.getByRole("button", { name: /^Close announcement: Maintenance tonight/ }).click();
    await expect.poll(() => banners.count()).toBe(0);
    const reread = reader.page.waitForResponse((response) => response.url().endsWith("/api/banners"));
    await reader.page.reload();
    expect(await (await reread).json()).toEqual({ banners: [] });
    await reader.page.getByRole("heading", { name: "Settings", level: 2 }).waitFor();
    expect(await banners.count()).toBe(0);

    // The administrator edits its text: the user sees it again at their next navigation.
    await page.getByRole("button", { name: /^Edit \(Maintenance tonight/ }).click();
    await page.getByLabel("Text", { exact: true }).fill("Maintenance moved to tomorrow 22:00");
    await page.getByRole("button", { name: "Save banner" }).click();
    await expect.poll(() => page.locator("tbody tr").first().textContent()).toContain("Maintenance moved");
    await reader.page.getByRole("link", { name: "Chat", exact: true }).click();
    await expect.poll(() => banners.textContent()).toContain("Maintenance moved to tomorrow 22:00");
  });

  it("keeps the chat usable on a phone under many long banners: the banners scroll in a strip of their own", async () => {
    const root = await signIn(web.app, "root");
    const made: string[] = [];
    for (const [type, text] of [
      ["error", `Outage: ${"模型服务正在维护，回答可能中断。".repeat(20)}`],
      ["warning", `Maintenance: ${"The knowledge service restarts at 22:00. ".repeat(10)}`],
      ["info", "The HR knowledge base was updated, see https://intranet.example/hr"],
    ] as const) {
      const created = await web.app.inject({
        method: "POST",
        url: "/api/admin/banners",
        headers: root.headers,
        payload: { text, type, dismissible: false },
      });
      expect(created.statusCode, created.body).toBe(201);
      made.push((created.json() as { id: string }).id);
    }
    try {
      const reader = await stand.signedIn("phone-reader", { width: 390, height: 800 });
      const { page } = reader;
      const strip = page.locator("section.announcements");
      await expect.poll(() => strip.locator(".announcement").count()).toBeGreaterThanOrEqual(3);
      // The strip takes at most about a third of the screen; the page keeps the rest, on screen
      // without scrolling the page (before, the banners pushed the chat below the screen).
      const stripBox = (await strip.boundingBox())!;
      expect(stripBox.height).toBeLessThanOrEqual(800 * 0.35);
      const main = (await page.locator("main").boundingBox())!;
      expect(main.height).toBeGreaterThanOrEqual(800 * 0.5);
      expect(main.y + main.height).toBeLessThanOrEqual(800);
      // Every banner is still there to read: the strip scrolls to the last one.
      const last = strip.locator(".announcement").last();
      await last.scrollIntoViewIfNeeded();
      expect(await last.textContent()).toContain("The HR knowledge base was updated");
      await screenshot(page, "announcement-banners-many-en-390");
      // In Chinese the type's full-width colon is followed by the text at once, with no gap.
      const zh = await stand.signedIn("phone-reader-zh", { locale: "zh-CN", width: 390, height: 800 });
      const outage = zh.page.locator("section.announcements .announcement p", { hasText: "Outage" });
      await outage.waitFor();
      expect(await outage.textContent()).toMatch(/^错误：Outage: 模型服务/);
      expect(await strip.locator(".announcement p", { hasText: "Outage" }).textContent()).toMatch(
        /^Error: Outage: /,
      );
    } finally {
      for (const id of made)
        await web.app.inject({ method: "DELETE", url: `/api/admin/banners/${id}`, headers: root.headers });
    }
  });

  for (const [locale, heading, ask] of [
    ["en-US", "No model is available to you", "Ask an administrator"],
    ["zh-CN", "没有你可以使用的模型", "请联系管理员"],
  ] as const)
    it(`tells a user who may use no model to ask an administrator, on a phone (${locale})`, async () => {
      const user = await stand.browser({ locale, width: 390, height: 800 });
      await signUpInUi(user.page, url, `user-${locale}`);
      const guidance = user.page.getByTestId("model-guidance");
      await expect.poll(() => guidance.textContent()).toContain(heading);
      const text = (await guidance.textContent()) ?? "";
      expect(text).toContain(ask);
      expect(text).not.toContain(web.config.model.modelsDir);
      expect(text).not.toContain("OLLAMA_HOST");
      const box = (await guidance.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
      await screenshot(user.page, `no-model-for-you-${locale}-390`);
    });
});
