import { HearthError } from "@hearth/core";
import { MAX_TOP_K, validateQuery } from "../index/chunk-validation.js";
import type { ChunkRecord, IndexBackend, SearchFilters, SearchHit } from "../index/index-backend.js";
import { DEFAULT_FUSION, type FusedHit, type FusionMethod, fusedRelevance, fuseRankings } from "./fusion.js";

/** Where a retrieved passage comes from: enough to show "file, page, section" and link back. */
export interface Citation {
  knowledgeBaseId: string;
  documentId: string;
  documentTitle: string;
  chunkId: string;
  page?: number;
  headingPath: string[];
  charStart: number;
  charEnd: number;
}

export interface RetrievedChunk {
  chunk: Omit<ChunkRecord, "embedding">;
  /** The fused score (higher is better); the lexical score alone when there was no query vector. */
  score: number;
  /**
   * The score as a relevance from 0 to 1 that falls as the rank does and means the same across
   * queries on the same path (for clients that filter by a threshold, as Dify does): fused, the
   * fused score over the most fusion gives (fusedRelevance); full text alone, the BM25-like score
   * s as s / (1 + s) (0.5 at a score of 1); vectors alone, the cosine similarity, negatives as 0.
   */
  relevance: number;
  /** Rank (from 1) and backend score in the full-text ranking, when the chunk was in it. */
  lexical?: { rank: number; score: number };
  /** Rank (from 1) and cosine similarity in the vector ranking, when the chunk was in it. */
  vector?: { rank: number; score: number };
  /** True when the chunk holds the query's compound token, quoted phrase or Chinese word as written: ranked first. */
  exact?: boolean;
  citation: Citation;
}

export interface RetrievalQuery {
  knowledgeBaseIds: string[];
  text: string;
  /** The query's embedding from the knowledge base's model; without it retrieval is full text only. */
  vector?: Float32Array;
  topK: number;
  filters?: SearchFilters;
  /**
   * Which paths answer: "hybrid" (default) fuses both when there is a vector and is full text alone
   * otherwise; "lexical" ignores the vector; "vector" needs one and skips full text.
   */
  mode?: RetrievalMode;
  /**
   * The least relevance a chunk of each knowledge base needs (absent: none): chunks below it are
   * left out before the cut at topK, so the others fill it.
   */
  minRelevance?: ReadonlyMap<string, number>;
}

export type RetrievalMode = "hybrid" | "lexical" | "vector";

export interface RetrieverOptions {
  fusion?: FusionMethod;
  /** How many hits each path contributes to fusion: max(this, 4 × topK). Default 50. */
  candidates?: number;
}

export interface Retriever {
  retrieve(query: RetrievalQuery): Promise<RetrievedChunk[]>;
}

/**
 * Hybrid retrieval over one index backend: full-text (BM25) and vector search run side by side and
 * their rankings are fused (reciprocal rank fusion by default), chunks that full text found holding
 * the query's compound token, quoted phrase or Chinese word as written first. With no query vector the lexical
 * ranking is returned as is, so a knowledge base without an embedding model still answers.
 * `mode` restricts a query to one path (to compare each path with the fusion, or by choice).
 */
export function createRetriever(backend: IndexBackend, options: RetrieverOptions = {}): Retriever {
  const fusion = options.fusion ?? DEFAULT_FUSION;
  const minimumCandidates = options.candidates ?? 50;
  return {
    async retrieve(query) {
      validateQuery(query);
      const candidates = Math.min(MAX_TOP_K, Math.max(minimumCandidates, query.topK * 4));
      const common = {
        knowledgeBaseIds: query.knowledgeBaseIds,
        topK: candidates,
        ...(query.filters ? { filters: query.filters } : {}),
      };
      const mode = query.mode ?? "hybrid";
      if (mode === "vector" && query.vector === undefined) {
        throw new HearthError("INVALID_REQUEST", "Vector-only retrieval needs a query vector");
      }
      const vectorPath = mode !== "lexical" && query.vector !== undefined ? query.vector : undefined;
      const [lexical, vector] = await Promise.all([
        mode === "vector" ? Promise.resolve([]) : backend.lexicalSearch({ ...common, text: query.text }),
        vectorPath === undefined
          ? Promise.resolve([])
          : backend.vectorSearch({ ...common, vector: vectorPath }),
      ]);
      const fused =
        mode === "vector"
          ? alone(vector, "vector")
          : vectorPath === undefined
            ? alone(lexical, "lexical")
            : fuseRankings(lexical, vector, fusion);
      const relevanceOf =
        mode === "vector"
          ? cosineRelevance
          : vectorPath === undefined
            ? lexicalRelevance
            : fusedRelevance(fusion);
      return fused
        .map((entry) => ({ entry, relevance: relevanceOf(entry.score) }))
        .filter(
          ({ entry, relevance }) =>
            relevance >= (query.minRelevance?.get(entry.hit.chunk.knowledgeBaseId) ?? 0),
        )
        .slice(0, query.topK)
        .map(({ entry, relevance }) => ({
          chunk: entry.hit.chunk,
          score: entry.score,
          relevance,
          ...(entry.lexical ? { lexical: entry.lexical } : {}),
          ...(entry.vector ? { vector: entry.vector } : {}),
          ...(entry.exact ? { exact: true } : {}),
          citation: citationOf(entry.hit.chunk),
        }));
    },
  };
}

/** A BM25-like score (0 and up, no upper bound) bounded to 0..1, rising as it does. */
const lexicalRelevance = (score: number) => Math.max(0, score) / (1 + Math.max(0, score));
/** A cosine similarity (-1 to 1), where no similarity or less counts as no relevance. */
const cosineRelevance = (score: number) => Math.min(1, Math.max(0, score));

/** One path's ranking on its own, as fused entries that keep each hit's backend score. */
function alone(list: readonly SearchHit[], path: "lexical" | "vector"): FusedHit[] {
  return list.map((hit, index) => {
    const ranked = { rank: index + 1, score: hit.score };
    return {
      hit,
      score: hit.score,
      ...(path === "lexical" ? { lexical: ranked } : { vector: ranked }),
      ...(hit.exact ? { exact: true } : {}),
    };
  });
}

function citationOf(chunk: Omit<ChunkRecord, "embedding">): Citation {
  return {
    knowledgeBaseId: chunk.knowledgeBaseId,
    documentId: chunk.documentId,
    documentTitle: chunk.documentTitle,
    chunkId: chunk.id,
    ...(chunk.page === undefined ? {} : { page: chunk.page }),
    headingPath: chunk.headingPath,
    charStart: chunk.charStart,
    charEnd: chunk.charEnd,
  };
}
