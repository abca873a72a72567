import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { join } from "node:path";
import {
  documentPassagesSchema,
  type IngestionJob,
  ingestionJobSchema,
  type KnowledgeDocument,
  knowledgeBaseNameKey,
  knowledgeBaseSchema,
  knowledgeDocumentSchema,
  type QueryResponse,
  type QueryResult,
  queryResponseSchema,
  queryResultSchema,
  updateDocumentRequestSchema,
} from "@hearth/contracts";
import { listenOnLoopback } from "../../../../test/support/ports.js";

/**
 * Stand-ins for the knowledge and search services with their recorded shapes: knowledge bases
 * (a name is its owner's once: another base of the owner's named so is 409
 * KNOWLEDGE_BASE_NAME_TAKEN, as the real service answers), documents uploaded as multipart `file` parts (202 {job, documents}; bases, documents and jobs
 * are checked against the contracts' schemas, so the stand-in cannot drift from the real service),
 * jobs, and `/v1/query` and `/v1/knowledge-bases/{id}/query` returning passages that contain the
 * query's words (see `matchingPassages`; none of a document switched off with PATCH {enabled}, nor
 * one less relevant than the query's `minRelevance` or else its base's; 404
 * KNOWLEDGE_BASE_NOT_FOUND for a base it does not have),
 * with the real service's embedding outcomes: it has no model service, so a base given an
 * `embeddingModel` cannot embed the query (EMBEDDING_FAILED) and one without has none; a base's
 * `rerankModel` marks its answers `reranked` by it (their order as they are) unless the query says
 * `rerank: false`, and one in `failingRerankModels` answers with RERANK_FAILED instead; `/v1/search`
 * returning fixed web results. A base's `watchFolder` that is not an absolute path, and a
 * `rerankModel` in `nonRerankers`, are refused as the real service refuses them. A document's passages are its
 * paragraphs (text between blank lines), as `.../passages` lists them. An uploaded file that starts
 * `MZ` (a Windows executable) fails with DOCUMENT_UNSUPPORTED_FORMAT and the details the real
 * service gives it, one over `maxUploadBytes` with DOCUMENT_TOO_LARGE.
 */
