import { z } from "zod";
import { KNOWLEDGE_BASE_NAME_MAX_CHARS } from "./knowledge-base-name.js";

/** Wire schemas of the knowledge service (HTTP JSON) and a typed client for it. */

export const chunkingSettingsSchema = z.object({
  maxTokens: z.number().int().min(32).max(8192),
  overlapTokens: z.number().int().min(0).max(4096),
});
export type ChunkingSettings = z.infer<typeof chunkingSettingsSchema>;

/**
 * A least relevance (0 to 1, a query result's `relevance`) a passage needs to be answered; 0 holds
 * none back. Read at query time: changing it re-indexes nothing.
 */
export const minRelevanceSchema = z.number().min(0).max(1);

export const knowledgeBaseSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  embeddingModel: z.string().nullable(),
  chunking: chunkingSettingsSchema,
  watchFolder: z.string().nullish(),
  /**
   * Results of this base whose relevance is below it are left out of its queries' answers unless
   * a query sets its own (minRelevanceSchema). Absent from a service before this field: 0.
   */
  minRelevance: minRelevanceSchema.default(0),
  /**
   * The model (a cross-encoder such as bge-reranker-v2-m3, on the model service's /v1/rerank) that
   * reorders the passages a query retrieves before the cut at topK, its score becoming their
   * relevance; null: none. Read at query time: changing it re-indexes nothing. Absent from a
   * service before this field: null.
   */
  rerankModel: z.string().nullable().default(null),
  documentCount: z.number().int(),
  /**
   * The documents answers may use: indexed and switched on (not a failed, cancelled or still
   * ingested one, nor one switched off). Absent from a service before this field.
   */
  indexedDocumentCount: z.number().int().optional(),
  /**
   * Indexed documents whose index was built under other settings (embedding model, chunking) or an
   * older processing of this Hearth version: POST /v1/knowledge-bases/{id}/reindex brings them current.
   */
  staleDocumentCount: z.number().int().optional(),
  lastIndexedAt: z.string().nullish(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type KnowledgeBase = z.infer<typeof knowledgeBaseSchema>;

export const createKnowledgeBaseRequestSchema = z.strictObject({
  name: z.string().trim().min(1).max(KNOWLEDGE_BASE_NAME_MAX_CHARS),
  description: z.string().max(4000).optional(),
  embeddingModel: z.string().min(1).max(300).nullable().optional(),
  chunking: z
    .strictObject({
      maxTokens: z.number().int().min(32).max(8192).optional(),
      overlapTokens: z.number().int().min(0).max(4096).optional(),
    })
    .optional(),
  watchFolder: z.string().min(1).max(4096).optional(),
  /** 0 (the default): no result is held back for want of relevance (minRelevanceSchema). */
  minRelevance: minRelevanceSchema.optional(),
  /** null (the default): queries answer in retrieval order. */
  rerankModel: z.string().min(1).max(300).nullable().optional(),
  /**
   * Who the base belongs to: an opaque id the caller chooses (the web service sends its user id).
   * Names are unique per owner, compared case-insensitively; bases created without one share
   * the unowned name space.
   */
  owner: z.string().min(1).max(200).optional(),
});
export type CreateKnowledgeBaseRequest = z.input<typeof createKnowledgeBaseRequestSchema>;

export const updateKnowledgeBaseRequestSchema = createKnowledgeBaseRequestSchema
  .omit({ owner: true })
  .partial()
  .extend({
    watchFolder: z.string().min(1).max(4096).nullable().optional(),
  });
export type UpdateKnowledgeBaseRequest = z.input<typeof updateKnowledgeBaseRequestSchema>;

export const documentStatusSchema = z.enum(["queued", "parsing", "embedding", "indexed", "failed"]);
export type DocumentStatus = z.infer<typeof documentStatusSchema>;

/**
 * Why a document (or a job) failed: the stable code, a message in English, and what the error's
 * details name (a refused file's real kind: `detected`; why no parser took it: `reason`), which a
 * page says in its reader's language.
 */
export const documentErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type DocumentError = z.infer<typeof documentErrorSchema>;

/**
 * How far a running document (and its job entry) has got, `done` of `total`: a PDF's pages read
 * (`parsing`), then, once it is chunked, texts embedded (`embedding`) and chunks written to the
 * index (`indexing`).
 */
export const jobDocumentProgressSchema = z.object({
  phase: z.enum(["parsing", "embedding", "indexing"]),
  done: z.number().int(),
  total: z.number().int(),
});
export type JobDocumentProgress = z.infer<typeof jobDocumentProgressSchema>;

export const knowledgeDocumentSchema = z.object({
  id: z.string(),
  knowledgeBaseId: z.string(),
  name: z.string(),
  source: z.enum(["upload", "folder", "url"]),
  status: documentStatusSchema,
  error: documentErrorSchema.nullish(),
  sizeBytes: z.number().int(),
  chunkCount: z.number().int(),
  contentType: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Present while the document is parsing or embedding and its progress is known. */
  progress: jobDocumentProgressSchema.optional(),
  /**
   * The unfinished ingestion job that still has the document to do (queued, parsing, embedding),
   * the oldest where several have: cancelling it (POST /v1/jobs/{id}/cancel) stops its ingestion.
   * Absent when none has.
   */
  jobId: z.string().optional(),
  /**
   * Whether the document's passages answer queries (true unless switched off with PATCH): a
   * document switched off stays stored and indexed, its file and passages still open, but no query
   * finds it until it is switched on again. Absent from a service before this field: true.
   */
  enabled: z.boolean().default(true),
});
export type KnowledgeDocument = z.infer<typeof knowledgeDocumentSchema>;

/** PATCH of a document: only whether it answers queries (`enabled`) can change. */
export const updateDocumentRequestSchema = z.strictObject({ enabled: z.boolean() });
export type UpdateDocumentRequest = z.input<typeof updateDocumentRequestSchema>;

/** One passage of a document (a chunk as indexed): a query result's text, in its place in the document. */
export const documentPassageSchema = z.object({
  id: z.string(),
  ordinal: z.number().int(),
  text: z.string(),
  page: z.number().int().nullable(),
  headingPath: z.array(z.string()),
  /** Where the passage lies in the document's cleaned text; passages next to each other may overlap. */
  charStart: z.number().int(),
  charEnd: z.number().int(),
});
export type DocumentPassage = z.infer<typeof documentPassageSchema>;
export const documentPassagesSchema = z.object({
  document: knowledgeDocumentSchema,
  passages: z.array(documentPassageSchema),
});
export type DocumentPassages = z.infer<typeof documentPassagesSchema>;

export const jobStatusSchema = z.enum(["queued", "running", "completed", "failed", "cancelled"]);
export type JobStatus = z.infer<typeof jobStatusSchema>;

export const jobDocumentSchema = z.object({
  documentId: z.string(),
  name: z.string(),
  status: z.union([documentStatusSchema, z.literal("skipped"), z.literal("deleted")]),
  error: documentErrorSchema.nullish(),
  /** Present while the entry is parsing or embedding and its progress is known. */
  progress: jobDocumentProgressSchema.optional(),
});

export const jobCountsSchema = z.object({
  total: z.number().int(),
  queued: z.number().int(),
  parsing: z.number().int(),
  embedding: z.number().int(),
  indexed: z.number().int(),
  skipped: z.number().int(),
  deleted: z.number().int(),
  failed: z.number().int(),
});
export type JobCounts = z.infer<typeof jobCountsSchema>;

export const ingestionJobSchema = z.object({
  id: z.string(),
  knowledgeBaseId: z.string(),
  kind: z.enum(["upload", "sync", "url", "reindex"]),
  status: jobStatusSchema,
  error: documentErrorSchema.nullish(),
  counts: jobCountsSchema,
  documents: z.array(jobDocumentSchema),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullish(),
});
export type IngestionJob = z.infer<typeof ingestionJobSchema>;

/** One SSE event on GET /v1/jobs/{id}/events: `event: document` or `event: job` (the last is `status` final). */
export const jobEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("document"),
    jobId: z.string(),
    document: jobDocumentSchema,
    counts: jobCountsSchema,
  }),
  z.object({ type: z.literal("job"), job: ingestionJobSchema }),
]);
export type JobEvent = z.infer<typeof jobEventSchema>;

