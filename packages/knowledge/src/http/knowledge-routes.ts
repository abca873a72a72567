import type { MultipartFile } from "@fastify/multipart";
import {
  createKnowledgeBaseRequestSchema,
  fromUrlRequestSchema,
  type KnowledgeBase,
  multiQueryRequestSchema,
  queryRequestSchema,
  updateDocumentRequestSchema,
  updateKnowledgeBaseRequestSchema,
} from "@hearth/contracts";
import { HearthError } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { IndexBackend } from "../index/index-backend.js";
import type { BlobStore } from "../ingestion/blob-store.js";
import { indexedContentHash, settingsVersion } from "../ingestion/document-pipeline.js";
import { multipartFileName } from "../ingestion/file-name.js";
import { assertReadableFolder, assertWatchableFolder } from "../ingestion/folder-scan.js";
import type { IngestionService, UploadPart } from "../ingestion/ingestion-service.js";
import { decodeText } from "../parsing/text-parsers.js";
import type { QueryService } from "../query/query-service.js";
import { documentView, type KnowledgeBaseRecord, type KnowledgeStore } from "../store/knowledge-store.js";

export interface KnowledgeRouteDependencies {
  store: KnowledgeStore;
  ingestion: IngestionService;
  queries: QueryService;
  /** Where a document's chunks are read back from (its passages, for a citation to show in place). */
  backend: IndexBackend;
  blobs: BlobStore;
  defaults: { maxTokens: number; overlapTokens: number };
  /** Hearth's data directory, which no knowledge base may watch (nor a folder holding it). */
  dataDir: string;
  /**
   * The largest file an upload may hold (knowledge.maxUploadBytes): listed with the bases, so that
   * a page refuses a larger file before sending it.
   */
  maxUploadBytes: number;
  /**
   * Refuses an embedding model the model service does not have or cannot embed with (or cannot be
   * asked about): a base given one would fail every upload.
   */
  checkEmbeddingModel: (model: string) => Promise<void>;
  /**
   * Refuses a rerank model the model service does not have or cannot rerank with (or cannot be
   * asked about): a base given one would answer every query unreranked, with a warning.
   */
  checkRerankModel: (model: string) => Promise<void>;
}

const idParams = z.object({ id: z.string().min(1) });
const documentParams = z.object({ id: z.string().min(1), documentId: z.string().min(1) });

const reindexQuery = z.object({ all: z.enum(["true", "false"]).optional() });

/** Knowledge bases, documents and queries: transport only, the work is in the store and services. */
/** Stored documents shown in the browser as text (the content types the text parsers read). */
const TEXT_CONTENT_TYPES = new Set([
  "text/plain",
  "text/markdown",
  "text/csv",
  "text/html",
  "application/json",
]);