export interface FakeKnowledge {
  url: string;
  queries: Array<{ knowledgeBaseIds: string[]; query: string }>;
  searches: string[];
  /** When set, `/v1/search` answers as the real service does when every provider failed. */
  failSearch: boolean;
  /**
   * When set, `/v1/search` answers this error as the real service does: SEARCH_RATE_LIMITED (429,
   * with `retryAfter` as its Retry-After header) when every engine is rate-limited,
   * SEARCH_ALL_PROVIDERS_FAILED with each provider's outcome in `details.providers`.
   */
  searchError:
    | { status: number; code: string; details?: Record<string, unknown>; retryAfter?: string }
    | undefined;
  /**
   * When set, how each engine answered in `/v1/search`'s answer (e.g. one failed beside one that
   * answered); one engine that answered when unset.
   */
  searchProviders: Array<Record<string, unknown>> | undefined;
  /**
   * When set, the search service has no provider configured, as the real one answers then:
   * `/v1/providers` lists none and `/v1/search` is 503 SEARCH_NO_PROVIDERS.
   */
  noProviders: boolean;
  /**
   * When set, every knowledge-base route answers this error, as the real service answers when its
   * store fails (503 DATABASE_UNAVAILABLE naming its damaged file).
   */
  knowledgeBaseError: { status: number; code: string; message: string } | undefined;
  /**
   * Whether a watched folder is checked on this machine as the real service does (missing or not a
   * directory: 422 FOLDER_UNREADABLE) and its files mirrored as documents "from the folder" when set
   * by a PATCH; off, any absolute path is taken and nothing is read.
   */
  readWatchFolders: boolean;
  /** The JSON bodies the knowledge-base routes were sent, in order (what the web service forwards). */
  knowledgeBaseBodies: Array<{ method: string; path: string; body: Record<string, unknown> }>;
  /** When cleared, document files come without the real service's sandbox headers. */
  sandboxHeaders: boolean;
  /**
   * When set, uploaded documents stay queued under a running job until it is cancelled, which
   * marks them failed with JOB_CANCELLED as the real service does.
   */
  holdIngestion: boolean;
  /**
   * The web pages `.../documents/from-url` finds (URL → text): a page ingests as a text document
   * named by its host and path; any other URL fails with URL_FETCH_FAILED as the real service's
   * unreachable page does. Nothing is fetched.
   */
  webPages: Map<string, string>;
  /** Rerank models that fail, as the real service answers then: unreranked, with RERANK_FAILED. */
  failingRerankModels: Set<string>;
  /**
   * Models the model service will not rerank with (a chat model): a base given one as its
   * `rerankModel` is refused with MODEL_CANNOT_RERANK, as the real service's check refuses it.
   */
  nonRerankers: Set<string>;
  /** Documents every base reports as indexed with older settings, until it is re-indexed. */
  staleDocuments: number;
  /**
   * The largest file an upload may hold (knowledge.maxUploadBytes, 100 MiB unless set), listed
   * with the bases; a larger one fails with DOCUMENT_TOO_LARGE naming it, as the real service does.
   */
  maxUploadBytes: number;
  /**
   * When set, awaited after an upload is accepted and before it is answered: a test acts in that
   * instant (deletes the base's chat, say) as another request could.
   */
  beforeUploadAnswer: (() => Promise<void>) | undefined;
  /**
   * A text document queued under a job held running until it is cancelled, started on the knowledge
   * service itself (as a watched folder's scan or `hearth ingest` starts one): the web service never
   * saw its job. Listed with its `jobId`, as the real service lists a document a job has still to do.
   */
  ingestElsewhere(
    knowledgeBaseId: string,
    files: Record<string, string>,
  ): { jobId: string; documentIds: string[] };
  close(): Promise<void>;
}

/** A document's passages as this stand-in cuts them: its paragraphs, where they lie in its text. */
function paragraphs(text: string): Array<{ text: string; start: number; end: number }> {
  const found: Array<{ text: string; start: number; end: number }> = [];
  for (const match of text.matchAll(/\S(?:[\s\S]*?\S)?(?=\s*\n\s*\n|\s*$)/g))
    found.push({ text: match[0], start: match.index, end: match.index + match[0].length });
  return found;
}

/**
 * What a query matches as this stand-in reads it: its words of four letters or more, and each
 * two-character piece of its Chinese (as the real service's character bigrams match).
 */
function queryTerms(query: string): string[] {
  const lower = query.toLowerCase();
  const words = lower.split(/\W+/).filter((word) => word.length > 3);
  const pieces = [...lower.matchAll(/\p{Script=Han}+/gu)].flatMap(([run]) =>
    run.length === 1 ? [run] : Array.from({ length: run.length - 1 }, (_, at) => run.slice(at, at + 2)),
  );
  return [...new Set([...words, ...pieces])];
}

