import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeModelService } from "../../packages/web/test/support/fake-model-service.js";
import { type Browser, hasChromium, screenshot } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * ```mermaid blocks in answers, in a real Chromium on the built UI at a phone's width: drawn as a
 * named image, its code a button away, the theme followed; a block mermaid cannot read stays code
 * with a note, and no error diagram of mermaid's comes into the page; a streaming block is not
 * drawn, nor said to be wrong, before it is complete; a streaming answer's formulas are drawn once
 * and its theme followed once, not again with each piece. The model service is a local stand-in
 * that streams an answer a piece at a time.
 */
describe.skipIf(!hasChromium)("diagrams in answers, in the browser", () => {
  let stand: UiStand;
  let model: FakeModelService;
  let phone: Browser;
  const consoleErrors: string[] = [];
  /** Requests the page made to other servers. */
  const elsewhere: string[] = [];

  beforeAll(async () => {
    // With a knowledge stand-in: the chat page lists the knowledge bases, and with no knowledge
    // service that request is a 502, which the console reports whenever it lands (after signing in,
    // on a busy machine).
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 40 }, knowledgeAndSearch: true });
    model = stand.model;
    phone = await stand.signedIn("root", { width: 390, height: 844 });
    phone.page.on("console", (message) => {
      // Where it happened: "Failed to load resource" alone does not say which.
      if (message.type() === "error") consoleErrors.push(`${message.text()} (${message.location().url})`);
    });
    phone.page.on("request", (request) => {
      if (!request.url().startsWith(stand.url)) elsewhere.push(request.url());
    });
  });
  afterAll(() => stand?.close());

  /** Sends a message; the answer is the stand-in's words, streamed one a chunk, then the message. */
  const ask = async (words: string[], text: string) => {
    const { page } = phone;
    model.options.words = words;
    await page.getByLabel("Send a message").fill(text);
    await page.getByRole("button", { name: "Send" }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    return answer;
  };
  // Its labels' HTML may hold an image from elsewhere (not loaded) and a handler (not run, nor met).
  const code =
    'flowchart LR\n  A["Question<img src=\'https://elsewhere.example/leak.png\'>"] --> B{Known?}\n  B -->|yes| C[Answer]\n  B -->|no| D["<b onmouseover=alert(1)>Search</b>"]';

  it("draws a block as an image named by its first line, which fits a phone, with its code a button away", async () => {
    const { page } = phone;
    const answer = await ask(
      ["Here it is:\n\n```mermaid\n", `${code}\n`, "```\n\nThat is the flow. "],
      "a flow",
    );
    const diagram = answer.getByRole("img", { name: "Diagram: flowchart LR" });
    await diagram.waitFor();
    expect(await diagram.evaluate((svg) => svg.tagName.toLowerCase())).toBe("svg");
    expect(await diagram.locator(".node").count()).toBe(4);
    expect(await answer.locator("pre code.language-mermaid").isVisible()).toBe(false);
    // The page does not scroll sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect((await diagram.boundingBox())!.width).toBeLessThanOrEqual(390);
    await screenshot(page, "ui-diagrams-phone");

    // Its code, by keyboard, with its Copy button; the button keeps focus and turns back.
    await answer.getByRole("button", { name: "Show code" }).focus();
    await page.keyboard.press("Enter");
    await answer.getByRole("button", { name: "Show diagram" }).waitFor();
    expect(await answer.locator("pre code.language-mermaid").textContent()).toBe(code);
    expect(await answer.locator("pre button.copy-code").isVisible()).toBe(true);
    expect(await diagram.count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Show diagram");
    await page.keyboard.press("Enter");
    await diagram.waitFor();

    // The dark theme (a phone's header menu has its button) draws it again in mermaid's dark colours.
    const fill = () =>
      diagram
        .locator(".node rect, .node polygon")
        .first()
        .evaluate((shape) => getComputedStyle(shape).fill);
    const light = await fill();
    const chooseTheme = (name: string) =>
      page
        .getByRole("button", { name, includeHidden: true })
        .evaluate((button) => (button as HTMLElement).click());
    await chooseTheme("Dark theme");
    await expect.poll(fill).not.toBe(light);
    await chooseTheme("Light theme");
    await expect.poll(fill).toBe(light);
  });

  it("draws a one-line diagram (its `-->` kept by the sanitiser), named by its kind; a broken one says so", async () => {
    const answer = await ask(["```mermaid\ngraph LR; X-->Y;\n```\n"], "one line");
    const diagram = answer.getByRole("img", { name: "Diagram: graph LR" });
    await diagram.waitFor();
    expect(await diagram.locator(".node").count()).toBe(2);
    const broken = await ask(["```mermaid\ngraph LR; X-->((( ;\n```\n"], "one broken line");
    await broken.getByText("This diagram could not be drawn; its Mermaid code is shown.").waitFor();
    expect(await broken.locator("pre code.language-mermaid").isVisible()).toBe(true);
  });

  it("keeps a block mermaid cannot read as code with a note, and puts no error diagram into the page", async () => {
    const { page } = phone;
    const answer = await ask(
      [
        "```mermaid\nflowchart LR\n  A --> \n  ((( oops\n```\n\n",
        // Mermaid, loaded (a diagram was drawn), hooks into DOMPurify's shared instance: answers are
        // sanitised as before (a link opens a new tab, with no referrer).
        "[elsewhere](https://elsewhere.example/) ",
      ],
      "a broken flow",
    );
    await answer.getByText("This diagram could not be drawn; its Mermaid code is shown.").waitFor();
    expect(await answer.locator("pre code.language-mermaid").isVisible()).toBe(true);
    expect(await answer.locator(".markdown svg, .markdown .diagram").count()).toBe(0);
    expect(
      await page.evaluate(
        () =>
          document.querySelectorAll(".error-icon, [aria-roledescription='error'], body > [id^='d']").length,
      ),
    ).toBe(0);
    const link = answer.getByRole("link", { name: "elsewhere" });
    expect(await link.getAttribute("target")).toBe("_blank");
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer nofollow");
  });

  it("shows a streaming block as code until it is complete, never saying it is wrong meanwhile", async () => {
    const { page } = phone;
    // Whether the page shows a note that a diagram could not be drawn, or an error diagram, at any moment.
    await page.evaluate(() => {
      const said = () => document.querySelectorAll(".diagram-note, .error-icon").length;
      const before = said();
      document.documentElement.dataset.diagramErrorSeen = "false";
      new MutationObserver(() => {
        if (said() > before) document.documentElement.dataset.diagramErrorSeen = "true";
      }).observe(document.body, { childList: true, subtree: true });
    });
    // Pieces that end mid-line: until its end, the block is no diagram mermaid can read.
    const pieces = ["flowchart TD\n  A[Ques", "tion] --> B{Kno", "wn?}\n  B -->|yes| C[Ans", "wer]\n"];
    const answer = await ask(["Again:\n\n```mermaid\n", ...pieces, "```\n\nDone. "], "again");
    await answer.getByRole("img", { name: "Diagram: flowchart TD" }).waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.diagramErrorSeen)).toBe("false");
    expect(consoleErrors).toEqual([]);
    expect(elsewhere).toEqual([]);
  });

  it("draws a streaming answer's formulas once and follows the theme once, not again with each piece", async () => {
    const { page } = phone;
    // The work the page does meanwhile: each formula sanitised from KaTeX's HTML (the answer's own
    // HTML holds placeholders instead), and each observer of the theme on <html> set up.
    await page.evaluate(() => {
      const work = { formulasSanitised: 0, themeObservers: 0 };
      Object.assign(window, { work });
      const parse = DOMParser.prototype.parseFromString;
      DOMParser.prototype.parseFromString = function (this: DOMParser, text, type) {
        if (String(text).includes('class="katex')) work.formulasSanitised++;
        return parse.call(this, text, type);
      };
      const observe = MutationObserver.prototype.observe;
      MutationObserver.prototype.observe = function (this: MutationObserver, target, options) {
        if (target === document.documentElement && options?.attributeFilter?.includes("data-theme"))
          work.themeObservers++;
        return observe.call(this, target, options);
      };
    });
    const answer = await ask(
      [
        "A flow and two formulas:\n\n```mermaid\nflowchart LR\n  P --> Q\n```\n\n",
        "$e^{i\\pi} + 1 = 0$ and\n\n$$\\int_0^2 t\\,dt = 2$$\n\n",
        ...["Each", " piece", " after", " them", " renders", " the", " answer", " again."],
      ],
      "a flow and formulas",
    );
    await answer.getByRole("img", { name: "Diagram: flowchart LR" }).waitFor();
    expect(await answer.locator(".katex").count()).toBe(2);
    expect(await answer.locator(".katex-display").count()).toBe(1);
    const work = await page.evaluate(
      () => (window as unknown as { work: { formulasSanitised: number; themeObservers: number } }).work,
    );
    expect(work.formulasSanitised).toBe(2);
    // One for the whole page, set up as its first answer is shown.
    expect(work.themeObservers).toBeLessThanOrEqual(1);
  });
});
