/**
 * The one limit of a knowledge base's name, shared by the services (which refuse a longer one) and
 * the web UI (which says so before sending): 1 to this many characters (UTF-16 code units, as
 * JavaScript counts them), after spaces at either end are trimmed. Free of other imports, so the UI
 * bundles it alone (`@hearth/contracts/knowledge-base-name`).
 */
export const KNOWLEDGE_BASE_NAME_MAX_CHARS = 200;

/**
 * The form of a knowledge base's name that its uniqueness compares (names are unique per owner):
 * spaces at either end, case and Unicode composition do not count, so "Docs KB" and "docs kb" are
 * one name. The knowledge service's index and the web service's checks both compare this.
 */
export function knowledgeBaseNameKey(name: string): string {
  return name.trim().normalize("NFKC").toLowerCase();
}
