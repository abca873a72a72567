import { createHash } from "node:crypto";
import { setImmediate as nextTurn } from "node:timers/promises";
import { HearthError } from "@hearth/core";
import { type ChunkedDocument, chunkDocument } from "../chunking/chunk-document.js";
import { cleanDocument } from "../cleaning/clean-document.js";
import type { EmbeddingClient } from "../embedding/embedding-client.js";
import type { ChunkRecord, IndexBackend } from "../index/index-backend.js";
import { detectFormat } from "../parsing/detect-format.js";
import { parseDocument } from "../parsing/parse-document.js";
import { CONTENT_TYPES, type DocumentFormat, type ParsedDocument } from "../parsing/parsed-document.js";
import type { ParserPool } from "../parsing/parser-pool.js";
import { parseWithTika } from "../parsing/tika-parser.js";
import type { KnowledgeBaseRecord, KnowledgeStore } from "../store/knowledge-store.js";

export interface PipelineSettings {
  maxExtractedBytes: number;
  workerThresholdBytes: number;
  tikaUrl: string | undefined;
  tikaForAll: boolean;
}

export interface PipelineDependencies {
  store: KnowledgeStore;
  backend: IndexBackend;
  parsers: ParserPool;
  embeddings: EmbeddingClient;
  settings: PipelineSettings;
}

export type PipelineStage = "parsing" | "embedding";

/** What indexing a document produced. */
export interface IndexOutcome {
  chunkCount: number;
  /** Chunks written to the index (new or changed); unchanged chunks are left alone. */
  chunksWritten: number;
  /** Texts sent to the embedding model (cache misses only). */
  textsEmbedded: number;
  chunksDeleted: number;
}

/**
 * Everything a document's indexed form depends on: its bytes, the knowledge base's settings and the
 * processing version, raised when cleaning or term analysis changes what gets indexed (v2: code keeps
 * its indentation, numbered running headers removed, letter-spaced Chinese joined; v3: PDF font sizes
 * read on pages with unmapped glyphs, body text, table rows and figure labels no longer taken as
 * headings, documentName metadata), so a document is re-indexed whole on its next sync or upload, or by a re-index job
 * (POST /v1/knowledge-bases/{id}/reindex, started too when a base's model or chunking changes).
 */
export function indexedVersion(contentSha256: string, knowledgeBase: KnowledgeBaseRecord): string {
  return `${contentSha256}:${settingsVersion(knowledgeBase)}`;
}

/** The content hash part of an indexed version (`<sha256>:<settings>`); undefined for none. */
export function indexedContentHash(indexedHash: string | null | undefined): string | undefined {
  return indexedHash ? indexedHash.split(":")[0] : undefined;
}

/** The settings part of an indexed version (`<sha256>:<settings>`); undefined for none. */
export function indexedSettings(indexedHash: string | null | undefined): string | undefined {
  return indexedHash ? indexedHash.split(":")[1] : undefined;
}

/**
 * The part of indexedVersion() that does not depend on the bytes: a document whose indexed version
 * ends otherwise was indexed under other settings or an older processing, and is stale.
 */
export function settingsVersion(
  knowledgeBase: Pick<KnowledgeBaseRecord, "embeddingModel" | "chunking">,
): string {
  const settings = `${knowledgeBase.embeddingModel ?? ""}|${knowledgeBase.chunking.maxTokens}|${knowledgeBase.chunking.overlapTokens}|v3`;
  return createHash("sha256").update(settings).digest("hex").slice(0, 12);
}

function chunkId(documentId: string, ordinal: number, contentHash: string): string {
  return createHash("sha256")
    .update(`${documentId}\u0000${ordinal}\u0000${contentHash}`)
    .digest("hex")
    .slice(0, 32);
}

/** Parses bytes with the right parser: Tika when chosen or needed, a worker thread for big files. */
export async function parseBytes(
  dependencies: Pick<PipelineDependencies, "parsers" | "settings">,
  name: string,
  bytes: Uint8Array,
  signal?: AbortSignal,
): Promise<{ document: ParsedDocument; contentType: string }> {
  if (bytes.length === 0) throw new HearthError("DOCUMENT_EMPTY", "The file is empty (0 bytes)");
  const { settings } = dependencies;
  // A type mismatch stays an error even with Tika: the bytes contradict the name.
  const format: DocumentFormat | undefined = detectFormat(name, bytes);
  if (settings.tikaUrl && (settings.tikaForAll || !format)) {
    return {
      document: await parseWithTika(settings.tikaUrl, bytes, name, signal),
      contentType: format ? CONTENT_TYPES[format] : "application/octet-stream",
    };
  }
  if (!format) {
    throw new HearthError(
      "DOCUMENT_UNSUPPORTED_FORMAT",
      `No built-in parser reads "${name}"; configure HEARTH_TIKA_URL to parse more formats`,
    );
  }
  const options = { maxExtractedBytes: settings.maxExtractedBytes };
  const document =
    bytes.length >= settings.workerThresholdBytes
      ? await dependencies.parsers.parse(format, bytes, options, signal)
      : await parseDocument(format, bytes, options);
  return { document, contentType: CONTENT_TYPES[format] };
}

/** Cleans and chunks a parsed document with the knowledge base's settings. */
export function prepareChunks(document: ParsedDocument, knowledgeBase: KnowledgeBaseRecord): ChunkedDocument {
  return chunkDocument(cleanDocument(document), knowledgeBase.chunking);
}

