import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import {
  type ChunkingSettings,
  type DocumentError,
  type DocumentStatus,
  type IngestionJob,
  type JobCounts,
  type JobDocumentProgress,
  type JobStatus,
  type KnowledgeBase,
  type KnowledgeDocument,
  knowledgeBaseNameKey,
} from "@hearth/contracts";
import {
  describeSqliteOpenError,
  HearthError,
  type Logger,
  type MigrationResult,
  nameDamagedSqlite,
  PRIVATE_DIR,
  probeSqliteWrite,
  runMigrations,
} from "@hearth/core";
import Database from "better-sqlite3";
import { KNOWLEDGE_MIGRATIONS } from "./migrations.js";

export type DocumentSource = "upload" | "folder" | "url";
export type JobKind = "upload" | "sync" | "url" | "reindex";
export type JobDocumentStatus = DocumentStatus | "skipped" | "deleted";

/** A knowledge base row with the fields the pipeline needs beyond the wire shape. */
export interface KnowledgeBaseRecord extends KnowledgeBase {
  watchFolder: string | null;
}

/** A document row: the wire shape plus what ingestion tracks. */
export interface DocumentRecord extends KnowledgeDocument {
  sourceKey: string;
  contentHash: string | null;
  /** Hash of the bytes (and settings) whose chunks are in the index now. */
  indexedHash: string | null;
}

export interface NewKnowledgeBase {
  name: string;
  description: string;
  embeddingModel: string | null;
  chunking: ChunkingSettings;
  watchFolder: string | null;
  /** The least relevance the base's query results need; 0 (the default) holds none back. */
  minRelevance?: number;
  /** The model that reranks the base's query results; null or absent (the default): none. */
  rerankModel?: string | null;
  /** Who the base belongs to (opaque); its name is unique among that owner's bases. */
  owner?: string | null;
}

