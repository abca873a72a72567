import { Readability } from "@mozilla/readability";
import { parseHTML } from "linkedom";
import type { Block, ParsedDocument } from "./parsed-document.js";

const NOISE =
  "script, style, noscript, template, iframe, object, embed, svg, canvas, form, button, nav, aside";

/**
 * HTML main content: scripts and other active content are removed first, then Readability keeps the
 * article and drops navigation, sidebars and footers; the body is the fallback when it finds none.
 */
export function parseHtml(html: string): ParsedDocument {
  const { document } = parseHTML(html);
  for (const element of document.querySelectorAll(NOISE)) element.remove();
  const pageTitle = document.querySelector("title")?.textContent?.trim() || undefined;
  let root: Element | null = null;
  try {
    // Readability mutates the document it is given; it works on a clone of the cleaned page.
    const article = new Readability(document.cloneNode(true) as unknown as Document, {
      charThreshold: 200,
    }).parse();
    if (article?.content) {
      const { document: content } = parseHTML(`<!doctype html><html><body>${article.content}</body></html>`);
      root = content.body as unknown as Element;
    }
  } catch {
    root = null;
  }
  if (!root?.textContent?.trim()) {
    for (const element of document.querySelectorAll("header, footer")) element.remove();
    root = document.body as unknown as Element;
  }
  const blocks: Block[] = [];
  if (root) collect(root, blocks);
  return { title: pageTitle, blocks };
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

function collect(node: Element, blocks: Block[]): void {
  for (const child of Array.from(node.children)) {
    const tag = child.tagName.toUpperCase();
    const heading = /^H([1-6])$/.exec(tag);
    const text = () => (child.textContent ?? "").replace(/[ \t\r\n]+/g, " ").trim();
    if (heading) {
      const value = text();
      if (value) blocks.push({ kind: "heading", level: Number(heading[1]), text: value });
    } else if (tag === "PRE") {
      const value = child.textContent ?? "";
      if (value.trim()) blocks.push({ kind: "code", text: value.replace(/\s+$/, "") });
    } else if (tag === "TABLE") {
      const rows = Array.from(child.querySelectorAll("tr")).map((row) =>
        Array.from(row.querySelectorAll("th, td"))
          .map((cell) => (cell.textContent ?? "").replace(/\s+/g, " ").trim())
          .join(" | "),
      );
      const value = rows.filter((row) => row.replace(/[|\s]/g, "")).join("\n");
      if (value) blocks.push({ kind: "table", text: value });
    } else if (tag === "LI") {
      if (child.querySelector("ul, ol, p, table")) {
        const own = Array.from(child.childNodes)
          .filter(
            (n) =>
              n.nodeType === 3 ||
              (n.nodeType === 1 &&
                !BLOCK_TAGS.has((n as Element).tagName) &&
                !["UL", "OL"].includes((n as Element).tagName)),
          )
          .map((n) => n.textContent ?? "")
          .join(" ")
          .replace(/\s+/g, " ")
          .trim();
        if (own) blocks.push({ kind: "list", text: `- ${own}` });
        collect(child, blocks);
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
