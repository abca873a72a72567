import type { IndexBackend, SearchFilters, SearchHit } from "../index/index-backend.js";

export interface RetrievalRequest {
  knowledgeBaseIds: string[];
  text: string;
  /** The query's embedding, when the knowledge bases have an embedding model. */
  vector?: Float32Array;
  topK: number;
  filters?: SearchFilters;
}

/** Turns a query into ranked hits over an index backend (hybrid when a vector is given). */
export interface Retriever {
  retrieve(request: RetrievalRequest): Promise<SearchHit[]>;
}

/** The index a knowledge service runs on: where chunks are stored and how they are retrieved. */
export interface KnowledgeIndex {
  backend: IndexBackend;
  retriever: Retriever;
}

/**
 * Reciprocal rank fusion (k = 60) of the backend's lexical and vector lists: the pipeline's own
 * minimal retriever, used until a tuned one (src/retrieval/) is wired into the service factory.
 */
export function rankFusionRetriever(backend: IndexBackend, k = 60): Retriever {
  return {
    async retrieve(request) {
      const depth = Math.max(request.topK * 4, 50);
      const lexical = await backend.lexicalSearch({
        knowledgeBaseIds: request.knowledgeBaseIds,
        text: request.text,
        topK: depth,
        filters: request.filters,
      });
      if (!request.vector) return lexical.slice(0, request.topK);
      const vector = await backend.vectorSearch({
        knowledgeBaseIds: request.knowledgeBaseIds,
        vector: request.vector,
        topK: depth,
        filters: request.filters,
      });
      const fused = new Map<string, SearchHit>();
      for (const list of [lexical, vector]) {
        list.forEach((hit, rank) => {
          const score = 1 / (k + rank + 1);
          const existing = fused.get(hit.chunk.id);
          fused.set(hit.chunk.id, { chunk: hit.chunk, score: (existing?.score ?? 0) + score });
        });
      }
      return [...fused.values()].sort((a, b) => b.score - a.score).slice(0, request.topK);
    },
  };
}
