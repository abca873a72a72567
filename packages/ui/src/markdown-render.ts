/**
 * Markdown to safe HTML, loaded lazily (marked, highlight.js, KaTeX and DOMPurify are the heavy
 * part of the UI). Model output is untrusted: raw HTML in an answer is shown as the text it is
 * (`<script>alert(1)</script>` reads as written, as ChatGPT shows it), never markup; what the
 * renderer writes itself goes through DOMPurify all the same, so nothing an answer holds can run.
 * Formulas are KaTeX's own HTML, sanitised apart
 * and put in the answer's text after it is sanitised: they may draw with SVG, which the answer's
 * own HTML may not. A ```mermaid block stays code here, marked for the Markdown component to draw
 * (diagrams.ts).
 */
import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/common";
import katex from "katex";
import "katex/dist/katex.min.css";
import "highlight.js/styles/github.css";
import "./highlight.css";
import { Marked, type Tokens } from "marked";

const marked = new Marked({
  gfm: true,
  // A single line break in an answer is a line break, as ChatGPT and Open WebUI show it (models
  // write lists of lines and addresses that way); code blocks, tables and lists are unaffected.
  breaks: true,
  renderer: {
    code({ text, lang, raw }) {
      if (lang?.split(/\s/)[0]?.toLowerCase() === "mermaid") return diagramBlock(text, raw);
      const language = lang && hljs.getLanguage(lang) ? lang : undefined;
      const highlighted = language
        ? hljs.highlight(text, { language }).value
        : hljs.highlightAuto(text).value;
      return `<pre><code class="hljs${language ? ` language-${language}` : ""}">${highlighted}</code></pre>`;
    },
    // A task list's item (`- [x] done`): its text is its box's label, so a screen reader names the
    // box by it; the rest of the item (a nested list, more paragraphs) follows the label.
    listitem(item) {
      if (!item.task) return false;
      const [first, ...rest] = item.tokens;
      // In a loose list the box is in the item's first paragraph; in a tight one, before its text.
      if (first?.type === "paragraph")
        return `<li><p><label>${this.parser.parseInline((first as Tokens.Paragraph).tokens)}</label></p>\n${this.parser.parse(rest)}</li>\n`;
      return `<li><label>${this.parser.parse(item.tokens.slice(0, 2))}</label>${this.parser.parse(item.tokens.slice(2))}</li>\n`;
    },
    // Raw HTML (a block or a tag inline) is text: an answer's markup is Markdown's alone.
    html({ text, block }) {
      const escaped = escapeHtml(text);
      return block ? `<p>${escaped.trimEnd().replace(/\n/g, "<br>")}</p>\n` : escaped;
    },
    // An image elsewhere on the web is a link the reader may follow, not a request the page makes.
    image({ href, text }) {
      if (!isElsewhere(href)) return false;
      return `<a href="${quotedUrl(href)}">${plainText(text || href)}</a>`;
    },
  },
});

/**
 * A ```mermaid block: its source as code (not highlighted), marked to be drawn as a diagram
 * (`data-diagram="mermaid"`; the page names it from its code, diagramName), once its closing fence
 * has come (`data-complete`): a streaming answer's unfinished diagram is not drawn, nor said to be
 * wrong, before it is whole. The mark holds nothing of the source: DOMPurify drops an attribute
 * whose value holds `-->` (as a one-line flowchart's first line does), and the block with it.
 */
function diagramBlock(text: string, raw: string): string {
  const complete = fenceClosed(raw) ? " data-complete" : "";
  return `<pre data-diagram="mermaid"${complete}><code class="language-mermaid">${escapeHtml(text)}</code></pre>`;
}

