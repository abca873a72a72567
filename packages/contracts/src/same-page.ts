/**
 * When two search results are one page: the same canonical URL, or a near-identical title and
 * snippet (a page syndicated or mirrored under another URL). The search service merges one query's
 * results by this rule; a client merging several queries' results uses it too.
 */

import { canonicalUrlKey } from "./canonical-url.js";
import { hammingDistance, simhash } from "./simhash.js";

/**
 * What a result's title and snippet start say about which page it is: a SimHash of the text, and
 * the text's tokens that hold a digit. Pages that differ only in a number are different pages (the
 * notes of Python 3.12 and 3.13, CVE-2024-1234 and CVE-2024-1235, one year's statistics and the
 * next), which SimHash alone cannot tell: a digit changes a few 3-grams, a few bits.
 */
export interface PageFingerprint {
  simhash: [number, number];
  /** The tokens with a digit (versions, years, identifiers, amounts), sorted, each once. */
  numbers: string;
}

/** SimHash distance (of 64 bits) up to which two results are the same page. */
const NEAR_DUPLICATE_BITS = 5;

/** The longest snippet start a fingerprint reads: engines cut snippets at different lengths. */
const SNIPPET_CHARS = 300;

/** The fingerprint of a result; undefined when title and snippet are too short to tell pages apart. */
export function pageFingerprint(title: string, snippet: string): PageFingerprint | undefined {
  const text = `${title} ${snippet.slice(0, SNIPPET_CHARS)}`;
  return text.length >= 24 ? { simhash: simhash(text), numbers: numberTokens(text) } : undefined;
}

/**
 * Runs of Latin letters and digits, joined by `.`, `-`, `_`, `/`, `:` or `,` ("3.12", "v20.0.0",
 * "CVE-2024-1234", "1,260,582"), that hold a digit; full-width forms folded (ＣＶＥ-２０２４ is
 * CVE-2024) and letters lower-cased. In Chinese text the digits stand alone ("2024年" is 2024).
 */
function numberTokens(text: string): string {
  const tokens =
    text
      .normalize("NFKC")
      .toLowerCase()
      .match(/[a-z0-9]+(?:[.\-_/:,][a-z0-9]+)*/g) ?? [];
  return [...new Set(tokens.filter((token) => /\d/.test(token)))].sort().join(" ");
}

/** Whether two fingerprints are of the same page: the same numbers, and SimHashes within `bits`. */
export function nearDuplicates(a: PageFingerprint, b: PageFingerprint, bits = NEAR_DUPLICATE_BITS): boolean {
  return a.numbers === b.numbers && hammingDistance(a.simhash, b.simhash) <= bits;
}

/** What identifies a search result as a page. */
export interface PageIdentity {
  /** The canonical URL key (the URL as written when it is not http(s)). */
  urlKey: string;
  fingerprint: PageFingerprint | undefined;
}

/** A result's canonical URL key and fingerprint, worked out once to compare it with many. */
export function pageIdentity(result: { url: string; title: string; snippet: string }): PageIdentity {
  return {
    urlKey: canonicalUrlKey(result.url) ?? result.url,
    fingerprint: pageFingerprint(result.title, result.snippet),
  };
}

/** Whether two results are one page. */
export function samePage(a: PageIdentity, b: PageIdentity): boolean {
  if (a.urlKey === b.urlKey) return true;
  return (
    a.fingerprint !== undefined && b.fingerprint !== undefined && nearDuplicates(a.fingerprint, b.fingerprint)
  );
}
