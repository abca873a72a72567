import type { QueryResult, QueryWarning } from "@hearth/contracts";
import { HearthError } from "@hearth/core";
import type { EmbeddingClient } from "../embedding/embedding-client.js";
import type { SearchFilters } from "../index/index-backend.js";
import { DEFAULT_RRF_K, fuseByRank } from "../retrieval/fusion.js";
import type { RetrievalMode, RetrievedChunk, Retriever } from "../retrieval/retriever.js";
import type { KnowledgeStore } from "../store/knowledge-store.js";

export interface QueryInput {
  knowledgeBaseIds: string[];
  query: string;
  topK: number;
  filters?: SearchFilters;
  /**
   * "hybrid" (default): both paths fused; "lexical": full text only; "vector": vectors only. Asked
   * for by name, "hybrid" warns of each base it searches on full text only for want of a model.
   */
  mode?: RetrievalMode;
  /** The least relevance a result needs; without it, each result is held to its base's minRelevance. */
  minRelevance?: number;
}

/**
 * The chunk metadata a query can filter on (set at indexing): `source` (upload, folder, url),
 * `contentType`, `title` (the title the PDF or HTML file declares, absent otherwise) and
 * `documentName` (the document's file name, as listed).
 */
export const FILTER_METADATA_KEYS = ["source", "contentType", "title", "documentName"] as const;

/**
 * Answers queries over one or more knowledge bases: the query is embedded once per embedding model
 * involved (knowledge bases without one are searched on full text alone), each group is retrieved,
 * and groups are merged by reciprocal rank. Only fully indexed documents are returned, and none
 * switched off for retrieval (`enabled` false: left out by the index's search itself). In mode
 * "hybrid", bases whose query embedding fails are searched on full text alone and named in the
 * answer's warnings (and so are bases with no embedding model when "hybrid" was asked for by name);
 * mode "vector" fails with EMBEDDING_FAILED instead. Results less relevant than the query's
 * minRelevance, or their base's, are left out before the cut at topK, so the answer keeps as many
 * of the others as topK allows.
 */
export class QueryService {
  constructor(
    private readonly store: KnowledgeStore,
    private readonly retriever: Retriever,
    private readonly embeddings: EmbeddingClient,
  ) {}

  async query(input: QueryInput): Promise<{ results: QueryResult[]; warnings?: QueryWarning[] }> {
    const unknown = Object.keys(input.filters?.metadata ?? {}).filter(
      (key) => !(FILTER_METADATA_KEYS as readonly string[]).includes(key),
    );
    if (unknown.length > 0) {
      throw new HearthError(
        "INVALID_REQUEST",
        `Unknown metadata filter ${unknown.map((key) => JSON.stringify(key)).join(", ")}: filters.metadata takes ${FILTER_METADATA_KEYS.join(", ")}`,
        { details: { field: "filters.metadata", allowed: [...FILTER_METADATA_KEYS] } },
      );
    }
    const ids = [...new Set(input.knowledgeBaseIds)];
    const mode = input.mode ?? "hybrid";
    const groups = new Map<string, string[]>();
    const warnings: QueryWarning[] = [];
    // Each base's least relevance, held against the answer's relevance before the cut at topK: by
    // the retriever where one group answers (its relevance is the answer's), after the merge else.
    const minRelevance = new Map<string, number>();
    for (const id of ids) {
      const knowledgeBase = this.store.getKnowledgeBase(id);
      minRelevance.set(id, input.minRelevance ?? knowledgeBase.minRelevance);
      if (mode === "vector" && !knowledgeBase.embeddingModel) {
        throw new HearthError(
          "EMBEDDING_MODEL_REQUIRED",
          `Knowledge base ${id} has no embedding model, so it cannot be queried with mode "vector"`,
        );
      }
      // The default mode on such a base is full text, as documented; asked for by name, it is said.
      if (input.mode === "hybrid" && !knowledgeBase.embeddingModel)
        warnings.push({
          knowledgeBaseId: id,
          code: "EMBEDDING_MODEL_REQUIRED",
          message: `Knowledge base ${id} has no embedding model; searched on full text only`,
        });
      // Full-text-only queries need no embedding, so all knowledge bases form one group.
      const key = mode === "lexical" ? "" : (knowledgeBase.embeddingModel ?? "");
      groups.set(key, [...(groups.get(key) ?? []), id]);
    }
    // Documents switched off are left out inside the search, so topK is filled from the others.
    const disabled = this.store.disabledDocumentIds(ids);
    const filters: SearchFilters | undefined =
      disabled.length === 0
        ? input.filters
        : {
            ...input.filters,
            excludedDocumentIds: [...(input.filters?.excludedDocumentIds ?? []), ...disabled],
          };
    const lists: RetrievedChunk[][] = [];
    for (const [model, knowledgeBaseIds] of groups) {
      let vector: Float32Array | undefined;
      let groupMode = mode;
      if (model) {
        try {
          [vector] = await this.embeddings.embed(model, [input.query]);
        } catch (error) {
          const message = `The query could not be embedded with ${model}: ${(error as Error).message}`;
          if (mode === "vector") throw new HearthError("EMBEDDING_FAILED", message, { cause: error });
          // Hybrid degrades to full text for these bases; the others keep their vectors.
          groupMode = "lexical";
          for (const knowledgeBaseId of knowledgeBaseIds)
            warnings.push({
              knowledgeBaseId,
              code: "EMBEDDING_FAILED",
              message: `${message}; searched on full text only`,
            });
        }
      }
      const hits = await this.retriever.retrieve({
        knowledgeBaseIds,
        text: input.query,
        ...(vector ? { vector } : {}),
        topK: input.topK * 2,
        ...(filters ? { filters } : {}),
        mode: groupMode,
        ...(groups.size === 1 ? { minRelevance } : {}),
      });
      lists.push(hits);
    }
    // Only documents whose chunks are all in the index are shown (one being indexed is not yet).
    const complete = this.store.indexedAmong(lists.flat().map((hit) => hit.chunk.documentId));
    const shown = lists.map((hits) => hits.filter((hit) => complete.has(hit.chunk.documentId)));
    // Bases searched differently are merged by rank, their relevances on scales no longer
    // comparable: a chunk is in one base's answer only, so the merged relevance is its rank fusion
    // score over that of a first place (1 for the first of any base's answer, held there by exact
    // match), and the minimum relevance is held against it here, before the cut at topK.
    const merged =
      shown.length === 1
        ? shown[0]!
        : fuseByRank(shown)
            .map((hit) => ({ ...hit, relevance: Math.min(1, hit.score * (DEFAULT_RRF_K + 1)) }))
            .filter((hit) => hit.relevance >= (minRelevance.get(hit.chunk.knowledgeBaseId) ?? 0));
    const results = merged.slice(0, input.topK).map(({ chunk, score, relevance }) => ({
      chunkId: chunk.id,
      knowledgeBaseId: chunk.knowledgeBaseId,
      documentId: chunk.documentId,
      documentTitle: chunk.documentTitle,
      text: chunk.text,
      score,
      relevance,
      page: chunk.page ?? null,
      headingPath: chunk.headingPath,
      charStart: chunk.charStart,
      charEnd: chunk.charEnd,
    }));
    return warnings.length > 0 ? { results, warnings } : { results };
  }
}