/** Whether a fenced block (as marked read it) ends with its closing fence. */
function fenceClosed(raw: string): boolean {
  const lines = raw.replace(/\n$/, "").split("\n");
  if (lines.length < 2) return false;
  const open = /^\s*(`{3,}|~{3,})/.exec(lines[0]!)?.[1];
  const close = /^\s*(`{3,}|~{3,})\s*$/.exec(lines.at(-1)!)?.[1];
  return open !== undefined && close !== undefined && close[0] === open[0] && close.length >= open.length;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

/** Markup written here around untrusted text (sanitised below anyway): a URL inside quotes, and text. */
const quotedUrl = (url: string) => url.replace(/"/g, "%22");
const plainText = (text: string) => text.replace(/[<>&"]/g, "");

/**
 * Whether a URL would make the browser call another server. Model output is untrusted, and a page
 * that loads what an answer names leaks the conversation (an injected instruction in a web page or
 * a document can ask the model to write one): only this server's and data: URLs load.
 */
function isElsewhere(url: string): boolean {
  if (url.startsWith("data:")) return false;
  try {
    return new URL(url, location.href).origin !== location.origin;
  } catch {
    return true;
  }
}

/**
 * The sanitiser of answers, an instance of its own: mermaid sanitises its diagrams with DOMPurify's
 * shared one and adds hooks to it (keeping a link's own `target`), and neither one's hooks may
 * change what the other keeps (ours would strip a diagram's styles to what an answer may say).
 */
const purify = DOMPurify(window);

purify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
  for (const attribute of ["src", "srcset", "poster", "background"])
    if (node.hasAttribute(attribute) && isElsewhere(node.getAttribute(attribute) ?? ""))
      node.removeAttribute(attribute);
  // A task list's box (`- [x] done`) is the one input an answer may show: a disabled checkbox, its
  // state and nothing else.
  if (node.tagName === "INPUT") {
    const checked = node.hasAttribute("checked");
    if (node.getAttribute("type") !== "checkbox") {
      node.remove();
      return;
    }
    for (const { name } of [...node.attributes]) node.removeAttribute(name);
    node.setAttribute("type", "checkbox");
    node.setAttribute("disabled", "");
    if (checked) node.setAttribute("checked", "");
  }
  const style = node.getAttribute("style");
  if (style !== null) {
    const safe = safeStyle(style);
    if (safe) node.setAttribute("style", safe);
    else node.removeAttribute("style");
  }
});

/** A length as KaTeX writes them: in em (of the formula's own size), or 0. */
const EM = String.raw`(?:-?(?:\d+(?:\.\d+)?|\.\d+)em|0)`;
const LENGTH = new RegExp(`^${EM}$`);
/** One to four lengths (a margin's or a padding's sides). */
const SIDES = new RegExp(`^${EM}(?: ${EM}){0,3}$`);
const COLOUR = /^(?:#[0-9a-f]{3,8}|[a-z]+|(?:rgba?|hsla?)\([\d ,.%/+-]*\))$/;
const BORDER_STYLE = /^(?:none|hidden|solid|dashed|dotted|double)$/;
/** A border's width, style and colour, in any order. */
const isBorder = (value: string) =>
  value.split(" ").every((part) => LENGTH.test(part) || BORDER_STYLE.test(part) || COLOUR.test(part));

/**
 * What an inline style may say, by property: the colours, emphasis and alignment an answer's HTML
 * may give its text, and what KaTeX lays formulas out with (heights, depths, struts, shifts, rules
 * and colours, all in em). Nothing that takes an element out of the answer's flow or lays it over
 * other content: no position but relative (KaTeX's shifts, which the answer's box clips, styles.css),
 * no z-index, inset or transform, no size but in em, nothing that loads (`url()`).
 */
const STYLE_VALUES: Array<[RegExp, (value: string) => boolean]> = [
  [/^(?:background-)?color$/, (value) => COLOUR.test(value)],
  [/^font-weight$/, (value) => /^(?:normal|bold|bolder|lighter|[1-9]00)$/.test(value)],
  [/^font-style$/, (value) => /^(?:normal|italic|oblique)$/.test(value)],
  [
    /^text-decoration(?:-line)?$/,
    (value) =>
      /^(?:none|underline|overline|line-through)(?: (?:underline|overline|line-through))*$/.test(value),
  ],
  [/^text-align$/, (value) => /^(?:left|right|center|justify|start|end)$/.test(value)],
  [/^position$/, (value) => value === "relative"],
  [/^(?:top|right|bottom|left|(?:min-|max-)?(?:width|height))$/, (value) => LENGTH.test(value)],
  [
    /^vertical-align$/,
    (value) =>
      LENGTH.test(value) || /^(?:baseline|middle|top|bottom|sub|super|text-top|text-bottom)$/.test(value),
  ],
  [/^(?:margin|padding)(?:-(?:top|right|bottom|left))?$/, (value) => SIDES.test(value)],
  [/^border(?:-(?:top|right|bottom|left))?$/, isBorder],
  [/^border(?:-(?:top|right|bottom|left))?-width$/, (value) => SIDES.test(value)],
  [/^border(?:-(?:top|right|bottom|left))?-style$/, (value) => BORDER_STYLE.test(value)],
  [/^border(?:-(?:top|right|bottom|left))?-color$/, (value) => COLOUR.test(value)],
];

/**
 * An inline style with only the declarations STYLE_VALUES allows ("" when none is left), rewritten
 * from what was read: a declaration that is not plainly a property and a value it allows (a comment,
 * an escape, `!important`, a property or value not listed) is dropped whole.
 */
export function safeStyle(style: string): string {
  const kept: string[] = [];
  for (const declaration of style.split(";")) {
    const parsed = /^\s*([a-z-]+)\s*:\s*(.*?)\s*$/i.exec(declaration);
    if (!parsed) continue;
    const property = parsed[1]!.toLowerCase();
    const value = parsed[2]!.toLowerCase().replace(/\s+/g, " ");
    if (STYLE_VALUES.some(([name, allowed]) => name.test(property) && allowed(value)))
      kept.push(`${property}:${value}`);
  }
  return kept.join(";");
}

/**
 * Formulas, as pandoc reads them: `$$…$$`, `\[…\]`, `\(…\)`, and inline `$…$` whose opening `$`
 * is not followed by whitespace and whose closing `$` is not preceded by whitespace nor followed by
 * a digit, so prices ("between $5-$10", "$5 and $10") stay text. `\$` is a dollar sign.
 */
const MATH =
  /\\\$|\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\$(?!\s)((?:\\\$|[^$\n])+?)(?<!\s)\$(?!\d)|\\\(([\s\S]+?)\\\)/g;

export interface CitationLink {
  n: number;
  url: string;
  title: string;
}

/** Fenced code blocks (also one still streaming, not closed yet) and inline code spans. */
const CODE = /^(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^\1[ \t]*$|(?![\s\S]))|`[^`\n]+`/gm;

/** A start tag, its quoted attribute values read whole (a `>` in one does not end it). */
const START_TAG = /<[a-zA-Z](?:[^>"']|"[^"]*"|'[^']*')*>/g;

/**
 * What marks where a formula is in an answer's HTML until it is sanitised (KaTeX's output is put in
 * its place after): `@@MATH0@@`, unless the answer holds that text itself (it is shown as written),
 * then one it does not hold.
 */
function placeMark(source: string): string {
  let mark = "@@MATH";
  while (source.includes(mark)) mark = `@@MATH${Math.random().toString(36).slice(2, 8)}x`;
  return mark;
}

/** The places of formulas marked with `mark` (their numbers captured). */
const formulaPlaces = (mark: string) => new RegExp(`${mark}(\\d+)@@`, "g");

/** A formula of an answer: its source as written (delimiters too), its TeX, and whether it is a block of its own. */
export interface Formula {
  source: string;
  tex: string;
  displayMode: boolean;
}

/** KaTeX's HTML of a formula, before it is sanitised (exported for the tests). */
export function katexHtml({ tex, displayMode }: Formula): string {
  return katex.renderToString(tex, { displayMode, throwOnError: false, output: "htmlAndMathml" });
}

/**
 * An answer's Markdown as HTML, before sanitising, each formula's place in it held by a placeholder
 * (exported for the tests: show only renderMarkdown's). A formula inside a tag (an image's alt text,
 * a link's title) is its source there: an attribute holds text, not a formula.
 */
export function markdownToHtml(
  source: string,
  citations: CitationLink[] = [],
): { html: string; formulas: Formula[]; mark: string } {
  const mark = placeMark(source);
  const places = formulaPlaces(mark);
  // Code is kept out of the math below: `$HOME`, `$('#a')` or `\(\d+\)` in code are not formulas.
  const code: string[] = [];
  const withoutCode = source.replace(CODE, (match) => {
    code.push(match);
    return `@@CODE${code.length - 1}@@`;
  });
  // Math first (marked would eat its backslashes and underscores), as placeholders.
  const formulas: Formula[] = [];
  const withPlaceholders = withoutCode.replace(MATH, (match, block, bracket, inline, paren) => {
    // `\$` stays as written: Markdown makes it a dollar sign.
    if (block === undefined && bracket === undefined && inline === undefined && paren === undefined)
      return match;
    formulas.push({
      source: match,
      tex: (block ?? bracket ?? inline ?? paren) as string,
      displayMode: block !== undefined || bracket !== undefined,
    });
    return `${mark}${formulas.length - 1}@@`;
  });
  const withCode = withPlaceholders.replace(/@@CODE(\d+)@@/g, (_m, index) => code[Number(index)] ?? "");
  let html = (marked.parse(withCode, { async: false }) as string).replace(START_TAG, (tag) =>
    tag.replace(places, (place, index) => {
      const formula = formulas[Number(index)];
      return formula ? escapeHtml(formula.source) : place;
    }),
  );
  if (citations.length > 0) {
    // [n] markers outside code become links to the numbered source (escaped here, sanitised below
    // anyway); `arr[1]` in code stays code.
    html = html
      .split(/(<pre[\s\S]*?<\/pre>|<code[\s\S]*?<\/code>)/)
      .map((part, index) =>
        index % 2 === 1
          ? part
          : part.replace(/\[(\d{1,2})\]/g, (marker, n) => {
              const citation = citations.find((c) => c.n === Number(n));
              if (!citation) return marker;
              return `<sup><a class="citation" href="${quotedUrl(citation.url)}" title="${plainText(citation.title)}" data-citation="${Number(n)}">[${n}]</a></sup>`;
            }),
      )
      .join("");
  }
  return { html, formulas, mark };
}

/**
 * Renames event handler attributes (`onerror=`) in the start tags of raw HTML to a name no
 * sanitiser keeps. DOMPurify removes them anyway, but Chromium checks a handler against the page's
 * Content Security Policy as soon as any parser (DOMPurify's inert DOMParser too) meets it, and
 * logs a violation for an answer that is rendered without one.
 */
export function disarmHandlers(html: string): string {
  return html.replace(START_TAG, (tag) => tag.replace(/([\s/"'])(on[a-z]+\s*=)/gi, "$1x-$2"));
}

/** Tags no answer may hold, its own HTML or a formula's. */
const FORBID_TAGS = ["style", "form", "button", "select", "textarea"];
// KaTeX's MathML carries the TeX source in an <annotation>, which DOMPurify drops but whose text it
// would keep: a screen reader would read the formula, then its source.
const ADD_FORBID_CONTENTS = ["annotation", "annotation-xml"];

/**
 * What an answer's HTML (its Markdown's: raw HTML in it is text) may hold: no SVG. Defence in depth:
 * the renderer writes nothing else, but should it let markup through, this is what is kept of it.
 */
const ANSWER_HTML = {
  USE_PROFILES: { html: true, mathMl: true },
  FORBID_TAGS,
  ADD_FORBID_CONTENTS,
  RETURN_DOM_FRAGMENT: true as const,
};

/**
 * What a formula's HTML may hold: KaTeX's own (rendered here from the answer's TeX, without KaTeX's
 * `trust`, so no link, class or HTML of the author's), which draws square roots, wide accents,
 * stretchy arrows and \cancel as inline SVG. Only that SVG: paths and lines, sized and placed, with
 * nothing that links, loads, runs or holds other content (no <use>, <a>, <foreignObject>, href).
 */
const FORMULA_HTML = {
  ...ANSWER_HTML,
  ADD_TAGS: ["svg", "path", "line"],
  ADD_ATTR: ["viewBox", "preserveAspectRatio", "d", "x1", "y1", "x2", "y2", "stroke-width"],
};

/**
 * Formulas drawn and sanitised, by display mode and TeX: a streaming answer is rendered again with
 * each chunk, its formulas the same but the last. The least recently shown go first.
 */
const sanitisedFormulas = new Map<string, DocumentFragment>();
const FORMULAS_KEPT = 200;

/**
 * A formula as an answer shows it: KaTeX's HTML of it, sanitised as a formula (once; a copy of that
 * from then on, the one kept never put into a page).
 */
function sanitisedFormula(formula: Formula): Node {
  const key = `${formula.displayMode ? "display" : "inline"}\n${formula.tex}`;
  let sanitised = sanitisedFormulas.get(key);
  if (sanitised) sanitisedFormulas.delete(key);
  else sanitised = purify.sanitize(katexHtml(formula), FORMULA_HTML);
  sanitisedFormulas.set(key, sanitised);
  if (sanitisedFormulas.size > FORMULAS_KEPT)
    sanitisedFormulas.delete(sanitisedFormulas.keys().next().value!);
  return sanitised.cloneNode(true);
}

const XHTML = "http://www.w3.org/1999/xhtml";
/** Elements whose text is not read as markup where a browser reads the answer's HTML again. */
const TEXT_ONLY = new Set([
  "TEXTAREA",
  "TITLE",
  "XMP",
  "IFRAME",
  "NOEMBED",
  "NOFRAMES",
  "NOSCRIPT",
  "PLAINTEXT",
]);

/**
 * Puts each formula, sanitised as a formula, where its placeholder is in the sanitised answer's
 * text. Only text among HTML elements takes one (the HTML is read again as it was written): in
 * MathML or SVG of the answer's own, or where text is not markup, the placeholder stays text.
 */
function placeFormulas(answer: DocumentFragment, formulas: Formula[], mark: string): void {
  const walker = answer.ownerDocument.createTreeWalker(answer, NodeFilter.SHOW_TEXT);
  const texts: Text[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode())
    if ((node as Text).data.includes(mark)) texts.push(node as Text);
  for (const text of texts) {
    let parent = text.parentElement;
    while (parent && parent.namespaceURI === XHTML && !TEXT_ONLY.has(parent.tagName))
      parent = parent.parentElement;
    if (parent) continue;
    const parts = text.data.split(formulaPlaces(mark));
    if (parts.length === 1) continue;
    // split gives the text around the placeholders, and between them each one's number.
    text.replaceWith(
      ...parts.map((part, index) => {
        const formula = index % 2 === 1 ? formulas[Number(part)] : undefined;
        return formula ? sanitisedFormula(formula) : index % 2 === 1 ? `${mark}${part}@@` : part;
      }),
    );
  }
}

export function renderMarkdown(source: string, citations: CitationLink[] = []): string {
  const { html, formulas, mark } = markdownToHtml(source, citations);
  const answer = purify.sanitize(disarmHandlers(html), ANSWER_HTML);
  placeFormulas(answer, formulas, mark);
  // Written out in an inert document: nothing in it loads before the page shows it.
  const written = document.createElement("template");
  written.content.append(answer);
  return written.innerHTML;
}
