import { Readability } from "@mozilla/readability";
import { parseHTML } from "linkedom";

/**
 * The main text of a page (Mozilla Readability, the engine of Firefox Reader View, over a linkedom
 * DOM); falls back to the body text when Readability finds no article. Whitespace collapsed,
 * cut at `maxChars`.
 */
export function extractMainText(html: string, contentType: string, maxChars: number): string {
  if (contentType.startsWith("text/plain")) return tidy(html, maxChars);
  const { document } = parseHTML(html);
  let text = "";
  try {
    const article = new Readability(document as unknown as ConstructorParameters<typeof Readability>[0], {
      charThreshold: 100,
    }).parse();
    text = article?.textContent ?? "";
  } catch {
    text = "";
  }
  if (text.trim().length < 50) {
    for (const element of document.querySelectorAll("script, style, noscript, nav, header, footer"))
      element.remove();
    text = document.body?.textContent ?? document.documentElement?.textContent ?? "";
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
