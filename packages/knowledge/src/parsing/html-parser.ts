import {
  blockText,
  flattenDeepHtml,
  isBlockElement,
  readabilityFits,
  type TextNode,
  treeShape,
} from "@hearth/core";
import { Readability } from "@mozilla/readability";
import { parseHTML } from "linkedom";
import type { Block, ParsedDocument } from "./parsed-document.js";

const NOISE =
  "script, style, noscript, template, iframe, object, embed, svg, canvas, form, button, nav, aside";

/** Page chrome dropped from the body before it is used as the main content. */
const CHROME = "header, footer, [role=navigation], [role=banner], [role=contentinfo], [role=complementary]";

/**
 * HTML main content: scripts and other active content are removed first, then Readability keeps the
 * article and drops navigation, sidebars and footers. When it keeps under 70% of the page's
 * main text (documentation split into sibling sections, where it keeps one section), the page's
 * own main container is used (<main>, [role=main], an <article> holding most of the text,
 * #content), else the body without header, footer and navigation; lists made only of links are
 * dropped from either. A page <h1> outside that container, or left out by Readability as a copy of
 * the page title, becomes its first heading; an <h1> stays level 1 (Readability makes it an <h2>),
 * so the page's <h2> sections are under it, as a Markdown file's `##` are under its `#`.
 *
 * Bounded work, whatever the file: tags nested deeper than core's MAX_HTML_DEPTH are dropped before
 * the parse (their text kept), a page too deep or too large for Readability (READABILITY_MAX_DEPTH,
 * _NODES and _WEIGHT), which would take it minutes or hours, goes straight to its main container
 * or body, and every step after Readability reads each element a bounded number of times.
 */
export function parseHtml(html: string): ParsedDocument {
  const document = pageWithBody(flattenDeepHtml(html).html);
  for (const element of document.querySelectorAll(NOISE)) element.remove();
  const pageTitle = document.querySelector("title")?.textContent?.trim() || undefined;
  const body = document.body as unknown as Element | null;
  const total = body ? mainTextLength(body) : 0;
  const container = body ? mainContainer(body, total) : null;
  const reference = container ? textLength(container) : total;
  const article = readabilityFits(treeShape(document as unknown as TextNode))
    ? readabilityContent(document as unknown as Document)
    : null;
  let root = article?.root ?? null;
  if (!root || textLength(root) < reference * 0.7) {
    if (container) root = container;
    else {
      for (const element of document.querySelectorAll(CHROME)) element.remove();
      root = body;
    }
    if (root) dropLinkLists(root);
  }
  const blocks: Block[] = [];
  if (root) {
    collect(root, blocks);
    // A main container can leave the page's h1 out (Asciidoctor puts it in div#header), and
    // Readability drops the one that repeats the title it reports apart.
    const h1 = body?.querySelector("h1");
    const pageHeading = h1 ? laidOut(h1, true) : "";
    if (
      (root === container || (root === article?.root && pageHeading === article.title)) &&
      pageHeading &&
      !blocks.some((block) => block.kind === "heading" && block.text === pageHeading)
    )
      blocks.unshift({ kind: "heading", level: 1, text: pageHeading });
  }
  return { title: pageTitle, blocks };
}

/**
 * The page parsed with all its content in its body. linkedom reads a page without `<body>` as it is
 * written and makes an empty body up beside its content (`<html><article>…</article></html>`), or
 * takes a fragment's first element for the root (`<h2>…</h2><p>…</p>`): that content is moved into
 * the body, as a browser puts it, and a fragment is read inside a page of its own.
 */
function pageWithBody(html: string): Document {
  let { document } = parseHTML(html);
  if (document.documentElement?.tagName !== "HTML")
    ({ document } = parseHTML(`<!doctype html><html><head></head><body>${html}</body></html>`));
  const root = document.documentElement;
  const body = document.body;
  const first = body.firstChild;
  let afterBody = false;
  for (const node of Array.from(root.childNodes)) {
    if (node === body) afterBody = true;
    else if (
      (node.nodeType === 1 && node.nodeName !== "HEAD") ||
      (node.nodeType === 3 && node.textContent?.trim())
    )
      body.insertBefore(node, afterBody ? null : first);
  }
  return document as unknown as Document;
}

