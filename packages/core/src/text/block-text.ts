/**
 * The parts of a DOM node `blockText` reads: any DOM (linkedom's, a browser's) has them, so core
 * needs no DOM library.
 */
export interface TextNode {
  nodeType: number;
  nodeName: string;
  nodeValue: string | null;
  childNodes: ArrayLike<TextNode>;
}

const ELEMENT = 1;
const TEXT = 3;
const CDATA = 4;

/** Elements whose content is not text a reader sees. */
const SKIPPED = new Set(["HEAD", "TITLE", "SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"]);

/** Elements a browser lays out as blocks (or rows): their text starts and ends a line. */
const BLOCKS = new Set([
  "ADDRESS",
  "ARTICLE",
  "ASIDE",
  "BLOCKQUOTE",
  "BODY",
  "CAPTION",
  "CENTER",
  "DD",
  "DETAILS",
  "DIALOG",
  "DIR",
  "DIV",
  "DL",
  "DT",
  "FIELDSET",
  "FIGCAPTION",
  "FIGURE",
  "FOOTER",
  "FORM",
  "H1",
  "H2",
  "H3",
  "H4",
  "H5",
  "H6",
  "HEADER",
  "HGROUP",
  "HR",
  "HTML",
  "LEGEND",
  "LI",
  "MAIN",
  "MENU",
  "NAV",
  "OL",
  "OPTION",
  "P",
  "PRE",
  "SECTION",
  "SUMMARY",
  "TABLE",
  "TBODY",
  "TFOOT",
  "THEAD",
  "TR",
  "UL",
]);

/** Whether a browser lays the element named `name` (any case) out as a block: it starts and ends a line. */
export function isBlockElement(name: string): boolean {
  return BLOCKS.has(name.toUpperCase());
}

/** Table cells: apart from their neighbours on the row, by a tab. */
const CELLS = new Set(["TD", "TH"]);

/**
 * A node's text as a reader sees it laid out, where `textContent` runs it together: block elements
 * (p, div, h1-h6, li, tr, table, blockquote, dt/dd...) and `<br>` end a line, table cells are apart
 * by a tab, and inline elements (span, a, b, em...) add nothing, so "pri<b>ce</b>" stays "price".
 * Whitespace within text is collapsed to one space as HTML renders it, except in `<pre>`, whose
 * line breaks are kept; lines are trimmed and empty ones dropped. Scripts, styles and the head are
 * left out. Iterative, so a page of deeply nested elements cannot overflow the stack, and linear in
 * the page, blank runs included.
 */
export function blockText(node: TextNode): string {
  const out: string[] = [];
  // Nodes still to read, last first; a string is what an element's end adds.
  const stack: Array<{ node: TextNode; pre: boolean } | string> = [{ node, pre: false }];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (typeof next === "string") {
      out.push(next);
      continue;
    }
    const { node: current, pre } = next;
    if (current.nodeType === TEXT || current.nodeType === CDATA) {
      const text = current.nodeValue ?? "";
      out.push(pre ? text.replace(/\r\n?/g, "\n") : text.replace(/[ \t\n\r\f]+/g, " "));
      continue;
    }
    const name = current.nodeType === ELEMENT ? current.nodeName.toUpperCase() : "";
    if (SKIPPED.has(name)) continue;
    if (name === "BR") {
      out.push("\n");
      continue;
    }
    const edge = BLOCKS.has(name) ? "\n" : CELLS.has(name) ? "\t" : "";
    out.push(edge);
    stack.push(edge);
    const inPre = pre || name === "PRE" || name === "TEXTAREA" || name === "LISTING";
    const children = Array.from(current.childNodes);
    for (let index = children.length - 1; index >= 0; index--)
      stack.push({ node: children[index]!, pre: inPre });
  }
  return (
    out
      .join("")
      .split("\n")
      // A run of blanks is one tab when it holds one, else one space; matched whole, once, so a line
      // of 100,000 blanks (one per empty <span>) costs no more than its length, where a pattern that
      // starts again at each blank (" *\t", "[ \t]+$") would take seconds.
      .map((line) =>
        line
          .replace(/[ \t]+/g, (blanks) => (blanks.includes("\t") ? "\t" : " "))
          .replace(/^[ \t]|[ \t]$/g, ""),
      )
      .filter(Boolean)
      .join("\n")
  );
}