const metadataValue = z.union([z.string(), z.number(), z.boolean()]);
export const queryFiltersSchema = z.strictObject({
  documentIds: z.array(z.string()).max(1000).optional(),
  metadata: z.record(z.string(), metadataValue).optional(),
});

/**
 * Which retrieval paths answer a query: both fused ("hybrid", the default; full text alone when the
 * knowledge base has no embedding model), full text only, or vectors only (needs an embedding model).
 */
export const retrievalModeSchema = z.enum(["hybrid", "lexical", "vector"]);
export type RetrievalMode = z.infer<typeof retrievalModeSchema>;

/** The longest query text a knowledge base takes. */
export const MAX_QUERY_CHARS = 8000;

export const queryRequestSchema = z.strictObject({
  query: z.string().trim().min(1).max(MAX_QUERY_CHARS),
  topK: z.number().int().min(1).max(200).default(10),
  filters: queryFiltersSchema.optional(),
  /** "hybrid" when absent; asked for by name on a base with no embedding model, the answer warns. */
  mode: retrievalModeSchema.optional(),
  /**
   * Leaves out results whose relevance is below it, before the cut at topK; without it, each result
   * is held to its own knowledge base's minRelevance.
   */
  minRelevance: minRelevanceSchema.optional(),
  /**
   * false: answers in retrieval order even from bases with a rerank model (to compare the two);
   * absent or true: each base's rerank model reranks its passages.
   */
  rerank: z.boolean().optional(),
});
export type QueryRequest = z.input<typeof queryRequestSchema>;

