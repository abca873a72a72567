import { Converter } from "opencc-js/t2cn";
import { toSimplified as toSimplifiedTw } from "./fold-text.js";

/** Text prepared for matching, with each unit's source span in the original text. */
export interface NormalisedText {
  /** Normalised UTF-16 units; only the first `length` are used. */
  units: Uint16Array;
  length: number;
  /** For each unit, where its source character starts and ends in the original. */
  starts: Int32Array;
  ends: Int32Array;
  /** The normalised text as a string. */
  readonly text: string;
}

// Traditional (Taiwan, Hong Kong) to simplified Chinese, one character at a time so that positions map back.
const toSimplifiedHk = Converter({ from: "hk", to: "cn" });
const SEPARATOR = /^[\p{Z}\p{P}\p{S}\p{M}\p{C}\s]$/u;
/** Folds of BMP characters, filled on first use (a flat table: this runs for every character). */
const bmpFolds: Array<string | undefined> = new Array(0x10000);
const astralFolds = new Map<number, string>();

/**
 * What one character becomes for matching: NFKC (full-width to half-width, compatibility forms),
 * lower case, traditional to simplified; separators (spaces, punctuation, symbols, zero-width and
 * combining marks) become nothing, so "敏 感.词" and "ｓ－ｅ－ｘ" match their plain forms.
 */
function foldCodePoint(codePoint: number): string {
  const cached = codePoint < 0x10000 ? bmpFolds[codePoint] : astralFolds.get(codePoint);
  if (cached !== undefined) return cached;
  let out = "";
  for (const piece of String.fromCodePoint(codePoint).normalize("NFKC").toLowerCase()) {
    if (SEPARATOR.test(piece)) continue;
    const simplified = toSimplifiedHk(toSimplifiedTw(piece));
    out += Array.from(simplified).length === 1 ? simplified : piece;
  }
  if (codePoint < 0x10000) bmpFolds[codePoint] = out;
  else if (astralFolds.size < 100_000) astralFolds.set(codePoint, out);
  return out;
}

/** Normalises text for sensitive-word matching, keeping the way back to the original positions. */
export function normaliseForMatching(input: string): NormalisedText {
  let capacity = input.length + 16;
  let units = new Uint16Array(capacity);
  let starts = new Int32Array(capacity);
  let ends = new Int32Array(capacity);
  let length = 0;
  const grow = () => {
    capacity *= 2;
    const nextUnits = new Uint16Array(capacity);
    nextUnits.set(units);
    units = nextUnits;
    const nextStarts = new Int32Array(capacity);
    nextStarts.set(starts);
    starts = nextStarts;
    const nextEnds = new Int32Array(capacity);
    nextEnds.set(ends);
    ends = nextEnds;
  };
  for (let i = 0; i < input.length; ) {
    const code = input.charCodeAt(i);
    if (code < 0x80) {
      // ASCII fast path: letters and digits kept (lower-cased), the rest are separators.
      const lower = code >= 0x41 && code <= 0x5a ? code + 32 : code;
      if ((lower >= 0x61 && lower <= 0x7a) || (lower >= 0x30 && lower <= 0x39)) {
        if (length === capacity) grow();
        units[length] = lower;
        starts[length] = i;
        ends[length] = i + 1;
        length += 1;
      }
      i += 1;
      continue;
    }
    const codePoint = input.codePointAt(i)!;
    const width = codePoint > 0xffff ? 2 : 1;
    const folded = foldCodePoint(codePoint);
    for (let j = 0; j < folded.length; j++) {
      if (length === capacity) grow();
      units[length] = folded.charCodeAt(j);
      starts[length] = i;
      ends[length] = i + width;
      length += 1;
    }
    i += width;
  }
  return {
    units,
    length,
    starts,
    ends,
    get text() {
      let out = "";
      for (let at = 0; at < length; at += 8192)
        out += String.fromCharCode(...units.subarray(at, Math.min(length, at + 8192)));
      return out;
    },
  };
}

/** The normalised form of a word list entry (no position map). */
export function normaliseWord(word: string): string {
  return normaliseForMatching(word).text;
}
