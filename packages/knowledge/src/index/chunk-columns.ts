import type { ChunkRecord } from "./index-backend.js";

/** A chunk's columns as the SQL backends (SQLite, PostgreSQL) store them, less the JSON ones. */
export interface ChunkColumns {
  id: string;
  knowledge_base_id: string;
  document_id: string;
  ordinal: number;
  text: string;
  content_hash: string;
  document_title: string;
  page: number | null;
  char_start: number;
  char_end: number;
}

/** The select list (on alias `c`) of a chunk's stored columns: ChunkColumns plus heading_path and metadata. */
export const CHUNK_COLUMNS =
  "c.id, c.knowledge_base_id, c.document_id, c.ordinal, c.text, c.content_hash, c.document_title, c.page, c.heading_path, c.char_start, c.char_end, c.metadata";

/** A stored row back as a chunk; each backend decodes its own heading path and metadata columns. */
export function chunkFromColumns(
  row: ChunkColumns,
  headingPath: string[],
  metadata: ChunkRecord["metadata"],
): Omit<ChunkRecord, "embedding"> {
  return {
    id: row.id,
    knowledgeBaseId: row.knowledge_base_id,
    documentId: row.document_id,
    ordinal: row.ordinal,
    text: row.text,
    contentHash: row.content_hash,
    documentTitle: row.document_title,
    ...(row.page === null ? {} : { page: row.page }),
    headingPath,
    charStart: row.char_start,
    charEnd: row.char_end,
    metadata,
  };
}
