/** Where a question's words stand in a passage, for a retrieval test to mark them (pure: unit-tested). */

/** Words too common to be worth marking: a question's frame, not what it asks about. */
const COMMON_WORDS = new Set([
  "and",
  "are",
  "can",
  "does",
  "for",
  "from",
  "has",
  "have",
  "how",
  "that",
  "the",
  "this",
  "was",
  "what",
  "when",
  "where",
  "which",
  "who",
  "why",
  "with",
  "you",
  "your",
]);

/**
 * The pieces of a query to look for: each word of three letters or digits or more (but the most
 * common ones), and each two characters of its Chinese side by side (a single character standing
 * alone as itself), as full text search matches Chinese by two-character pieces: "年假有几天" marks
 * "年假" in "享有十五天带薪年假".
 */
function queryPieces(query: string): string[] {
  const lower = query.toLowerCase();
  const words = (lower.match(/[\p{L}\p{N}]+/gu) ?? []).filter(
    (word) => !/\p{Script=Han}/u.test(word) && word.length >= 3 && !COMMON_WORDS.has(word),
  );
  const chinese = (lower.match(/\p{Script=Han}+/gu) ?? []).flatMap((run) =>
    run.length === 1 ? [run] : Array.from({ length: run.length - 1 }, (_, at) => run.slice(at, at + 2)),
  );
  return [...new Set([...words, ...chinese])];
}

/**
 * The stretches of `text` that hold a piece of `query` (see queryPieces), case aside, in order and
 * merged where they touch or overlap. A Latin word is matched where it begins a word ("leave" in
 * "Leaves", not in "sleeves").
 */
export function queryMatches(text: string, query: string): Array<{ start: number; end: number }> {
  const found: Array<{ start: number; end: number }> = [];
  for (const piece of queryPieces(query)) {
    // A piece is letters and digits only: nothing in it to escape.
    const start = /\p{Script=Han}/u.test(piece) ? "" : "(?<![\\p{L}\\p{N}])";
    for (const match of text.matchAll(new RegExp(`${start}${piece}`, "giu")))
      found.push({ start: match.index, end: match.index + match[0].length });
  }
  found.sort((a, b) => a.start - b.start);
  const merged: Array<{ start: number; end: number }> = [];
  for (const stretch of found) {
    const last = merged.at(-1);
    if (last && stretch.start <= last.end) last.end = Math.max(last.end, stretch.end);
    else merged.push({ ...stretch });
  }
  return merged;
}
