import { foldName } from "@hearth/contracts/username";

/** Chinese, Japanese and Korean script: written without spaces between words. */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
/** What opens a mention: "#", or the full-width "＃" a Chinese input method types. */
const HASHES = "#＃";
/** What may follow a whole mention: the end, whitespace, or punctuation and symbols. */
const BOUNDARY = /^$|^[\s\p{P}\p{S}]/u;

/**
 * The `#name` mentions of knowledge bases in a message (`＃name` too), and the message as it is sent:
 * mentions that begin it, each set off by white space (`#Docs EN Preliminary estimate`), only
 * choose their bases and are taken out (as Open WebUI takes a chosen collection out of the prompt),
 * so that neither the model nor the chat's title reads the base's name as the question's first
 * words; elsewhere (`per #HR policy, how many days?`, or a Chinese name running into the text,
 * `#产品手册怎么用`) the name is part of the sentence and only its `#` is taken off. A message of
 * mentions alone keeps their names.
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
  /** The message with each mention's `#` taken off. */
  let out = "";
  let at = 0;
  /** Whether the mentions so far begin the message, each set off by white space; where they end in `out`. */
  let leading = true;
  let leadEnd = 0;
  for (let hash = 0; hash < text.length; hash++) {
    if (hash < at || !HASHES.includes(text[hash]!)) continue;
    const kb = byLength.find((candidate) => {
      if (!text.startsWith(candidate.name, hash + 1)) return false;
      const after =
        [...text.slice(hash + 1 + candidate.name.length, hash + 3 + candidate.name.length)][0] ?? "";
      const last = [...candidate.name].at(-1) ?? "";
      return BOUNDARY.test(after) || (CJK.test(last) && CJK.test(after));
    });
    if (!kb) continue;
    if (!mentioned.includes(kb)) mentioned.push(kb);
    const end = hash + 1 + kb.name.length;
    if (text.slice(at, hash).trim() !== "" || !/^(?:\s|$)/u.test(text.slice(end))) leading = false;
    out += text.slice(at, hash) + kb.name;
    if (leading) leadEnd = out.length;
    at = end;
    hash = at - 1;
  }
  out += text.slice(at);
  const sent = out.slice(leadEnd).trimStart();
  return { mentioned, text: leadEnd > 0 && sent.trim() ? sent : out };
}

/** Where a "#" may open the list of knowledge bases: not after a letter or digit, nor another "#". */
const HASH_START = `(?<=^|[\\s\\p{P}\\p{S}]|${CJK.source})(?<![${HASHES}])[${HASHES}]`;
/** A "#" that may open the list, and what is typed after it up to the caret, without white space. */
const HASH_QUERY = new RegExp(`${HASH_START}([^\\s${HASHES}]*)$`, "u");
/** The same with spaces in what is typed (a name's words), on one line. */
const HASH_SPACED_QUERY = new RegExp(`${HASH_START}([^\\n${HASHES}]*)$`, "u");

/**
 * The "#" of the message box that opens its list of knowledge bases: typed at the start, after white
 * space, punctuation or a symbol, or after Chinese (Japanese, Korean) script, which puts no space
 * before it; not after a letter or digit ("C#") nor after another "#". What follows it up to the
 * caret, without white space, is the query; past a space, it stays open while a name in `names`
 * holds what is typed ("#HR pol" for "HR policy"). A full-width "＃" opens it too. Undefined when the
 * caret is not in one.
 */
export function hashQuery(
  text: string,
  caret: number,
  names: readonly string[] = [],
): { start: number; query: string } | undefined {
  const before = text.slice(0, caret);
  const match = HASH_QUERY.exec(before) ?? HASH_SPACED_QUERY.exec(before);
  if (!match) return undefined;
  const query = match[1]!;
  if (/\s/u.test(query) && !names.some((name) => foldName(name).includes(foldName(query)))) return undefined;
  return { start: match.index, query };
}

/**
 * The knowledge bases "#" offers for what is typed after it: those whose name begins with the query
 * first, then those whose name holds it, compared without regard to case or width.
 */
export function matchingKnowledgeBases<T extends { name: string }>(bases: readonly T[], query: string): T[] {
  const q = foldName(query);
  const starts = bases.filter((kb) => foldName(kb.name).startsWith(q));
  const holds = bases.filter((kb) => !starts.includes(kb) && foldName(kb.name).includes(q));
  return [...starts, ...holds];
}

/** What choosing a knowledge base from the "#" list puts in the message: a mention findMentions reads. */
export function mentionOf(name: string): string {
  return `#${name} `;
}
