import { createHash } from "node:crypto";
import { setImmediate as nextTurn } from "node:timers/promises";
import { HearthError } from "@hearth/core";
import { type ChunkedDocument, chunkDocument } from "../chunking/chunk-document.js";
import { cleanDocument } from "../cleaning/clean-document.js";
import type { EmbeddingClient } from "../embedding/embedding-client.js";
import type { ChunkRecord, IndexBackend } from "../index/index-backend.js";
import { searchableText } from "../index/searchable-text.js";
import { detectFormat } from "../parsing/detect-format.js";
import { parseDocument } from "../parsing/parse-document.js";
import {
  CONTENT_TYPES,
  type DocumentFormat,
  type PagesRead,
  type ParsedDocument,
} from "../parsing/parsed-document.js";
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
 * processing version, raised when parsing, cleaning or term analysis changes what gets indexed (v2:
 * code keeps its indentation, numbered running headers removed, letter-spaced Chinese joined; v3:
 * PDF font sizes read on pages with unmapped glyphs, body text, table rows and figure labels no
 * longer taken as headings, documentName metadata; v4: run-end terms, so that a query of one
 * Chinese character finds it at the end of a word too; v5: a PDF paragraph repeated on another page
 * kept on that page, a line at a page's edge removed only when its numbers are the same on every
 * page or follow the page number; v6: HTML read as laid out, blocks, cells and line breaks apart,
 * loose text beside blocks kept as a paragraph, a page without <body> or a bare fragment read, a
 * table inside a cell read once, a page too deep or large for Readability read from its container;
 * v7: an HTML page's <h1> kept at level 1 through Readability, and kept when it repeats the title,
 * so the page's <h2> sections are under it in heading paths; v8: terms stored in text order with
 * junction terms where Chinese meets a number or a Latin word, so that a phrase such as "第24条" or
 * "5G网络" matches as written), so a document is re-indexed whole on its next sync or upload, or by a re-index job (POST
 * /v1/knowledge-bases/{id}/reindex, started too when a base's model or chunking changes).
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
  const settings = `${knowledgeBase.embeddingModel ?? ""}|${knowledgeBase.chunking.maxTokens}|${knowledgeBase.chunking.overlapTokens}|v8`;
  return createHash("sha256").update(settings).digest("hex").slice(0, 12);
}

function chunkId(documentId: string, ordinal: number, contentHash: string): string {
  return createHash("sha256")
    .update(`${documentId}\u0000${ordinal}\u0000${contentHash}`)
    .digest("hex")
    .slice(0, 32);
}

/**
 * Parses bytes with the right parser: Tika when chosen or needed, a worker thread for big files;
 * `onPages` is told how many pages of a PDF the built-in parser has read.
 */
export async function parseBytes(
  dependencies: Pick<PipelineDependencies, "parsers" | "settings">,
  name: string,
  bytes: Uint8Array,
  signal?: AbortSignal,
  onPages?: PagesRead,
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
      { details: { reason: "no-parser" } },
    );
  }
  const options = { maxExtractedBytes: settings.maxExtractedBytes };
  const document =
    bytes.length >= settings.workerThresholdBytes
      ? await dependencies.parsers.parse(format, bytes, options, signal, onPages)
      : await parseDocument(format, bytes, options, undefined, onPages);
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
 * Parses, cleans and chunks bytes. A big file goes to a parser thread that does all three at once,
 * so its parsed document (tens of megabytes of blocks) is never copied to this thread and back;
 * Tika, small files and PDFs shared out over several threads go through parseBytes and
 * prepareChunksFor. `onPages` is told how many pages of a PDF are read.
 */
export async function parseAndChunk(
  dependencies: Pick<PipelineDependencies, "parsers" | "settings">,
  name: string,
  bytes: Uint8Array,
  knowledgeBase: KnowledgeBaseRecord,
  signal?: AbortSignal,
  onPages?: PagesRead,
): Promise<{ chunked: Pick<ChunkedDocument, "chunks">; contentType: string; title?: string }> {
  const { settings, parsers } = dependencies;
  const format = bytes.length > 0 ? detectFormat(name, bytes) : undefined;
  const whole =
    format !== undefined &&
    !(settings.tikaUrl && settings.tikaForAll) &&
    bytes.length >= settings.workerThresholdBytes &&
    !parsers.splits(format, bytes.length);
  if (whole) {
    const options = { maxExtractedBytes: settings.maxExtractedBytes };
    const { chunks, title } = await parsers.parseChunks(
      format,
      bytes,
      options,
      knowledgeBase.chunking,
      signal,
      onPages,
    );
    return {
      chunked: { chunks },
      contentType: CONTENT_TYPES[format],
      ...(title !== undefined ? { title } : {}),
    };
  }
  const { document, contentType } = await parseBytes(dependencies, name, bytes, signal, onPages);
  if (signal?.aborted) throw signal.reason;
  const chunked = await prepareChunksFor(dependencies, document, knowledgeBase, signal);
  return { chunked, contentType, ...(document.title !== undefined ? { title: document.title } : {}) };
}