export function registerKnowledgeRoutes(
  app: FastifyInstance,
  dependencies: KnowledgeRouteDependencies,
): void {
  const {
    store,
    ingestion,
    queries,
    backend,
    blobs,
    defaults,
    dataDir,
    maxUploadBytes,
    checkEmbeddingModel,
    checkRerankModel,
  } = dependencies;
  const view = (knowledgeBase: KnowledgeBaseRecord): KnowledgeBase => ({
    ...knowledgeBase,
    staleDocumentCount: store.staleDocumentCount(knowledgeBase.id, settingsVersion(knowledgeBase)),
  });

  app.post("/v1/knowledge-bases", async (request, reply) => {
    const body = createKnowledgeBaseRequestSchema.parse(request.body);
    const chunking = {
      maxTokens: body.chunking?.maxTokens ?? defaults.maxTokens,
      overlapTokens: body.chunking?.overlapTokens ?? defaults.overlapTokens,
    };
    checkChunking(chunking);
    if (body.watchFolder) {
      assertWatchableFolder(body.watchFolder, dataDir);
      assertReadableFolder(body.watchFolder);
    }
    if (body.embeddingModel) await checkEmbeddingModel(body.embeddingModel);
    if (body.rerankModel) await checkRerankModel(body.rerankModel);
    const created = store.createKnowledgeBase({
      name: body.name,
      description: body.description ?? "",
      embeddingModel: body.embeddingModel ?? null,
      chunking,
      watchFolder: body.watchFolder ?? null,
      minRelevance: body.minRelevance ?? 0,
      rerankModel: body.rerankModel ?? null,
      owner: body.owner ?? null,
    });
    if (created.watchFolder) ingestion.syncFolder(created.id);
    return reply.code(201).send(view(store.getKnowledgeBase(created.id)));
  });

  app.get("/v1/knowledge-bases", async () => ({
    knowledgeBases: store.listKnowledgeBases().map(view),
    maxUploadBytes,
  }));

  app.get("/v1/knowledge-bases/:id", async (request) =>
    view(store.getKnowledgeBase(idParams.parse(request.params).id)),
  );

  app.patch("/v1/knowledge-bases/:id", async (request) => {
    const { id } = idParams.parse(request.params);
    const body = updateKnowledgeBaseRequestSchema.parse(request.body);
    const current = store.getKnowledgeBase(id);
    const chunking = { ...current.chunking, ...body.chunking };
    checkChunking(chunking);
    if (body.watchFolder) {
      assertWatchableFolder(body.watchFolder, dataDir);
      assertReadableFolder(body.watchFolder);
    }
    if (body.embeddingModel && body.embeddingModel !== current.embeddingModel)
      await checkEmbeddingModel(body.embeddingModel);
    if (body.rerankModel && body.rerankModel !== current.rerankModel)
      await checkRerankModel(body.rerankModel);
    const updated = store.updateKnowledgeBase(id, {
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.embeddingModel !== undefined ? { embeddingModel: body.embeddingModel } : {}),
      ...(body.watchFolder !== undefined ? { watchFolder: body.watchFolder } : {}),
      ...(body.minRelevance !== undefined ? { minRelevance: body.minRelevance } : {}),
      ...(body.rerankModel !== undefined ? { rerankModel: body.rerankModel } : {}),
      chunking,
    });
    // A folder set or changed is read at once, as a new base's is: its files are listed now, not
    // at the next scheduled sync.
    const syncJobId =
      body.watchFolder && body.watchFolder !== current.watchFolder ? ingestion.syncFolder(id).id : undefined;
    const synced = syncJobId ? { syncJobId } : {};
    // An admin changing how the base is indexed expects its documents to follow: re-index now.
    if (settingsVersion(updated) !== settingsVersion(current)) {
      const job = await ingestion.reindex(id, { restart: true });
      return { ...view(store.getKnowledgeBase(id)), reindexJobId: job.id, ...synced };
    }
    return { ...view(updated), ...synced };
  });

  app.delete("/v1/knowledge-bases/:id", async (request, reply) => {
    await ingestion.deleteKnowledgeBase(idParams.parse(request.params).id);
    return reply.code(204).send();
  });

  app.get("/v1/knowledge-bases/:id/documents", async (request) => {
    const { id } = idParams.parse(request.params);
    store.getKnowledgeBase(id);
    const jobs = store.pendingJobIds(id);
    return {
      documents: store.listDocuments(id).map((document) => documentView(document, jobs.get(document.id))),
    };
  });

  app.post("/v1/knowledge-bases/:id/documents", async (request, reply) => {
    const { id } = idParams.parse(request.params);
    store.getKnowledgeBase(id);
    if (!request.isMultipart())
      throw new HearthError(
        "UNSUPPORTED_MEDIA_TYPE",
        'Upload documents as multipart/form-data with one or more "file" parts',
      );
    const parts = async function* (): AsyncGenerator<UploadPart> {
      for await (const part of request.parts()) {
        if (part.type !== "file") continue;
        const file = part as MultipartFile;
        if (file.fieldname !== "file") {
          file.file.resume();
          continue;
        }
        yield { filename: multipartFileName(file.filename), file: file.file };
      }
    };
    const accepted = await ingestion.acceptUploads(id, parts());
    return reply.code(202).send(accepted);
  });

  app.post("/v1/knowledge-bases/:id/documents/from-url", async (request, reply) => {
    const { id } = idParams.parse(request.params);
    const { url } = fromUrlRequestSchema.parse(request.body);
    return reply.code(202).send({ job: ingestion.ingestUrl(id, url) });
  });

  app.get("/v1/knowledge-bases/:id/documents/:documentId", async (request) => {
    const { id, documentId } = documentParams.parse(request.params);
    const document = store.getDocument(id, documentId);
    return documentView(document, store.pendingJobIds(id, documentId).get(documentId));
  });

  /**
   * Switches a document off for retrieval, or on again, at once: its chunks stay in the index (no
   * re-index), and queries leave out those of documents switched off. Only `enabled` can change.
   */
  app.patch("/v1/knowledge-bases/:id/documents/:documentId", async (request) => {
    const { id, documentId } = documentParams.parse(request.params);
    const { enabled } = updateDocumentRequestSchema.parse(request.body);
    const document = store.setDocumentEnabled(id, documentId, enabled);
    return documentView(document, store.pendingJobIds(id, documentId).get(documentId));
  });

  app.delete("/v1/knowledge-bases/:id/documents/:documentId", async (request, reply) => {
    const { id, documentId } = documentParams.parse(request.params);
    await ingestion.deleteDocument(id, documentId);
    return reply.code(204).send();
  });

  app.get("/v1/knowledge-bases/:id/documents/:documentId/file", async (request, reply) => {
    const { id, documentId } = documentParams.parse(request.params);
    const document = store.getDocument(id, documentId);
    const hash = indexedContentHash(document.indexedHash) ?? document.contentHash;
    if (!hash || !(await blobs.exists(id, documentId, hash)))
      throw new HearthError("DOCUMENT_NOT_FOUND", "The document's file is not stored");
    let bytes: Uint8Array = await blobs.read(id, documentId, hash);
    // A citation opens its document in the browser: PDFs inline (a citation can link to
    // `.../file#page=N`), and text formats inline as plain UTF-8 text, whatever they were saved in
    // (GB18030 too), an HTML page as its source (it must never run scripts on the service's
    // origin). Office files and anything else are attachments; the sandbox policy applies either way.
    let contentType = document.contentType;
    let disposition = contentType === "application/pdf" ? "inline" : "attachment";
    if (TEXT_CONTENT_TYPES.has(contentType.split(";")[0]!.trim())) {
      try {
        bytes = Buffer.from(decodeText(bytes), "utf8");
        contentType = "text/plain; charset=utf-8";
        disposition = "inline";
      } catch {
        // Not decodable as text after all: downloaded as stored.
      }
    }
    return reply
      .header("content-type", contentType)
      .header(
        "content-disposition",
        `${disposition}; filename*=UTF-8''${encodeURIComponent(document.name.split("/").at(-1) ?? "document")}`,
      )
      .header("x-content-type-options", "nosniff")
      .header("content-security-policy", "default-src 'none'; sandbox")
      .send(bytes);
  });

  /**
   * A document's passages (its chunks as indexed, in order): the text a citation quotes, in its
   * place in the document, for the web UI to show a cited passage among the ones around it.
   */
  app.get("/v1/knowledge-bases/:id/documents/:documentId/passages", async (request) => {
    const { id, documentId } = documentParams.parse(request.params);
    store.getKnowledgeBase(id);
    const document = store.getDocument(id, documentId);
    const chunks = await backend.listChunks(id, documentId);
    return {
      document: documentView(document),
      passages: chunks.map((chunk) => ({
        id: chunk.id,
        ordinal: chunk.ordinal,
        text: chunk.text,
        page: chunk.page ?? null,
        headingPath: chunk.headingPath,
        charStart: chunk.charStart,
        charEnd: chunk.charEnd,
      })),
    };
  });

  app.post("/v1/knowledge-bases/:id/sync", async (request, reply) => {
    const { id } = idParams.parse(request.params);
    return reply.code(202).send({ job: ingestion.syncFolder(id) });
  });

  app.post("/v1/knowledge-bases/:id/reindex", async (request, reply) => {
    const { id } = idParams.parse(request.params);
    const { all } = reindexQuery.parse(request.query);
    return reply.code(202).send({ job: await ingestion.reindex(id, { all: all === "true" }) });
  });

  app.post("/v1/knowledge-bases/:id/query", async (request) => {
    const { id } = idParams.parse(request.params);
    const body = queryRequestSchema.parse(request.body);
    return queries.query({
      knowledgeBaseIds: [id],
      query: body.query,
      topK: body.topK,
      ...(body.filters ? { filters: body.filters } : {}),
      ...(body.mode ? { mode: body.mode } : {}),
      ...(body.minRelevance !== undefined ? { minRelevance: body.minRelevance } : {}),
      ...(body.rerank !== undefined ? { rerank: body.rerank } : {}),
    });
  });

  app.post("/v1/query", async (request) => {
    const body = multiQueryRequestSchema.parse(request.body);
    return queries.query({
      knowledgeBaseIds: body.knowledgeBaseIds,
      query: body.query,
      topK: body.topK,
      ...(body.filters ? { filters: body.filters } : {}),
      ...(body.mode ? { mode: body.mode } : {}),
      ...(body.minRelevance !== undefined ? { minRelevance: body.minRelevance } : {}),
      ...(body.rerank !== undefined ? { rerank: body.rerank } : {}),
    });
  });
}

function checkChunking(chunking: { maxTokens: number; overlapTokens: number }): void {
  if (chunking.overlapTokens >= chunking.maxTokens) {
    throw new HearthError(
      "INVALID_REQUEST",
      "chunking.overlapTokens must be smaller than chunking.maxTokens",
      {
        details: {
          issues: [
            { path: "chunking.overlapTokens", code: "custom", message: "smaller than chunking.maxTokens" },
          ],
        },
      },
    );
  }
}