export const multiQueryRequestSchema = queryRequestSchema.extend({
  knowledgeBaseIds: z.array(z.string()).min(1).max(100),
});
export type MultiQueryRequest = z.input<typeof multiQueryRequestSchema>;

export const queryResultSchema = z.object({
  chunkId: z.string(),
  knowledgeBaseId: z.string(),
  documentId: z.string(),
  documentTitle: z.string(),
  text: z.string(),
  /** Ranks the result on its path's own scale (docs/knowledge.md): not comparable across paths. */
  score: z.number(),
  /** The score as 0 to 1, falling as the rank does, comparable across queries (docs/knowledge.md). */
  relevance: z.number().min(0).max(1),
  page: z.number().int().nullish(),
  headingPath: z.array(z.string()),
  charStart: z.number().int(),
  charEnd: z.number().int(),
});
export type QueryResult = z.infer<typeof queryResultSchema>;
/**
 * Something that limited a query's answer without failing it: in mode "hybrid", a knowledge base
 * whose query could not be embedded (code EMBEDDING_FAILED), or, with "hybrid" asked for by name,
 * one that has no embedding model (code EMBEDDING_MODEL_REQUIRED), was searched on full text only;
 * a base whose passages its rerank model could not rerank (code RERANK_FAILED) answered them in
 * retrieval order.
 */
export const queryWarningSchema = z.object({
  knowledgeBaseId: z.string(),
  code: z.string(),
  message: z.string(),
  /** RERANK_FAILED: the rerank `model`, and the model service's `status` and error `code` when it answered. */
  details: z.record(z.string(), z.unknown()).optional(),
});
export type QueryWarning = z.infer<typeof queryWarningSchema>;
export const queryResponseSchema = z.object({
  results: z.array(queryResultSchema),
  /** Present only when something limited the answer (see queryWarningSchema). */
  warnings: z.array(queryWarningSchema).optional(),
  /**
   * Present only when a rerank model ordered some of the results: each model and the knowledge
   * bases whose passages it reranked (their relevance is its score).
   */
  reranked: z.array(z.object({ model: z.string(), knowledgeBaseIds: z.array(z.string()) })).optional(),
});
export type QueryResponse = z.infer<typeof queryResponseSchema>;

export const fromUrlRequestSchema = z.strictObject({ url: z.url({ protocol: /^https?$/ }) });

/** An error answered by the knowledge service, with its stable code. */
export class KnowledgeClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "KnowledgeClientError";
  }
}

export interface KnowledgeClientOptions {
  baseUrl: string;
  /** Sent as x-hearth-service-token when the service requires one. */
  token?: string;
  fetch?: typeof fetch;
}

