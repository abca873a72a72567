import { parseHTML } from "linkedom";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The renderer runs in a page (DOMPurify needs one to load): a DOM stand-in is enough for what
// becomes HTML; the sanitising itself is tested in Chromium (test/e2e/ui-polish.test.ts and web-ui.test.ts).
// The stand-in is taken away afterwards: later test files in the worker must not find a `window`.
let markdownToHtml: typeof import("./markdown-render.js").markdownToHtml;
let katexHtml: typeof import("./markdown-render.js").katexHtml;
const pageGlobals = ["window", "document", "location"] as const;
beforeAll(async () => {
  const { window } = parseHTML("<!doctype html><html><body></body></html>");
  Object.assign(globalThis, { window, document: window.document, location: new URL("http://localhost/") });
  ({ markdownToHtml, katexHtml } = await import("./markdown-render.js"));
});
afterAll(() => {
  for (const name of pageGlobals) Reflect.deleteProperty(globalThis, name);
});

/** An answer's HTML before sanitising, its formulas as placeholders (see formulas). */
const htmlOf = (source: string) => markdownToHtml(source).html;
/** How many formulas an answer holds (KaTeX's output is long; what matters is whether it is there). */
const formulas = (source: string) => markdownToHtml(source).formulas.length;
/** KaTeX's HTML of an answer's first formula. */
const formulaHtml = (source: string) => {
  const [first] = markdownToHtml(source).formulas;
  return first ? katexHtml(first) : "";
};

describe("an answer's Markdown", () => {
  it("keeps the model's single line breaks", () => {
    const html = htmlOf("Line one\nLine two\nLine three");
    expect(html).toBe("<p>Line one<br>Line two<br>Line three</p>\n");
  });

  it("keeps code blocks, tables and lists as they were with line breaks kept", () => {
    const html = htmlOf(
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
      const html = htmlOf(text);
      expect(formulas(text), text).toBe(0);
      expect(html, text).toContain("$");
    }
    expect(htmlOf("between $5-$10 per unit")).toContain("between $5-$10 per unit");
    expect(htmlOf("a literal \\$x\\$ here")).toContain("a literal $x$ here");
  });

  it("still reads formulas in $…$, $$…$$, \\(…\\) and \\[…\\]", () => {
    expect(formulas("so $x^2$ grows")).toBe(1);
    expect(htmlOf("so $x^2$ grows")).toBe("<p>so @@MATH0@@ grows</p>\n");
    expect(formulas("and $a$, $b_1$")).toBe(2);
    expect(formulaHtml("$$\\sum_i a_i$$")).toContain("katex-display");
    expect(formulas("inline \\(a+b\\) here")).toBe(1);
    expect(formulaHtml("\\[\\int_0^1 x\\,dx\\]")).toContain("katex-display");
    expect(formulas("cost $x$ 5")).toBe(1);
  });

  it("keeps a formula in an image's alt text or a link's title as its source: an attribute holds text", () => {
    expect(htmlOf('![the $x^2$ curve](/plot.png) [a](/b "$\\alpha$\'s")')).toBe(
      '<p><img src="/plot.png" alt="the $x^2$ curve"> <a href="/b" title="$\\alpha$&#39;s">a</a></p>\n',
    );
  });

  it("shows a task list's state as checkboxes, each labelled by its item's text", () => {
    const html = htmlOf("- [ ] open\n- [x] done **now**\n  - [ ] nested");
    expect(html).toMatch(/<li><label><input disabled="" type="checkbox">\s*open<\/label><\/li>/);
    expect(html).toMatch(
      /<li><label><input checked="" disabled="" type="checkbox">\s*done <strong>now<\/strong><\/label><ul>\s*<li><label><input disabled="" type="checkbox">\s*nested<\/label><\/li>/,
    );
    // In a loose list (items apart) the label is in the item's first paragraph; the rest follows it.
    expect(htmlOf("- [x] one\n\n- [ ] two\n\n  more")).toMatch(
      /<li><p><label><input disabled="" type="checkbox">\s*two<\/label><\/p>\s*<p>more<\/p>\s*<\/li>/,
    );
  });
});

describe("a ```mermaid block in an answer", () => {
  it("is its source as code, not highlighted, marked to be drawn with the name it is read by", () => {
    const html = htmlOf('A flow:\n\n```mermaid\nflowchart LR\n  A["<b>x</b>"] --> B\n```\n\nafter');
    expect(html).toContain(
      '<pre data-diagram="mermaid" data-complete><code class="language-mermaid">flowchart LR\n  A[&quot;&lt;b&gt;x&lt;/b&gt;&quot;] --&gt; B</code></pre>',
    );
    expect(html).not.toContain("hljs");
    expect(html).toContain("<p>after</p>");
    // Any fence, any case; another language is highlighted as before.
    expect(htmlOf("~~~~ Mermaid\npie\n~~~~~")).toContain('<pre data-diagram="mermaid" data-complete>');
    expect(htmlOf("```js\nconst a = 1;\n```")).toContain('class="hljs language-js"');
  });

  it("is not complete while its closing fence has not come (a streaming answer's last block)", () => {
    for (const unfinished of [
      "```mermaid",
      "```mermaid\ngraph TD\nA-->B",
      "```mermaid\ngraph TD\n``",
      "````mermaid\ngraph TD\n```",
    ])
      expect(htmlOf(unfinished), unfinished).toMatch(/<pre data-diagram="[^"]*"><code/);
    expect(htmlOf("- a list\n  ```mermaid\n  graph TD\n  ```\n")).toContain("data-complete");
  });

  it("is marked with nothing of its source, which a sanitiser could drop it for (a one-line `X-->Y`)", () => {
    expect(htmlOf("```mermaid\ngraph LR; X-->Y;\n```")).toBe(
      '<pre data-diagram="mermaid" data-complete><code class="language-mermaid">graph LR; X--&gt;Y;</code></pre>',
    );
    expect(htmlOf("```mermaid\nsequenceDiagram\n  accTitle: a --> b ]>\n```")).toContain(
      '<pre data-diagram="mermaid" data-complete>',
    );
  });
});

