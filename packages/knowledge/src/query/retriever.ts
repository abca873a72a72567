import type { IndexBackend, SearchFilters, SearchHit } from "../index/index-backend.js";

export interface RetrievalRequest {
  knowledgeBaseIds: string[];
  text: string;
  /** The query's embedding, when the knowledge bases have an embedding model. */
  vector?: Float32Array;
  topK: number;
  filters?: SearchFilters;
  /** "hybrid" (default), "lexical" (the vector is ignored) or "vector" (needs the vector). */
  mode?: "hybrid" | "lexical" | "vector";
}

/**
 * Turns a query into ranked hits over an index backend (hybrid when a vector is given); the
 * service uses `createRetriever` from src/retrieval/.
 */
export interface Retriever {
  retrieve(request: RetrievalRequest): Promise<SearchHit[]>;
}

/** The index a knowledge service runs on: where chunks are stored and how they are retrieved. */
export interface KnowledgeIndex {
  backend: IndexBackend;
  retriever: Retriever;
}
