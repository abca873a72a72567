import {
  type KnowledgeClient,
  KnowledgeClientError,
  MAX_QUERY_CHARS,
  type QueryRequest,
  type QueryResult,
  RETRIEVAL_TEST_TOP_K,
} from "@hearth/contracts";
import { HearthError, isErrorCode, toHearthError, UpstreamCallError } from "@hearth/core";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { currentUser } from "../auth/route-access.js";
import { passageFileUrl, queryText } from "../grounding/grounding.js";
import type { KnowledgeAccess } from "../knowledge/knowledge-access.js";

/**
 * Dify's External Knowledge API (docs.dify.ai, "External Knowledge API"): Dify, given the endpoint
 * `http://HOST:8080/v1` (the OpenAI API's base URL) and a Hearth API key, asks `{endpoint}/retrieval`
 * for a knowledge base's passages.
 */
export const EXTERNAL_KNOWLEDGE_PATH = "/v1/retrieval";
/**
 * Dify calls its endpoint with `/retrieval` added: an endpoint given with a slash at its end
 * (`http://HOST:8080/v1/`, as a base URL is often copied) calls this, served the same.
 */
const EXTERNAL_KNOWLEDGE_PATH_AFTER_SLASH = "/v1//retrieval";

/** Dify's error codes: its spec's Authorization header format, authorization, and unknown knowledge. */
const DIFY_INVALID_AUTHORIZATION_HEADER = 1001;
const DIFY_AUTHORIZATION_FAILED = 1002;
const DIFY_KNOWLEDGE_NOT_FOUND = 2001;

/** The header Dify sends: `Bearer` and a key (Hearth's hk-…). */
const BEARER_KEY = /^Bearer\s+\S+$/i;

/** Hearth's codes for a request whose Authorization opened nothing: Dify's 1001 or 1002. */
const REFUSED_AUTHORIZATION = new Set<string>(["UNAUTHORIZED", "API_KEY_INVALID"]);

/**
 * Dify's metadata condition names Hearth applies with `is`, and the knowledge service's metadata
 * filter each one is (docs/knowledge.md); `document_id` is the query's `documentIds` (`is`, `in`).
 */
const METADATA_FILTERS = new Map([
  ["document_name", "documentName"],
  ["source", "source"],
  ["content_type", "contentType"],
  ["title", "title"],
]);

