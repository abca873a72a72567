/**
 * The contract between the knowledge pipeline (parse, clean, chunk, embed) and the index backends
 * (SQLite FTS5 + vectors, PostgreSQL + pgvector, Elasticsearch/OpenSearch). One contract test suite
 * runs over every backend.
 */

/** Metadata values a chunk can be filtered on. */
export type MetadataValue = string | number | boolean;

/** One indexed passage with everything needed to cite it as "file, page, section". */
export interface ChunkRecord {
  /** Stable id: the same document, ordinal and content always give the same id. */
  id: string;
  knowledgeBaseId: string;
  documentId: string;
  /** Position of the chunk in its document, from 0. */
  ordinal: number;
  text: string;
  /** sha256 of the normalised text; an unchanged chunk is never re-embedded. */
  contentHash: string;
  /** Document title or file name, shown in citations. */
  documentTitle: string;
  /** 1-based page number for paged formats (PDF, slides). */
  page?: number;
  /** Headings from the top of the document down to this chunk. */
  headingPath: string[];
  /** Character offsets of the chunk in the cleaned document text. */
  charStart: number;
  charEnd: number;
  metadata: Record<string, MetadataValue>;
  /** Unit-length embedding from the knowledge base's embedding model; absent when it has none. */
  embedding?: Float32Array;
  /**
   * The chunk's full-text terms, analyzeToDocument(searchableText(chunk)), when already analysed
   * (ingestion does it in a parser thread); a backend analyses the chunk itself when absent.
   */
  analyzedTerms?: string;
}

export interface SearchFilters {
  documentIds?: string[];
  /**
   * Documents whose chunks are left out (those switched off for retrieval): the search leaves them
   * out before it ranks, so topK is filled from the other documents' chunks.
   */
  excludedDocumentIds?: string[];
  /** Every key must equal the given value. */
  metadata?: Record<string, MetadataValue>;
}

export interface LexicalQuery {
  knowledgeBaseIds: string[];
  text: string;
  topK: number;
  filters?: SearchFilters;
}

export interface VectorQuery {
  knowledgeBaseIds: string[];
  vector: Float32Array;
  topK: number;
  filters?: SearchFilters;
}

export interface SearchHit {
  chunk: Omit<ChunkRecord, "embedding">;
  /** Backend-native score: BM25-like for lexical search (higher is better), cosine for vectors. */
  score: number;
  /**
   * Lexical search only: the chunk holds a compound token, quoted phrase or Chinese word of the query as written
   * (queryPhrases). Such hits come first in a lexical ranking, and stay first after fusion.
   */
  exact?: boolean;
}

export interface IndexBackend {
  readonly name: string;
  /** Inserts or replaces chunks by id. */
  upsertChunks(chunks: readonly ChunkRecord[]): Promise<void>;
  deleteChunks(ids: readonly string[]): Promise<void>;
  deleteDocument(knowledgeBaseId: string, documentId: string): Promise<void>;
  deleteKnowledgeBase(knowledgeBaseId: string): Promise<void>;
  /** Chunk ids and content hashes of a document, for incremental sync. */
  listChunkHashes(knowledgeBaseId: string, documentId: string): Promise<Map<string, string>>;
  /** A document's chunks in order (by ordinal), without embeddings: its passages, for a citation to show in place. */
  listChunks(knowledgeBaseId: string, documentId: string): Promise<Array<Omit<ChunkRecord, "embedding">>>;
  lexicalSearch(query: LexicalQuery): Promise<SearchHit[]>;
  vectorSearch(query: VectorQuery): Promise<SearchHit[]>;
  /** Resolves when the backend can serve now; throws INDEX_UNAVAILABLE when not (GET /readyz asks). */
  checkReachable(): Promise<void>;
  close(): Promise<void>;
}