/** The page's declared main content, when it has one with most of the page's `total` main text. */
function mainContainer(body: Element, total: number): Element | null {
  if (total === 0) return null;
  const holdsMost = (element: Element | null | undefined, share: number) =>
    element && textLength(element) >= total * share ? element : null;
  const single = (selector: string) => {
    const found = body.querySelectorAll(selector);
    return found.length === 1 ? found[0] : null;
  };
  return (
    holdsMost(single("main"), 0.3) ??
    holdsMost(single("[role=main]"), 0.3) ??
    holdsMost(single("article"), 0.6) ??
    holdsMost(body.querySelector("#content"), 0.5)
  );
}

/**
 * Link menus (language lists, category lists) left in a page's own content: lists of 5 or more items
 * whose text is links only (90%). Each list's figures are summed up from its children's in one walk
 * of the page, not counted again in every list around it (lists nested 500 deep would be read 500
 * times over).
 */
function dropLinkLists(root: Element): void {
  interface Figures {
    items: number;
    links: number;
    text: number;
  }
  const lists: Array<{ list: Element; figures: Figures }> = [];
  // Each entry is an element being read: the figures of what it holds so far.
  const open: Array<{ element: Element; figures: Figures; inLink: boolean }> = [];
  const stack: Array<Node | { done: Element }> = [root];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if ("done" in next) {
      const { element, figures } = open.pop()!;
      const parent = open[open.length - 1];
      if (element.tagName === "LI") figures.items++;
      if (parent) {
        parent.figures.items += figures.items;
        parent.figures.links += figures.links;
        parent.figures.text += figures.text;
      }
      continue;
    }
    const current = open[open.length - 1];
    if (next.nodeType === 3 || next.nodeType === 4) {
      if (!current) continue;
      const length = (next.nodeValue ?? "").replace(/\s+/g, "").length;
      current.figures.text += length;
      if (current.inLink) current.figures.links += length;
      continue;
    }
    if (next.nodeType !== 1) continue;
    const element = next as Element;
    const figures = { items: 0, links: 0, text: 0 };
    open.push({ element, figures, inLink: (current?.inLink ?? false) || element.tagName === "A" });
    if (element !== root && (element.tagName === "UL" || element.tagName === "OL"))
      lists.push({ list: element, figures });
    stack.push({ done: element });
    const children = element.childNodes;
    for (let index = children.length - 1; index >= 0; index--) stack.push(children[index]!);
  }
  for (const { list, figures } of lists)
    if (figures.items >= 5 && figures.links >= figures.text * 0.9) list.remove();
}

/** Marks the page's <h1>s for Readability, which turns them into <h2>s: they are read as h1s. */
const WAS_H1 = "data-hearth-h1";

/** Readability's main content, and the title it reports apart (whitespace collapsed). */
function readabilityContent(document: Document): { root: Element; title: string } | null {
  try {
    // Readability mutates the document it is given; it works on a clone of the cleaned page.
    const page = document.cloneNode(true) as unknown as Document;
    for (const h1 of page.querySelectorAll("h1")) h1.setAttribute(WAS_H1, "");
    const article = new Readability(page, { charThreshold: 200 }).parse();
    if (!article?.content) return null;
    const { document: content } = parseHTML(`<!doctype html><html><body>${article.content}</body></html>`);
    const root = content.body as unknown as Element;
    const title = (article.title ?? "").replace(/\s+/g, " ").trim();
    return root.textContent?.trim() ? { root, title } : null;
  } catch {
    return null;
  }
}

function textLength(element: Element): number {
  return (element.textContent ?? "").replace(/\s+/g, "").length;
}

/** The body's text without its header, footer and navigation (measured on a copy). */
function mainTextLength(body: Element): number {
  const copy = body.cloneNode(true) as Element;
  for (const element of copy.querySelectorAll(CHROME)) element.remove();
  return textLength(copy);
}

const BLOCK_TAGS = new Set([
  "P",
  "LI",
  "PRE",
  "TABLE",
  "H1",
  "H2",
  "H3",
  "H4",
  "H5",
  "H6",
  "BLOCKQUOTE",
  "DD",
  "DT",
  "FIGCAPTION",
  "CAPTION",
]);

/**
 * An element's text laid out (core's blockText): its inner blocks and `<br>`s on lines of their own,
 * which cleaning joins as it joins broken lines; `textContent` would run "<p>12</p><p>34</p>" into
 * "1234". `oneLine`: the lines joined by a space (headings, table cells).
 */