/** Dify's request, as its spec has it; tolerant of fields Dify adds, and of nulls its models send. */
const retrievalRequest = z.object({
  knowledge_id: z.string().min(1),
  query: z.string(),
  retrieval_setting: z.object({
    top_k: z.number().int().min(1),
    score_threshold: z.number().min(0).max(1),
  }),
  metadata_condition: z
    .object({
      logical_operator: z.enum(["and", "or"]).nullish(),
      conditions: z
        .array(
          z.object({
            name: z.string(),
            comparison_operator: z.string(),
            value: z.union([z.string(), z.number(), z.array(z.string())]).nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
});
type MetadataCondition = z.infer<typeof retrievalRequest>["metadata_condition"];

/**
 * A Dify metadata condition as the knowledge service's filters, where it is one: `is` on a document's
 * id or one of its metadata (METADATA_FILTERS), `in` on its id, each name once, with `and` (the
 * filters' only way to combine). Anything else is refused rather than ignored: passages it would
 * have left out must not be given as if they matched.
 */
function queryFilters(condition: MetadataCondition): QueryRequest["filters"] {
  const conditions = condition?.conditions ?? [];
  if (conditions.length === 0) return undefined;
  const supported =
    'Hearth applies "is" on document_id, document_name, source, content_type or title and "in" on document_id, each name once, combined with "and"';
  if (condition?.logical_operator === "or" && conditions.length > 1)
    throw new HearthError("INVALID_REQUEST", `metadata_condition.logical_operator: ${supported}`);
  const filters: { documentIds?: string[]; metadata?: Record<string, string> } = {};
  for (const [index, { name, comparison_operator: operator, value }] of conditions.entries()) {
    const key = METADATA_FILTERS.get(name);
    if (name === "document_id" && !filters.documentIds && operator === "is" && typeof value === "string")
      filters.documentIds = [value];
    else if (name === "document_id" && !filters.documentIds && operator === "in" && Array.isArray(value))
      filters.documentIds = value;
    else if (key && filters.metadata?.[key] === undefined && operator === "is" && typeof value === "string")
      filters.metadata = { ...filters.metadata, [key]: value };
    else throw new HearthError("INVALID_REQUEST", `metadata_condition.conditions.${index}: ${supported}`);
  }
  return filters;
}

/**
 * A passage as a Dify record: its text, its relevance as the score (Dify's scores run from 0 to 1,
 * higher more relevant, and its score_threshold is on that scale; Hearth's own score is on its
 * retrieval path's scale, a fused score of about 0.03 at best or a BM25 score above 1), its document's name as the title, and
 * metadata (an object, never null, which Dify's pipeline cannot take): the document's id (Dify's
 * citations tell documents apart by `document_id`), the passage's, its page where known, its heading
 * path, and the path of its document's file on the web service (a citation's link).
 */
function difyRecord(passage: QueryResult) {
  return {
    content: passage.text,
    score: passage.relevance,
    title: passage.documentTitle,
    metadata: {
      document_id: passage.documentId,
      chunk_id: passage.chunkId,
      ...(passage.page ? { page: passage.page } : {}),
      heading_path: passage.headingPath,
      url: passageFileUrl(passage),
    },
  };
}

/** The knowledge service's answer to a query, its refusals by their code (an unknown base: 2001). */
async function passagesOf(knowledge: KnowledgeClient, id: string, request: QueryRequest) {
  try {
    return await knowledge.query(id, request);
  } catch (error) {
    const url = "/v1/knowledge-bases/{id}/query";
    if (!(error instanceof KnowledgeClientError))
      throw UpstreamCallError.noAnswer({ url, service: "knowledge", cause: error });
    if (error.status < 500 && isErrorCode(error.code)) throw new HearthError(error.code, error.message);
    // Its message is for the log: it may name the service's files.
    throw new UpstreamCallError({
      url,
      status: error.status,
      body: `${error.code}: ${error.message}`,
      message: "the knowledge service failed",
      service: "knowledge",
    });
  }
}

/** Whether a request is for Dify's External Knowledge API, whose errors are in Dify's shape. */
export function isExternalKnowledgeRequest(url: string): boolean {
  const path = url.split("?")[0];
  return path === EXTERNAL_KNOWLEDGE_PATH || path === EXTERNAL_KNOWLEDGE_PATH_AFTER_SLASH;
}

/**
 * An error as Dify's spec has it, `{error_code, error_msg}`, with Hearth's stable code beside them
 * (docs/errors.md): Dify's 1001 (no `Bearer` key in the Authorization header), 1002 (the key was
 * refused) and 2001 (no knowledge base with that id that the key's user may read); any other error's
 * `error_code` is its HTTP status.
 */
export function externalKnowledgeErrorBody(error: HearthError, request: FastifyRequest) {
  if (REFUSED_AUTHORIZATION.has(error.code)) {
    if (!BEARER_KEY.test(request.headers.authorization ?? ""))
      return {
        error_code: DIFY_INVALID_AUTHORIZATION_HEADER,
        error_msg:
          "Invalid Authorization header format: expected 'Bearer <API key>', a Hearth API key (hk-…)",
        code: error.code,
      };
    return { error_code: DIFY_AUTHORIZATION_FAILED, error_msg: error.message, code: error.code };
  }
  const errorCode = error.code === "KNOWLEDGE_BASE_NOT_FOUND" ? DIFY_KNOWLEDGE_NOT_FOUND : error.status;
  return { error_code: errorCode, error_msg: error.message, code: error.code };
}

/**
 * Dify's spec answers a refused Authorization with 403 (where Hearth's own routes answer 401): Dify,
 * checking a new External Knowledge API, takes a 403 (and only it) as a key refused. The error then
 * goes on to the service's error handler, which logs and formats it.
 */
function refusedAsDify(error: unknown): never {
  const refused = toHearthError(error);
  if (!REFUSED_AUTHORIZATION.has(refused.code)) throw refused;
  throw new HearthError(refused.code, refused.message, { status: 403, cause: refused });
}

/**
 * `POST /v1/retrieval`: a knowledge base's passages for Dify (or any client of its External
 * Knowledge API), held to the key user's read access as in the UI (a base they may not read is
 * 2001, as one that does not exist). The base is queried as a chat grounds in it (hybrid, the query
 * cut to MAX_QUERY_CHARS at a word), for at most RETRIEVAL_TEST_TOP_K.max passages: `top_k` is
 * Dify's most, so a larger one gives as many as a retrieval test may. `score_threshold` is the
 * query's minimum relevance (0 to 1, difyRecord's score), in place of the base's own: the knowledge
 * service leaves out the passages below it before it cuts the answer at `top_k`.
 */
export function registerExternalKnowledgeApi(
  app: FastifyInstance,
  deps: { knowledge: KnowledgeClient; knowledgeAccess: KnowledgeAccess },
) {
  const retrieve = async (request: FastifyRequest) => {
    const body = retrievalRequest.parse(request.body);
    const query = queryText(body.query, MAX_QUERY_CHARS);
    if (!query) throw new HearthError("INVALID_REQUEST", "query: the question is empty");
    const filters = queryFilters(body.metadata_condition);
    await deps.knowledgeAccess.assert(currentUser(request), body.knowledge_id, "read");
    const { top_k: topK, score_threshold: threshold } = body.retrieval_setting;
    const passages = await passagesOf(deps.knowledge, body.knowledge_id, {
      query,
      topK: Math.min(topK, RETRIEVAL_TEST_TOP_K.max),
      ...(filters ? { filters } : {}),
      minRelevance: threshold,
    });
    return { records: passages.map(difyRecord) };
  };
  for (const path of [EXTERNAL_KNOWLEDGE_PATH, EXTERNAL_KNOWLEDGE_PATH_AFTER_SLASH])
    app.post(path, { config: { access: "user" }, errorHandler: refusedAsDify }, retrieve);
}
