import { foldText } from "@hearth/sensitive-words";
import { Jieba } from "@node-rs/jieba";
import { dict } from "@node-rs/jieba/dict.js";
import { stemmer } from "stemmer";
import { ENGLISH_STOP_WORDS } from "./english-stop-words.js";

/** Runs of Han characters (segmented with jieba) or of letters/digits (split as words). */
const TOKEN_RUN =
  /(\p{Script=Han}+)|((?:(?!\p{Script=Han})[\p{L}\p{N}])+(?:['’](?:(?!\p{Script=Han})\p{L})+)?)/gu;
const LATIN_WORD = /^[a-z]+$/;
/** A word of letters and digits with Chinese in it: "第二十四条", "第24条", "5G网络". */
const PHRASE_WORD = /^(?=.*\p{Script=Han})[\p{L}\p{N}]+$/u;
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
/**
 * Goes before a Han character where Chinese meets a number or a Latin word, to make its junction
 * term ("第24条" gives "1第" before 24 and "1条" after it). No analysed term begins with a digit
 * followed by a Han character, and a query of one character matches only terms that begin with it,
 * so junction terms are matched by phrases alone (isJunctionTerm).
 */
const JUNCTION_MARK = "1";
const JUNCTION_TERM = new RegExp(`^${JUNCTION_MARK}\\p{Script=Han}$`, "u");
/** A run-end term in a stored document (analyzeToDocument puts them after every other term). */
const RUN_END_TERM = new RegExp(`(?:^| )\\p{Script=Han}${RUN_END_MARK}(?= |$)`, "u");

let jieba: Jieba | undefined;
function segmenter(): Jieba {
  // Loading the dictionary takes ~0.3 s: do it on first use, once per process.
  jieba ??= Jieba.withDict(dict);
  return jieba;
}

/** A stretch of Han characters, or of letters and digits, as TOKEN_RUN finds them in folded text. */
interface Run {
  text: string;
  han: boolean;
}

/** The runs of `text`, folded (NFKC, lower case, traditional→simplified) and letter-spaced Chinese joined. */
function runsOf(text: string): Run[] {
  const runs: Run[] = [];
  for (const match of joinSpacedHan(foldText(text)).matchAll(TOKEN_RUN))
    runs.push(match[1] !== undefined ? { text: match[1], han: true } : { text: match[2] ?? "", han: false });
  return runs;
}

/** The term of a run of letters and digits: stemmed when an English word; undefined for a stop word. */
function wordTerm(run: string): string | undefined {
  const word = run.replace(/['’]s$/u, "").replace(/['’]/gu, "");
  if (word.length === 0 || ENGLISH_STOP_WORDS.has(word)) return undefined;
  return LATIN_WORD.test(word) ? stemmer(word) : word;
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
  for (const run of runsOf(text)) {
    if (run.han) {
      terms.push(...segmenter().cut(run.text, true));
      // Character bigrams as well: a name or term that jieba splits differently in a question and in
      // the passage still matches (xquad-retrieval zh nDCG@10: words only 0.962, with bigrams 0.965).
      terms.push(...bigrams(run.text));
      continue;
    }
    const term = wordTerm(run.text);
    if (term !== undefined) terms.push(term);
  }
  return terms;
}

/**
 * The terms of `runs` in the order their text stands, the sequence a phrase is matched against:
 * each word's term, each Han run's character bigrams, and a junction term for a Han run's first
 * character where a run of letters or digits comes before it and for its last where one comes after
 * ("依据第24条规定": 依据 据第 1第 24 1条 条规 规定). So wherever a phrase occurs its terms stand in
 * the same order, whatever text surrounds it: jieba's words, which split a stretch of Chinese as the
 * stretch's context decides, are not among them.
 */
function sequenceTerms(runs: readonly Run[]): string[] {
  const terms: string[] = [];
  runs.forEach((run, index) => {
    if (!run.han) {
      const term = wordTerm(run.text);
      if (term !== undefined) terms.push(term);
      return;
    }
    if (runs[index - 1]?.han === false) terms.push(junctionTerm(firstHan(run.text)));
    terms.push(...bigrams(run.text));
    if (runs[index + 1]?.han === false) terms.push(junctionTerm(lastHan(run.text)));
  });
  return terms;
}

/** The junction term of a Han character where it meets a number or a Latin word ("第" → "1第"). */
function junctionTerm(character: string): string {
  return `${JUNCTION_MARK}${character}`;
}

/** The first and the last character of a run of Han characters (one may lie outside the BMP). */
function firstHan(han: string): string {
  return (HAN_AT_START.exec(han) as RegExpExecArray)[0];
}
function lastHan(han: string): string {
  return (HAN_AT_END.exec(han) as RegExpExecArray)[0];
}

/** Whether a phrase's term is a junction term, which only a phrase matches (no query word is one). */
export function isJunctionTerm(term: string): boolean {
  return JUNCTION_TERM.test(term);
}

/**
 * The terms of `text` joined by single spaces, the form stored in a full-text index: its terms in
 * text order (sequenceTerms, which phrases are matched against), then jieba's words of each Han
 * run, then the end term of each run of two or more Han characters (splitDocument parts them).
 * Apart from the junction terms, the terms are analyzeText's, in another order. With the run-end
 * terms, every place a Han character occurs gives a term that begins with it: the bigram it starts,
 * or, at the end of a run, the run's end term (a run of one character is a word of its own).
 */
export function analyzeToDocument(text: string): string {
  const runs = runsOf(text);
  const words: string[] = [];
  const runEnds: string[] = [];
  for (const run of runs) {
    if (!run.han) continue;
    words.push(...segmenter().cut(run.text, true));
    const last = lastHan(run.text);
    if (last.length < run.text.length) runEnds.push(runEndTerm(last));
  }
  return [...sequenceTerms(runs), ...words, ...runEnds].join(" ");
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
 * A phrase is its terms in text order (sequenceTerms), the order a chunk's terms hold them in
 * wherever it occurs: its words, the character bigrams of its Chinese and, where Chinese meets a
 * number or a Latin word inside it, junction terms ("第24条": 1第 24 1条). Spaces and punctuation
 * between its words are not matched, as in any phrase search ("第24条" finds "第 24 条"). A phrase
 * whose Chinese is broken by a space or punctuation ("六个月内，提请抗诉") is left out: no bigram
 * joins the characters on either side, so chunks that write it without the break would not hold it.
 */
export function queryPhrases(text: string, limit = 8): string[][] {
  const folded = foldText(text);
  const candidates: string[][] = [];
  for (const match of folded.matchAll(QUOTED)) candidates.push(phraseTerms(match[1] ?? match[2] ?? ""));
  const unquoted = folded.replace(QUOTED, " ");
  for (const match of unquoted.matchAll(COMPOUND)) candidates.push(phraseTerms(match[0]));
  for (const word of standaloneHanWords(unquoted, PHRASE_WORD)) candidates.push(phraseTerms(word));
  const phrases = new Map<string, string[]>();
  for (const terms of candidates) {
    if (terms.length >= 2 && terms.length <= 32) phrases.set(terms.join(" "), terms);
    if (phrases.size >= limit) break;
  }
  return [...phrases.values()];
}

/** A phrase's terms (sequenceTerms); none when two stretches of its Chinese stand side by side. */
function phraseTerms(phrase: string): string[] {
  const runs = runsOf(phrase);
  const broken = runs.some((run, index) => run.han && runs[index + 1]?.han === true);
  return broken ? [] : sequenceTerms(runs);
}

/**
 * The words of a query that stand on their own and that `shape` matches: set apart by spaces or
 * the query's ends (punctuation at their ends aside, letter-spaced characters read as one word),
 * with Chinese or nothing beyond the spaces ("六个月内", "抗诉 第二十四条", "诉 审查", "依据 第24条").
 * A question's clauses between commas are not words of their own, nor is Chinese spaced apart from
 * a number or a Latin word ("谁赢得了第 49 届超级碗" reads as one sentence; in "2009 年 8 月" 年 is
 * the number's unit).
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
