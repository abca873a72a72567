import { afterEach, describe, expect, it } from "vitest";
import { hasChromium } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * The Status tab's figures that are not known yet (here: the services behind the web service do not
 * answer their metrics) show "—", and the page says what "—" means, to the eye (a note, a tooltip)
 * and to a screen reader (the figure reads "not known yet"), in English and Chinese.
 */
describe.skipIf(!hasChromium)("the Status tab explains a figure not known yet", () => {
  let stand: UiStand | undefined;
  afterEach(() => stand?.close());

  for (const [locale, label, unknown, note] of [
    ["en-US", "Requests waiting for a model", "not known yet", "—: not known yet"],
    ["zh-CN", "等待模型的请求数", "尚未得知", "—：尚未得知"],
  ] as const)
    it(`says "—" is not known yet (${locale})`, async () => {
      stand = await startUiStand();
      const { page } = await stand.signedIn("root", { locale });
      await page.goto(`${stand.url}/admin/status`);
      const figure = page.locator(".figures div").filter({ hasText: label });
      await figure.waitFor();
      const value = figure.locator("dd");
      expect(await value.textContent()).toBe(`—${unknown}`);
      expect(await value.locator("[title]").getAttribute("title")).toBe(unknown);
      // A screen reader reads the words, not the dash.
      expect(await value.locator('[aria-hidden="true"]').textContent()).toBe("—");
      expect(await page.getByText(note).count()).toBe(1);
    });
});

/** The Status tab lists the models the model service holds in memory, one kept loaded said so, in English and Chinese. */
describe.skipIf(!hasChromium)("the Status tab lists the loaded models", () => {
  let stand: UiStand | undefined;
  afterEach(() => stand?.close());

  for (const [locale, title, kept] of [
    ["en-US", "Loaded models", "Kept loaded"],
    ["zh-CN", "已加载的模型", "常驻内存"],
  ] as const)
    it(`shows each one's size, context and expiry (${locale})`, async () => {
      stand = await startUiStand({
        model: {
          loaded: [
            {
              name: "qwen2.5:7b",
              model: "qwen2.5:7b",
              size: 5_368_709_120,
              expires_at: "9999-12-31T23:59:59.000Z",
              context_length: 32768,
            },
          ],
        },
      });
      const { page } = await stand.signedIn("root", { locale });
      await page.goto(`${stand.url}/admin/status`);
      await page.getByRole("heading", { name: title }).waitFor();
      const row = page.getByRole("row").filter({ hasText: "qwen2.5:7b" });
      await row.waitFor();
      const cells = await row.getByRole("cell").allTextContents();
      expect(cells[1]).toBe("5.0 GiB");
      expect(cells[3]).toBe(kept);
    });
});
