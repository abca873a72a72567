/** Finding text among a document's passages, for its passages dialog (pure: unit-tested). */

/** Where a text holds what is looked for: its ranges, as [start, end) offsets into the text. */
export interface Found {
  start: number;
  end: number;
}

/**
 * Where `text` holds `needle`, ignoring case (as Ctrl+F does), every place it starts that does not
 * overlap the one before; none for a blank needle. Offsets are into `text` itself: a letter whose
 * lower case is longer (İ) makes the lower-cased text's offsets wrong for it, so such a text is
 * searched as written.
 */
export function findAll(text: string, needle: string): Found[] {
  const wanted = needle.trim();
  if (!wanted) return [];
  const lowered = text.toLowerCase();
  const [haystack, sought] =
    lowered.length === text.length ? [lowered, wanted.toLowerCase()] : [text, wanted];
  const found: Found[] = [];
  for (let at = haystack.indexOf(sought); at !== -1; at = haystack.indexOf(sought, at + sought.length))
    found.push({ start: at, end: at + sought.length });
  return found;
}

/** The passages that hold `needle` (every passage for a blank one), each with where it does. */
export function passagesHolding<P extends { text: string }>(
  passages: readonly P[],
  needle: string,
): Array<{ passage: P; found: Found[] }> {
  if (!needle.trim()) return passages.map((passage) => ({ passage, found: [] }));
  return passages
    .map((passage) => ({ passage, found: findAll(passage.text, needle) }))
    .filter(({ found }) => found.length > 0);
}
