import { Converter } from "opencc-js/t2cn";

/**
 * Traditional→simplified conversion (OpenCC's Taiwan and standard traditional tables), built once.
 * Folding happens on both sides (index and query, stored text and search), so a query typed in
 * either script finds both. Shared by the knowledge index, the web service's conversation search and
 * the word filter's normalisation (a converter's tables are built once per process).
 */
export const toSimplified = Converter({ from: "tw", to: "cn" });

/**
 * Folds text into the single form the index compares: Unicode NFKC (full-width letters, digits and
 * punctuation become half-width, compatibility ideographs become their unified forms), lower case,
 * traditional Chinese characters become simplified ones.
 */
export function foldText(text: string): string {
  return toSimplified(text.normalize("NFKC").toLowerCase());
}
