/** The most characters of what a request sent (its path, an id in it) that an error message repeats. */
export const ECHOED_CHARS = 200;

/**
 * What a request sent (its path, an id in it) as an error message repeats it: its first
 * ECHOED_CHARS characters, then "…" when there were more, so that a 5,000-character id is not sent
 * back whole (nor written whole to the log). A surrogate pair is not cut in two.
 */
export function echoed(text: string): string {
  if (text.length <= ECHOED_CHARS) return text;
  const end = /[\uD800-\uDBFF]/.test(text[ECHOED_CHARS - 1]!) ? ECHOED_CHARS - 1 : ECHOED_CHARS;
  return `${text.slice(0, end)}…`;
}
