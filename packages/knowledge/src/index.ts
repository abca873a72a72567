export {
  type ChunkedDocument,
  chunkDocument,
  type DocumentChunk,
  estimateTokens,
} from "./chunking/chunk-document.js";
export { cleanDocument, foldToSimplified, normalizeText } from "./cleaning/clean-document.js";
export { EmbeddingClient } from "./embedding/embedding-client.js";
export { ELASTICSEARCH_INDEX } from "./index/elasticsearch-index-backend.js";
export type {
  ChunkRecord,
  IndexBackend,
  LexicalQuery,
  SearchFilters,
  SearchHit,
  VectorQuery,
} from "./index/index-backend.js";
export { parseBytes, prepareChunks } from "./ingestion/document-pipeline.js";
export type { ParsedDocument } from "./parsing/parsed-document.js";
export type { KnowledgeIndex } from "./query/knowledge-index.js";
export * from "./retrieval/index.js";
export {
  createKnowledgeService,
  DEFAULT_CHUNKING,
  type KnowledgeService,
  type KnowledgeServiceOptions,
} from "./service/create-knowledge-service.js";
export { serveKnowledge } from "./service/serve-knowledge.js";
export { type MissingDocumentFile, missingDocumentFiles } from "./store/document-files.js";
export { KNOWLEDGE_MIGRATIONS } from "./store/migrations.js";
