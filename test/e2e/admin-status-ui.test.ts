import { afterEach, describe, expect, it } from "vitest";
import { hasChromium, signUpInUi } from "../support/browser.js";
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
      const { page } = await stand.browser({ locale });
      await signUpInUi(page, stand.url, "root");
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