function laidOut(element: Element | TextNode, oneLine = false): string {
  const text = blockText(element as TextNode).replace(/\t/g, " ");
  return oneLine ? text.replace(/\s+/g, " ").trim() : text;
}

/**
 * A container's blocks in document order. Its loose inline content (text, `<b>`, `<a>`, `<br>`...)
 * between two blocks is a paragraph of its own: `<div>Note: <b>hot</b><p>Wait.</p></div>` reads
 * "Note: hot", then "Wait."
 */
function collect(node: Element, blocks: Block[]): void {
  let inline: ChildNode[] = [];
  const paragraph = () => {
    const own = { nodeType: 1, nodeName: "P", nodeValue: null, childNodes: inline };
    const value = inline.length > 0 ? laidOut(own as unknown as TextNode) : "";
    if (value) blocks.push({ kind: "paragraph", text: value });
    inline = [];
  };
  for (const child of Array.from(node.childNodes)) {
    if (child.nodeType === 1 && startsLine(child as Element)) {
      paragraph();
      collectEach([child as Element], blocks);
    } else inline.push(child);
  }
  paragraph();
}

/** Whether an element is laid out apart from the inline content around it: a block, or holding one. */
function startsLine(element: Element): boolean {
  return (
    isBlockish(element) || isBlockElement(element.tagName) || Array.from(element.children).some(isBlockish)
  );
}

function collectEach(elements: Element[], blocks: Block[]): void {
  for (const child of elements) {
    const tag = child.tagName.toUpperCase();
    const heading = /^H([1-6])$/.exec(tag);
    const text = () => laidOut(child);
    if (heading) {
      const value = laidOut(child, true);
      const level = child.hasAttribute(WAS_H1) ? 1 : Number(heading[1]);
      if (value) blocks.push({ kind: "heading", level, text: value });
    } else if (tag === "PRE") {
      const value = child.textContent ?? "";
      // trimEnd, not /\s+$/: that pattern starts again at every blank of a long run inside the code.
      if (value.trim()) blocks.push({ kind: "code", text: value.trimEnd() });
    } else if (tag === "TABLE") {
      // The table's own rows and cells: a table inside a cell is read in that cell's text, once.
      const rows = ownRows(child).map((row) =>
        Array.from(row.children)
          .filter((cell) => cell.tagName === "TH" || cell.tagName === "TD")
          .map((cell) => laidOut(cell, true))
          .join(" | "),
      );
      const value = rows.filter((row) => row.replace(/[|\s]/g, "")).join("\n");
      if (value) blocks.push({ kind: "table", text: value });
    } else if (tag === "LI") {
      if (child.querySelector("ul, ol, p, table")) {
        // The item's own text (its nodes but its nested lists and blocks), then those blocks alone,
        // so its inline words are not taken again as paragraphs.
        const nested = (node: ChildNode) =>
          node.nodeType === 1 &&
          (BLOCK_TAGS.has((node as Element).tagName) || ["UL", "OL"].includes((node as Element).tagName));
        const nodes = Array.from(child.childNodes);
        const own = {
          nodeType: 1,
          nodeName: "LI",
          nodeValue: null,
          childNodes: nodes.filter((n) => !nested(n)),
        };
        const value = laidOut(own as unknown as TextNode, true);
        if (value) blocks.push({ kind: "list", text: `- ${value}` });
        collectEach(nodes.filter(nested) as Element[], blocks);
      } else {
        const value = text();
        if (value) blocks.push({ kind: "list", text: `- ${value}` });
      }
    } else if (BLOCK_TAGS.has(tag) || !Array.from(child.children).some((c) => isBlockish(c))) {
      const value = text();
      if (value) blocks.push({ kind: "paragraph", text: value });
    } else {
      collect(child, blocks);
    }
  }
}

/** A table's rows, in its sections or directly in it, not those of a table inside one of its cells. */
function ownRows(table: Element): Element[] {
  return Array.from(table.children).flatMap((part) =>
    part.tagName === "TR"
      ? [part]
      : ["THEAD", "TBODY", "TFOOT"].includes(part.tagName)
        ? Array.from(part.children).filter((row) => row.tagName === "TR")
        : [],
  );
}

function isBlockish(element: Element): boolean {
  const tag = element.tagName.toUpperCase();
  return (
    BLOCK_TAGS.has(tag) ||
    ["DIV", "SECTION", "ARTICLE", "UL", "OL", "DL", "MAIN", "HEADER", "FOOTER", "BODY"].includes(tag)
  );
}
