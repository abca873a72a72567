import { afterEach, describe, expect, it } from "vitest";
import { hasChromium, screenshot, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * A .gguf file dropped into the models folder under a name that is not a model name: the no-model
 * card names it, with why and the name to rename it to, instead of asking for the file that is
 * there; in English and Chinese, on a phone, a long file name wrapping within the screen. A link
 * to a file that is gone is named too, with where it points.
 */
describe.skipIf(!hasChromium)("the no-model card names the files skipped for their names", () => {
  let stand: UiStand | undefined;
  afterEach(() => stand?.close());

  const long = "这是一个很长的故事模型文件名-without-any-space-to-break-it-qwen2.5-7b-instruct-q4_k_m.gguf";

  for (const [locale, heading, why, rename, dangling] of [
    [
      "en-US",
      "No model is installed yet",
      "its name is not a model name. A model file's name may use only ASCII letters a-z A-Z, digits 0-9, '.', '_' and '-'.",
      "Rename it, e.g. to my-model.gguf.",
      "llama.gguf is skipped: it is a link to /home/me/models/llama.gguf, where there is no file. Put the file back there, or delete the link.",
    ],
    [
      "zh-CN",
      "还没有安装模型",
      "文件名不是有效的模型名。模型文件名只能使用 ASCII 英文字母 a-z A-Z、数字 0-9 以及 '.'、'_'、'-'。",
      "请重命名，例如改为 my-model.gguf。",
      "llama.gguf 已跳过：它是指向 /home/me/models/llama.gguf 的链接，但那里没有文件。请把文件放回原处，或删除该链接。",
    ],
  ] as const)
    it(`to an administrator, on a phone (${locale})`, async () => {
      stand = await startUiStand({
        model: {
          models: [],
          skippedFiles: [
            {
              file: "故事模型.gguf",
              reason: "not-a-model-name",
              suggested_file: "my-model.gguf",
              message: "故事模型.gguf is skipped",
            },
            {
              file: long,
              reason: "not-a-model-name",
              suggested_file: "without-any-space-to-break-it-qwen2.5-7b-instruct-q4_k_m.gguf",
              message: `${long} is skipped`,
            },
            {
              file: "llama.gguf",
              reason: "link-target-missing",
              target: "/home/me/models/llama.gguf",
              message: "llama.gguf is skipped",
            },
          ],
        },
      });
      const { page } = await stand.browser({ locale, width: 390, height: 800 });
      await signUpInUi(page, stand.url, "root");
      const guidance = page.getByTestId("model-guidance");
      await expect.poll(() => guidance.textContent()).toContain(heading);
      const files = guidance.locator(".skipped-files li");
      await expect.poll(() => files.count()).toBe(3);
      const first = (await files.first().textContent()) ?? "";
      expect(first).toContain("故事模型.gguf");
      expect(first).toContain(why);
      expect(first).toContain(rename);
      expect(await files.nth(1).textContent()).toContain(long);
      expect(await files.last().textContent()).toBe(dangling);
      // The models folder is still named, for the next file.
      expect(await guidance.textContent()).toContain(stand.web.config.model.modelsDir);
      // The pull command is shown as code, like the folder: no Markdown backticks around it.
      await expect
        .poll(() => guidance.locator("code").allTextContents())
        .toContain("hearth models pull deepseek-r1:1.5b");
      expect(await guidance.textContent()).not.toContain("`");
      // The long name wraps: nothing is wider than the phone's screen.
      for (const box of [await guidance.boundingBox(), await files.nth(1).locator("code").boundingBox()]) {
        expect(box!.x).toBeGreaterThanOrEqual(0);
        expect(box!.x + box!.width).toBeLessThanOrEqual(390);
      }
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(page, `no-model-skipped-file-${locale}-390`);
    });
});