/**
 * Chunks written per index call, at most: a big document is written in slices with a turn of the
 * event loop between them. A slice also stops at WRITE_BATCH_CHARS of searchable text: writing the
 * terms of 128 chunks of Chinese (words and bigrams) to SQLite's FTS5 held the loop 0.2-2 s.
 */
export const WRITE_BATCH = 128;
export const WRITE_BATCH_CHARS = 16 * 1024;

/**
 * When the chunks to write hold this many characters or more, their full-text terms are analysed in
 * a parser thread, batch by batch (jieba took most of a second for 128 chunks of Chinese, on the
 * event loop); fewer are analysed by the index as it writes them.
 */
export const ANALYZE_OFF_THREAD_CHARS = 64 * 1024;

/** Chunks turned into index records per turn of the event loop. */
const RECORDS_PER_TURN = 2048;

/** Within-document progress: texts embedded, then chunks written to the index, of how many. */
export interface IndexProgress {
  phase: "embedding" | "indexing";
  done: number;
  total: number;
}

/** The index's records for a chunked document: ids from document, position and content. */
export function toChunkRecords(input: {
  knowledgeBase: Pick<KnowledgeBaseRecord, "id">;
  documentId: string;
  documentTitle: string;
  chunked: Pick<ChunkedDocument, "chunks">;
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
    chunked: Pick<ChunkedDocument, "chunks">;
    metadata: Record<string, string | number | boolean>;
    onStage: (stage: PipelineStage) => void;
    /** Called as texts are embedded and chunks written (often: the caller throttles). */
    onProgress?: (progress: IndexProgress) => void;
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
  // Ids are hashes: tens of thousands of chunks are turned into records a slice per turn.
  const records: ChunkRecord[] = [];
  for (let start = 0; start < input.chunked.chunks.length; start += RECORDS_PER_TURN) {
    if (start > 0) await nextTurn();
    if (input.signal?.aborted) throw input.signal.reason;
    const chunks = input.chunked.chunks.slice(start, start + RECORDS_PER_TURN);
    for (const record of toChunkRecords({ ...input, chunked: { chunks } })) records.push(record);
  }
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
      // Reported at once: the first batch can take a minute on a CPU.
      input.onProgress?.({ phase: "embedding", done: 0, total: missing.length });
      const vectors = await embeddings.embed(
        model,
        missing.map(([, text]) => text),
        input.signal,
        (done) => input.onProgress?.({ phase: "embedding", done, total: missing.length }),
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
  // Terms of the next batch are analysed in a parser thread while this one is written.
  const batches = writeBatches(fresh);
  let freshChars = 0;
  for (const record of fresh) freshChars += record.text.length;
  const analyse = (batch: ChunkRecord[] | undefined) =>
    batch && freshChars >= ANALYZE_OFF_THREAD_CHARS
      ? analyseOffThread(dependencies.parsers, batch, input.signal)
      : undefined;
  let next = analyse(batches[0]);
  let written = 0;
  input.onProgress?.({ phase: "indexing", done: 0, total: fresh.length });
  for (const [index, batch] of batches.entries()) {
    await next;
    next = analyse(batches[index + 1]);
    // Settled later; a failure here must not go unhandled meanwhile.
    next?.catch(() => {});
    if (index > 0) await nextTurn();
    if (input.signal?.aborted) throw input.signal.reason;
    // Recorded before the write: a write that fails half-way may have stored some of them.
    for (const record of batch) if (!existing.has(record.id)) input.written?.push(record.id);
    await backend.upsertChunks(batch);
    written += batch.length;
    input.onProgress?.({ phase: "indexing", done: written, total: fresh.length });
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

/** Splits records into write batches: WRITE_BATCH chunks or WRITE_BATCH_CHARS of text at most. */
export function writeBatches(records: readonly ChunkRecord[]): ChunkRecord[][] {
  const batches: ChunkRecord[][] = [];
  let batch: ChunkRecord[] = [];
  let chars = 0;
  for (const record of records) {
    const length = record.documentTitle.length + record.text.length;
    if (batch.length > 0 && (batch.length >= WRITE_BATCH || chars + length > WRITE_BATCH_CHARS)) {
      batches.push(batch);
      batch = [];
      chars = 0;
    }
    batch.push(record);
    chars += length;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Fills in the batch's analyzedTerms in a parser thread. */
async function analyseOffThread(
  parsers: ParserPool,
  batch: ChunkRecord[],
  signal: AbortSignal | undefined,
): Promise<void> {
  const terms = await parsers.analyze(
    batch.map((record) => searchableText(record)),
    signal,
  );
  for (const [index, record] of batch.entries()) record.analyzedTerms = terms[index]!;
}
