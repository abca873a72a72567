/**
 * The questions last asked of a knowledge base's retrieval test, in this browser: the newest first,
 * each once (its spaces trimmed), at most RECENT_QUESTIONS, so that a question can be asked again
 * after a change of settings with a click, as Dify's retrieval records offer.
 */
export const RECENT_QUESTIONS = 8;

const PREFIX = "hearth.retrievalQuestions.";
const keyOf = (knowledgeBaseId: string) => `${PREFIX}${knowledgeBaseId}`;

/** `recent` with `question` first, each once, cut to RECENT_QUESTIONS. */
export function withQuestion(recent: readonly string[], question: string): string[] {
  const asked = question.trim();
  if (!asked) return [...recent];
  return [asked, ...recent.filter((earlier) => earlier !== asked)].slice(0, RECENT_QUESTIONS);
}

/** The base's recent questions as stored; none when nothing (or something unreadable) is. */
export function recentQuestions(knowledgeBaseId: string): string[] {
  try {
    const stored = JSON.parse(localStorage.getItem(keyOf(knowledgeBaseId)) ?? "[]") as unknown;
    return Array.isArray(stored)
      ? stored
          .filter((question): question is string => typeof question === "string")
          .slice(0, RECENT_QUESTIONS)
      : [];
  } catch {
    return [];
  }
}

/** Stores `question` as the base's newest and answers the list now stored. */
export function rememberQuestion(knowledgeBaseId: string, question: string): string[] {
  const recent = withQuestion(recentQuestions(knowledgeBaseId), question);
  localStorage.setItem(keyOf(knowledgeBaseId), JSON.stringify(recent));
  return recent;
}

/** Forgets the base's recent questions. */
export function forgetQuestions(knowledgeBaseId: string): void {
  localStorage.removeItem(keyOf(knowledgeBaseId));
}

/** Forgets every base's recent questions: signed out, the next account on this browser has none. */
export function forgetAllQuestions(): void {
  for (const key of Object.keys(localStorage)) if (key.startsWith(PREFIX)) localStorage.removeItem(key);
}
