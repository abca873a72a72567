import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FakeKnowledge,
  startFakeKnowledgeAndSearch,
} from "../../packages/web/test/support/fake-knowledge-search.js";
import {
  type FakeModelService,
  startFakeModelService,
} from "../../packages/web/test/support/fake-model-service.js";
import { startWeb, type WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type Browser, ensureUiBuilt, hasChromium, launchBrowser, signUpInUi } from "../support/browser.js";

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
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;
  let url: string;
  /** The first account (admin), on a desktop browser in English. */
  let desk: Browser;

  beforeAll(async () => {
    ensureUiBuilt();
    model = await startFakeModelService({ models: ["tiny-story"], delayMs: 2 });
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb({ modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url });
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    desk = await launchBrowser({ locale: "en-US" });
    await signUpInUi(desk.page, url, "ada");
  });
  afterAll(async () => {
    await desk?.close();
    await web?.close();
    await services?.close();
    await model?.close();
  });

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
});
