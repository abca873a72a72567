import { Converter } from "opencc-js/t2cn";

/** Text prepared for matching, with each character's span in the original text. */
export interface NormalisedText {
  text: string;
  /** For each UTF-16 unit of `text`, where its source character starts and ends in the original. */
  starts: number[];
  ends: number[];
}

// Traditional (Taiwan, Hong Kong) to simplified Chinese, one character at a time so that positions map back.
const toSimplifiedTw = Converter({ from: "tw", to: "cn" });
const toSimplifiedHk = Converter({ from: "hk", to: "cn" });
const SEPARATOR = /^[\p{Z}\p{P}\p{S}\p{M}\p{C}\s]$/u;
const cache = new Map<number, string>();

/**
 * What one character becomes for matching: NFKC (full-width to half-width, compatibility forms),
 * lower case, traditional to simplified; separators (spaces, punctuation, symbols, zero-width and
 * combining marks) become nothing, so "敏 感.词" and "ｓ－ｅ－ｘ" match their plain forms.
 */
function foldCodePoint(codePoint: number): string {
  const cached = cache.get(codePoint);
  if (cached !== undefined) return cached;
  let out = "";
  for (const piece of String.fromCodePoint(codePoint).normalize("NFKC").toLowerCase()) {
    if (SEPARATOR.test(piece)) continue;
    const simplified = toSimplifiedHk(toSimplifiedTw(piece));
    out += Array.from(simplified).length === 1 ? simplified : piece;
  }
  if (cache.size < 200_000) cache.set(codePoint, out);
  return out;
}

/** Normalises text for sensitive-word matching, keeping the way back to the original positions. */
export function normaliseForMatching(input: string): NormalisedText {
  let text = "";
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < input.length; ) {
    const code = input.charCodeAt(i);
    if (code < 0x80) {
      // ASCII fast path: letters and digits kept (lower-cased), the rest are separators.
      if ((code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39)) {
        text += input[i];
        starts.push(i);
        ends.push(i + 1);
      } else if (code >= 0x41 && code <= 0x5a) {
        text += String.fromCharCode(code + 32);
        starts.push(i);
        ends.push(i + 1);
      }
      i += 1;
      continue;
    }
    const codePoint = input.codePointAt(i)!;
    const width = codePoint > 0xffff ? 2 : 1;
    const folded = foldCodePoint(codePoint);
    for (let j = 0; j < folded.length; j++) {
      starts.push(i);
      ends.push(i + width);
    }
    text += folded;
    i += width;
  }
  return { text, starts, ends };
}

/** The normalised form of a word list entry (no position map). */
export function normaliseWord(word: string): string {
  return normaliseForMatching(word).text;
}
