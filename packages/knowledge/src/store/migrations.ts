import { copyFileSync, existsSync } from "node:fs";
import type Database from "better-sqlite3";

/**
 * The knowledge store's one migration history. Each entry runs once, in order, inside a
 * transaction; a copy of the database file is taken before the first pending one runs (DESIGN.md:
 * "a backup taken before every migration"), so an upgrade never loses a knowledge base.
 */
const MIGRATIONS: readonly string[] = [
  `
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
];

export function migrate(db: Database.Database, path: string): void {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
  );
  const row = db.prepare("SELECT MAX(version) AS version FROM schema_migrations").get() as {
    version: number | null;
  };
  const current = row.version ?? 0;
  if (current >= MIGRATIONS.length) return;
  if (current > 0 && path !== ":memory:" && existsSync(path)) {
    db.pragma("wal_checkpoint(TRUNCATE)");
    copyFileSync(path, `${path}.before-v${current + 1}.bak`);
  }
  for (let version = current + 1; version <= MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version - 1]!);
      db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(
        version,
        new Date().toISOString(),
      );
    })();
  }
}
