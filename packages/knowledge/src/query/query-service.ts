import type { QueryResponse, QueryResult, QueryWarning } from "@hearth/contracts";
import { HearthError, UpstreamCallError } from "@hearth/core";
import type { EmbeddingClient } from "../embedding/embedding-client.js";
import { upstreamErrorCode } from "../embedding/model-service-failure.js";
import type { RerankClient } from "../embedding/rerank-client.js";
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
  /** false: no base's rerank model reranks this query's passages (to compare with them). */
  rerank?: boolean;
}

/** The fewest passages a rerank model is given for a query (see rerankCandidates). */
export const RERANK_MIN_CANDIDATES = 30;
/** The most passages a rerank model is given for a query, unless topK is higher (see rerankCandidates). */
export const RERANK_MAX_CANDIDATES = 100;

/**
 * How many passages a query retrieves for a rerank model to reorder: three times topK, at least
 * RERANK_MIN_CANDIDATES, so that it can lift a passage retrieval ranked well below the cut; at most
 * RERANK_MAX_CANDIDATES, as a cross-encoder reads each passage with the query and the query waits
 * for it; never fewer than topK, which the answer may hold.
 */
export function rerankCandidates(topK: number): number {
  return Math.max(topK, Math.min(RERANK_MAX_CANDIDATES, Math.max(topK * 3, RERANK_MIN_CANDIDATES)));
}

