/**
 * @hearth/sensitive-words: the sensitive-word filter shared by the search agent (queries, results,
 * fetched pages) and the web service (user input, model output), and the text folding (width, case,
 * traditional to simplified) the knowledge index and conversation search compare by.
 * @packageDocumentation
 */
export { AhoCorasick, type AutomatonMatch } from "./aho-corasick.js";
export { foldText } from "./fold-text.js";
export { type NormalisedText, normaliseForMatching, normaliseWord } from "./normalise-text.js";
export {
  type CheckOptions,
  createSensitiveWordFilter,
  type FilterAction,
  type FilterHit,
  type FilterVerdict,
  SensitiveWordFilter,
  type SensitiveWordFilterOptions,
  type WordListSource,
  WordListUnreadableError,
} from "./sensitive-word-filter.js";
export { StreamMasker, type StreamMaskerOptions } from "./stream-masker.js";