/** A typed client for the knowledge service's HTTP API (used by the web service and the CLI). */
export class KnowledgeClient {
  readonly #baseUrl: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: KnowledgeClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#token = options.token;
    this.#fetch = options.fetch ?? fetch;
  }

  listKnowledgeBases(): Promise<KnowledgeBase[]> {
    return this.#json(
      "GET",
      "/v1/knowledge-bases",
      undefined,
      z.object({ knowledgeBases: z.array(knowledgeBaseSchema) }),
    ).then((body) => body.knowledgeBases);
  }
  createKnowledgeBase(request: CreateKnowledgeBaseRequest): Promise<KnowledgeBase> {
    return this.#json("POST", "/v1/knowledge-bases", request, knowledgeBaseSchema);
  }
  getKnowledgeBase(id: string): Promise<KnowledgeBase> {
    return this.#json("GET", `/v1/knowledge-bases/${encodeURIComponent(id)}`, undefined, knowledgeBaseSchema);
  }
  /**
   * A change of embeddingModel or chunking starts a re-index job: `reindexJobId` names it; a
   * watchFolder set or changed starts a sync of it: `syncJobId`.
   */
  updateKnowledgeBase(
    id: string,
    request: UpdateKnowledgeBaseRequest,
  ): Promise<KnowledgeBase & { reindexJobId?: string; syncJobId?: string }> {
    return this.#json(
      "PATCH",
      `/v1/knowledge-bases/${encodeURIComponent(id)}`,
      request,
      knowledgeBaseSchema.extend({ reindexJobId: z.string().optional(), syncJobId: z.string().optional() }),
    );
  }
  /** Re-indexes the base's stale documents (all its documents with `all`); a running re-index is returned. */
  reindexKnowledgeBase(id: string, options: { all?: boolean } = {}): Promise<IngestionJob> {
    return this.#json(
      "POST",
      `/v1/knowledge-bases/${encodeURIComponent(id)}/reindex${options.all ? "?all=true" : ""}`,
      {},
      z.object({ job: ingestionJobSchema }),
    ).then((body) => body.job);
  }
  async deleteKnowledgeBase(id: string): Promise<void> {
    await this.#request("DELETE", `/v1/knowledge-bases/${encodeURIComponent(id)}`);
  }
  listDocuments(knowledgeBaseId: string): Promise<KnowledgeDocument[]> {
    return this.#json(
      "GET",
      `/v1/knowledge-bases/${encodeURIComponent(knowledgeBaseId)}/documents`,
      undefined,
      z.object({ documents: z.array(knowledgeDocumentSchema) }),
    ).then((body) => body.documents);
  }
  getDocument(knowledgeBaseId: string, documentId: string): Promise<KnowledgeDocument> {
    return this.#json(
      "GET",
      `${this.#documentPath(knowledgeBaseId, documentId)}`,
      undefined,
      knowledgeDocumentSchema,
    );
  }
  async deleteDocument(knowledgeBaseId: string, documentId: string): Promise<void> {
    await this.#request("DELETE", this.#documentPath(knowledgeBaseId, documentId));
  }
  /** Switches a document off for retrieval (`enabled: false`) or on again; answers the document. */
  updateDocument(
    knowledgeBaseId: string,
    documentId: string,
    request: UpdateDocumentRequest,
  ): Promise<KnowledgeDocument> {
    return this.#json(
      "PATCH",
      this.#documentPath(knowledgeBaseId, documentId),
      request,
      knowledgeDocumentSchema,
    );
  }
  /** A document's passages in order (its chunks as indexed), for a citation to be shown in place. */
  documentPassages(knowledgeBaseId: string, documentId: string): Promise<DocumentPassages> {
    return this.#json(
      "GET",
      `${this.#documentPath(knowledgeBaseId, documentId)}/passages`,
      undefined,
      documentPassagesSchema,
    );
  }
  /** The original bytes of a document (for citations to open the page). */
  async documentFile(knowledgeBaseId: string, documentId: string): Promise<Response> {
    return this.#request("GET", `${this.#documentPath(knowledgeBaseId, documentId)}/file`);
  }
  /** Uploads files (multipart `file` parts); answers at once with the ingestion job. */
  async uploadDocuments(
    knowledgeBaseId: string,
    files: ReadonlyArray<{ name: string; data: Blob | Uint8Array; contentType?: string }>,
  ): Promise<{ job: IngestionJob; documents: KnowledgeDocument[] }> {
    const form = new FormData();
    for (const file of files) {
      const blob =
        file.data instanceof Blob
          ? file.data
          : new Blob([file.data as Uint8Array<ArrayBuffer>], {
              type: file.contentType ?? "application/octet-stream",
            });
      form.append("file", blob, file.name);
    }
    const response = await this.#request(
      "POST",
      `/v1/knowledge-bases/${encodeURIComponent(knowledgeBaseId)}/documents`,
      form,
    );
    return z
      .object({ job: ingestionJobSchema, documents: z.array(knowledgeDocumentSchema) })
      .parse(await response.json());
  }
  ingestUrl(knowledgeBaseId: string, url: string): Promise<IngestionJob> {
    return this.#json(
      "POST",
      `/v1/knowledge-bases/${encodeURIComponent(knowledgeBaseId)}/documents/from-url`,
      { url },
      z.object({ job: ingestionJobSchema }),
    ).then((body) => body.job);
  }
  syncNow(knowledgeBaseId: string): Promise<IngestionJob> {
    return this.#json(
      "POST",
      `/v1/knowledge-bases/${encodeURIComponent(knowledgeBaseId)}/sync`,
      {},
      z.object({ job: ingestionJobSchema }),
    ).then((body) => body.job);
  }
  getJob(jobId: string): Promise<IngestionJob> {
    return this.#json("GET", `/v1/jobs/${encodeURIComponent(jobId)}`, undefined, ingestionJobSchema);
  }
  cancelJob(jobId: string): Promise<IngestionJob> {
    return this.#json("POST", `/v1/jobs/${encodeURIComponent(jobId)}/cancel`, {}, ingestionJobSchema);
  }
  /** Progress events of a job until it finishes (SSE). */
  async *jobEvents(jobId: string, signal?: AbortSignal): AsyncGenerator<JobEvent> {
    const response = await this.#request(
      "GET",
      `/v1/jobs/${encodeURIComponent(jobId)}/events`,
      undefined,
      signal,
    );
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const part of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(part, { stream: true });
      let boundary = buffer.indexOf("\n\n");
      while (boundary !== -1) {
        const frame = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const data = frame
          .split("\n")
          .filter((line) => line.startsWith("data: "))
          .map((line) => line.slice(6))
          .join("\n");
        if (data) yield jobEventSchema.parse(JSON.parse(data));
        boundary = buffer.indexOf("\n\n");
      }
    }
  }
  query(knowledgeBaseId: string, request: QueryRequest): Promise<QueryResult[]> {
    return this.#json(
      "POST",
      `/v1/knowledge-bases/${encodeURIComponent(knowledgeBaseId)}/query`,
      request,
      queryResponseSchema,
    ).then((body) => body.results);
  }
  queryMany(request: MultiQueryRequest): Promise<QueryResult[]> {
    return this.queryManyAnswer(request).then((body) => body.results);
  }
  /** queryMany's whole answer: the results and any warnings (a base searched on full text only). */
  queryManyAnswer(request: MultiQueryRequest): Promise<QueryResponse> {
    return this.#json("POST", "/v1/query", request, queryResponseSchema);
  }

  #documentPath(knowledgeBaseId: string, documentId: string): string {
    return `/v1/knowledge-bases/${encodeURIComponent(knowledgeBaseId)}/documents/${encodeURIComponent(documentId)}`;
  }

  async #json<T>(method: string, path: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
    const response = await this.#request(method, path, body === undefined ? undefined : JSON.stringify(body));
    return schema.parse(await response.json());
  }

  async #request(
    method: string,
    path: string,
    body?: string | FormData,
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (typeof body === "string") headers["content-type"] = "application/json";
    if (this.#token) headers["x-hearth-service-token"] = this.#token;
    const response = await this.#fetch(`${this.#baseUrl}${path}`, { method, headers, body, signal });
    if (!response.ok) {
      const text = await response.text();
      let code = "UPSTREAM_ERROR";
      let message = `${method} ${path} answered ${response.status}`;
      try {
        const parsed = z
          .object({ error: z.object({ code: z.string(), message: z.string() }) })
          .parse(JSON.parse(text));
        code = parsed.error.code;
        message = parsed.error.message;
      } catch {
        // Not our error body (a proxy's page); keep the status line.
      }
      throw new KnowledgeClientError(response.status, code, message);
    }
    return response;
  }
}