describe("raw HTML in an answer", () => {
  it("is shown as the text it is, never markup (a script, an image's handler, a block of it)", () => {
    expect(htmlOf("<script>alert(1)</script>")).toBe("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n");
    expect(htmlOf("see <img src=x onerror=alert(1)> and **this**")).toBe(
      "<p>see &lt;img src=x onerror=alert(1)&gt; and <strong>this</strong></p>\n",
    );
    expect(htmlOf('<div style="position:fixed">\nhi\n</div>')).toBe(
      "<p>&lt;div style=&quot;position:fixed&quot;&gt;<br>hi<br>&lt;/div&gt;</p>\n",
    );
    // Markdown's own markup is as before.
    expect(htmlOf("a `<b>` b")).toBe("<p>a <code>&lt;b&gt;</code> b</p>\n");
  });

  it("holds a formula's placeholder as text: written in the answer, it is no formula's place", () => {
    const { html, formulas, mark } = markdownToHtml("a $x$ and @@MATH0@@ as written");
    expect(formulas).toHaveLength(1);
    expect(mark).not.toBe("@@MATH");
    expect(html).toBe(`<p>a ${mark}0@@ and @@MATH0@@ as written</p>\n`);
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

describe("an answer's inline styles", () => {
  /** A style's declarations, one a string, as they are written (white space apart). */
  const declarations = (style: string) =>
    style
      .split(";")
      .map((declaration) => declaration.replace(/\s+/g, ""))
      .filter(Boolean);

  it("drops what could lay an answer over the page: a fixed box covering it is left without style", async () => {
    const { safeStyle } = await import("./markdown-render.js");
    // The box of a fake "session expired" page: only its offsets are left, which place nothing
    // that is not positioned.
    expect(
      safeStyle(
        "position:fixed;top:0;left:0;width:100vw;height:100vh;z-index:2147483647;background:#fff;padding:40px",
      ),
    ).toBe("top:0;left:0");
    for (const style of [
      "position:absolute",
      "position: sticky; top: 0",
      "inset:0",
      "transform:translate(0,-500px)",
      "z-index:10",
      "width:100vw",
      "height:5000px",
      "margin-top:-400px",
      "background-image:url(https://elsewhere.example/x.png)",
      "color:red;position:fixed",
      "color:red/**/;position:fixed",
      "posi\\tion:fixed",
      "color:expression(alert(1))",
      "font-weight:bold !important",
    ])
      expect(declarations(safeStyle(style)), style).not.toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /fixed|absolute|sticky|inset|transform|z-index|vw|vh|px|url|expression|important/,
          ),
        ]),
      );
    expect(safeStyle("color:red;position:fixed")).toBe("color:red");
  });

  it("keeps colours, emphasis and alignment, and every style KaTeX writes", async () => {
    const { safeStyle } = await import("./markdown-render.js");
    expect(
      declarations(
        safeStyle(
          "color: #c00; background-color: rgb(255, 240, 200); font-weight: bold; font-style: italic; text-decoration: underline; text-align: center",
        ),
      ),
    ).toEqual([
      "color:#c00",
      "background-color:rgb(255,240,200)",
      "font-weight:bold",
      "font-style:italic",
      "text-decoration:underline",
      "text-align:center",
    ]);
    // Heights, depths, shifts, struts, rules and colours of formulas of every kind.
    const { formulas: written } = markdownToHtml(
      [
        "$$\\sum_{i=1}^n \\frac{a_i}{b_i} = \\sqrt[3]{x^2+1}$$",
        "$$\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix} \\left(\\int_0^1 x\\,dx\\right)$$",
        "$\\color{red}{x} \\colorbox{yellow}{y} \\fcolorbox{red}{blue}{w} \\boxed{z}$",
        "$\\overline{x}\\underline{y} \\cancel{x} \\rule{1em}{2em} \\kern1em \\raisebox{0.5em}{x} \\phantom{x}$",
        "$$\\begin{cases}a&b\\\\c&d\\end{cases} \\begin{array}{|c|c|}\\hline a&b\\\\\\hline\\end{array} \\tag{1}$$",
      ].join("\n\n"),
    );
    const styles = [
      ...written
        .map(katexHtml)
        .join("")
        .matchAll(/\sstyle="([^"]*)"/g),
    ].map((match) => match[1]!);
    expect(styles.length).toBeGreaterThan(20);
    for (const style of styles) expect(declarations(safeStyle(style)), style).toEqual(declarations(style));
  });
});
