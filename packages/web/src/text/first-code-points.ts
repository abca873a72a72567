/**
 * The first `count` code points of `text`: a character outside the Basic Multilingual Plane (𠮷,
 * an emoji), two UTF-16 units, is kept whole or left out, never cut into half a surrogate pair,
 * which a page shows as "�". Only the kept part is walked, however long the text.
 */
export function firstCodePoints(text: string, count: number): string {
  let end = 0;
  let taken = 0;
  for (const char of text) {
    if (taken === count) break;
    end += char.length;
    taken += 1;
  }
  return text.slice(0, end);
}

/** `text` cut to its first `count` code points with "…" after them, or whole when it fits. */
export function shortened(text: string, count: number): string {
  const kept = firstCodePoints(text, count);
  return kept.length < text.length ? `${kept.trimEnd()}…` : text;
}
