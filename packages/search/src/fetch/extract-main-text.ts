import { blockText, type TextNode } from "@hearth/core";
import { Readability } from "@mozilla/readability";
import { parseHTML } from "linkedom";

/**
 * The main text of a page (Mozilla Readability, the engine of Firefox Reader View, over a linkedom
 * DOM); falls back to the body text when Readability finds no article. Laid out as a reader sees
 * it (core's blockText): paragraphs, headings, list items and table rows on lines of their own,
 * table cells apart, so "<td>92</td><td>7.85</td>" never reads "927.85". Whitespace collapsed, cut
 * at `maxChars`.
 */
export function extractMainText(html: string, contentType: string, maxChars: number): string {
  if (contentType.startsWith("text/plain")) return tidy(html, maxChars);
  const { document } = parseHTML(html);
  let text = "";
  try {
    const article = new Readability(document as unknown as ConstructorParameters<typeof Readability>[0], {
      charThreshold: 100,
    }).parse();
    // Readability's textContent runs the article's blocks together: its HTML is read instead.
    if (article?.content) text = blockText(parseHTML(`<body>${article.content}</body>`).document as TextNode);
  } catch {
    text = "";
  }
  if (text.trim().length < 50) {
    for (const element of document.querySelectorAll("script, style, noscript, nav, header, footer"))
      element.remove();
    text = blockText(document as unknown as TextNode);
  }
  return tidy(text, maxChars);
}

function tidy(text: string, maxChars: number): string {
  const collapsed = text
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "")
    .replace(/[ \t\u00a0]+/g, " ")
    .replace(/\s*\n\s*/g, "\n")
    .replace(/\n{2,}/g, "\n")
    .trim();
  return collapsed.length > maxChars ? `${collapsed.slice(0, maxChars)}…` : collapsed;
}