async function body(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** An ingestion job as the knowledge service answers it, with nothing left to do. */
function job(id: string, knowledgeBaseId: string, status: IngestionJob["status"]): IngestionJob {
  const now = new Date().toISOString();
  return ingestionJobSchema.parse({
    id,
    knowledgeBaseId,
    kind: "upload",
    status,
    counts: { total: 0, queued: 0, parsing: 0, embedding: 0, indexed: 0, skipped: 0, deleted: 0, failed: 0 },
    documents: [],
    createdAt: now,
    updatedAt: now,
  });
}

export async function startFakeKnowledgeAndSearch(): Promise<FakeKnowledge> {
  interface FakeBase {
    id: string;
    name: string;
    description: string;
    embeddingModel: string | null;
    chunking: { maxTokens: number; overlapTokens: number };
    watchFolder: string | null;
    minRelevance: number;
    rerankModel: string | null;
    /** Whose it is (the web service sends its user's id); names are unique per owner. */
    owner: string | null;
    createdAt: string;
    updatedAt: string;
    documents: Array<{ record: KnowledgeDocument; text: string }>;
  }
  const bases = new Map<string, FakeBase>();
  /** A base as the knowledge service answers it (the contract's schema checks the shape). */
  const view = (base: FakeBase) =>
    knowledgeBaseSchema.parse({
      id: base.id,
      name: base.name,
      description: base.description,
      embeddingModel: base.embeddingModel,
      chunking: base.chunking,
      watchFolder: base.watchFolder,
      minRelevance: base.minRelevance,
      rerankModel: base.rerankModel,
      documentCount: base.documents.length,
      indexedDocumentCount: base.documents.filter(
        (d) => d.record.status === "indexed" && d.record.enabled !== false,
      ).length,
      staleDocumentCount: state.staleDocuments,
      createdAt: base.createdAt,
      updatedAt: base.updatedAt,
    });
  const state: FakeKnowledge = {
    url: "",
    queries: [],
    searches: [],
    failSearch: false,
    searchError: undefined,
    searchProviders: undefined,
    noProviders: false,
    knowledgeBaseError: undefined,
    readWatchFolders: false,
    knowledgeBaseBodies: [],
    sandboxHeaders: true,
    holdIngestion: false,
    webPages: new Map(),
    failingRerankModels: new Set(),
    nonRerankers: new Set(),
    staleDocuments: 0,
    maxUploadBytes: 100 * 1024 * 1024,
    beforeUploadAnswer: undefined,
    ingestElsewhere(knowledgeBaseId, files) {
      const base = bases.get(knowledgeBaseId);
      if (!base) throw new Error(`no knowledge base ${knowledgeBaseId}`);
      const records = Object.entries(files).map(([name, text]) => {
        const record = documentRecord(knowledgeBaseId, name, text, "queued", null);
        base.documents.push({ record, text });
        return record;
      });
      const jobId = randomUUID();
      jobBases.set(jobId, knowledgeBaseId);
      heldJobs.set(jobId, { knowledgeBaseId, documents: records });
      return { jobId, documentIds: records.map((record) => record.id) };
    },
    close: async () => {},
  };
  /** Every job started, by id: its base (an unknown id is 404 JOB_NOT_FOUND, as the real service answers). */
  const jobBases = new Map<string, string>();
  /** Jobs held running (holdIngestion): their base and documents. */
  const heldJobs = new Map<string, { knowledgeBaseId: string; documents: KnowledgeDocument[] }>();
  /** A new document's record (the contract's schema checks the shape). */
  const documentRecord = (
    knowledgeBaseId: string,
    name: string,
    text: string,
    status: KnowledgeDocument["status"],
    error: KnowledgeDocument["error"],
  ) => {
    const now = new Date().toISOString();
    return knowledgeDocumentSchema.parse({
      id: randomUUID(),
      knowledgeBaseId,
      name,
      source: "upload",
      status,
      error,
      sizeBytes: Buffer.byteLength(text),
      chunkCount: paragraphs(text).length,
      contentType: "text/plain",
      createdAt: now,
      updatedAt: now,
    });
  };
  /** A document as listed: with the held job that has it still to do, as the real service names it. */
  const listed = (record: KnowledgeDocument) => {
    const pending = [...heldJobs].find(
      ([, held]) =>
        held.documents.includes(record) && record.status !== "indexed" && record.status !== "failed",
    );
    return knowledgeDocumentSchema.parse(pending ? { ...record, jobId: pending[0] } : record);
  };
  const startJob = (knowledgeBaseId: string, status: IngestionJob["status"]) => {
    const jobId = randomUUID();
    jobBases.set(jobId, knowledgeBaseId);
    return job(jobId, knowledgeBaseId, status);
  };
  const send = (response: import("node:http").ServerResponse, status: number, value: unknown) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(value));
  };
  /** The real service's refusal of a base's settings (its folder and rerank model checks), if any. */
  const settingsRefusal = (settings: { watchFolder?: string | null; rerankModel?: string | null }) => {
    const { watchFolder, rerankModel } = settings;
    if (watchFolder && !watchFolder.startsWith("/"))
      return {
        status: 400,
        error: {
          code: "INVALID_REQUEST",
          message: `watchFolder ${JSON.stringify(watchFolder)} is not an absolute path of a folder on the knowledge service's machine`,
          details: { issues: [{ path: "watchFolder", code: "custom", message: "an absolute path" }] },
        },
      };
    // As the real service: a folder that does not exist or is not a directory is refused when set.
    if (watchFolder && state.readWatchFolders) {
      const stats = (() => {
        try {
          return statSync(watchFolder);
        } catch {
          return undefined;
        }
      })();
      if (!stats?.isDirectory()) {
        const reason = stats ? "not-a-directory" : "missing";
        return {
          status: 422,
          error: {
            code: "FOLDER_UNREADABLE",
            message: `The folder ${watchFolder} ${stats ? "is not a directory" : "does not exist on the knowledge service's machine"}`,
            details: { reason },
          },
        };
      }
    }
    if (rerankModel && state.nonRerankers.has(rerankModel))
      return {
        status: 400,
        error: { code: "MODEL_CANNOT_RERANK", message: `${rerankModel} cannot rerank` },
      };
    return undefined;
  };
  /**
   * The passages of these bases that hold any of the query's terms (queryTerms), those holding
   * more of them first, at most `topK`; each scored, as full text is, by how many of the terms it
   * holds (unbounded), its relevance the share of the terms it holds (0 to 1), each checked against
   * the contract's schema. As in the real service, those less relevant than `minRelevance`, or else
   * than their base's, are left out before the cut.
   */
  const matchingPassages = (
    ids: string[],
    query: string,
    topK: number,
    minRelevance: number | undefined,
  ): QueryResult[] => {
    const terms = queryTerms(query);
    const held = (text: string) => terms.filter((term) => text.toLowerCase().includes(term)).length;
    return ids
      .flatMap((id) =>
        (bases.get(id)?.documents ?? []).flatMap((d) =>
          (d.record.enabled ? paragraphs(d.text) : []).map((passage, ordinal) => ({
            chunkId: `${d.record.id}-${ordinal}`,
            knowledgeBaseId: id,
            documentId: d.record.id,
            documentTitle: d.record.name,
            text: passage.text,
            score: held(passage.text),
            relevance: held(passage.text) / terms.length,
            page: d.record.name.endsWith(".pdf") ? 1 : null,
            headingPath: [],
            charStart: passage.start,
            charEnd: passage.end,
          })),
        ),
      )
      .filter(
        (passage) =>
          passage.score > 0 &&
          passage.relevance >= (minRelevance ?? bases.get(passage.knowledgeBaseId)?.minRelevance ?? 0),
      )
      .sort((a, b) => b.score - a.score)
      .slice(0, topK)
      .map((passage) => queryResultSchema.parse(passage));
  };
  /**
   * What these bases' rerank models make of a query's answer, as the real service says it: the
   * models that reranked it and their bases (`reranked`), and a RERANK_FAILED warning for each base
   * whose model fails (failingRerankModels). Nothing with `rerank: false`.
   */
  const rerankOutcome = (ids: string[], rerank: boolean | undefined): Omit<QueryResponse, "results"> => {
    const reranked = new Map<string, string[]>();
    const warnings: NonNullable<QueryResponse["warnings"]> = [];
    for (const id of ids) {
      const model = bases.get(id)?.rerankModel;
      if (!model || rerank === false) continue;
      if (state.failingRerankModels.has(model))
        warnings.push({
          knowledgeBaseId: id,
          code: "RERANK_FAILED",
          message: `The passages could not be reranked with ${model}: the model service did not answer; answered in retrieval order`,
          details: { model },
        });
      else reranked.set(model, [...(reranked.get(model) ?? []), id]);
    }
    return {
      ...(warnings.length > 0 ? { warnings } : {}),
      ...(reranked.size > 0
        ? { reranked: [...reranked].map(([model, knowledgeBaseIds]) => ({ model, knowledgeBaseIds })) }
        : {}),
    };
  };
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://x");
    const parts = url.pathname.split("/").filter(Boolean);
    const raw = await body(request);
    if (request.method === "GET" && url.pathname === "/v1/providers") {
      return send(response, 200, {
        providers: state.noProviders ? [] : [{ id: "fake", type: "searxng", enabled: true }],
      });
    }
    if (request.method === "POST" && url.pathname === "/v1/search") {
      const { query } = JSON.parse(raw.toString()) as { query: string };
      state.searches.push(query);
      if (state.noProviders)
        return send(response, 503, {
          error: { code: "SEARCH_NO_PROVIDERS", message: "No search provider is configured" },
        });
      if (state.searchError) {
        const { status, code, details, retryAfter } = state.searchError;
        response.writeHead(status, {
          "content-type": "application/json",
          ...(retryAfter ? { "retry-after": retryAfter } : {}),
        });
        response.end(
          JSON.stringify({ error: { code, message: `${code} (stand-in)`, ...(details ? { details } : {}) } }),
        );
        return;
      }
      if (state.failSearch)
        return send(response, 502, {
          error: {
            code: "SEARCH_ALL_PROVIDERS_FAILED",
            message: "No search provider answered; details.providers says why for each",
            details: { providers: [{ id: "fake", status: "error", latencyMs: 3, error: "HTTP 503" }] },
          },
        });
      return send(response, 200, {
        results: [
          {
            url: "https://example.org/hearth-news",
            title: "Hearth news",
            snippet: `News about ${query}`,
            content: `Latest: ${query} is popular.`,
            sources: ["fake"],
            score: 1,
          },
        ],
        providers: state.searchProviders ?? [{ id: "fake", status: "ok", latencyMs: 1, results: 1 }],
      });
    }
    if (request.method === "POST" && url.pathname === "/v1/query") {
      const input = JSON.parse(raw.toString()) as {
        knowledgeBaseIds: string[];
        query: string;
        topK?: number;
        minRelevance?: number;
        rerank?: boolean;
      };
      state.queries.push({ knowledgeBaseIds: input.knowledgeBaseIds, query: input.query });
      // As the real service: a base named twice is searched once, and one it lacks fails the query.
      const ids = [...new Set(input.knowledgeBaseIds)];
      if (ids.some((id) => !bases.has(id)))
        return send(response, 404, {
          error: { code: "KNOWLEDGE_BASE_NOT_FOUND", message: "no such knowledge base" },
        });
      return send(
        response,
        200,
        queryResponseSchema.parse({
          results: matchingPassages(ids, input.query, input.topK ?? 10, input.minRelevance),
          ...rerankOutcome(ids, input.rerank),
        }),
      );
    }
    if (parts[0] === "v1" && parts[1] === "jobs" && parts[2]) {
      const knowledgeBaseId = jobBases.get(parts[2]);
      if (parts[3] === "cancel") {
        const held = heldJobs.get(parts[2]);
        if (!held)
          return knowledgeBaseId === undefined
            ? send(response, 404, {
                error: { code: "JOB_NOT_FOUND", message: `No ingestion job ${parts[2]}` },
              })
            : send(response, 200, job(parts[2], knowledgeBaseId, "completed"));
        for (const document of held.documents)
          if (document.status !== "indexed")
            Object.assign(document, {
              status: "failed",
              error: {
                code: "JOB_CANCELLED",
                message: "The job was cancelled before this document was indexed",
              },
            });
        heldJobs.delete(parts[2]);
        return send(response, 200, job(parts[2], held.knowledgeBaseId, "cancelled"));
      }
      if (parts[3] === "events") {
        response.writeHead(200, { "content-type": "text/event-stream" });
        response.end(`data: ${JSON.stringify({ type: "done", jobId: parts[2] })}\n\n`);
        return;
      }
      if (knowledgeBaseId === undefined)
        return send(response, 404, {
          error: { code: "JOB_NOT_FOUND", message: `No ingestion job ${parts[2]}` },
        });
      return send(
        response,
        200,
        job(parts[2], knowledgeBaseId, heldJobs.has(parts[2]) ? "running" : "completed"),
      );
    }
    if (parts[0] === "v1" && parts[1] === "knowledge-bases") {
      const id = parts[2];
      if (state.knowledgeBaseError) {
        const { status, code, message } = state.knowledgeBaseError;
        return send(response, status, { error: { code, message } });
      }
      if (String(request.headers["content-type"]).startsWith("application/json") && raw.length > 0)
        state.knowledgeBaseBodies.push({
          method: request.method ?? "",
          path: url.pathname,
          body: JSON.parse(raw.toString()) as Record<string, unknown>,
        });
      if (!id && request.method === "POST") {
        const { name, watchFolder, embeddingModel, minRelevance, rerankModel, owner } = JSON.parse(
          raw.toString(),
        ) as {
          name: string;
          watchFolder?: string;
          embeddingModel?: string;
          minRelevance?: number;
          rerankModel?: string | null;
          owner?: string;
        };
        const refusal = settingsRefusal({ watchFolder, rerankModel });
        if (refusal) return send(response, refusal.status, { error: refusal.error });
        // As the real service: a name is its owner's once, however it is cased or spaced.
        const taken = [...bases.values()].some(
          (base) =>
            base.owner === (owner ?? null) && knowledgeBaseNameKey(base.name) === knowledgeBaseNameKey(name),
        );
        if (taken)
          return send(response, 409, {
            error: {
              code: "KNOWLEDGE_BASE_NAME_TAKEN",
              message: `A knowledge base named "${name}" already exists`,
            },
          });
        const createdAt = new Date().toISOString();
        const base: FakeBase = {
          id: randomUUID(),
          name,
          description: "",
          embeddingModel: embeddingModel ?? null,
          chunking: { maxTokens: 512, overlapTokens: 64 },
          watchFolder: watchFolder ?? null,
          minRelevance: minRelevance ?? 0,
          rerankModel: rerankModel ?? null,
          owner: owner ?? null,
          createdAt,
          updatedAt: createdAt,
          documents: [],
        };
        bases.set(base.id, base);
        return send(response, 201, view(base));
      }
      if (!id)
        return send(response, 200, {
          knowledgeBases: [...bases.values()].map(view),
          maxUploadBytes: state.maxUploadBytes,
        });
      const base = bases.get(id);
      if (!base)
        return send(response, 404, {
          error: { code: "KNOWLEDGE_BASE_NOT_FOUND", message: "no such knowledge base" },
        });
      if (parts.length === 3 && request.method === "GET") return send(response, 200, view(base));
      if (parts.length === 3 && request.method === "PATCH") {
        const patch = JSON.parse(raw.toString()) as Partial<
          Pick<
            FakeBase,
            | "name"
            | "description"
            | "embeddingModel"
            | "chunking"
            | "watchFolder"
            | "minRelevance"
            | "rerankModel"
          >
        >;
        const refusal = settingsRefusal(patch);
        if (refusal) return send(response, refusal.status, { error: refusal.error });
        const reindex = patch.embeddingModel !== undefined || patch.chunking !== undefined;
        const folderSet =
          state.readWatchFolders && !!patch.watchFolder && patch.watchFolder !== base.watchFolder;
        Object.assign(base, patch, { updatedAt: new Date().toISOString() });
        // As the real service: a folder set or changed is synced at once, its files mirrored as
        // documents from the folder (indexed here at once).
        const synced = folderSet ? { syncJobId: startJob(id, "completed").id } : {};
        if (folderSet)
          for (const name of readdirSync(patch.watchFolder!)) {
            const text = readFileSync(join(patch.watchFolder!, name), "utf8");
            const record = { ...documentRecord(id, name, text, "indexed", null), source: "folder" as const };
            base.documents.push({ record, text });
          }
        // As the real service: a new model or chunking starts a re-index job at once.
        return send(
          response,
          200,
          reindex
            ? { ...view(base), reindexJobId: startJob(id, "completed").id, ...synced }
            : { ...view(base), ...synced },
        );
      }
      if (parts.length === 3 && request.method === "DELETE") {
        bases.delete(id);
        response.writeHead(204).end();
        return;
      }
      if (parts[3] === "documents" && parts.length === 4 && request.method === "GET")
        return send(response, 200, { documents: base.documents.map((d) => listed(d.record)) });
      if (parts[3] === "documents" && parts.length === 4 && request.method === "POST") {
        // multipart: take each part's filename and text content
        const boundary = /boundary=(.+)$/.exec(String(request.headers["content-type"]))?.[1] ?? "";
        const documents = raw
          .toString("utf8")
          .split(`--${boundary}`)
          .filter((part) => part.includes("filename="))
          .map((part) => {
            const name = /filename="([^"]+)"/.exec(part)?.[1] ?? "file";
            const text = part.split("\r\n\r\n").slice(1).join("\r\n\r\n").replace(/\r\n$/, "");
            // A Windows executable, or a file over the limit, fails as the real service refuses it.
            const error = text.startsWith("MZ")
              ? {
                  code: "DOCUMENT_UNSUPPORTED_FORMAT",
                  message: `${JSON.stringify(name)} is a Windows executable, not a supported document type`,
                  details: { reason: "not-a-document", detected: "windows-executable" },
                }
              : Buffer.byteLength(text) > state.maxUploadBytes
                ? {
                    code: "DOCUMENT_TOO_LARGE",
                    message: `The file is larger than the limit of ${state.maxUploadBytes} bytes (knowledge.maxUploadBytes)`,
                    details: { maxBytes: state.maxUploadBytes },
                  }
                : null;
            const record = documentRecord(
              id,
              name,
              text,
              error ? "failed" : state.holdIngestion ? "queued" : "indexed",
              error,
            );
            return { record, text };
          });
        base.documents.push(...documents);
        const started = startJob(id, state.holdIngestion ? "running" : "completed");
        if (state.holdIngestion)
          heldJobs.set(started.id, { knowledgeBaseId: id, documents: documents.map((d) => d.record) });
        await state.beforeUploadAnswer?.();
        return send(response, 202, { job: started, documents: documents.map((d) => d.record) });
      }
      if (parts[3] === "documents" && parts[4] === "from-url" && request.method === "POST") {
        const { url } = JSON.parse(raw.toString()) as { url: string };
        const page = new URL(url);
        const text = state.webPages.get(page.href);
        const record = documentRecord(
          id,
          `${page.host}${page.pathname}`,
          text ?? "",
          text === undefined ? "failed" : "indexed",
          text === undefined
            ? {
                code: "URL_FETCH_FAILED",
                message: `${page.href} could not be fetched: connection refused`,
                details: { reason: "no-answer", host: page.hostname },
              }
            : null,
        );
        base.documents.push({ record, text: text ?? "" });
        return send(response, 202, { job: startJob(id, "completed") });
      }
      if (parts[3] === "documents" && parts[4]) {
        const document = base.documents.find((d) => d.record.id === parts[4]);
        if (!document)
          return send(response, 404, { error: { code: "DOCUMENT_NOT_FOUND", message: "no such document" } });
        if (parts[5] === "passages")
          return send(
            response,
            200,
            documentPassagesSchema.parse({
              document: document.record,
              passages: paragraphs(document.text).map((passage, ordinal) => ({
                id: `${document.record.id}-${ordinal}`,
                ordinal,
                text: passage.text,
                page: null,
                headingPath: [],
                charStart: passage.start,
                charEnd: passage.end,
              })),
            }),
          );
        if (parts[5] === "file") {
          // As the real service: a text document (an HTML page too, as its source) is plain UTF-8
          // text shown inline, under a sandbox policy.
          response.writeHead(200, {
            "content-type": "text/plain; charset=utf-8",
            "content-disposition": `inline; filename*=UTF-8''${encodeURIComponent(document.record.name)}`,
            ...(state.sandboxHeaders
              ? {
                  "x-content-type-options": "nosniff",
                  "content-security-policy": "default-src 'none'; sandbox",
                }
              : {}),
          });
          response.end(document.text);
          return;
        }
        if (request.method === "PATCH") {
          // As the real service: only `enabled` changes, and a document switched off is found by no query.
          const patch = updateDocumentRequestSchema.safeParse(JSON.parse(raw.toString() || "{}"));
          if (!patch.success)
            return send(response, 400, {
              error: { code: "INVALID_REQUEST", message: patch.error.issues[0]?.message ?? "invalid" },
            });
          document.record.enabled = patch.data.enabled;
          return send(response, 200, listed(document.record));
        }
        if (request.method === "DELETE") {
          base.documents = base.documents.filter((d) => d !== document);
          response.writeHead(204).end();
          return;
        }
        return send(response, 200, listed(document.record));
      }
      if (parts[3] === "query" && request.method === "POST") {
        const input = JSON.parse(raw.toString()) as {
          query: string;
          topK?: number;
          mode?: string;
          minRelevance?: number;
          rerank?: boolean;
        };
        state.queries.push({ knowledgeBaseIds: [id], query: input.query });
        const fullTextOnly = (code: string, message: string) => [{ knowledgeBaseId: id, code, message }];
        // As the real service answers for a base whose model cannot embed the query, or that has none.
        const warnings =
          input.mode === "lexical"
            ? undefined
            : base.embeddingModel
              ? fullTextOnly(
                  "EMBEDDING_FAILED",
                  `The query could not be embedded with ${base.embeddingModel}; searched on full text only`,
                )
              : input.mode === "hybrid"
                ? fullTextOnly(
                    "EMBEDDING_MODEL_REQUIRED",
                    `Knowledge base ${id} has no embedding model; searched on full text only`,
                  )
                : undefined;
        if (input.mode === "vector")
          return base.embeddingModel
            ? send(response, 502, {
                error: { code: "EMBEDDING_FAILED", message: warnings?.[0]?.message ?? "" },
              })
            : send(response, 400, {
                error: {
                  code: "EMBEDDING_MODEL_REQUIRED",
                  message: `Knowledge base ${id} has no embedding model; vector search needs one`,
                },
              });
        const reranking = rerankOutcome([id], input.rerank);
        const allWarnings = [...(warnings ?? []), ...(reranking.warnings ?? [])];
        return send(
          response,
          200,
          queryResponseSchema.parse({
            results: matchingPassages([id], input.query, input.topK ?? 10, input.minRelevance),
            ...reranking,
            ...(allWarnings.length > 0 ? { warnings: allWarnings } : {}),
          }),
        );
      }
      if (parts[3] === "sync") return send(response, 202, { job: startJob(id, "queued") });
      if (parts[3] === "reindex") {
        state.staleDocuments = 0;
        return send(response, 202, { job: startJob(id, "queued") });
      }
    }
    send(response, 404, { error: { code: "ROUTE_NOT_FOUND", message: "not found" } });
  });
  Object.assign(state, await listenOnLoopback(server));
  return state;
}
