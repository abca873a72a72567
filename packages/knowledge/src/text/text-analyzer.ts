import { foldText } from "@hearth/sensitive-words";
import { Jieba } from "@node-rs/jieba";
import { dict } from "@node-rs/jieba/dict.js";
import { stemmer } from "stemmer";
import { ENGLISH_STOP_WORDS } from "./english-stop-words.js";

/** Runs of Han characters (segmented with jieba) or of letters/digits (split as words). */
const TOKEN_RUN =
  /(\p{Script=Han}+)|((?:(?!\p{Script=Han})[\p{L}\p{N}])+(?:['’](?:(?!\p{Script=Han})\p{L})+)?)/gu;
const LATIN_WORD = /^[a-z]+$/;
/**
 * Lone Han characters set apart by single spaces ("总 则", "行 政 诉 讼"): letter-spaced headings and
 * titles, read as one run so they segment and pair into bigrams as the unspaced word does.
 */
const SPACED_HAN = /(?<!\p{Script=Han})\p{Script=Han}(?:[ \u3000]\p{Script=Han}(?!\p{Script=Han}))+/gu;
/**
 * A compound token: letters and digits joined by punctuation inside it (ERR-4021, 2.10.3,
 * alice.smith@example.com, report_final_v2.xlsx, \\zhlipsum_use:nn). Han text is left to jieba.
 */
const COMPOUND =
  /(?:(?!\p{Script=Han})[\p{L}\p{N}])+(?:[-._@:/\\+#~]+(?:(?!\p{Script=Han})[\p{L}\p{N}])+)+/gu;
/** A quoted phrase in a query: "…" or “…”. */
const QUOTED = /"([^"]+)"|“([^”]+)”/gu;

let jieba: Jieba | undefined;
function segmenter(): Jieba {
  // Loading the dictionary takes ~0.3 s: do it on first use, once per process.
  jieba ??= Jieba.withDict(dict);
  return jieba;
}

/**
 * Turns text into the terms that the full-text index stores and queries match: folded
 * (NFKC, lower case, traditional→simplified), Chinese segmented by jieba (accurate mode, HMM for
 * unknown words) plus the character bigrams of each Han run (so "北京大学" also matches "大学"),
 * English words stemmed with Porter's
 * algorithm, English stop words dropped. Every term is made of letters and digits only, so any
 * backend can store the terms space-separated and split them on whitespace.
 */
export function analyzeText(text: string): string[] {
  const terms: string[] = [];
  const folded = joinSpacedHan(foldText(text));
  for (const match of folded.matchAll(TOKEN_RUN)) {
    const han = match[1];
    if (han !== undefined) {
      for (const word of segmenter().cut(han, true)) terms.push(word);
      // Character bigrams as well: a name or term that jieba splits differently in a question and in
      // the passage still matches (xquad-retrieval zh nDCG@10: words only 0.962, with bigrams 0.965).
      for (let i = 0; i + 1 < han.length; i++) terms.push(han.slice(i, i + 2));
      continue;
    }
    const word = (match[2] ?? "").replace(/['’]s$/u, "").replace(/['’]/gu, "");
    if (word.length === 0 || ENGLISH_STOP_WORDS.has(word)) continue;
    terms.push(LATIN_WORD.test(word) ? stemmer(word) : word);
  }
  return terms;
}

/** The terms of `text` joined by single spaces: the form stored in a full-text column. */
export function analyzeToDocument(text: string): string {
  return analyzeText(text).join(" ");
}

function joinSpacedHan(text: string): string {
  return text.replace(SPACED_HAN, (run) => run.replace(/[ \u3000]/gu, ""));
}

/**
 * The phrases of a query that must match as written: each compound token (an error code, a version,
 * an e-mail address, a file or function name) and each quoted phrase without Chinese, as the
 * sequence of terms analyzeText gives it. A chunk holds the phrase when these terms stand next to
 * each other, in this order, in its terms; backends rank such chunks above those that only share
 * the words ("ERR-4021" above a chunk with "ERR-4012" and "port 4021"). At most `limit` phrases.
 */
export function queryPhrases(text: string, limit = 8): string[][] {
  const folded = foldText(text);
  const candidates: string[] = [];
  for (const match of folded.matchAll(QUOTED)) {
    const quoted = match[1] ?? match[2] ?? "";
    if (!/\p{Script=Han}/u.test(quoted)) candidates.push(quoted);
  }
  for (const match of folded.matchAll(COMPOUND)) candidates.push(match[0]);
  const phrases = new Map<string, string[]>();
  for (const candidate of candidates) {
    const terms = analyzeText(candidate);
    if (terms.length >= 2 && terms.length <= 32) phrases.set(terms.join(" "), terms);
    if (phrases.size >= limit) break;
  }
  return [...phrases.values()];
}

/** A query's distinct terms, at most `limit` (a pasted page must not become a 10,000-way OR). */
export function queryTerms(text: string, limit = 128): string[] {
  return [...new Set(analyzeText(text))].slice(0, limit);
}
