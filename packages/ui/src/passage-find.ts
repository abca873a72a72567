/** Finding text among a document's passages, for its passages dialog (pure: unit-tested). */

import type { TextRange } from "./marked-text.js";

/**
 * A text with its full-width Latin letters, digits and signs (ＡＢＣ１２３, a Chinese keyboard's) and
 * ideographic spaces written as their ASCII forms: one code unit for one, so offsets stay the same.
 */
function halfWidth(text: string): string {
  return text.replace(/[\uff01-\uff5e\u3000]/g, (c) =>
    c === "\u3000" ? " " : String.fromCharCode(c.charCodeAt(0) - 0xfee0),
  );
}

/**
 * Where `text` holds `needle`, ignoring case and full or half width (as Ctrl+F does for case), every
 * place it starts that does not overlap the one before; none for a blank needle. Offsets are into
 * `text` itself: a letter whose lower case is longer (İ) makes the lower-cased text's offsets wrong
 * for it, so such a text is searched with its case as written.
 */
export function findAll(text: string, needle: string): TextRange[] {
  const wanted = halfWidth(needle).trim();
  if (!wanted) return [];
  const narrow = halfWidth(text);
  const lowered = narrow.toLowerCase();
  const [haystack, sought] =
    lowered.length === narrow.length ? [lowered, wanted.toLowerCase()] : [narrow, wanted];
  const found: TextRange[] = [];
  for (let at = haystack.indexOf(sought); at !== -1; at = haystack.indexOf(sought, at + sought.length))
    found.push({ start: at, end: at + sought.length });
  return found;
}

/** The passages that hold `needle` (every passage for a blank one), each with where it does. */
export function passagesHolding<P extends { text: string }>(
  passages: readonly P[],
  needle: string,
): Array<{ passage: P; found: TextRange[] }> {
  if (!needle.trim()) return passages.map((passage) => ({ passage, found: [] }));
  return passages
    .map((passage) => ({ passage, found: findAll(passage.text, needle) }))
    .filter(({ found }) => found.length > 0);
}
