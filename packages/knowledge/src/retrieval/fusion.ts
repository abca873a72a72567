import { exactFirst } from "../index/exact-first.js";
import type { SearchHit } from "../index/index-backend.js";

/** How the lexical and vector rankings are combined. */
export type FusionMethod =
  /** Reciprocal rank fusion (Cormack et al. 2009): Σ 1 / (k + rank). Scale-free, the default. */
  | { kind: "reciprocal-rank"; k?: number }
  /**
   * Relative score fusion: each list's scores min-max normalised to [0, 1], then weighted and
   * summed (Weaviate's "relativeScoreFusion"). Uses the score gaps RRF throws away.
   */
  | { kind: "relative-score"; lexicalWeight?: number; vectorWeight?: number };

/** The fusion a retriever uses unless told otherwise: reciprocal rank fusion with k = 60. */
export const DEFAULT_RRF_K = 60;
export const DEFAULT_FUSION: FusionMethod = { kind: "reciprocal-rank", k: DEFAULT_RRF_K };

/** A one-line description of a fusion method, for logs and benchmark output. */
export function describeFusion(method: FusionMethod): string {
  return method.kind === "reciprocal-rank"
    ? `reciprocal rank fusion (k=${method.k ?? DEFAULT_RRF_K})`
    : `relative score fusion (lexical weight ${method.lexicalWeight ?? 0.5}, vector weight ${method.vectorWeight ?? 0.5})`;
}

export interface FusedHit {
  hit: SearchHit;
  score: number;
  /** The lexical ranking found the chunk holding the query's compound token, quoted phrase or Chinese word. */
  exact?: boolean;
  lexical?: { rank: number; score: number };
  vector?: { rank: number; score: number };
}

/**
 * Reciprocal rank fusion of any number of rankings of the same kind (the answers of knowledge bases
 * with different embedding models), best first, exact hits first (exactFirst); each hit's score
 * becomes its fused score.
 */
export function fuseByRank(lists: readonly (readonly SearchHit[])[], k = DEFAULT_RRF_K): SearchHit[] {
  const scored = new Map<string, SearchHit>();
  for (const list of lists) {
    list.forEach((hit, index) => {
      const previous = scored.get(hit.chunk.id);
      const exact = hit.exact === true || previous?.exact === true;
      scored.set(hit.chunk.id, {
        chunk: hit.chunk,
        score: (previous?.score ?? 0) + 1 / (k + index + 1),
        ...(exact ? { exact } : {}),
      });
    });
  }
  return exactFirst([...scored.values()].sort((a, b) => b.score - a.score));
}

/**
 * Combines two rankings (each best first) into one, best first. The lexical ranking's exact hits
 * (a compound token, quoted phrase or Chinese word of the query as written) stay first, by fused score among
 * themselves (exactFirst): a chunk only full text finds would otherwise rank below any chunk both
 * rankings place moderately high.
 */
export function fuseRankings(
  lexical: readonly SearchHit[],
  vector: readonly SearchHit[],
  method: FusionMethod,
): FusedHit[] {
  const fused = new Map<string, FusedHit>();
  const entry = (hit: SearchHit): FusedHit => {
    let found = fused.get(hit.chunk.id);
    if (found === undefined) {
      found = { hit, score: 0 };
      fused.set(hit.chunk.id, found);
    }
    return found;
  };
  const contribution = contributionOf(method);
  for (const [list, key] of [
    [lexical, "lexical"],
    [vector, "vector"],
  ] as const) {
    const scoreOf = contribution(list, key);
    list.forEach((hit, index) => {
      const target = entry(hit);
      target[key] = { rank: index + 1, score: hit.score };
      target.score += scoreOf(hit, index);
      if (key === "lexical" && hit.exact === true) target.exact = true;
    });
  }
  return exactFirst(
    [...fused.values()].sort(
      (a, b) => b.score - a.score || (a.lexical?.rank ?? Infinity) - (b.lexical?.rank ?? Infinity),
    ),
  );
}

/**
 * A fused score as a relevance from 0 to 1 (1: first in both rankings, or best in both by relative
 * score): the score over the most fusion gives, so it falls as the rank does and means the same for
 * every query. An exact hit, raised above the others (exactFirst), is held at 1.
 */
export function fusedRelevance(method: FusionMethod): (score: number) => number {
  const ceiling =
    method.kind === "reciprocal-rank"
      ? 2 / ((method.k ?? DEFAULT_RRF_K) + 1)
      : (method.lexicalWeight ?? 0.5) + (method.vectorWeight ?? 0.5);
  return (score) => Math.min(1, Math.max(0, score / ceiling));
}

function contributionOf(
  method: FusionMethod,
): (list: readonly SearchHit[], key: "lexical" | "vector") => (hit: SearchHit, index: number) => number {
  if (method.kind === "reciprocal-rank") {
    const k = method.k ?? DEFAULT_RRF_K;
    return () => (_hit, index) => 1 / (k + index + 1);
  }
  return (list, key) => {
    const weight = key === "lexical" ? (method.lexicalWeight ?? 0.5) : (method.vectorWeight ?? 0.5);
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    for (const hit of list) {
      low = Math.min(low, hit.score);
      high = Math.max(high, hit.score);
    }
    const span = high - low;
    return (hit) => weight * (span > 0 ? (hit.score - low) / span : 1);
  };
}
