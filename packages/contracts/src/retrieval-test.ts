/**
 * How many passages a knowledge base's retrieval test shows (POST /api/knowledge-bases/{id}/query
 * on the web service): the web service refuses more, and the web UI offers this range. Free of
 * other imports, so the UI bundles it alone (`@hearth/contracts/retrieval-test`).
 */
export const RETRIEVAL_TEST_TOP_K = { default: 10, max: 50 } as const;
