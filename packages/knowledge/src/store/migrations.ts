import type { Migration } from "@hearth/core";

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
];
