/** Chinese, Japanese and Korean script: written without spaces between words. */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
/** What may follow a whole mention: the end, whitespace, or punctuation and symbols. */
const BOUNDARY = /^$|^[\s\p{P}\p{S}]/u;

/**
 * The `#name` mentions of knowledge bases in a message, and the message with each `#` taken off.
 * A mention is a whole name: followed by the end, whitespace or punctuation ("#Docs question" names
 * "Docs", not also "Doc"), or, for a name ending in Chinese (Japanese, Korean) script, by more of
 * that script, as those languages put no space after it ("#产品手册怎么用"). Where several names fit
 * at one `#`, the longest wins.
 */
export function findMentions<T extends { name: string }>(
  text: string,
  bases: readonly T[],
): { mentioned: T[]; text: string } {
  const byLength = [...bases].filter((kb) => kb.name).sort((a, b) => b.name.length - a.name.length);
  const mentioned: T[] = [];
  let out = "";
  let at = 0;
  for (let hash = text.indexOf("#"); hash !== -1; hash = text.indexOf("#", hash + 1)) {
    if (hash < at) continue;
    const kb = byLength.find((candidate) => {
      if (!text.startsWith(candidate.name, hash + 1)) return false;
      const after =
        [...text.slice(hash + 1 + candidate.name.length, hash + 3 + candidate.name.length)][0] ?? "";
      const last = [...candidate.name].at(-1) ?? "";
      return BOUNDARY.test(after) || (CJK.test(last) && CJK.test(after));
    });
    if (!kb) continue;
    if (!mentioned.includes(kb)) mentioned.push(kb);
    out += text.slice(at, hash) + kb.name;
    at = hash + 1 + kb.name.length;
    hash = at - 1;
  }
  return { mentioned, text: out + text.slice(at) };
}
