import {
  blockText,
  flattenDeepHtml,
  MAX_HTML_DEPTH,
  readabilityFits,
  type TextNode,
  type TreeShape,
  treeShape,
} from "@hearth/core";
import { Readability } from "@mozilla/readability";
import { parseHTML } from "linkedom";

/** A page read past a limit (core's html-limits): what was done, for the log. */
export interface PageLimits {
  /** Elements nested deeper than MAX_HTML_DEPTH, dropped before the parse (their text kept). */
  flattened: number;
  /** False when the page was too deep or too large for Readability and was read whole. */
  readability: boolean;
  shape: TreeShape;
}

/**
 * The main text of a page (Mozilla Readability, the engine of Firefox Reader View, over a linkedom
 * DOM); falls back to the body text when Readability finds no article. Laid out as a reader sees
 * it (core's blockText): paragraphs, headings, list items and table rows on lines of their own,
 * table cells apart, so "<td>92</td><td>7.85</td>" never reads "927.85". Whitespace collapsed, cut
 * at `maxChars`.
 *
 * Bounded work, whatever the page: tags nested deeper than MAX_HTML_DEPTH are dropped before the
 * parse, and a page too deep or too large for Readability (core's READABILITY_MAX_DEPTH,
 * _NODES and _WEIGHT), which would take it minutes, is read whole as the fallback reads it;
 * `onLimit` hears of either.
 */
export function extractMainText(
  html: string,
  contentType: string,
  maxChars: number,
  onLimit?: (limits: PageLimits) => void,
): string {
  if (contentType.startsWith("text/plain")) return tidy(html, maxChars);
  const bounded = flattenDeepHtml(html, MAX_HTML_DEPTH);
  const { document } = parseHTML(bounded.html);
  const shape = treeShape(document as unknown as TextNode);
  const readability = readabilityFits(shape);
  if (bounded.flattened > 0 || !readability) onLimit?.({ flattened: bounded.flattened, readability, shape });
  let text = "";
  if (readability) {
    try {
      const article = new Readability(document as unknown as ConstructorParameters<typeof Readability>[0], {
        charThreshold: 100,
      }).parse();
      // Readability's textContent runs the article's blocks together: its HTML is read instead.
      if (article?.content)
        text = blockText(parseHTML(`<body>${article.content}</body>`).document as TextNode);
    } catch {
      text = "";
    }
  }
  if (text.trim().length < 50) {
    for (const element of document.querySelectorAll("script, style, noscript, nav, header, footer"))
      element.remove();
    text = blockText(document as unknown as TextNode);
  }
  return tidy(text, maxChars);
}

function tidy(text: string, maxChars: number): string {
  // Lines trimmed one by one, not by a pattern like /\s*\n\s*/, which starts again at every blank
  // of a long run without a line break (100,000 ideographic spaces) and takes seconds.
  const collapsed = text
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "")
    .replace(/[ \t\u00a0]+/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .join("\n");
  return collapsed.length > maxChars ? `${collapsed.slice(0, maxChars)}…` : collapsed;
}
