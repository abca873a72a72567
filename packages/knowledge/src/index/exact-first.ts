/**
 * Hits (best first) ranked exact matches first, each part keeping its order: an exact hit is one
 * that holds a compound token, quoted phrase or Chinese word of the query as written (queryPhrases). Each exact
 * hit's score is raised by the best score of the others, so scores fall as ranks do (a score-based
 * fusion keeps the order).
 */
export function exactFirst<Hit extends { score: number; exact?: boolean }>(hits: readonly Hit[]): Hit[] {
  const others = hits.filter((hit) => hit.exact !== true);
  const offset = Math.max(0, ...others.map((hit) => hit.score));
  const exact = hits
    .filter((hit) => hit.exact === true)
    .map((hit) => ({ ...hit, score: hit.score + offset }));
  return [...exact, ...others];
}
