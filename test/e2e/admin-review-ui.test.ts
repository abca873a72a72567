import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audit } from "../../packages/web/src/audit/audit-log.js";
import { type Session, signIn, signUp } from "../../packages/web/test/support/web-client.js";
import type { WebHarness } from "../../packages/web/test/support/web-harness.js";
import {
  type Browser,
  contentEdges,
  hasChromium,
  screenshot,
  signUpInUi,
  textLines,
} from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/** A model pulled by its URL: one long word with no place to break. */
const PULL_URL =
  "https://huggingface.co/TheBloke/Mistral-7B-Instruct-v0.2-GGUF/resolve/main/mistral-7b-instruct-v0.2.Q4_K_M.gguf";

/**
 * The admin pages where they went wrong in review: the audit log's rows readable on a phone and a
 * laptop (a long URL target, a settings change), its details in words (group names, limits as
 * amounts), a limit of 0 refused rather than saved as none, an administrator asked before making
 * their own account a user and sent to the chat after it; a used-up quota saying when it resets;
 * the usage report's cost units; and the config file's word lists shown in Settings.
 */
describe.skipIf(!hasChromium)("the admin pages after review, in the browser", () => {
  let stand: UiStand;
  let web: WebHarness;
  let url: string;
  let admin: Browser;
  let root: Session;
  let groupId: string;
  const pageErrors: string[] = [];
  const patchSettings = (payload: object) =>
    web.app.inject({ method: "PATCH", url: "/api/admin/settings", headers: root.headers, payload });
  const settingsNow = async () =>
    (await web.app.inject({ url: "/api/admin/settings", headers: root.headers })).json() as {
      userLimits: Record<string, number>;
      groupLimits: Record<string, Record<string, number>>;
    };

  /** The config file's word list (web.filter.lists): a flag list, so that it changes no chat here. */
  const wordsDir = mkdtempSync(join(tmpdir(), "hearth-admin-words-"));
  const leaks = join(wordsDir, "leaks.txt");

  beforeAll(async () => {
    writeFileSync(leaks, "project-x\nproject-y\n");
    stand = await startUiStand({
      model: { models: ["tiny-story"] },
      web: { filter: { lists: [{ id: "leaks", action: "flag", file: leaks }] } },
    });
    ({ web, url } = stand);
    admin = await stand.browser({ width: 1280 });
    admin.page.on("pageerror", (error) => pageErrors.push(error.message));
    await signUpInUi(admin.page, url, "root");
    root = await signIn(web.app, "root");
    groupId = (
      (
        await web.app.inject({
          method: "POST",
          url: "/api/admin/groups",
          headers: root.headers,
          payload: { name: "staff" },
        })
      ).json() as { id: string }
    ).id;
    await audit(web.db, { actorId: root.userId, action: "model.pull", target: PULL_URL });
    // As the Settings form sends it: every key, one group's limit and the words changed.
    const settings = await settingsNow();
    await patchSettings({
      ...settings,
      groupLimits: { [groupId]: { requestsPerMinute: 5 } },
      filter: {
        words: ["机密", "炸药"],
        allowedWords: ["手机密码"],
        applyToInput: true,
        applyToOutput: false,
      },
    });
    await web.app.inject({
      method: "PUT",
      url: "/api/admin/models/tiny-story/access",
      headers: root.headers,
      payload: { groupIds: [groupId] },
    });
  });
  afterAll(async () => {
    await stand?.close();
    rmSync(wordsDir, { recursive: true, force: true });
  });

  const auditRows = () => admin.page.locator("tbody tr");
  const openAudit = async () => {
    await admin.page.goto(`${url}/admin/audit`);
    await expect.poll(() => auditRows().count()).toBeGreaterThanOrEqual(4);
  };
  const box = async (selector: string, row: string) =>
    (await admin.page.locator(`tbody tr[data-action="${row}"] ${selector}`).first().boundingBox())!;

  it("shows each audit entry's details in words: group names, limits as amounts, only what changed", async () => {
    await openAudit();
    const details = async (action: string) =>
      (await admin.page.locator(`tbody tr[data-action="${action}"] .audit-details`).first().textContent()) ??
      "";
    const settings = await details("settings.change");
    expect(settings).toContain("Group limits › staff: no limit → 5 requests/min");
    // Only the keys that changed: the sign-up mode and user limits were sent as they were.
    expect(settings).not.toContain("Sign-up");
    expect(settings).not.toContain("User limits");
    expect(settings).not.toContain(groupId);
    expect(await details("model.access-change")).toBe("Groups: staff");
  });

  for (const [locale, width, height] of [
    ["zh-CN", 390, 844],
    ["en", 1280, 800],
  ] as const)
    it(`keeps audit rows readable with a long URL target and a settings change (${locale}, ${width} px)`, async () => {
      const { page } = admin;
      await page.evaluate((chosen) => localStorage.setItem("hearth.locale", chosen), locale);
      await page.setViewportSize({ width, height });
      await openAudit();
      await screenshot(page, `admin-audit-review-${locale}-${width}`);
      // A URL wraps over a few lines, not one character a line.
      expect((await box("", "model.pull")).height).toBeLessThan(200);
      // Each line of the details wraps at most once: the column is wide enough to read.
      const details = page.locator('tbody tr[data-action="settings.change"] .audit-details pre');
      const lines = ((await details.textContent()) ?? "").split("\n").length;
      expect(lines).toBeGreaterThanOrEqual(5);
      expect(await textLines(details)).toBeLessThanOrEqual(lines * 2);
      expect((await box(".audit-details", "settings.change")).width).toBeGreaterThanOrEqual(220);
      // On a laptop the date and time are one line, and the details take the room the page has.
      if (width >= 1024) {
        expect(await textLines(page.locator('tbody tr[data-action="settings.change"] time'))).toBe(1);
        expect((await box(".audit-details", "settings.change")).width).toBeGreaterThanOrEqual(360);
      }
      // The URL breaks inside its cell rather than running over the details beside it.
      const overflow = await page
        .locator('tbody tr[data-action="model.pull"] td:nth-child(4)')
        .evaluate((cell) => cell.scrollWidth - cell.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
    });

  it("refuses a limit of 0 with a message instead of saving no limit", async () => {
    const { page } = admin;
    await page.evaluate(() => localStorage.setItem("hearth.locale", "en"));
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${url}/admin/settings`);
    const limits = page.locator("fieldset", { has: page.locator("legend", { hasText: /^Limits$/ }) });
    const perDay = limits.getByLabel("Requests per day");
    await perDay.fill("0");
    await page.getByRole("button", { name: "Save" }).click();
    expect(await perDay.evaluate((input: HTMLInputElement) => input.validationMessage)).toBe(
      "A limit is a whole number, 1 or more; leave it empty for no limit.",
    );
    expect(await page.locator("output").count()).toBe(0);
    expect((await settingsNow()).userLimits).toEqual({});
    // A group's limit is held to the same rule.
    const staff = page.locator("fieldset.group-limits", { hasText: "staff" });
    await perDay.fill("");
    await staff.getByLabel("Requests per minute").fill("-3");
    await page.getByRole("button", { name: "Save" }).click();
    expect(await page.locator("output").count()).toBe(0);
    expect((await settingsNow()).groupLimits[groupId]).toEqual({ requestsPerMinute: 5 });
    await staff.getByLabel("Requests per minute").fill("7");
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator("output").waitFor();
    expect((await settingsNow()).groupLimits[groupId]).toEqual({ requestsPerMinute: 7 });
  });

  it("shows the config file's word lists in Settings, read-only, with their word counts but not their words", async () => {
    const { page } = admin;
    await page.evaluate(() => localStorage.setItem("hearth.locale", "en"));
    await page.goto(`${url}/admin/settings`);
    const lists = page.getByTestId("word-list-files");
    await expect
      .poll(() => lists.textContent())
      .toContain(`leaks (${leaks}) — Flag (flag): only counts them; words: 2`);
    // The action in words, and as the config file spells it (code), to find the list there.
    expect(await lists.locator("code").allTextContents()).toContain("flag");
    expect(await lists.textContent()).not.toContain("project-x");
    expect(await lists.locator("input, textarea").count()).toBe(0);
  });

  it("says when a used-up quota resets, in the reader's language, in line with the messages on a phone", async () => {
    const zh = await stand.browser({ locale: "zh-CN", width: 390, height: 844 });
    // One request a minute for staff, who alone may use the model.
    await signUpInUi(zh.page, url, "counted");
    const counted = await web.db
      .selectFrom("users")
      .select("id")
      .where("username", "=", "counted")
      .executeTakeFirstOrThrow();
    await web.app.inject({
      method: "PUT",
      url: `/api/admin/groups/${groupId}/members`,
      headers: root.headers,
      payload: { userIds: [counted.id] },
    });
    await patchSettings({ groupLimits: { [groupId]: { requestsPerMinute: 1 } } });
    await zh.page.reload();
    const send = async (text: string) => {
      await zh.page.locator("#message-input").fill(text);
      await zh.page.getByRole("button", { name: "发送", exact: true }).click();
    };
    await send("你好");
    // The first answer is written in full before the second message.
    await expect.poll(() => zh.page.getByRole("button", { name: "停止", exact: true }).count()).toBe(0);
    await send("再来一次");
    const alert = zh.page.getByRole("alert");
    // A per-minute limit lifts within the minute: said to the second, never as a minute already begun.
    await expect.poll(() => alert.textContent()).toMatch(/额度已用完，将于 \d+:\d\d:\d\d 重置。$/);
    // Its words start and end where the messages' do, not at the screen's edges.
    expect(await contentEdges(alert)).toEqual(await contentEdges(zh.page.locator(".messages")));
    await screenshot(zh.page, "quota-used-up-zh-390");
  });

  it("shows the cost units of each usage row and each group's total", async () => {
    // counted's one answered request (the one refused for the quota is not counted): 1 cost unit.
    const { page } = admin;
    await page.goto(`${url}/admin/usage`);
    /** A row's cells by their column's heading, in the tab's first table (per user) or second (per group). */
    const cells = async (table: 0 | 1, name: string) => {
      const scope = page.locator("section[aria-labelledby=usage-title] table").nth(table);
      const row = scope.getByRole("row").filter({ hasText: name });
      await row.waitFor();
      const headers = await scope.getByRole("columnheader").allTextContents();
      const values = await row.getByRole("cell").allTextContents();
      return Object.fromEntries(headers.map((header, index) => [header, values[index]]));
    };
    expect(await cells(0, "counted")).toMatchObject({ Requests: "1", "Cost units": "1" });
    expect(await cells(1, "staff")).toMatchObject({ Requests: "1", "Cost units": "1" });
  });

  it("tells a message too long for the token limit to be shortened, when the chat refuses it mid-turn", async () => {
    // A group whose token limit a long message alone reaches: the turn is taken (its stream begins),
    // then refused before the model is asked, with the refusal's details in the stream's error part.
    const writers = (
      (
        await web.app.inject({
          method: "POST",
          url: "/api/admin/groups",
          headers: root.headers,
          payload: { name: "writers" },
        })
      ).json() as { id: string }
    ).id;
    await web.app.inject({
      method: "PUT",
      url: "/api/admin/models/tiny-story/access",
      headers: root.headers,
      payload: { groupIds: [groupId, writers] },
    });
    const limits = (await settingsNow()).groupLimits;
    await patchSettings({ groupLimits: { ...limits, [writers]: { tokensPerMinute: 10 } } });
    const zh = await stand.browser({ locale: "zh-CN", width: 1280 });
    await signUpInUi(zh.page, url, "wordy");
    const wordy = await web.db
      .selectFrom("users")
      .select("id")
      .where("username", "=", "wordy")
      .executeTakeFirstOrThrow();
    await web.app.inject({
      method: "PUT",
      url: `/api/admin/groups/${writers}/members`,
      headers: root.headers,
      payload: { userIds: [wordy.id] },
    });
    await zh.page.reload();
    await zh.page
      .locator("#message-input")
      .fill("tell me a long story about the sea and its ships ".repeat(3));
    await zh.page.getByRole("button", { name: "发送", exact: true }).click();
    await expect
      .poll(() => zh.page.locator(".messages").textContent())
      .toContain("消息超出了你的 token 限额所允许的长度，请缩短后再发送。");
  });

  it("asks before an administrator makes their own account a user, then takes them to the chat", async () => {
    // Another administrator: the last one may not step down.
    const other = await signUp(web.app, "deputy");
    await web.app.inject({
      method: "PATCH",
      url: `/api/admin/users/${other.userId}`,
      headers: root.headers,
      payload: { role: "admin" },
    });
    const { page } = admin;
    await page.goto(`${url}/admin/users`);
    const role = page.getByLabel("Role: root");
    const dialogs: string[] = [];
    page.once("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await role.selectOption("user");
    await expect.poll(() => dialogs.length).toBe(1);
    expect(dialogs[0]).toMatch(/^Make your own account a user\?/);
    const rootRole = async () =>
      (await web.db.selectFrom("users").select("role").where("username", "=", "root").executeTakeFirst())
        ?.role;
    expect(await rootRole()).toBe("admin");
    expect(await role.inputValue()).toBe("admin");

    page.once("dialog", (dialog) => void dialog.accept());
    await role.selectOption("user");
    await expect.poll(rootRole).toBe("user");
    await expect.poll(() => new URL(page.url()).pathname).toBe("/");
    await page.locator("#message-input").waitFor();
    await expect.poll(() => page.getByRole("link", { name: "Admin" }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
