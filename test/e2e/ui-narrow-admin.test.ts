import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Browser,
  hasChromium,
  screenshot,
  signUpInUi,
  textLines,
  uncovered,
} from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

const PENDING = "new-hire-waiting-for-approval";
const GROUPS = ["engineering", "research", "marketing", "support"];

/** A state-changing call from the signed-in page, as the UI makes it (session cookie + CSRF header). */
const call = (page: Page, method: string, path: string, body?: unknown) =>
  page.evaluate(
    async ({ method, path, body }) => {
      const csrf = decodeURIComponent(/(?:^|;\s*)hearth_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? "");
      const response = await fetch(path, {
        method,
        headers: { "content-type": "application/json", "x-csrf-token": csrf },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return response.status;
    },
    { method, path, body },
  );

const box = async (locator: Locator) => (await locator.boundingBox())!;

/**
 * The admin tables at a phone's 390 px, in English and Chinese: a pending user's Status select (how an
 * administrator approves them) is not under the pinned actions column, the user names stay pinned at
 * the left when the table is scrolled sideways to its group columns, a "Pending (n)" filter finds the
 * users waiting for approval, a model's allowed groups are not under its Delete, and every tab (the
 * users' Add user form and Reset password panel too) fits the screen.
 */
describe.skipIf(!hasChromium)("admin tables on a phone", () => {
  let stand: UiStand;
  let url: string;
  let en: Browser;
  let zh: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["stories260K:latest"] }, knowledgeAndSearch: true });
    ({ url } = stand);
    en = await stand.browser({ locale: "en-US" });
    await signUpInUi(en.page, url, "root");
    for (const name of GROUPS) expect(await call(en.page, "POST", "/api/admin/groups", { name })).toBe(201);
    expect(await call(en.page, "PATCH", "/api/admin/settings", { signup: "approval" })).toBe(200);
    const signup = await fetch(`${url}/api/auth/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: PENDING, password: "correct horse battery" }),
    });
    expect(signup.status).toBe(202);
    zh = await stand.browser({ locale: "zh-CN" });
    await zh.context.addCookies(await en.context.cookies());
  });
  afterAll(() => stand?.close());

  for (const [locale, labels] of [
    [
      "en",
      {
        admin: "Admin",
        users: "Users",
        models: "Models",
        status: "Status",
        pending: /^Pending \(1\)$/,
        colon: ": ",
      },
    ],
    [
      "zh-CN",
      { admin: "管理", users: "用户", models: "模型", status: "状态", pending: /^待审批（1）$/, colon: "：" },
    ],
  ] as const) {
    it(`shows a pending user's Status, pins the user names and filters pending users at 390 px (${locale})`, async () => {
      const { page } = locale === "en" ? en : zh;
      await page.setViewportSize({ width: 390, height: 800 });
      await page.goto(url);
      await page.getByRole("link", { name: labels.admin }).click();
      await page.getByRole("tab", { name: labels.users, exact: true }).click();
      const row = page.locator(`tr[data-user="${PENDING}"]`);
      const status = page.getByLabel(`${labels.status}${labels.colon}${PENDING}`);
      await status.waitFor();
      await screenshot(page, `narrow-admin-users-${locale}-390`);
      const scroller = page.locator(".table-scroll").first();
      const frame = await box(scroller);
      const select = await box(status);
      const actions = await box(row.locator("td").last());
      expect(select.x, "Status select starts inside the table").toBeGreaterThanOrEqual(frame.x);
      expect(select.x + select.width, "Status select ends before the row's last column").toBeLessThanOrEqual(
        actions.x,
      );
      expect(await uncovered(status), "nothing lies over the Status select").toBe(true);

      // Scrolled to the group columns' end, the user names are still there, at the left.
      await scroller.evaluate((element) => {
        element.scrollLeft = element.scrollWidth;
      });
      const name = row.locator("td").first();
      expect(await uncovered(name), "the user name stays on the screen").toBe(true);
      expect((await box(name)).x).toBeGreaterThanOrEqual(frame.x);
      expect(
        await uncovered(page.getByLabel(`${GROUPS[3]}${labels.colon}${PENDING}`)),
        "the last group's box",
      ).toBe(true);
      await screenshot(page, `narrow-admin-users-scrolled-${locale}-390`);
      await scroller.evaluate((element) => {
        element.scrollLeft = 0;
      });

      // "Pending (1)" finds the user waiting for approval, and only them.
      const filter = page.getByRole("button", { name: labels.pending });
      await filter.click();
      expect(await filter.getAttribute("aria-pressed")).toBe("true");
      await expect.poll(() => page.locator("tr[data-user]").count()).toBe(1);
      expect(await row.isVisible()).toBe(true);
      await screenshot(page, `narrow-admin-users-pending-${locale}-390`);
      await filter.click();
      await expect.poll(() => page.locator("tr[data-user]").count()).toBe(2);

      await page.setViewportSize({ width: 1280, height: 800 });
      expect(await uncovered(status)).toBe(true);
      expect(await uncovered(page.getByLabel(`${GROUPS[3]}${labels.colon}${PENDING}`))).toBe(true);
      await screenshot(page, `narrow-admin-users-${locale}-1280`);
    });

    it(`keeps a model's allowed groups clear of its Delete at 390 px (${locale})`, async () => {
      const { page } = locale === "en" ? en : zh;
      await page.setViewportSize({ width: 390, height: 800 });
      await page.getByRole("tab", { name: labels.models }).click();
      const groupBox = page.getByRole("checkbox", { name: GROUPS[0] });
      await groupBox.waitFor();
      await screenshot(page, `narrow-admin-models-${locale}-390`);
      const header = page.getByRole("columnheader").nth(2);
      const remove = page.getByRole("button", { name: new RegExp(`${labels.colon}stories260K:latest$`) });
      const { x, width } = await box(remove);
      expect(x + width, "the model's Delete on the screen").toBeLessThanOrEqual(390);
      for (const locator of [header, remove, ...GROUPS.map((g) => page.getByRole("checkbox", { name: g }))])
        expect(await uncovered(locator), await locator.evaluate((e) => e.outerHTML.slice(0, 80))).toBe(true);
      await page.setViewportSize({ width: 1280, height: 800 });
      await screenshot(page, `narrow-admin-models-${locale}-1280`);
    });
  }

  it("fits every admin tab and the knowledge page on a phone's screen, in both languages", async () => {
    for (const [locale, { page }] of [
      ["en", en],
      ["zh-CN", zh],
    ] as const) {
      await page.setViewportSize({ width: 390, height: 800 });
      await page.goto(url);
      const tabs =
        locale === "en"
          ? ["Search providers", "Settings", "Usage", "Audit log", "Status", "Feedback", "Banners"]
          : ["搜索引擎", "设置", "用量", "审计日志", "运行状态", "反馈", "横幅公告"];
      await page.getByRole("link", { name: locale === "en" ? "Admin" : "管理" }).click();
      // Users: the Add user form (with its groups) and a Reset password panel, open together.
      await page.getByRole("button", { name: locale === "en" ? "Add user" : "添加用户" }).click();
      const reset = locale === "en" ? "Reset password: " : "重置密码：";
      await page.getByRole("button", { name: `${reset}${PENDING}` }).click();
      await page.locator("#reset-password").waitFor();
      expect(
        await page.evaluate(() => document.documentElement.scrollWidth),
        `Users (${locale})`,
      ).toBeLessThanOrEqual(390);
      await screenshot(page, `narrow-admin-add-user-${locale}-390`);
      for (const [index, tab] of tabs.entries()) {
        await page.getByRole("tab", { name: tab, exact: true }).click();
        await page.waitForTimeout(300);
        expect(
          await page.evaluate(() => document.documentElement.scrollWidth),
          `${tab} (${locale})`,
        ).toBeLessThanOrEqual(390);
        // Feedback: nothing rated yet, and it says so.
        if (index === 5)
          await page
            .getByText(locale === "en" ? "No answer was rated in this period." : "此期间没有回答被评价。")
            .waitFor();
        // Banners: none yet, and it says so under the form's heading.
        if (index === 6) await page.getByText(locale === "en" ? "No banner yet." : "还没有横幅。").waitFor();
        if (index === 3) {
          // The audit log: a long actor name breaks, and the signup's action beside it is on the screen.
          const action = page
            .locator(`tr[data-action="user.signup"]`, { hasText: PENDING })
            .locator("td")
            .nth(2);
          await action.waitFor();
          const { x, width } = await box(action);
          expect(x + width, `audit action (${locale})`).toBeLessThanOrEqual(374);
          expect(
            await textLines(action.locator("xpath=preceding-sibling::td[1]")),
            "actor",
          ).toBeLessThanOrEqual(4);
          const select = await box(page.locator("form.audit-filters select").first());
          expect(select.x + select.width, `action filter (${locale})`).toBeLessThanOrEqual(374);
        }
        await screenshot(page, `narrow-admin-tab${index}-${locale}-390`);
      }
      await page.getByRole("link", { name: locale === "en" ? "Knowledge" : "知识库" }).click();
      await page.waitForTimeout(300);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(page, `narrow-knowledge-${locale}-390`);
    }
  });
});