/** A passage on its way to the answer: retrieved, perhaps reranked. */
type RankedChunk = Pick<RetrievedChunk, "chunk" | "score" | "relevance" | "exact">;
/** One retrieval group's answer: the bases searched together, and their passages, best first. */
interface RetrievedList {
  knowledgeBaseIds: string[];
  hits: RetrievedChunk[];
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
 * mode "vector" fails with EMBEDDING_FAILED instead. The passages of bases with a rerank model are
 * reordered by it, its scores their relevance (see #rerank); where it fails, they keep their
 * retrieval order and the answer warns (RERANK_FAILED). Results less relevant than the query's
 * minRelevance, or their base's, are left out before the cut at topK, so the answer keeps as many
 * of the others as topK allows.
 */
export class QueryService {
  constructor(
    private readonly store: KnowledgeStore,
    private readonly retriever: Retriever,
    private readonly embeddings: EmbeddingClient,
    private readonly reranker: RerankClient,
  ) {}

  async query(input: QueryInput): Promise<QueryResponse> {
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
    // the retriever where one group answers unreranked (its relevance is the answer's), after the
    // reranking and merge else.
    const minRelevance = new Map<string, number>();
    // The rerank model of each base whose passages this query reranks.
    const rerankModels = new Map<string, string>();
    for (const id of ids) {
      const knowledgeBase = this.store.getKnowledgeBase(id);
      minRelevance.set(id, input.minRelevance ?? knowledgeBase.minRelevance);
      if (knowledgeBase.rerankModel && input.rerank !== false)
        rerankModels.set(id, knowledgeBase.rerankModel);
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
    const heldInRetriever = groups.size === 1 && rerankModels.size === 0;
    const retrieved: RetrievedList[] = [];
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
      const reranks = knowledgeBaseIds.some((id) => rerankModels.has(id));
      const hits = await this.retriever.retrieve({
        knowledgeBaseIds,
        text: input.query,
        ...(vector ? { vector } : {}),
        topK: reranks ? rerankCandidates(input.topK) : input.topK * 2,
        ...(filters ? { filters } : {}),
        mode: groupMode,
        ...(heldInRetriever ? { minRelevance } : {}),
      });
      retrieved.push({ knowledgeBaseIds, hits });
    }
    // Only documents whose chunks are all in the index are shown (one being indexed is not yet).
    const complete = this.store.indexedAmong(
      retrieved.flatMap((list) => list.hits.map((hit) => hit.chunk.documentId)),
    );
    for (const list of retrieved) list.hits = list.hits.filter((hit) => complete.has(hit.chunk.documentId));
    const { rankings, reranked } = await this.#rerank(input, retrieved, rerankModels, warnings);
    // Lists ranked differently (bases searched or reranked apart) are merged by rank, their
    // relevances on scales no longer comparable: a chunk is in one base's answer only, so the merged
    // relevance is its rank fusion score over that of a first place (1 for the first of any list,
    // held there by exact match). The minimum relevance is held against the answer's relevance
    // before the cut at topK, here unless the retriever held it.
    const merged: RankedChunk[] =
      rankings.length === 1
        ? rankings[0]!
        : fuseByRank(rankings).map((hit) => ({
            ...hit,
            relevance: Math.min(1, hit.score * (DEFAULT_RRF_K + 1)),
          }));
    const held = heldInRetriever
      ? merged
      : merged.filter((hit) => hit.relevance >= (minRelevance.get(hit.chunk.knowledgeBaseId) ?? 0));
    const results: QueryResult[] = held.slice(0, input.topK).map(({ chunk, score, relevance }) => ({
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
    return {
      results,
      ...(warnings.length > 0 ? { warnings } : {}),
      ...(reranked.length > 0 ? { reranked } : {}),
    };
  }

  /**
   * Reorders the passages of bases with a rerank model by its scores, which become their relevance
   * (bounded to 0..1 for a model service that answers raw logits). The passages of all the bases
   * sharing a model are reranked together, in one call (the first rerankCandidates of them, merged
   * by rank first where they were retrieved apart), so their relevances share its one scale. The
   * passages of bases reranked by other models, or not at all (none set, `rerank: false`, or their
   * model failed: a RERANK_FAILED warning names each of its bases), stay in lists of their own,
   * which the answer merges by rank as it merges bases searched apart. The reranker's order holds
   * over exact matches of the query, which retrieval ranks first.
   */
  async #rerank(
    input: QueryInput,
    retrieved: readonly RetrievedList[],
    rerankModels: ReadonlyMap<string, string>,
    warnings: QueryWarning[],
  ): Promise<{ rankings: RankedChunk[][]; reranked: NonNullable<QueryResponse["reranked"]> }> {
    const basesOf = new Map<string, string[]>();
    for (const [id, model] of rerankModels) basesOf.set(model, [...(basesOf.get(model) ?? []), id]);
    const attempts = await Promise.all(
      [...basesOf].map(async ([model, knowledgeBaseIds]) => {
        const parts = retrieved
          .map((list) => list.hits.filter((hit) => rerankModels.get(hit.chunk.knowledgeBaseId) === model))
          .filter((part) => part.length > 0);
        const candidates = (parts.length === 1 ? parts[0]! : fuseByRank(parts)).slice(
          0,
          rerankCandidates(input.topK),
        );
        // Nothing retrieved, nothing to rerank: the bases answer (nothing) as they are.
        if (candidates.length === 0) return undefined;
        try {
          const scores = await this.reranker.rerank(
            model,
            input.query,
            candidates.map((hit) => hit.chunk.text),
          );
          const ranking = scores.map(({ index, relevance }) => ({
            chunk: candidates[index]!.chunk,
            score: relevance,
            relevance: Math.min(1, Math.max(0, relevance)),
          }));
          return { model, knowledgeBaseIds, ranking };
        } catch (error) {
          const status = error instanceof UpstreamCallError ? error.upstreamStatus : undefined;
          const code = upstreamErrorCode(error);
          for (const knowledgeBaseId of knowledgeBaseIds)
            warnings.push({
              knowledgeBaseId,
              code: "RERANK_FAILED",
              message: `The passages could not be reranked with ${model}: ${(error as Error).message}; answered in retrieval order`,
              details: {
                model,
                ...(status !== undefined ? { status } : {}),
                ...(code ? { code } : {}),
              },
            });
          return undefined;
        }
      }),
    );
    const done = attempts.filter((attempt) => attempt !== undefined);
    const rerankedBases = new Set(done.flatMap((attempt) => attempt.knowledgeBaseIds));
    const unreranked = retrieved
      .filter((list) => list.knowledgeBaseIds.some((id) => !rerankedBases.has(id)))
      .map((list) => list.hits.filter((hit) => !rerankedBases.has(hit.chunk.knowledgeBaseId)));
    return {
      // A list with nothing in it is left out: merged with one, a reranked list's passages would
      // lose their reranker's relevance for a rank's.
      rankings: [...unreranked, ...done.map((attempt) => attempt.ranking)].filter((list) => list.length > 0),
      reranked: done.map(({ model, knowledgeBaseIds }) => ({ model, knowledgeBaseIds })),
    };
  }
}
