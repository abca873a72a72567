import { join, relative, sep } from "node:path";
import Database from "better-sqlite3";
import { BlobStore } from "../ingestion/blob-store.js";
import { indexedContentHash } from "../ingestion/document-pipeline.js";

/** A document's stored file that its knowledge.db names but that is not there. */
export interface MissingDocumentFile {
  /** The file's path relative to the data directory, with forward slashes. */
  path: string;
  /** The document and its knowledge base, in words: `the file of "a.pdf" in the knowledge base "Docs"`. */
  what: string;
  knowledgeBaseId: string;
  documentId: string;
  name: string;
}

/**
 * The documents of `<dataDir>/knowledge/knowledge.db` whose file (the version indexed, and the
 * latest one uploaded) is not under `<dataDir>/knowledge/files`: such a document is still found by
 * search, but its citations cannot open it and it cannot be re-indexed. Read-only; a data directory
 * without a knowledge store has none. `hearth backup` checks its snapshot with this, `hearth doctor`
 * the data directory.
 */
export function missingDocumentFiles(dataDir: string): MissingDocumentFile[] {
  const knowledgeDir = join(dataDir, "knowledge");
  let database: Database.Database;
  try {
    database = new Database(join(knowledgeDir, "knowledge.db"), { readonly: true, fileMustExist: true });
  } catch {
    return [];
  }
  try {
    // A damaged store is reported by the checks that open it (`hearth doctor`'s, a backup's own).
    const tables = database
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('documents', 'knowledge_bases')",
      )
      .all();
    if (tables.length < 2) return [];
    const rows = database
      .prepare(
        `SELECT d.id, d.knowledge_base_id, d.name, d.content_hash, d.indexed_hash, k.name AS knowledge_base
           FROM documents d JOIN knowledge_bases k ON k.id = d.knowledge_base_id ORDER BY k.name, d.name`,
      )
      .all() as Array<{
      id: string;
      knowledge_base_id: string;
      name: string;
      content_hash: string | null;
      indexed_hash: string | null;
      knowledge_base: string;
    }>;
    const blobs = new BlobStore(knowledgeDir);
    const missing: MissingDocumentFile[] = [];
    for (const row of rows) {
      const versions = new Set([indexedContentHash(row.indexed_hash), row.content_hash ?? undefined]);
      for (const sha256 of versions) {
        if (!sha256 || blobs.sizeOf(row.knowledge_base_id, row.id, sha256) !== undefined) continue;
        missing.push({
          path: relative(dataDir, blobs.path(row.knowledge_base_id, row.id, sha256))
            .split(sep)
            .join("/"),
          what: `the file of "${row.name}" in the knowledge base "${row.knowledge_base}"`,
          knowledgeBaseId: row.knowledge_base_id,
          documentId: row.id,
          name: row.name,
        });
      }
    }
    return missing;
  } finally {
    database.close();
  }
}
