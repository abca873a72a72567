import { foldText } from "@hearth/sensitive-words";

/**
 * Conversation search folds in JavaScript, not in SQL: SQLite's lower() folds ASCII only
 * (PostgreSQL's depends on the database's locale), so "Über" or "ΣΟΦΙΑ" would not match "über"
 * or "σοφια", and neither folds 環境 to 环境. The store keeps a folded copy of each title and
 * message whose folding SQL's lower() would get wrong, and a search compares the folded query with
 * that copy, else with lower() of the text: both sides fold the same way on SQLite and PostgreSQL.
 */
export function foldForSearch(text: string): string {
  // The knowledge index's fold (NFKC width, case, traditional to simplified); final sigma as σ.
  return foldText(text).replace(/ς/g, "σ");
}

/**
 * The folded copy to store beside a text: null where lowering its ASCII letters already gives
 * the folded text (most English and Chinese text), so only text that needs one costs the space.
 */
export function searchCopy(text: string): string | null {
  const folded = foldForSearch(text);
  return folded === text.replace(/[A-Z]/g, (c) => c.toLowerCase()) ? null : folded;
}
