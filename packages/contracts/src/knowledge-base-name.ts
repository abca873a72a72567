/**
 * The one limit of a knowledge base's name, shared by the services (which refuse a longer one) and
 * the web UI (which says so before sending): 1 to this many characters (UTF-16 code units, as
 * JavaScript counts them), after spaces at either end are trimmed. Free of other imports, so the UI
 * bundles it alone (`@hearth/contracts/knowledge-base-name`).
 */
export const KNOWLEDGE_BASE_NAME_MAX_CHARS = 200;
