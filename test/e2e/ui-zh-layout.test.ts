import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeKnowledge } from "../../packages/web/test/support/fake-knowledge-search.js";
import { type Browser, hasChromium, screenshot, signUpInUi, textLines } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * The knowledge and admin tables in Chinese, on a desktop and at a phone's 390 px: short words and
 * numbers (删除, 分块数, an audit action) stay on one line, and a row's buttons stay on the screen;
 * a long document name and the usage table's headings are not squeezed a character or two a line;
 * and the chat's web search choice, off with the reason when no search engine is configured, as
 * the Status tab says in place of a search success rate.
 */
describe.skipIf(!hasChromium)("tables in Chinese, desktop and phone", () => {
  let stand: UiStand;
  let services: FakeKnowledge;
  let url: string;
  let zh: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["stories260K:latest"] }, knowledgeAndSearch: true });
    ({ url } = stand);
    services = stand.services!;
    // No web search engine is configured (the search service answers as the real one then).
    services.noProviders = true;
    zh = await stand.browser({ locale: "zh-CN" });
    await signUpInUi(zh.page, url, "root");
  });
  afterAll(() => stand?.close());

  it("keeps 删除 and 分块数 on one line in the document table, and the button on a phone's screen", async () => {
    const { page } = zh;
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("link", { name: "知识库" }).click();
    await page.getByLabel("新建知识库").fill("手册");
    await page.getByRole("button", { name: "创建" }).click();
    await page.getByRole("heading", { name: "手册" }).waitFor();
    const folder = mkdtempSync(join(tmpdir(), "hearth-upload-"));
    const file = join(folder, "zh-procuratorate-admin-litigation-supervision-rules-2016-with-a-long-name.md");
    writeFileSync(file, "检察机关行政诉讼监督规则");
    await page.locator('input[type="file"]:not([webkitdirectory])').setInputFiles(file);
    const remove = page.getByRole("button", { name: /^删除：zh-procuratorate/ });
    await remove.waitFor();
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 800 });
      expect(await textLines(remove), `删除 at ${width}`).toBe(1);
      expect(await textLines(page.getByRole("columnheader", { name: "分块数" })), `分块数 at ${width}`).toBe(
        1,
      );
      const box = (await remove.boundingBox())!;
      expect(box.x + box.width, `删除 on the screen at ${width}`).toBeLessThanOrEqual(width);
      await screenshot(page, `zh-layout-knowledge-${width}`);
    }
  });

  it("gives a long Chinese document name and the usage headers room on a phone, the tables scrolling sideways", async () => {
    const { page } = zh;
    await page.setViewportSize({ width: 390, height: 800 });
    await page.getByRole("link", { name: "知识库" }).click();
    await page.getByLabel("新建知识库").fill("规则");
    await page.getByRole("button", { name: "创建" }).click();
    await page.getByRole("heading", { name: "规则" }).waitFor();
    // Longer than a file system's 255 bytes: given to the page, not written to disk. Its import is
    // cancelled, so that its status says why at length beside it.
    const name = "检察机关行政诉讼监督规则".repeat(8);
    services.holdIngestion = true;
    await page
      .locator('input[type="file"]:not([webkitdirectory])')
      .setInputFiles({ name: `${name}.md`, mimeType: "text/markdown", buffer: Buffer.from("监督规则") });
    await page.getByRole("button", { name: `取消导入：${name}.md` }).click();
    services.holdIngestion = false;
    const link = page.getByRole("link", { name: `${name}.md` });
    const row = page.locator("tr", { has: link });
    await expect.poll(() => row.getAttribute("data-status")).toBe("failed");
    // The name's 99 characters at least 9 a line, its reason at least 7 (squeezed, either took 1 to 4
    // characters a line, a row up to 3,500 px tall): on a phone the document is a card as wide as
    // the screen, nothing to scroll sideways.
    expect(await textLines(link), "the document name's lines").toBeLessThanOrEqual(11);
    expect(await textLines(row.locator(".document-error")), "the reason's lines").toBeLessThanOrEqual(3);
    const documents = page.locator(".table-scroll", { has: link });
    expect(await documents.evaluate((box) => box.scrollWidth <= box.clientWidth)).toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, "zh-layout-long-document-name-390");

    await page.getByRole("link", { name: "管理" }).click();
    await page.getByRole("tab", { name: "用量" }).click();
    const headers = page.locator("section[aria-labelledby=usage-title] th");
    await headers.first().waitFor();
    // A heading breaks only between its words, as an English one does: not 用/户/名, a character a line.
    for (const header of await headers.all()) {
      const text = (await header.textContent())!;
      expect(await textLines(header), text).toBeLessThanOrEqual(text.split(" ").length);
    }
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, "zh-layout-usage-390");
  });

  it("keeps an audit action on one line, and a model's Delete on a phone's screen", async () => {
    const { page } = zh;
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 800 });
      await page.getByRole("link", { name: "管理" }).click();
      await page.getByRole("tab", { name: "审计日志" }).click();
      const action = page.locator('tr[data-action="user.signup"] td').nth(2);
      await action.waitFor();
      expect(await textLines(action), `审计操作 at ${width}`).toBe(1);
      const date = page.locator('tr[data-action="user.signup"] td time');
      // Whole on a wide screen; on a phone the time may go under the date, never part of the date.
      expect(await textLines(date), `审计日期 at ${width}`).toBe(width === 1280 ? 1 : 2);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      await screenshot(page, `zh-layout-audit-${width}`);
      await page.getByRole("tab", { name: "模型" }).click();
      const remove = page.getByRole("button", { name: "删除：stories260K:latest" });
      await remove.waitFor();
      expect(await textLines(remove)).toBe(1);
      const box = (await remove.boundingBox())!;
      expect(box.x + box.width, `模型的删除 on the screen at ${width}`).toBeLessThanOrEqual(width);
      await screenshot(page, `zh-layout-models-${width}`);
    }
  });

  it("turns the web search choice off, saying why, when no search engine is configured", async () => {
    const { page } = zh;
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("link", { name: "聊天" }).click();
    const choice = page.getByLabel("联网搜索", { exact: false });
    await expect.poll(() => choice.isDisabled()).toBe(true);
    expect(await choice.inputValue()).toBe("off");
    const hint = page.locator("#search-not-configured");
    expect(await hint.textContent()).toContain("没有配置任何搜索引擎（SEARCH_NO_PROVIDERS）");
    expect(await choice.getAttribute("aria-describedby")).toBe("search-not-configured");
    await screenshot(page, "zh-layout-search-not-configured");
  });

  it("says on the Status tab that no search engine is configured, not a web search success rate of 0%", async () => {
    const { page } = zh;
    // What the real search service counts then: its one /v1/search request, an administrator's test
    // answered 503 SEARCH_NO_PROVIDERS, is 0% (the stand-in counts none).
    await page.route("**/api/admin/status", async (route) => {
      const response = await route.fetch();
      const answer = await response.json();
      await route.fulfill({
        response,
        json: { ...answer, figures: { ...answer.figures, searchSuccessPercent: 0 } },
      });
    });
    try {
      await page.goto(`${url}/admin/status`);
      const figure = page.locator(".figures div").filter({ hasText: "联网搜索成功率" });
      await expect.poll(() => figure.locator("dd").textContent()).toBe("未配置搜索引擎");
      await screenshot(page, "zh-layout-status-search-not-configured");
    } finally {
      await page.unroute("**/api/admin/status");
    }
  });
});
