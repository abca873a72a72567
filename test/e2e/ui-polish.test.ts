import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeModelService } from "../../packages/web/test/support/fake-model-service.js";
import { type Browser, hasChromium, screenshot, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * What a black-box review of the chat UI found, in a real Chromium on the built UI: answers keep
 * their line breaks and task lists, prices are not formulas, messages can be copied whole, the
 * theme follows the system until one is chosen, the first run offers no sign-in, and a phone's
 * header and composer leave the conversation most of the screen.
 */
describe.skipIf(!hasChromium)("chat UI polish in the browser", () => {
  let stand: UiStand;
  let model: FakeModelService;
  let url: string;
  let desk: Browser;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 2 }, knowledgeAndSearch: true });
    stand.services!.noProviders = true;
    ({ model, url } = stand);
    desk = await stand.browser({ locale: "en-US" });
    desk.page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(`${message.text()} (${message.location().url})`);
    });
    await desk.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: url });
  });
  afterAll(() => stand?.close());

  const ask = async (browser: Browser, text: string) => {
    const { page } = browser;
    await page.getByLabel(/Send a message|输入消息/).fill(text);
    await page.getByRole("button", { name: /^(Send|发送)$/ }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    return answer;
  };

  it("offers no sign-in on the first run, when there is no account yet", async () => {
    const { page } = desk;
    await page.goto(url);
    await page.locator("#auth-title").waitFor();
    expect(await page.getByRole("button", { name: "Have an account? Sign in" }).count()).toBe(0);
    await signUpInUi(page, url, "root");
  });

  it("renders line breaks, task lists, blockquotes and prices as written, and no inline handler runs", async () => {
    const { page } = desk;
    model.options.words = [
      "First line\nSecond line\n\n- [ ] open\n- [x] done\n\n> quoted\n\nbetween $5-$10 per unit, and $x^2$\n\n<img src=x onerror=alert(1)><input type=text value=typed><input type=checkbox onclick=alert(2)>",
    ];
    try {
      const answer = await ask(desk, "render it");
      const markdown = answer.locator(".markdown");
      await markdown.locator("blockquote").waitFor();
      expect(await markdown.locator("p").first().innerHTML()).toBe("First line<br>Second line");
      const boxes = markdown.locator("li input");
      expect(await boxes.count()).toBe(2);
      expect(
        await boxes.evaluateAll((inputs) =>
          inputs.map((i) => [(i as HTMLInputElement).checked, (i as HTMLInputElement).disabled]),
        ),
      ).toEqual([
        [false, true],
        [true, true],
      ]);
      // Only the task list's boxes: the text field is gone, the loose checkbox has no handler.
      expect(await markdown.locator('input:not([type="checkbox"])').count()).toBe(0);
      expect(await markdown.locator("[onclick], [onerror]").count()).toBe(0);
      for (const input of await markdown.locator("input").all()) expect(await input.isDisabled()).toBe(true);
      const quote = await markdown
        .locator("blockquote")
        .evaluate((q) => [getComputedStyle(q).borderLeftStyle, getComputedStyle(q).borderLeftWidth]);
      expect(quote).toEqual(["solid", "4px"]);
      expect(await markdown.textContent()).toContain("between $5-$10 per unit");
      expect(await markdown.locator(".katex").count()).toBe(1);
      await page.waitForTimeout(300);
      expect(consoleErrors.filter((e) => /inline event handler|Content Security Policy/i.test(e))).toEqual(
        [],
      );
    } finally {
      model.options.words = undefined;
    }
  });

  it("copies a whole answer's Markdown and a user message, saying so, and the code Copy resets", async () => {
    const { page } = desk;
    const source = "**Bold** answer\n\n```js\nconst a = 1;\n```";
    model.options.words = [source];
    try {
      const answer = await ask(desk, "copy me");
      const copy = answer.getByRole("button", { name: "Copy message" });
      await copy.focus();
      await page.keyboard.press("Enter");
      await answer.getByRole("button", { name: "Copied" }).waitFor();
      expect(await answer.getByRole("status").filter({ hasText: "Copied" }).count()).toBe(1);
      // The Markdown as written (the stand-in model adds an echo of the question after it).
      expect(await page.evaluate(() => navigator.clipboard.readText())).toMatch(
        /^\*\*Bold\*\* answer\n\n```js\nconst a = 1;\n```/,
      );
      // Back to Copy after a while.
      await answer.getByRole("button", { name: "Copy message" }).waitFor({ timeout: 4000 });
      const question = page.locator("article.message.user").last();
      await question.getByRole("button", { name: "Copy message" }).click();
      await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe("copy me");
      const code = answer.locator("button.copy-code");
      await code.click();
      await expect.poll(() => code.textContent()).toBe("Copied");
      await expect.poll(() => code.textContent(), { timeout: 4000 }).toBe("Copy");
    } finally {
      model.options.words = undefined;
    }
  });

  it("draws a formula's square root, wide accents, arrows and strikes (KaTeX's SVG); SVG in an answer's own HTML stays inert", async () => {
    const { page } = desk;
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    model.options.words = [
      [
        "$$\\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}$$",
        "and $\\widehat{xyz}$, $\\overrightarrow{AB}$, $\\cancel{5}$",
        // The model's own SVG (a handler, a javascript: link, <use>, <foreignObject>), also inside
        // a box claiming KaTeX's class, and a formula's placeholder in MathML of its own: all text.
        '<svg onload="alert(1)" width="50" height="50"><a href="javascript:alert(2)"><text y="20">svg link</text></a><use href="#page-heading"/><foreignObject><img src="x" onerror="alert(3)"></foreignObject></svg>',
        '<span class="katex"><svg width="500" height="500"><path d="M0 0 L500 500" stroke="red"/></svg></span> <math><mi>@@MATH1@@</mi></math>',
      ].join("\n\n"),
    ];
    try {
      const answer = await ask(desk, "a formula");
      const markdown = answer.locator(".markdown");
      await markdown.locator(".katex-display").waitFor();
      // The radical is drawn: a path of some size in KaTeX's box that clips its tail.
      const radical = markdown.locator(".katex-display .hide-tail svg path");
      expect(await radical.count()).toBe(1);
      expect(await radical.getAttribute("d")).toMatch(/^M\d/);
      const drawn = await radical.boundingBox();
      expect(drawn!.width).toBeGreaterThan(5);
      expect(drawn!.height).toBeGreaterThan(5);
      // The root, the hat, the arrow and the strike, each KaTeX's SVG.
      const formulas = markdown.locator(".katex:has(> .katex-mathml)");
      expect(await formulas.count()).toBe(4);
      for (const formula of await formulas.all()) expect(await formula.locator("svg").count()).toBe(1);
      expect(await formulas.nth(3).locator("svg line").count()).toBe(1);
      // Every SVG in the answer is a formula's: paths and lines, nothing that links, loads or runs.
      expect(await markdown.locator("svg").count()).toBe(4);
      expect(
        await markdown.evaluate((element) =>
          [...element.querySelectorAll("svg *")]
            .map((part) => part.tagName)
            .filter((tag) => tag !== "path" && tag !== "line"),
        ),
      ).toEqual([]);
      expect(
        await markdown.locator("use, foreignObject, [onload], [onerror], [href^='javascript'], img").count(),
      ).toBe(0);
      // The model's own SVG and MathML are text, as written; a formula's placeholder written in the
      // answer stays text too (no formula is put in its place).
      expect(await markdown.textContent()).toContain('<svg onload="alert(1)" width="50" height="50">');
      expect(await markdown.textContent()).toContain("<math><mi>@@MATH1@@</mi></math>");
      await page.waitForTimeout(300);
      expect(dialogs).toEqual([]);
      await screenshot(page, "ui-polish-formula");
    } finally {
      model.options.words = undefined;
    }
  });

  it("wraps a table's cells between words, never inside one, on a desktop and a phone", async () => {
    const phone = await stand.signedIn("tab", { locale: "en-US", width: 390, height: 844 });
    const table =
      "| Name | Qty | Fruit | Note |\n| - | - | - | - |\n| Banana | 12 | Apple | ripe and yellow, from the market on the corner |\n| Kiwi | 1/2 | Mango | see https://example.com/a/very/long/path/that/has/no/space/to/break/at/anywhere |\n";
    model.options.words = [table];
    try {
      for (const [browser, width] of [
        [desk, 1280],
        [phone, 390],
      ] as const) {
        const answer = await ask(browser, "a table");
        const cells = answer.locator("td, th");
        await cells.first().waitFor();
        // The lines each short cell's text is laid out on: one, not a word cut in two ("Qt/y").
        const lines = await cells.evaluateAll((all) =>
          all
            .filter((cell) => cell.textContent && cell.textContent.length <= 6)
            .map((cell) => {
              const range = document.createRange();
              range.selectNodeContents(cell);
              return [cell.textContent, new Set([...range.getClientRects()].map((rect) => rect.top)).size];
            }),
        );
        expect(lines, `${width}`).toEqual(
          ["Name", "Qty", "Fruit", "Note", "Banana", "12", "Apple", "Kiwi", "1/2", "Mango"].map((text) => [
            text,
            1,
          ]),
        );
        // The long address does not push the page wider: the table scrolls in its own box.
        expect(await browser.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
          width,
        );
      }
      const box = phone.page.locator("article.message.assistant table").last();
      expect(await box.evaluate((table) => table.scrollWidth > table.clientWidth)).toBe(true);
      await screenshot(phone.page, "ui-polish-phone-table");
    } finally {
      model.options.words = undefined;
    }
  });

  it("says that an image pasted or dropped in the message box cannot be sent, and keeps the text", async () => {
    const { page } = desk;
    const box = page.getByLabel(/Send a message/);
    await box.fill("look at this");
    const notice = page.locator(".composer-wrap [role=alert]");
    for (const event of ["paste", "drop"] as const) {
      await box.evaluate((element, type) => {
        const data = new DataTransfer();
        data.items.add(
          new File([new Uint8Array([137, 80, 78, 71])], "screenshot.png", { type: "image/png" }),
        );
        const init = { bubbles: true, cancelable: true };
        element.dispatchEvent(
          type === "paste"
            ? new ClipboardEvent("paste", { ...init, clipboardData: data })
            : new DragEvent("drop", { ...init, dataTransfer: data }),
        );
      }, event);
      await expect
        .poll(() => notice.textContent())
        .toBe(
          "Images cannot be sent in a chat: the model reads text only. Documents (PDF, Word, HTML, Markdown, text) can be attached with the paperclip, dropped or pasted here.",
        );
      expect(await box.inputValue()).toBe("look at this");
      // Typing on clears it.
      await box.press("End");
      await box.pressSequentially("!");
      await expect.poll(() => notice.count()).toBe(0);
      await box.fill("look at this");
    }
    await box.fill("");
  });

  it("follows the system's theme until one is chosen, and again after choosing System", async () => {
    const { page } = desk;
    const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
    await page.emulateMedia({ colorScheme: "light" });
    await page.reload();
    await page.locator("#message-input").waitFor();
    expect(await theme()).toBe("light");
    expect(await page.evaluate(() => localStorage.getItem("hearth.theme"))).toBeNull();
    await page.emulateMedia({ colorScheme: "dark" });
    await expect.poll(theme).toBe("dark");
    expect(await page.evaluate(() => localStorage.getItem("hearth.theme"))).toBeNull();
    // An explicit choice is kept, whatever the system says.
    await page.getByRole("link", { name: "Settings" }).click();
    const choice = page.getByLabel("Theme");
    expect(await choice.inputValue()).toBe("system");
    await choice.selectOption("light");
    await page.emulateMedia({ colorScheme: "dark" });
    expect(await theme()).toBe("light");
    expect(await page.evaluate(() => localStorage.getItem("hearth.theme"))).toBe("light");
    await choice.selectOption("system");
    await expect.poll(theme).toBe("dark");
    expect(await page.evaluate(() => localStorage.getItem("hearth.theme"))).toBeNull();
    await page.emulateMedia({ colorScheme: "light" });
    await expect.poll(theme).toBe("light");
    // The password card is in the page's column, left-aligned with the rest.
    const card = await page.locator("form.form-card").boundingBox();
    const heading = await page.locator("#api-keys-title").boundingBox();
    expect(Math.abs(card!.x - heading!.x)).toBeLessThan(2);
    await page.getByRole("link", { name: "Chat", exact: true }).click();
  });

  it("keeps a phone's header to one row and the composer small, with the search hint folded", async () => {
    const phone = await stand.browser({ locale: "en-US", width: 390, height: 844 });
    const { page } = phone;
    await signUpInUi(page, url, "pat");
    const header = await page.locator("header.topbar").boundingBox();
    expect(header!.height).toBeLessThan(56);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // The language, theme and sign-out are behind the menu.
    const signOut = page.getByRole("button", { name: /^Sign out/ });
    expect(await signOut.isVisible()).toBe(false);
    await page.getByRole("button", { name: "Menu" }).click();
    await signOut.waitFor();
    await page.keyboard.press("Escape");
    await expect.poll(() => signOut.isVisible()).toBe(false);
    // An ordinary user is told to ask an administrator, without codes or file names, folded.
    const hint = page.locator("#search-not-configured");
    expect(await hint.locator("summary").textContent()).toBe("Web search is unavailable");
    const text = (await hint.textContent()) ?? "";
    expect(text).toContain("Ask an administrator");
    expect(text).not.toMatch(/SEARCH_NO_PROVIDERS|hearth\.yaml/);
    expect(await hint.evaluate((details) => (details as HTMLDetailsElement).open)).toBe(false);
    const composer = await page.locator("form.composer-wrap").boundingBox();
    expect(composer!.height).toBeLessThan(150);
    await screenshot(page, "ui-polish-phone");
  });

  it("grows the message box with its text, shows a phone its whole placeholder, and says the length near the limit", async () => {
    const { page } = await stand.signedIn("long", { locale: "en-US", width: 390, height: 844 });
    const box = page.locator("#message-input");
    const size = () =>
      box.evaluate((area) => ({ height: area.clientHeight, scrolls: area.scrollHeight > area.clientHeight }));
    // The placeholder, as long as the text it is, fits without scrolling; the empty box shows it whole.
    const placeholder = (await box.getAttribute("placeholder"))!;
    await box.fill(placeholder);
    const placeholderSize = await size();
    expect(placeholderSize.scrolls).toBe(false);
    await box.fill("");
    expect((await size()).height).toBe(placeholderSize.height);
    // Two lines at least; more as they are typed, up to about a third of the screen, then it scrolls.
    await box.fill("hi");
    const small = await size();
    await box.fill("one\ntwo\nthree\nfour\nfive");
    const five = await size();
    expect(five.height).toBeGreaterThan(small.height * 2);
    expect(five.scrolls).toBe(false);
    await box.fill("a line\n".repeat(60));
    const many = await size();
    expect(many.scrolls).toBe(true);
    expect(many.height).toBeLessThan(844 / 2.5);
    const send = await page.getByRole("button", { name: "Send" }).boundingBox();
    expect(send!.y + send!.height).toBeLessThanOrEqual(844);
    // The length is said once a tenth of the limit is left, then how far over it is.
    const length = page.locator("#message-length");
    await box.fill("x".repeat(89_999));
    expect(await length.count()).toBe(0);
    await box.fill("x".repeat(90_000));
    await expect.poll(() => length.textContent()).toBe("90,000 of 100,000 characters");
    expect(await box.getAttribute("aria-describedby")).toContain("message-length");
    await box.fill("x".repeat(100_012));
    await expect.poll(() => length.textContent()).toBe("100,012 of 100,000 characters: 12 too many to send");
    expect(await box.getAttribute("aria-invalid")).toBe("true");
    // Sent anyway, the refusal says the limit and how far over the message is; the text stays.
    await page.getByRole("button", { name: "Send" }).click();
    await expect
      .poll(() => page.locator("#send-error").textContent())
      .toContain("The message is too long: 100,012 characters, 12 more than the limit of 100,000.");
    await expect.poll(() => box.inputValue().then((text) => text.length)).toBe(100_012);
    await box.fill("");
    await screenshot(page, "ui-polish-phone-composer");
  });

  it("says how to configure a search engine in Admin → Search providers when there is none", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("tab", { name: "Search providers" }).click();
    const note = page.locator(".empty-state");
    await note.waitFor();
    expect(await note.textContent()).toContain("search.providers");
    expect(await note.locator("pre").textContent()).toContain("type: searxng");
    expect(await page.locator("section[aria-labelledby=providers-title] table").count()).toBe(0);
  });

  it("lets an admin adopt a knowledge base made outside the web UI, which then opens as their own", async () => {
    const { page } = desk;
    // As `hearth ingest --create` without --owner makes one: on the knowledge service directly.
    await fetch(`${stand.services!.url}/v1/knowledge-bases`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "wiki export" }),
    });
    await page.getByRole("link", { name: "Knowledge" }).click();
    const entry = page.locator(".kb-list li", { hasText: "wiki export" });
    await expect.poll(() => entry.locator(".badge").textContent()).toBe("No owner");
    await entry.getByRole("button", { name: "wiki export" }).click();
    await page.getByText("no one can use it in a chat or share it").waitFor();
    expect(await page.getByLabel("Upload files").count()).toBe(0);
    await page.getByRole("button", { name: "Adopt (become its owner)" }).click();
    await expect.poll(() => entry.locator(".badge").textContent()).toBe("Private");
    await page.getByLabel("Upload files").waitFor();
    await screenshot(page, "ui-polish-knowledge-adopted");
  });
});