/**
 * prepareChunks off the event loop for big documents: text at or above the worker threshold is
 * cleaned and chunked in a parser thread (30 MB of text takes seconds; on the event loop that
 * would stall health checks and shutdown), smaller documents here.
 */
export async function prepareChunksFor(
  dependencies: Pick<PipelineDependencies, "parsers" | "settings">,
  document: ParsedDocument,
  knowledgeBase: KnowledgeBaseRecord,
  signal?: AbortSignal,
): Promise<ChunkedDocument> {
  let length = 0;
  for (const block of document.blocks) length += block.text.length;
  if (length < dependencies.settings.workerThresholdBytes) return prepareChunks(document, knowledgeBase);
  return dependencies.parsers.prepare(document, { ...knowledgeBase.chunking }, signal);
}

/**
 * Chunks written per index call: the SQLite index analyses and writes them synchronously, so a big
 * document is written in slices with a turn of the event loop between them.
 */
const WRITE_BATCH = 128;

/** The index's records for a chunked document: ids from document, position and content. */
export function toChunkRecords(input: {
  knowledgeBase: Pick<KnowledgeBaseRecord, "id">;
  documentId: string;
  documentTitle: string;
  chunked: ChunkedDocument;
  metadata: Record<string, string | number | boolean>;
}): ChunkRecord[] {
  const { knowledgeBase, documentId } = input;
  return input.chunked.chunks.map((chunk) => ({
    id: chunkId(documentId, chunk.ordinal, chunk.contentHash),
    knowledgeBaseId: knowledgeBase.id,
    documentId,
    ordinal: chunk.ordinal,
    text: chunk.text,
    contentHash: chunk.contentHash,
    documentTitle: input.documentTitle,
    ...(chunk.page !== undefined ? { page: chunk.page } : {}),
    headingPath: chunk.headingPath,
    charStart: chunk.charStart,
    charEnd: chunk.charEnd,
    // The file name, to filter by: metadata.title is the title the file itself declares.
    metadata: { ...input.metadata, documentName: input.documentTitle },
  }));
}

/**
 * Writes a document's chunks to the index incrementally: chunks whose id (document, position,
 * content) is already indexed are kept as they are; only new ones are embedded (an embedding cache
 * keyed by content hash spares text that merely moved) and written; stale ones are deleted. Every
 * step is idempotent, so a run interrupted anywhere and run again leaves no duplicate.
 */
export async function indexChunks(
  dependencies: PipelineDependencies,
  input: {
    knowledgeBase: KnowledgeBaseRecord;
    documentId: string;
    documentTitle: string;
    chunked: ChunkedDocument;
    metadata: Record<string, string | number | boolean>;
    onStage: (stage: PipelineStage) => void;
    /** Re-write every chunk (the embedding model or chunking settings changed). */
    replaceAll?: boolean;
    signal?: AbortSignal;
    /**
     * Filled with the ids of the chunks this run adds to the index (not those it rewrites): when the
     * run is cancelled or fails, the caller removes them, so no partial version stays behind.
     */
    written?: string[];
  },
): Promise<IndexOutcome> {
  const { store, backend, embeddings } = dependencies;
  const { knowledgeBase, documentId } = input;
  const records = toChunkRecords(input);
  const existing = await backend.listChunkHashes(knowledgeBase.id, documentId);
  const wanted = new Set(records.map((record) => record.id));
  // A chunk id covers document, position and content; an indexed chunk with the same id is unchanged,
  // unless the embedding model changed (then the version check upstream re-indexes everything).
  const fresh = input.replaceAll
    ? records
    : records.filter((record) => existing.get(record.id) !== record.contentHash);
  let textsEmbedded = 0;
  if (knowledgeBase.embeddingModel && fresh.length > 0) {
    input.onStage("embedding");
    const model = knowledgeBase.embeddingModel;
    const cached = store.cachedEmbeddings(model, [...new Set(fresh.map((record) => record.contentHash))]);
    const missing = [
      ...new Map(
        fresh
          .filter((record) => !cached.has(record.contentHash))
          .map((record) => [record.contentHash, record.text]),
      ).entries(),
    ];
    if (missing.length > 0) {
      const vectors = await embeddings.embed(
        model,
        missing.map(([, text]) => text),
        input.signal,
      );
      const computed = new Map<string, Float32Array>();
      for (const [index, [hash]] of missing.entries()) computed.set(hash, vectors[index]!);
      store.cacheEmbeddings(model, computed);
      for (const [hash, vector] of computed) cached.set(hash, vector);
      textsEmbedded = missing.length;
    }
    for (const record of fresh) record.embedding = cached.get(record.contentHash)!;
  }
  if (input.signal?.aborted) throw new HearthError("JOB_CANCELLED", "The job was cancelled");
  for (let start = 0; start < fresh.length; start += WRITE_BATCH) {
    if (start > 0) {
      await nextTurn();
      if (input.signal?.aborted) throw input.signal.reason;
    }
    const batch = fresh.slice(start, start + WRITE_BATCH);
    // Recorded before the write: a write that fails half-way may have stored some of them.
    for (const record of batch) if (!existing.has(record.id)) input.written?.push(record.id);
    await backend.upsertChunks(batch);
  }
  const stale = [...existing.keys()].filter((id) => !wanted.has(id));
  if (stale.length > 0) await backend.deleteChunks(stale);
  return {
    chunkCount: records.length,
    chunksWritten: fresh.length,
    textsEmbedded,
    chunksDeleted: stale.length,
  };
}
