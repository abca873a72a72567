import { knowledgeBaseNameKey } from "@hearth/contracts";
import type { Migration } from "@hearth/core";
import type Database from "better-sqlite3";

/**
 * The knowledge store's one schema history, run by core's `runMigrations` when the store opens:
 * each step once, in order, in a transaction with the `user_version` bump, after an automatic
 * backup of an existing database (DESIGN.md: "one migration history, and a backup taken before
 * every migration"). Append new steps; never edit one that has been released.
 */
export const KNOWLEDGE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "knowledge-bases-documents-jobs",
    up: `
    CREATE TABLE knowledge_bases (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      description TEXT NOT NULL DEFAULT '',
      embedding_model TEXT,
      chunk_max_tokens INTEGER NOT NULL,
      chunk_overlap_tokens INTEGER NOT NULL,
      watch_folder TEXT,
      last_indexed_at TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE TABLE documents (
      id TEXT PRIMARY KEY,
      knowledge_base_id TEXT NOT NULL REFERENCES knowledge_bases(id) ON DELETE CASCADE,
      name TEXT NOT NULL,
      source TEXT NOT NULL,
      source_key TEXT NOT NULL,
      status TEXT NOT NULL,
      error_code TEXT,
      error_message TEXT,
      size_bytes INTEGER NOT NULL DEFAULT 0,
      chunk_count INTEGER NOT NULL DEFAULT 0,
      content_type TEXT NOT NULL DEFAULT 'application/octet-stream',
      content_hash TEXT,
      indexed_hash TEXT,
      indexed_settings TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      UNIQUE (knowledge_base_id, source, source_key)
    );
    CREATE INDEX documents_by_status ON documents(status);
    CREATE TABLE jobs (
      id TEXT PRIMARY KEY,
      knowledge_base_id TEXT NOT NULL,
      kind TEXT NOT NULL,
      status TEXT NOT NULL,
      error_code TEXT,
      error_message TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      finished_at TEXT
    );
    CREATE TABLE job_documents (
      job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
      document_id TEXT NOT NULL,
      ordinal INTEGER NOT NULL,
      name TEXT NOT NULL,
      status TEXT NOT NULL,
      error_code TEXT,
      error_message TEXT,
      PRIMARY KEY (job_id, document_id)
    );
    CREATE TABLE embedding_cache (
      model TEXT NOT NULL,
      content_hash TEXT NOT NULL,
      vector BLOB NOT NULL,
      PRIMARY KEY (model, content_hash)
    ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: "knowledge-base-names-unique-per-owner",
    up: namesUniquePerOwner,
  },
  {
    // The version (sha256) an upload's job entry is for: a later upload of the same name that
    // replaced it before it was indexed makes the entry superseded, and its file is removed.
    version: 3,
    name: "job-documents-content-hash",
    up: "ALTER TABLE job_documents ADD COLUMN content_hash TEXT;",
  },
  {
    // Within-document progress of a running document and its job entry (JSON: phase, done, total),
    // written at most about once a second by the ingestion service; cleared when the status changes.
    version: 4,
    name: "document-progress",
    up: "ALTER TABLE job_documents ADD COLUMN progress TEXT; ALTER TABLE documents ADD COLUMN progress TEXT;",
  },
  {
    // A failure's details (JSON: what a refused file really is, why no parser took it), which a page
    // says in its reader's language; failures recorded before have none.
    version: 5,
    name: "document-error-details",
    up: "ALTER TABLE job_documents ADD COLUMN error_details TEXT; ALTER TABLE documents ADD COLUMN error_details TEXT;",
  },
  {
    // Whether a document's passages answer queries: a writer switches an outdated one off without
    // deleting it. Documents stored before are on. Each query reads the bases' switched-off
    // documents (few, if any), which the partial index finds without reading the others.
    version: 6,
    name: "document-enabled",
    up: `ALTER TABLE documents ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
      CREATE INDEX documents_disabled ON documents (knowledge_base_id) WHERE enabled = 0;`,
  },
  {
    // The least relevance a base's query results need (0 to 1), read by every query: bases made
    // before hold none back.
    version: 7,
    name: "knowledge-base-min-relevance",
    up: "ALTER TABLE knowledge_bases ADD COLUMN min_relevance REAL NOT NULL DEFAULT 0;",
  },
  {
    // The model that reranks a base's query results, read by every query: bases made before have
    // none and answer in retrieval order, as they did.
    version: 8,
    name: "knowledge-base-rerank-model",
    up: "ALTER TABLE knowledge_bases ADD COLUMN rerank_model TEXT;",
  },
];

/**
 * Knowledge-base names were unique across everyone, so one user learnt another's private base
 * names from a 409. Now a base has an owner (an opaque id the caller gives) and its name is unique
 * per owner, case-insensitively (`name_key`). SQLite cannot drop a UNIQUE, so the table is rebuilt;
 * foreign keys stay on inside a migration's transaction, so `documents` (its only child) is rebuilt
 * with it and dropped first: dropping the old parent then cascades to nothing. Existing bases have
 * no owner; two of them whose names now compare equal ("Docs", "docs") both stay, the later one
 * with its id in its key, so that creating that name again is still refused.
 */
function namesUniquePerOwner(database: Database.Database): void {
  database.exec(`
    CREATE TABLE knowledge_bases_v2 (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      name_key TEXT NOT NULL,
      owner TEXT,
      description TEXT NOT NULL DEFAULT '',
      embedding_model TEXT,
      chunk_max_tokens INTEGER NOT NULL,
      chunk_overlap_tokens INTEGER NOT NULL,
      watch_folder TEXT,
      last_indexed_at TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE TABLE documents_v2 (
      id TEXT PRIMARY KEY,
      knowledge_base_id TEXT NOT NULL REFERENCES knowledge_bases_v2(id) ON DELETE CASCADE,
      name TEXT NOT NULL,
      source TEXT NOT NULL,
      source_key TEXT NOT NULL,
      status TEXT NOT NULL,
      error_code TEXT,
      error_message TEXT,
      size_bytes INTEGER NOT NULL DEFAULT 0,
      chunk_count INTEGER NOT NULL DEFAULT 0,
      content_type TEXT NOT NULL DEFAULT 'application/octet-stream',
      content_hash TEXT,
      indexed_hash TEXT,
      indexed_settings TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      UNIQUE (knowledge_base_id, source, source_key)
    );
  `);
  const rows = database
    .prepare("SELECT id, name FROM knowledge_bases ORDER BY created_at, id")
    .all() as Array<{ id: string; name: string }>;
  const copy = database.prepare(
    `INSERT INTO knowledge_bases_v2 (id, name, name_key, owner, description, embedding_model, chunk_max_tokens,
       chunk_overlap_tokens, watch_folder, last_indexed_at, created_at, updated_at)
     SELECT id, name, ?, NULL, description, embedding_model, chunk_max_tokens, chunk_overlap_tokens,
       watch_folder, last_indexed_at, created_at, updated_at FROM knowledge_bases WHERE id = ?`,
  );
  const keys = new Set<string>();
  for (const row of rows) {
    let key = knowledgeBaseNameKey(row.name);
    if (keys.has(key)) key = `${key}\u0000${row.id}`;
    keys.add(key);
    copy.run(key, row.id);
  }
  database.exec(`
    INSERT INTO documents_v2 SELECT id, knowledge_base_id, name, source, source_key, status, error_code,
      error_message, size_bytes, chunk_count, content_type, content_hash, indexed_hash, indexed_settings,
      created_at, updated_at FROM documents;
    DROP TABLE documents;
    DROP TABLE knowledge_bases;
    ALTER TABLE knowledge_bases_v2 RENAME TO knowledge_bases;
    ALTER TABLE documents_v2 RENAME TO documents;
    CREATE INDEX documents_by_status ON documents(status);
    CREATE UNIQUE INDEX knowledge_bases_owner_name ON knowledge_bases (ifnull(owner, ''), name_key);
  `);
}
