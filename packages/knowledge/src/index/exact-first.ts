import type { SearchHit } from "./index-backend.js";

/**
 * Scores for hits ranked exact matches first: each exact hit's score is raised by the best score of
 * the others, so scores fall as ranks do (score-based fusion keeps the order).
 */
export function exactFirst(hits: ReadonlyArray<SearchHit & { exact: boolean }>): SearchHit[] {
  const offset = Math.max(0, ...hits.filter((hit) => !hit.exact).map((hit) => hit.score));
  return hits.map(({ chunk, score, exact }) => ({ chunk, score: exact ? score + offset : score }));
}
