import { parseHTML } from "linkedom";
import { beforeAll, describe, expect, it } from "vitest";

// The renderer runs in a page (DOMPurify needs one to load): a DOM stand-in is enough for what
// becomes HTML; the sanitising itself is tested in Chromium (test/e2e/ui-markdown.test.ts).
let markdownToHtml: typeof import("./markdown-render.js").markdownToHtml;
beforeAll(async () => {
  const { window } = parseHTML("<!doctype html><html><body></body></html>");
  Object.assign(globalThis, { window, document: window.document, location: new URL("http://localhost/") });
  ({ markdownToHtml } = await import("./markdown-render.js"));
});

/** Text with the tags taken out (KaTeX's output is long; what matters is whether it is there). */
const formulas = (html: string) => html.match(/class="katex"/g)?.length ?? 0;

describe("an answer's Markdown", () => {
  it("keeps the model's single line breaks", () => {
    const html = markdownToHtml("Line one\nLine two\nLine three");
    expect(html).toBe("<p>Line one<br>Line two<br>Line three</p>\n");
  });

  it("keeps code blocks, tables and lists as they were with line breaks kept", () => {
    const html = markdownToHtml(
      "```plaintext\nfirst\nsecond\n```\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n- one\n- two\n\n1. x\n2. y",
    );
    expect(html).toContain("first\nsecond");
    expect(html).not.toMatch(/<pre>[\s\S]*<br>[\s\S]*<\/pre>/);
    expect(html).toContain("<table>");
    expect(html).toContain("<td>1</td>");
    expect(html).toMatch(/<ul>\s*<li>one<\/li>\s*<li>two<\/li>\s*<\/ul>/);
    expect(html).toMatch(/<ol>\s*<li>x<\/li>\s*<li>y<\/li>\s*<\/ol>/);
  });

  it("reads prices as text, not formulas (the pandoc rule)", () => {
    for (const text of [
      "between $5-$10 per unit",
      "$5 and $10",
      "it costs $5, or $10 with tax",
      "from $ 5 to 10 $",
      "a literal \\$x\\$ here",
    ]) {
      const html = markdownToHtml(text);
      expect(formulas(html), text).toBe(0);
      expect(html, text).toContain("$");
    }
    expect(markdownToHtml("between $5-$10 per unit")).toContain("between $5-$10 per unit");
    expect(markdownToHtml("a literal \\$x\\$ here")).toContain("a literal $x$ here");
  });

  it("still reads formulas in $…$, $$…$$, \\(…\\) and \\[…\\]", () => {
    expect(formulas(markdownToHtml("so $x^2$ grows"))).toBe(1);
    expect(formulas(markdownToHtml("and $a$, $b_1$"))).toBe(2);
    expect(markdownToHtml("$$\\sum_i a_i$$")).toContain("katex-display");
    expect(formulas(markdownToHtml("inline \\(a+b\\) here"))).toBe(1);
    expect(markdownToHtml("\\[\\int_0^1 x\\,dx\\]")).toContain("katex-display");
    expect(formulas(markdownToHtml("cost $x$ 5"))).toBe(1);
  });

  it("shows a task list's state as checkboxes, each labelled by its item's text", () => {
    const html = markdownToHtml("- [ ] open\n- [x] done **now**\n  - [ ] nested");
    expect(html).toMatch(/<li><label><input disabled="" type="checkbox">\s*open<\/label><\/li>/);
    expect(html).toMatch(
      /<li><label><input checked="" disabled="" type="checkbox">\s*done <strong>now<\/strong><\/label><ul>\s*<li><label><input disabled="" type="checkbox">\s*nested<\/label><\/li>/,
    );
    // In a loose list (items apart) the label is in the item's first paragraph; the rest follows it.
    expect(markdownToHtml("- [x] one\n\n- [ ] two\n\n  more")).toMatch(
      /<li><p><label><input disabled="" type="checkbox">\s*two<\/label><\/p>\s*<p>more<\/p>\s*<\/li>/,
    );
  });
});

describe("raw HTML in an answer, before it is sanitised", () => {
  it("has its event handler attributes renamed, so no parser meets a handler", async () => {
    const { disarmHandlers } = await import("./markdown-render.js");
    expect(
      disarmHandlers('<img src=x onerror=alert(1)><p onclick="a()" title="x">on=1 text onload=y</p>'),
    ).toBe('<img src=x x-onerror=alert(1)><p x-onclick="a()" title="x">on=1 text onload=y</p>');
    expect(disarmHandlers(`<img alt=">" ONERROR='a()'/onload=b>`)).toBe(
      `<img alt=">" x-ONERROR='a()'/x-onload=b>`,
    );
    expect(disarmHandlers("<a href=one>online=ok</a>")).toBe("<a href=one>online=ok</a>");
  });
});
