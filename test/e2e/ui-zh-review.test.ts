import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, hasChromium, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * What a Chinese reader saw in English, misleading, or not at all: a knowledge base's name refused
 * with zod's English, an executable's upload refused with a hint to connect Tika (which would not
 * take it either), a search engine's test as raw statuses and server text, and a model file skipped
 * for its name named only while no model is installed. Each is said in the reader's language now.
 */
describe.skipIf(!hasChromium)("pages a Chinese reader reads in Chinese", () => {
  let stand: UiStand;
  const browsers: Partial<Record<"en" | "zh-CN", Browser>> = {};

  beforeAll(async () => {
    stand = await startUiStand({
      knowledgeAndSearch: true,
      model: {
        models: ["stories260K:latest"],
        skippedFiles: [
          {
            file: "故事模型.gguf",
            reason: "not-a-model-name",
            suggested_file: "my-model.gguf",
            message: "故事模型.gguf is skipped",
          },
        ],
      },
    });
    browsers.en = await stand.browser({ locale: "en-US" });
    await signUpInUi(browsers.en.page, stand.url, "root");
    browsers["zh-CN"] = await stand.browser({ locale: "zh-CN" });
    await browsers["zh-CN"].context.addCookies(await browsers.en.context.cookies());
  });
  afterAll(() => stand?.close());

  it("says a knowledge base's name is too long or blank before sending it", async () => {
    const { page } = browsers["zh-CN"]!;
    await page.goto(stand.url);
    await page.getByRole("link", { name: "知识库", exact: true }).click();
    // None yet: the page says how to start.
    await page.getByText("还没有知识库。新建一个，上传文档或添加网页").waitFor();
    const name = page.getByLabel("新建知识库");
    const create = page.getByRole("button", { name: "创建", exact: true });
    await name.fill("合".repeat(300));
    await create.click();
    await expect
      .poll(() => page.getByRole("alert").allTextContents())
      .toEqual(["错误：名称：最多 200 个字符。"]);
    await name.fill("   ");
    await create.click();
    await expect.poll(() => page.getByRole("alert").allTextContents()).toEqual(["错误：名称：不能为空。"]);
    expect(stand.services!.knowledgeBaseBodies.filter((body) => body.method === "POST")).toEqual([]);
  });

  it("says what a refused upload really is, without a Tika hint that could not help", async () => {
    const { page } = browsers["zh-CN"]!;
    await page.goto(stand.url);
    await page.getByRole("link", { name: "知识库", exact: true }).click();
    await page.getByLabel("新建知识库").fill("手册");
    await page.getByRole("button", { name: "创建", exact: true }).click();
    await page.getByRole("heading", { name: "手册" }).waitFor();
    expect(await page.getByText("还没有知识库").count()).toBe(0);
    await page.locator('input[type="file"]:not([webkitdirectory])').setInputFiles({
      name: "bad.exe",
      mimeType: "application/octet-stream",
      buffer: Buffer.from("MZ\x90"),
    });
    const upload = page.locator("ul.uploads li", { hasText: "bad.exe" });
    await expect
      .poll(() => upload.textContent())
      .toContain("失败：这是一个 Windows 可执行文件，不是可以读取的文档。");
    const row = page.locator("tbody tr", { hasText: "bad.exe" });
    await expect.poll(() => row.textContent()).toContain("这是一个 Windows 可执行文件");
    expect(await row.textContent()).not.toContain("Tika");
  });

  it("shows a search engine's test in Chinese, the server's own words marked as its detail", async () => {
    const { page } = browsers["zh-CN"]!;
    stand.services!.failSearch = true;
    await page.goto(`${stand.url}/admin`);
    await page.getByRole("tab", { name: "搜索引擎", exact: true }).click();
    await page.getByRole("button", { name: "测试搜索引擎", exact: true }).click();
    const row = page.locator("section[aria-labelledby=providers-title] tbody tr");
    await expect.poll(() => row.first().textContent()).toContain("失败");
    const text = (await row.first().textContent()) ?? "";
    expect(text).toContain("无法连接该搜索引擎，或它返回了错误。");
    expect(text).toContain("服务器原文：HTTP 503");
    expect(text).not.toMatch(/\berror\b/);
  });

  for (const [locale, tab, why] of [
    ["en", "Models", "is skipped: its name is not a model name."],
    ["zh-CN", "模型", "已跳过：文件名不是有效的模型名。"],
  ] as const)
    it(`names a model file skipped for its name on the Models tab, beside the models served (${locale})`, async () => {
      const { page } = browsers[locale]!;
      await page.goto(`${stand.url}/admin`);
      await page.getByRole("tab", { name: tab, exact: true }).click();
      const files = page.locator(".skipped-files li");
      await expect.poll(() => files.count()).toBe(1);
      const line = (await files.first().textContent()) ?? "";
      expect(line).toContain("故事模型.gguf");
      expect(line).toContain(why);
      expect(line).toContain("my-model.gguf");
      await expect.poll(() => page.getByText("stories260K:", { exact: false }).count()).toBeGreaterThan(0);
    });
});