const now = () => new Date().toISOString();
export const newId = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, "").slice(0, 20)}`;

interface KnowledgeBaseRow {
  id: string;
  name: string;
  description: string;
  embedding_model: string | null;
  chunk_max_tokens: number;
  chunk_overlap_tokens: number;
  watch_folder: string | null;
  min_relevance: number;
  rerank_model: string | null;
  last_indexed_at: string | null;
  created_at: string;
  updated_at: string;
  document_count: number;
  indexed_document_count: number;
}
interface DocumentRow {
  id: string;
  knowledge_base_id: string;
  name: string;
  source: DocumentSource;
  source_key: string;
  status: DocumentStatus;
  error_code: string | null;
  error_message: string | null;
  error_details: string | null;
  size_bytes: number;
  chunk_count: number;
  content_type: string;
  content_hash: string | null;
  indexed_hash: string | null;
  progress: string | null;
  enabled: number;
  created_at: string;
  updated_at: string;
}
interface JobRow {
  id: string;
  knowledge_base_id: string;
  kind: JobKind;
  status: JobStatus;
  error_code: string | null;
  error_message: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}
interface JobDocumentRow {
  job_id: string;
  document_id: string;
  name: string;
  status: JobDocumentStatus;
  error_code: string | null;
  error_message: string | null;
  error_details: string | null;
  progress: string | null;
}

export interface OpenKnowledgeStoreOptions {
  /** The SQLite file, inside `dataDir` (normally `<dataDir>/knowledge/knowledge.db`). */
  path: string;
  /** The data directory (HEARTH_DATA_DIR): the pre-migration backup goes to `<dataDir>/backups`. */
  dataDir: string;
  logger?: Logger;
  /** better-sqlite3's open options (tests open the file read-only, as a file this user cannot write opens). */
  sqlite?: Database.Options;
}

/**
 * Relational state of the knowledge service (knowledge bases, documents, jobs, the embedding cache)
 * in SQLite under `<dataDir>/knowledge/`. Every write is one statement or one transaction, so a
 * crash leaves either the old row or the new one.
 */
export class KnowledgeStore {
  readonly #db: Database.Database;
  /** What opening did to the schema: the steps applied and the backup taken before them. */
  readonly migration: MigrationResult;

  /**
   * Opens the store, first bringing its schema up to date with core's migration runner (an
   * existing database is backed up before any pending step runs; one newer than this code is
   * refused with SCHEMA_TOO_NEW).
   */
  static async open(options: OpenKnowledgeStoreOptions): Promise<KnowledgeStore> {
    mkdirSync(dirname(options.path), PRIVATE_DIR);
    // A file this user cannot write, or a damaged one, is named with its fix rather than surfacing
    // as SQLite's bare message (or, for the pragmas below, an internal error).
    const described = (error: unknown) => describeSqliteOpenError(options.path, error) ?? error;
    const migration = await runMigrations({
      databasePath: options.path,
      dataDir: options.dataDir,
      migrations: KNOWLEDGE_MIGRATIONS,
      ...(options.logger ? { logger: options.logger } : {}),
    }).catch((error: unknown) => {
      throw described(error);
    });
    let db: Database.Database | undefined;
    try {
      db = new Database(options.path, { ...options.sqlite, fileMustExist: true });
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      db.pragma("busy_timeout = 5000");
      probeSqliteWrite(db);
    } catch (error) {
      db?.close();
      throw described(error);
    }
    return new KnowledgeStore(nameDamagedSqlite(db, options.path), migration);
  }

  private constructor(db: Database.Database, migration: MigrationResult) {
    this.migration = migration;
    this.#db = db;
  }

  close(): void {
    this.#db.close();
  }

  // Knowledge bases

  createKnowledgeBase(input: NewKnowledgeBase): KnowledgeBaseRecord {
    const id = newId("kb");
    const at = now();
    try {
      this.#db
        .prepare(
          `INSERT INTO knowledge_bases (id, name, name_key, owner, description, embedding_model, chunk_max_tokens, chunk_overlap_tokens, watch_folder, min_relevance, rerank_model, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          input.name,
          knowledgeBaseNameKey(input.name),
          input.owner ?? null,
          input.description,
          input.embeddingModel,
          input.chunking.maxTokens,
          input.chunking.overlapTokens,
          input.watchFolder,
          input.minRelevance ?? 0,
          input.rerankModel ?? null,
          at,
          at,
        );
    } catch (error) {
      throw this.#nameTaken(error, input.name);
    }
    return this.getKnowledgeBase(id);
  }

  listKnowledgeBases(): KnowledgeBaseRecord[] {
    const rows = this.#db.prepare(`${KB_SELECT} ORDER BY kb.created_at, kb.id`).all() as KnowledgeBaseRow[];
    return rows.map(toKnowledgeBase);
  }

  findKnowledgeBase(id: string): KnowledgeBaseRecord | undefined {
    const row = this.#db.prepare(`${KB_SELECT} WHERE kb.id = ?`).get(id) as KnowledgeBaseRow | undefined;
    return row ? toKnowledgeBase(row) : undefined;
  }

  getKnowledgeBase(id: string): KnowledgeBaseRecord {
    const found = this.findKnowledgeBase(id);
    if (!found) throw new HearthError("KNOWLEDGE_BASE_NOT_FOUND", `No knowledge base ${id}`);
    return found;
  }

  updateKnowledgeBase(id: string, patch: Partial<NewKnowledgeBase>): KnowledgeBaseRecord {
    const current = this.getKnowledgeBase(id);
    const next = { ...current, ...patch, chunking: { ...current.chunking, ...patch.chunking } };
    try {
      this.#db
        .prepare(
          `UPDATE knowledge_bases SET name = ?, name_key = CASE WHEN name = ? THEN name_key ELSE ? END, description = ?,
           embedding_model = ?, chunk_max_tokens = ?, chunk_overlap_tokens = ?, watch_folder = ?, min_relevance = ?,
           rerank_model = ?, updated_at = ? WHERE id = ?`,
        )
        .run(
          next.name,
          next.name,
          knowledgeBaseNameKey(next.name),
          next.description,
          next.embeddingModel,
          next.chunking.maxTokens,
          next.chunking.overlapTokens,
          next.watchFolder,
          next.minRelevance,
          next.rerankModel,
          now(),
          id,
        );
    } catch (error) {
      throw this.#nameTaken(error, next.name);
    }
    return this.getKnowledgeBase(id);
  }

  markKnowledgeBaseIndexed(id: string): void {
    this.#db.prepare("UPDATE knowledge_bases SET last_indexed_at = ? WHERE id = ?").run(now(), id);
  }

  deleteKnowledgeBase(id: string): void {
    this.getKnowledgeBase(id);
    this.#db.transaction(() => {
      this.#db.prepare("DELETE FROM jobs WHERE knowledge_base_id = ?").run(id);
      this.#db.prepare("DELETE FROM knowledge_bases WHERE id = ?").run(id);
    })();
  }

  // Documents

  /** A base's documents, the oldest first; those of one upload in the order it gave them (rowid). */
  listDocuments(knowledgeBaseId: string): DocumentRecord[] {
    const rows = this.#db
      .prepare("SELECT * FROM documents WHERE knowledge_base_id = ? ORDER BY created_at, rowid")
      .all(knowledgeBaseId) as DocumentRow[];
    return rows.map(toDocument);
  }

  findDocument(knowledgeBaseId: string, documentId: string): DocumentRecord | undefined {
    const row = this.#db
      .prepare("SELECT * FROM documents WHERE knowledge_base_id = ? AND id = ?")
      .get(knowledgeBaseId, documentId) as DocumentRow | undefined;
    return row ? toDocument(row) : undefined;
  }

  getDocument(knowledgeBaseId: string, documentId: string): DocumentRecord {
    const found = this.findDocument(knowledgeBaseId, documentId);
    if (!found)
      throw new HearthError(
        "DOCUMENT_NOT_FOUND",
        `No document ${documentId} in knowledge base ${knowledgeBaseId}`,
      );
    return found;
  }

  findDocumentBySource(
    knowledgeBaseId: string,
    source: DocumentSource,
    sourceKey: string,
  ): DocumentRecord | undefined {
    const row = this.#db
      .prepare("SELECT * FROM documents WHERE knowledge_base_id = ? AND source = ? AND source_key = ?")
      .get(knowledgeBaseId, source, sourceKey) as DocumentRow | undefined;
    return row ? toDocument(row) : undefined;
  }

  /**
   * The document for a source (a re-upload of the same name is the same document), created when new.
   * An existing document is left as it is but for a new name: its size and type describe the version
   * in the index, and change only when a new version is indexed (setDocumentContent,
   * markDocumentIndexed), so an unchanged sync or a cancelled re-upload leaves them and updatedAt alone.
   */
  upsertDocument(input: {
    knowledgeBaseId: string;
    name: string;
    source: DocumentSource;
    sourceKey: string;
    sizeBytes: number;
    contentType: string;
  }): DocumentRecord {
    const existing = this.findDocumentBySource(input.knowledgeBaseId, input.source, input.sourceKey);
    const at = now();
    if (existing) {
      if (existing.name !== input.name)
        this.#db
          .prepare("UPDATE documents SET name = ?, updated_at = ? WHERE id = ?")
          .run(input.name, at, existing.id);
      return this.getDocument(input.knowledgeBaseId, existing.id);
    }
    const id = newId("doc");
    this.#db
      .prepare(
        `INSERT INTO documents (id, knowledge_base_id, name, source, source_key, status, size_bytes, content_type, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
      )
      .run(
        id,
        input.knowledgeBaseId,
        input.name,
        input.source,
        input.sourceKey,
        input.sizeBytes,
        input.contentType,
        at,
        at,
      );
    return this.getDocument(input.knowledgeBaseId, id);
  }

  /**
   * Sets a document's status. updatedAt tells when the document itself changed (a new version
   * indexed, a new failure), so passing through queued/parsing/embedding, or going back to the
   * indexed version after a cancelled or failed re-upload, leaves it alone.
   */
  setDocumentStatus(documentId: string, status: DocumentStatus, error?: DocumentError): void {
    const code = error?.code ?? null;
    const message = error?.message ?? null;
    this.#db
      .prepare(
        `UPDATE documents SET status = ?, error_code = ?, error_message = ?, error_details = ?, progress = NULL,
           updated_at = CASE WHEN ? = 'failed' THEN ? ELSE updated_at END
         WHERE id = ? AND NOT (status IS ? AND error_code IS ? AND error_message IS ?)`,
      )
      .run(status, code, message, storedDetails(error), status, now(), documentId, status, code, message);
  }

  /**
   * Records the bytes a document is to be indexed from. A document with a version in the index keeps
   * that version's size and type until the new one is indexed (markDocumentIndexed): a cancelled or
   * failed re-upload must leave the document as it was.
   */
  setDocumentContent(documentId: string, contentHash: string, sizeBytes: number, contentType: string): void {
    this.#db
      .prepare(
        `UPDATE documents SET content_hash = ?,
           size_bytes = CASE WHEN indexed_hash IS NULL THEN ? ELSE size_bytes END,
           content_type = CASE WHEN indexed_hash IS NULL THEN ? ELSE content_type END,
           updated_at = CASE WHEN indexed_hash IS NULL THEN ? ELSE updated_at END
         WHERE id = ?`,
      )
      .run(contentHash, sizeBytes, contentType, now(), documentId);
  }

  /**
   * Goes back to the indexed version's bytes after a re-upload was cancelled or failed (or to the
   * version before an upload whose latest file of a name failed; null for none).
   */
  restoreIndexedContent(documentId: string, contentHash: string | null): void {
    this.#db.prepare("UPDATE documents SET content_hash = ? WHERE id = ?").run(contentHash, documentId);
  }

  /** The new version is in the index: from now on the document describes it. */
  markDocumentIndexed(
    documentId: string,
    indexedHash: string,
    chunkCount: number,
    content: { sizeBytes: number; contentType: string },
  ): void {
    this.#db
      .prepare(
        "UPDATE documents SET status = 'indexed', error_code = NULL, error_message = NULL, error_details = NULL, indexed_hash = ?, chunk_count = ?, size_bytes = ?, content_type = ?, updated_at = ? WHERE id = ?",
      )
      .run(indexedHash, chunkCount, content.sizeBytes, content.contentType, now(), documentId);
  }

  /**
   * Switches a document on or off for retrieval. Nothing else changes (not `updatedAt`, which tells
   * when the document's content changed): its chunks stay in the index, and the query path leaves
   * out those of documents switched off (disabledDocumentIds).
   */
  setDocumentEnabled(knowledgeBaseId: string, documentId: string, enabled: boolean): DocumentRecord {
    this.getDocument(knowledgeBaseId, documentId);
    this.#db
      .prepare("UPDATE documents SET enabled = ? WHERE knowledge_base_id = ? AND id = ?")
      .run(enabled ? 1 : 0, knowledgeBaseId, documentId);
    return this.getDocument(knowledgeBaseId, documentId);
  }

  /** Ids of the documents of these bases switched off for retrieval (documents_disabled finds them). */
  disabledDocumentIds(knowledgeBaseIds: readonly string[]): string[] {
    if (knowledgeBaseIds.length === 0) return [];
    const rows = this.#db
      .prepare(
        "SELECT id FROM documents WHERE enabled = 0 AND knowledge_base_id IN (SELECT value FROM json_each(?))",
      )
      .all(JSON.stringify(knowledgeBaseIds)) as Array<{ id: string }>;
    return rows.map((row) => row.id);
  }

  deleteDocument(documentId: string): void {
    this.#db.prepare("DELETE FROM documents WHERE id = ?").run(documentId);
  }

  /** Indexed documents of a base whose indexed version does not end in `:settingsVersion`. */
  staleDocumentCount(knowledgeBaseId: string, settingsVersion: string): number {
    const row = this.#db
      .prepare(
        "SELECT COUNT(*) AS n FROM documents WHERE knowledge_base_id = ? AND indexed_hash IS NOT NULL AND substr(indexed_hash, instr(indexed_hash, ':') + 1) IS NOT ?",
      )
      .get(knowledgeBaseId, settingsVersion) as { n: number };
    return row.n;
  }

  /**
   * Which of these documents have their chunks complete in the index (the query path shows only
   * these): looked up by id, so a query costs its hits, not the size of its bases.
   */
  indexedAmong(documentIds: Iterable<string>): Set<string> {
    const ids = [...new Set(documentIds)];
    if (ids.length === 0) return new Set();
    const rows = this.#db
      .prepare(
        "SELECT id FROM documents WHERE indexed_hash IS NOT NULL AND id IN (SELECT value FROM json_each(?))",
      )
      .all(JSON.stringify(ids)) as Array<{ id: string }>;
    return new Set(rows.map((row) => row.id));
  }

  // Jobs

  createJob(
    knowledgeBaseId: string,
    kind: JobKind,
    documents: ReadonlyArray<{ id: string; name: string }>,
  ): IngestionJob {
    const id = newId("job");
    const at = now();
    this.#db.transaction(() => {
      this.#db
        .prepare(
          "INSERT INTO jobs (id, knowledge_base_id, kind, status, created_at, updated_at) VALUES (?, ?, ?, 'queued', ?, ?)",
        )
        .run(id, knowledgeBaseId, kind, at, at);
      const insert = this.#db.prepare(
        "INSERT INTO job_documents (job_id, document_id, ordinal, name, status) VALUES (?, ?, ?, ?, 'queued')",
      );
      for (const [ordinal, document] of documents.entries())
        insert.run(id, document.id, ordinal, document.name);
    })();
    return this.getJob(id);
  }

  addJobDocument(
    jobId: string,
    document: { id: string; name: string },
    status: JobDocumentStatus,
    error?: DocumentError,
  ): void {
    const ordinal = (
      this.#db.prepare("SELECT COUNT(*) AS n FROM job_documents WHERE job_id = ?").get(jobId) as { n: number }
    ).n;
    this.#db
      .prepare(
        `INSERT INTO job_documents (job_id, document_id, ordinal, name, status, error_code, error_message, error_details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (job_id, document_id) DO UPDATE SET status = excluded.status, error_code = excluded.error_code,
           error_message = excluded.error_message, error_details = excluded.error_details`,
      )
      .run(
        jobId,
        document.id,
        ordinal,
        document.name,
        status,
        error?.code ?? null,
        error?.message ?? null,
        storedDetails(error),
      );
  }

  setJobDocumentStatus(
    jobId: string,
    documentId: string,
    status: JobDocumentStatus,
    error?: DocumentError,
  ): void {
    this.#db
      .prepare(
        "UPDATE job_documents SET status = ?, error_code = ?, error_message = ?, error_details = ?, progress = NULL WHERE job_id = ? AND document_id = ?",
      )
      .run(status, error?.code ?? null, error?.message ?? null, storedDetails(error), jobId, documentId);
    this.#db.prepare("UPDATE jobs SET updated_at = ? WHERE id = ?").run(now(), jobId);
  }

  /**
   * Records how far a running document has got, on the document and its job entry (the caller
   * throttles the writes); a change of status clears it.
   */
  setDocumentProgress(jobId: string, documentId: string, progress: JobDocumentProgress): void {
    const value = JSON.stringify(progress);
    this.#db.transaction(() => {
      this.#db
        .prepare("UPDATE job_documents SET progress = ? WHERE job_id = ? AND document_id = ?")
        .run(value, jobId, documentId);
      this.#db.prepare("UPDATE documents SET progress = ? WHERE id = ?").run(value, documentId);
    })();
  }

  /** Records the version (sha256 of the bytes) an upload's job entry is to index. */
  setJobDocumentContent(jobId: string, documentId: string, contentHash: string): void {
    this.#db
      .prepare("UPDATE job_documents SET content_hash = ? WHERE job_id = ? AND document_id = ?")
      .run(contentHash, jobId, documentId);
  }

  /** The version a job entry is for; null when none was recorded (URL and sync jobs, older rows). */
  jobDocumentContent(jobId: string, documentId: string): string | null {
    const row = this.#db
      .prepare("SELECT content_hash FROM job_documents WHERE job_id = ? AND document_id = ?")
      .get(jobId, documentId) as { content_hash: string | null } | undefined;
    return row?.content_hash ?? null;
  }

  /** Whether an unfinished job other than `exceptJobId` still has this version of the document to do. */
  hasPendingVersion(documentId: string, contentHash: string, exceptJobId: string): boolean {
    const row = this.#db
      .prepare(
        `SELECT 1 FROM job_documents jd JOIN jobs j ON j.id = jd.job_id
          WHERE jd.document_id = ? AND jd.content_hash = ? AND jd.job_id IS NOT ? AND j.status IN ('queued', 'running')
            AND jd.status NOT IN ('indexed', 'skipped', 'failed', 'deleted') LIMIT 1`,
      )
      .get(documentId, contentHash, exceptJobId);
    return row !== undefined;
  }

  setJobStatus(jobId: string, status: JobStatus, error?: { code: string; message: string }): void {
    const finished = status === "completed" || status === "failed" || status === "cancelled";
    this.#db
      .prepare(
        "UPDATE jobs SET status = ?, error_code = ?, error_message = ?, updated_at = ?, finished_at = ? WHERE id = ?",
      )
      .run(status, error?.code ?? null, error?.message ?? null, now(), finished ? now() : null, jobId);
  }

  findJob(jobId: string): IngestionJob | undefined {
    const row = this.#db.prepare("SELECT * FROM jobs WHERE id = ?").get(jobId) as JobRow | undefined;
    if (!row) return undefined;
    const documents = this.#db
      .prepare("SELECT * FROM job_documents WHERE job_id = ? ORDER BY ordinal")
      .all(jobId) as JobDocumentRow[];
    return toJob(row, documents);
  }

  getJob(jobId: string): IngestionJob {
    const found = this.findJob(jobId);
    if (!found) throw new HearthError("JOB_NOT_FOUND", `No ingestion job ${jobId}`);
    return found;
  }

  /** Jobs a crash interrupted (queued or running), oldest first, for resume at start-up. */
  /** A base's queued or running job of a kind (a sync, a re-index), read alone. */
  unfinishedJobOf(knowledgeBaseId: string, kind: JobKind): IngestionJob | undefined {
    const row = this.#db
      .prepare(
        "SELECT id FROM jobs WHERE knowledge_base_id = ? AND kind = ? AND status IN ('queued', 'running') ORDER BY created_at LIMIT 1",
      )
      .get(knowledgeBaseId, kind) as { id: string } | undefined;
    return row ? this.getJob(row.id) : undefined;
  }

  unfinishedJobs(): IngestionJob[] {
    const rows = this.#db
      .prepare("SELECT id FROM jobs WHERE status IN ('queued', 'running') ORDER BY created_at")
      .all() as Array<{ id: string }>;
    return rows.map((row) => this.getJob(row.id));
  }

  /**
   * Whether an unfinished job (other than `exceptJobId`, when given) still has the document to do:
   * its entry not yet indexed, skipped, failed or deleted.
   */
  hasPendingWork(documentId: string, exceptJobId: string | undefined): boolean {
    const row = this.#db
      .prepare(
        `SELECT 1 FROM job_documents jd JOIN jobs j ON j.id = jd.job_id
          WHERE jd.document_id = ? AND jd.job_id IS NOT ? AND j.status IN ('queued', 'running')
            AND jd.status NOT IN ('indexed', 'skipped', 'failed', 'deleted') LIMIT 1`,
      )
      .get(documentId, exceptJobId ?? null);
    return row !== undefined;
  }

  /**
   * The unfinished job that still has each of a base's documents to do (its entry not yet indexed,
   * skipped, failed or deleted), by document id; the oldest where several have one (`documentId`:
   * that document's alone). What a reader cancels to stop a document's ingestion.
   */
  pendingJobIds(knowledgeBaseId: string, documentId?: string): Map<string, string> {
    const rows = this.#db
      .prepare(
        `SELECT jd.document_id, jd.job_id FROM job_documents jd JOIN jobs j ON j.id = jd.job_id
          WHERE j.knowledge_base_id = ? AND j.status IN ('queued', 'running')
            AND jd.status NOT IN ('indexed', 'skipped', 'failed', 'deleted')
            ${documentId === undefined ? "" : "AND jd.document_id = ?"}
          ORDER BY j.created_at DESC, j.id DESC`,
      )
      .all(...(documentId === undefined ? [knowledgeBaseId] : [knowledgeBaseId, documentId])) as Array<{
      document_id: string;
      job_id: string;
    }>;
    // The newest first, so the oldest is the one left for each document.
    return new Map(rows.map((row) => [row.document_id, row.job_id]));
  }

  /**
   * Entries of cancelled jobs still shown as queued, parsing or embedding (a task that never
   * settled before a restart) are marked failed JOB_CANCELLED, as the cancel marks them; returns how many.
   */
  settleCancelledJobDocuments(): number {
    return this.#db
      .prepare(
        `UPDATE job_documents SET status = 'failed', error_code = 'JOB_CANCELLED',
           error_message = 'The job was cancelled before this document was indexed'
         WHERE status IN ('queued', 'parsing', 'embedding')
           AND job_id IN (SELECT id FROM jobs WHERE status = 'cancelled')`,
      )
      .run().changes;
  }

  /** Documents left mid-way with no unfinished job to finish them (a crash between upload and job). */
  orphanedDocuments(): DocumentRecord[] {
    const rows = this.#db
      .prepare(
        `SELECT * FROM documents d WHERE d.status IN ('queued', 'parsing', 'embedding') AND NOT EXISTS (
           SELECT 1 FROM job_documents jd JOIN jobs j ON j.id = jd.job_id WHERE jd.document_id = d.id AND j.status IN ('queued', 'running'))`,
      )
      .all() as DocumentRow[];
    return rows.map(toDocument);
  }

  // Embedding cache: an unchanged chunk is never embedded twice.

  cachedEmbeddings(model: string, contentHashes: readonly string[]): Map<string, Float32Array> {
    const found = new Map<string, Float32Array>();
    const select = this.#db.prepare(
      "SELECT vector FROM embedding_cache WHERE model = ? AND content_hash = ?",
    );
    for (const hash of contentHashes) {
      const row = select.get(model, hash) as { vector: Buffer } | undefined;
      if (row)
        found.set(
          hash,
          new Float32Array(
            row.vector.buffer.slice(row.vector.byteOffset, row.vector.byteOffset + row.vector.byteLength),
          ),
        );
    }
    return found;
  }

  cacheEmbeddings(model: string, vectors: ReadonlyMap<string, Float32Array>): void {
    const insert = this.#db.prepare(
      "INSERT OR REPLACE INTO embedding_cache (model, content_hash, vector) VALUES (?, ?, ?)",
    );
    this.#db.transaction(() => {
      for (const [hash, vector] of vectors)
        insert.run(model, hash, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength));
    })();
  }

  #nameTaken(error: unknown, name: string): unknown {
    if ((error as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") {
      return new HearthError("KNOWLEDGE_BASE_NAME_TAKEN", `A knowledge base named "${name}" already exists`);
    }
    return error;
  }
}

const KB_SELECT = `SELECT kb.*, (SELECT COUNT(*) FROM documents d WHERE d.knowledge_base_id = kb.id) AS document_count, (SELECT COUNT(*) FROM documents d WHERE d.knowledge_base_id = kb.id AND d.status = 'indexed' AND d.enabled = 1) AS indexed_document_count FROM knowledge_bases kb`;

function toKnowledgeBase(row: KnowledgeBaseRow): KnowledgeBaseRecord {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    embeddingModel: row.embedding_model,
    chunking: { maxTokens: row.chunk_max_tokens, overlapTokens: row.chunk_overlap_tokens },
    watchFolder: row.watch_folder,
    minRelevance: row.min_relevance,
    rerankModel: row.rerank_model,
    documentCount: row.document_count,
    indexedDocumentCount: row.indexed_document_count,
    lastIndexedAt: row.last_indexed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toDocument(row: DocumentRow): DocumentRecord {
  return {
    id: row.id,
    knowledgeBaseId: row.knowledge_base_id,
    name: row.name,
    source: row.source,
    sourceKey: row.source_key,
    status: row.status,
    error: storedError(row),
    sizeBytes: row.size_bytes,
    chunkCount: row.chunk_count,
    contentType: row.content_type,
    contentHash: row.content_hash,
    indexedHash: row.indexed_hash,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...runningProgress(row.status, row.progress),
    enabled: row.enabled === 1,
  };
}

/** A failure's details as stored (JSON), or NULL when it has none. */
function storedDetails(error: DocumentError | undefined): string | null {
  return error?.details ? JSON.stringify(error.details) : null;
}

/** A document's (or job entry's) failure as recorded, with its details where it has them. */
function storedError(row: {
  error_code: string | null;
  error_message: string | null;
  error_details: string | null;
}): DocumentError | null {
  if (!row.error_code) return null;
  return {
    code: row.error_code,
    message: row.error_message ?? "",
    ...(row.error_details ? { details: JSON.parse(row.error_details) as Record<string, unknown> } : {}),
  };
}

/** A document's progress as the API shows it: only while it is being parsed or embedded. */
function runningProgress(status: string, progress: string | null): { progress?: JobDocumentProgress } {
  return progress && (status === "parsing" || status === "embedding")
    ? { progress: JSON.parse(progress) as JobDocumentProgress }
    : {};
}

function toJob(row: JobRow, documents: JobDocumentRow[]): IngestionJob {
  const counts: JobCounts = {
    total: documents.length,
    queued: 0,
    parsing: 0,
    embedding: 0,
    indexed: 0,
    skipped: 0,
    deleted: 0,
    failed: 0,
  };
  for (const document of documents) counts[document.status] += 1;
  return {
    id: row.id,
    knowledgeBaseId: row.knowledge_base_id,
    kind: row.kind,
    status: row.status,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? "" } : null,
    counts,
    documents: documents.map((document) => ({
      documentId: document.document_id,
      name: document.name,
      status: document.status,
      error: storedError(document),
      ...runningProgress(document.status, document.progress),
    })),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

/**
 * Wire shape of a document (drops the pipeline's bookkeeping), with the unfinished job that still
 * has it to do, where one has (KnowledgeStore.pendingJobIds).
 */
export function documentView(document: DocumentRecord, jobId?: string): KnowledgeDocument {
  const { sourceKey: _key, contentHash: _hash, indexedHash: _indexed, ...view } = document;
  return jobId ? { ...view, jobId } : view;
}
