/**
 * When two search results are one page: the same canonical URL, or a near-identical title and
 * snippet (a page syndicated or mirrored under another URL). The search service merges one query's
 * results by this rule; a client merging several queries' results uses it too.
 */

import { canonicalUrlKey } from "./canonical-url.js";
import { hammingDistance, simhash } from "./simhash.js";

/** A SimHash of a result's title and snippet start. */
export type PageFingerprint = [number, number];

/** SimHash distance (of 64 bits) up to which two results are the same page. */
const NEAR_DUPLICATE_BITS = 5;

/** The fingerprint of a result; undefined when title and snippet are too short to tell pages apart. */
export function pageFingerprint(title: string, snippet: string): PageFingerprint | undefined {
  const text = `${title} ${snippet.slice(0, 300)}`;
  return text.length >= 24 ? simhash(text) : undefined;
}

/** Whether two fingerprints are of the same page. */
export function nearDuplicates(a: PageFingerprint, b: PageFingerprint, bits = NEAR_DUPLICATE_BITS): boolean {
  return hammingDistance(a, b) <= bits;
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
