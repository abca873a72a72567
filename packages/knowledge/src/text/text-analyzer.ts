import { foldText } from "@hearth/sensitive-words";
import { Jieba } from "@node-rs/jieba";
import { dict } from "@node-rs/jieba/dict.js";
import { stemmer } from "stemmer";
import { ENGLISH_STOP_WORDS } from "./english-stop-words.js";

/** Runs of Han characters (segmented with jieba) or of letters/digits (split as words). */
const TOKEN_RUN =
  /(\p{Script=Han}+)|((?:(?!\p{Script=Han})[\p{L}\p{N}])+(?:['’](?:(?!\p{Script=Han})\p{L})+)?)/gu;
const LATIN_WORD = /^[a-z]+$/;
/** Chinese in a string; a string of Han characters only. */
const HAN = /\p{Script=Han}/u;
const HAN_WORD = /^\p{Script=Han}+$/u;
/** A word of one Han character; a Han character at either end of a word. */
const LONE_HAN = /^\p{Script=Han}$/u;
const HAN_AT_START = /^\p{Script=Han}/u;
const HAN_AT_END = /\p{Script=Han}$/u;
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
/**
 * Follows the last character of a run of two or more Han characters to make the run's end term
 * ("提出抗诉" ends in "诉0"). No analysed term is a Han character followed by a digit, so no query
 * term matches a run-end term; a query of one character matches it as a term that begins with it.
 */
const RUN_END_MARK = "0";
/** A run-end term in a stored document (analyzeToDocument puts them after every other term). */
const RUN_END_TERM = new RegExp(`(?:^| )\\p{Script=Han}${RUN_END_MARK}(?= |$)`, "u");

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
  return analyze(text);
}

/** analyzeText, and each Han run's end term pushed to `runEnds` when given. */
function analyze(text: string, runEnds?: string[]): string[] {
  const terms: string[] = [];
  const folded = joinSpacedHan(foldText(text));
  for (const match of folded.matchAll(TOKEN_RUN)) {
    const han = match[1];
    if (han !== undefined) {
      for (const word of segmenter().cut(han, true)) terms.push(word);
      // Character bigrams as well: a name or term that jieba splits differently in a question and in
      // the passage still matches (xquad-retrieval zh nDCG@10: words only 0.962, with bigrams 0.965).
      terms.push(...bigrams(han));
      if (runEnds !== undefined) {
        const last = (HAN_AT_END.exec(han) as RegExpExecArray)[0];
        if (last.length < han.length) runEnds.push(runEndTerm(last));
      }
      continue;
    }
    const word = (match[2] ?? "").replace(/['’]s$/u, "").replace(/['’]/gu, "");
    if (word.length === 0 || ENGLISH_STOP_WORDS.has(word)) continue;
    terms.push(LATIN_WORD.test(word) ? stemmer(word) : word);
  }
  return terms;
}

/**
 * The terms of `text` joined by single spaces, the form stored in a full-text index: analyzeText's
 * terms, then the end term of each run of two or more Han characters (splitDocument parts them).
 * With them, every place a Han character occurs gives a term that begins with it: the bigram it
 * starts, or, at the end of a run, the run's end term (a run of one character is a word of its own).
 */
export function analyzeToDocument(text: string): string {
  const runEnds: string[] = [];
  return [...analyze(text, runEnds), ...runEnds].join(" ");
}

/** The term a run of two or more Han characters ending in `character` stores for its end ("诉" → "诉0"). */
export function runEndTerm(character: string): string {
  return `${character}${RUN_END_MARK}`;
}

/**
 * A stored document's two parts: its terms, which every query term is matched against and BM25
 * counts as the document's length, and its run-end terms, which only a query of one character
 * (queryCharacters) matches. Each part's terms are joined by single spaces.
 */
export function splitDocument(document: string): { terms: string; runEnds: string } {
  const start = RUN_END_TERM.exec(document)?.index;
  if (start === undefined) return { terms: document, runEnds: "" };
  return { terms: document.slice(0, start), runEnds: document.slice(start).trimStart() };
}

function joinSpacedHan(text: string): string {
  return text.replace(SPACED_HAN, (run) => run.replace(/[ \u3000]/gu, ""));
}

/**
 * The phrases of a query that must match as written, as term sequences: each quoted phrase, each
 * compound token (an error code, a version, an e-mail address, a file or function name) and each
 * Chinese word of three or more characters standing on its own (standaloneHanWords). A chunk holds the
 * phrase when these terms stand next to each other, in this order, in its terms; backends rank such
 * chunks above those that only share the words ("ERR-4021" above a chunk with "ERR-4012" and
 * "port 4021"; "第二十四条" above a chunk with "第二十条" and "第十四条"). At most `limit` phrases.
 *
 * A phrase without Chinese is its analyzeText terms. A Chinese one is its character bigrams: a
 * chunk's bigrams follow each other in the order of its characters, while jieba's words for a whole
 * stretch of Chinese come before them and split it as the stretch's context decides. So a quoted
 * phrase counts when it is one Chinese word (no space, punctuation, Latin letter or digit inside);
 * one that mixes Chinese with anything else gives no term sequence that lines up wherever the
 * phrase occurs, and is left out.
 */
export function queryPhrases(text: string, limit = 8): string[][] {
  const folded = foldText(text);
  const candidates: string[][] = [];
  for (const match of folded.matchAll(QUOTED)) {
    const quoted = match[1] ?? match[2] ?? "";
    if (!HAN.test(quoted)) candidates.push(analyzeText(quoted));
    else {
      const word = trimPunctuation(joinSpacedHan(quoted).trim());
      if (HAN_WORD.test(word)) candidates.push(bigrams(word));
    }
  }
  const unquoted = folded.replace(QUOTED, " ");
  for (const match of unquoted.matchAll(COMPOUND)) candidates.push(analyzeText(match[0]));
  for (const word of standaloneHanWords(unquoted, HAN_WORD)) candidates.push(bigrams(word));
  const phrases = new Map<string, string[]>();
  for (const terms of candidates) {
    if (terms.length >= 2 && terms.length <= 32) phrases.set(terms.join(" "), terms);
    if (phrases.size >= limit) break;
  }
  return [...phrases.values()];
}

/**
 * The words of a query that stand on their own as Chinese and that `shape` matches: set apart by
 * spaces or the query's ends (punctuation at their ends aside, letter-spaced characters read as
 * one word), with nothing but Chinese or nothing beyond the spaces ("六个月内", "抗诉 第二十四条",
 * "诉 审查"). A question's clauses between commas are not words of their own, nor is Chinese written
 * beside a number or a Latin word ("谁赢得了第 49 届超级碗" reads as one sentence; in "2009 年 8 月"
 * 年 is the number's unit).
 */
function standaloneHanWords(text: string, shape: RegExp): string[] {
  const words = joinSpacedHan(text)
    .split(/\s+/u)
    .map(trimPunctuation)
    .filter((word) => word.length > 0);
  return words.filter((word, index) => {
    const before = words[index - 1];
    const after = words[index + 1];
    return (
      shape.test(word) &&
      (before === undefined || HAN_AT_END.test(before)) &&
      (after === undefined || HAN_AT_START.test(after))
    );
  });
}

function trimPunctuation(word: string): string {
  return word.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
}

/** A Han run's character bigrams, in order: the bigrams analyzeText gives it. */
function bigrams(han: string): string[] {
  const pairs: string[] = [];
  for (let i = 0; i + 1 < han.length; i++) pairs.push(han.slice(i, i + 2));
  return pairs;
}

/**
 * The Han characters a query asks for one by one: a character with spaces or the query's ends on
 * both sides and nothing but Han text or nothing beyond them ("诉", "诉 审查", "審查 訴"), folded as
 * analyzeText folds it. Such a query term matches every chunk holding the character: each term that
 * begins with it, run-end terms included (analyzeToDocument). A character written beside a number
 * or a Latin word is the number's unit or part of the sentence ("2009 年 8 月", "MA 和 PH", spaced
 * as Chinese typesetting spaces Latin text) and, like one inside Chinese text, stays a word; so do
 * letter-spaced characters ("总 则" reads as "总则").
 */
export function queryCharacters(text: string): string[] {
  return [...new Set(standaloneHanWords(foldText(text), LONE_HAN))];
}

/** A query's distinct terms, at most `limit` (a pasted page must not become a 10,000-way OR). */
export function queryTerms(text: string, limit = 128): string[] {
  return [...new Set(analyzeText(text))].slice(0, limit);
}
