/** The knowledge index and retrieval: backends behind one contract, and hybrid retrieval over them. */

export {
  type ElasticsearchIndexOptions,
  openElasticsearchIndex,
} from "../index/elasticsearch-index-backend.js";
export type {
  ChunkRecord,
  IndexBackend,
  LexicalQuery,
  MetadataValue,
  SearchFilters,
  SearchHit,
  VectorQuery,
} from "../index/index-backend.js";
export { openPostgresIndex, type PostgresIndexOptions } from "../index/postgres-index-backend.js";
export { pgPoolClient, type SqlClient, type SqlExecutor } from "../index/sql-client.js";
export { openSqliteIndex, type SqliteIndexOptions } from "../index/sqlite-index-backend.js";
export { analyzeText, foldText } from "../text/index.js";
export { QuantizedVectorIndex } from "../vector/index.js";
export { DEFAULT_FUSION, describeFusion, type FusionMethod, fuseRankings } from "./fusion.js";
export { type IndexSettings, openConfiguredIndex } from "./open-configured-index.js";
export {
  type Citation,
  createRetriever,
  type RetrievalMode,
  type RetrievalQuery,
  type RetrievedChunk,
  type Retriever,
  type RetrieverOptions,
} from "./retriever.js";
