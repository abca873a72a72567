import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, hasChromium, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * With the knowledge and search services down (the stand gives the web service none: their URLs
 * are http://127.0.0.1:9), creating a knowledge base and testing the search engines say which
 * service cannot be reached, in English and Chinese, not the model service, which answers.
 */
describe.skipIf(!hasChromium)("a service that does not answer, named on the page", () => {
  let stand: UiStand;
  let url: string;
  const browsers: Partial<Record<"en" | "zh-CN", Browser>> = {};

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["stories260K:latest"] } });
    ({ url } = stand);
    browsers.en = await stand.browser({ locale: "en-US" });
    await signUpInUi(browsers.en.page, url, "root");
    browsers["zh-CN"] = await stand.browser({ locale: "zh-CN" });
    await browsers["zh-CN"].context.addCookies(await browsers.en.context.cookies());
  });
  afterAll(() => stand?.close());

  for (const [locale, words] of [
    [
      "en",
      {
        knowledge: "Knowledge",
        newBase: "New knowledge base",
        create: "Create",
        knowledgeDown: "Error: The knowledge service cannot be reached.",
        admin: "Admin",
        providers: "Search providers",
        test: "Test providers",
        searchDown: "Error: The search service cannot be reached.",
      },
    ],
    [
      "zh-CN",
      {
        knowledge: "知识库",
        newBase: "新建知识库",
        create: "创建",
        knowledgeDown: "错误：无法连接知识库服务。",
        admin: "管理",
        providers: "搜索引擎",
        test: "测试搜索引擎",
        searchDown: "错误：无法连接搜索服务。",
      },
    ],
  ] as const) {
    it(`names the knowledge and the search service when they are down (${locale})`, async () => {
      const { page } = browsers[locale]!;
      await page.goto(url);
      await page.getByRole("link", { name: words.knowledge, exact: true }).click();
      await page.getByLabel(words.newBase).fill("Manuals");
      await page.getByRole("button", { name: words.create, exact: true }).click();
      await expect.poll(() => page.getByRole("alert").allTextContents()).toContain(words.knowledgeDown);

      await page.getByRole("link", { name: words.admin, exact: true }).click();
      await page.getByRole("tab", { name: words.providers, exact: true }).click();
      await page.getByRole("button", { name: words.test, exact: true }).click();
      await expect.poll(() => page.getByRole("alert").allTextContents()).toContain(words.searchDown);
    });
  }
});
