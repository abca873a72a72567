import { blockText, type TextNode } from "@hearth/core";
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
 * dropped from either. A page <h1> outside that container becomes its first heading.
 */
export function parseHtml(html: string): ParsedDocument {
  const { document } = parseHTML(html);
  for (const element of document.querySelectorAll(NOISE)) element.remove();
  const pageTitle = document.querySelector("title")?.textContent?.trim() || undefined;
  const body = document.body as unknown as Element | null;
  const total = body ? mainTextLength(body) : 0;
  const container = body ? mainContainer(body, total) : null;
  const reference = container ? textLength(container) : total;
  let root = readabilityContent(document as unknown as Document);
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
    // A main container can leave the page's h1 out (Asciidoctor puts it in div#header).
    const h1 = body?.querySelector("h1");
    const pageHeading = h1 ? laidOut(h1, true) : "";
    if (root === container && pageHeading) {
      const kept = Array.from(root.querySelectorAll("h1, h2, h3, h4, h5, h6")).map((heading) =>
        laidOut(heading, true),
      );
      if (!kept.includes(pageHeading)) blocks.push({ kind: "heading", level: 1, text: pageHeading });
    }
    collect(root, blocks);
  }
  return { title: pageTitle, blocks };
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

/** Link menus (language lists, category lists) left in a page's own content: lists of links only. */
function dropLinkLists(root: Element): void {
  for (const list of Array.from(root.querySelectorAll("ul, ol"))) {
    const items = list.querySelectorAll("li").length;
    const links = Array.from(list.querySelectorAll("a")).reduce((sum, a) => sum + textLength(a), 0);
    if (items >= 5 && links >= textLength(list) * 0.9) list.remove();
  }
}

function readabilityContent(document: Document): Element | null {
  try {
    // Readability mutates the document it is given; it works on a clone of the cleaned page.
    const article = new Readability(document.cloneNode(true) as unknown as Document, {
      charThreshold: 200,
    }).parse();
    if (!article?.content) return null;
    const { document: content } = parseHTML(`<!doctype html><html><body>${article.content}</body></html>`);
    const root = content.body as unknown as Element;
    return root.textContent?.trim() ? root : null;
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

function collect(node: Element, blocks: Block[]): void {
  collectEach(Array.from(node.children), blocks);
}

function collectEach(elements: Element[], blocks: Block[]): void {
  for (const child of elements) {
    const tag = child.tagName.toUpperCase();
    const heading = /^H([1-6])$/.exec(tag);
    const text = () => laidOut(child);
    if (heading) {
      const value = laidOut(child, true);
      if (value) blocks.push({ kind: "heading", level: Number(heading[1]), text: value });
    } else if (tag === "PRE") {
      const value = child.textContent ?? "";
      if (value.trim()) blocks.push({ kind: "code", text: value.replace(/\s+$/, "") });
    } else if (tag === "TABLE") {
      const rows = Array.from(child.querySelectorAll("tr")).map((row) =>
        Array.from(row.querySelectorAll("th, td"))
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

function isBlockish(element: Element): boolean {
  const tag = element.tagName.toUpperCase();
  return (
    BLOCK_TAGS.has(tag) ||
    ["DIV", "SECTION", "ARTICLE", "UL", "OL", "DL", "MAIN", "HEADER", "FOOTER", "BODY"].includes(tag)
  );
}
