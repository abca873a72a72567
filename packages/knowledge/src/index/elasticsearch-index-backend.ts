import { describeNetworkError, HearthError, UpstreamCallError } from "@hearth/core";
import { queryCharacters, queryPhrases, queryTerms, runEndTerm } from "../text/text-analyzer.js";
import { validateChunks, validateQuery, validateVectorQuery } from "./chunk-validation.js";
import { exactFirst } from "./exact-first.js";
import type {
  ChunkRecord,
  IndexBackend,
  LexicalQuery,
  MetadataValue,
  SearchFilters,
  SearchHit,
  VectorQuery,
} from "./index-backend.js";
import { chunkTerms } from "./searchable-text.js";

/** The weight of a phrase match: BM25 scores of word matches stay far below it. */
const PHRASE_BOOST = 100;
/** The name of the phrase-match clauses, which a hit lists in `matched_queries` when it holds a phrase. */
const EXACT_QUERY = "exact";
/**
 * The field of run-end terms (splitDocument): a field of its own, so that the length BM25
 * normalises `terms` by stays as it was and only a query's lone characters see them.
 */
const RUN_ENDS_FIELD = { type: "text", analyzer: "hearth_terms", similarity: "default" };
/**
 * The terms beginning with a lone character that rank the chunks holding them (Lucene's top_terms
 * rewrite, as one term's frequencies); past them a chunk is still found, at a constant score.
 */
const CHARACTER_TERMS = 1024;

export interface ElasticsearchIndexOptions {
  /** Base URL of the Elasticsearch 8+/OpenSearch 2+ node, e.g. http://127.0.0.1:9200 (user:password@ allowed). */
  url: string;
  /** Sent as `Authorization: ApiKey …` (Elasticsearch). */
  apiKey?: string;
  /** Name of the index holding the chunks. Default ELASTICSEARCH_INDEX. */
  indexName?: string;
  /**
   * Embedding dimensions, needed up front by OpenSearch's knn_vector mapping; Elasticsearch
   * infers them from the first embedding. Default 384.
   */
  dimensions?: number;
  /** Milliseconds before a request is abandoned. Default 30,000. */
  timeoutMs?: number;
}

interface StoredChunk extends Omit<ChunkRecord, "embedding"> {
  metadataTerms: string[];
  terms: string;
  runEnds: string;
  embedding?: number[];
}

/** The Elasticsearch (or OpenSearch) index that holds the chunks of every knowledge base. */
export const ELASTICSEARCH_INDEX = "hearth-chunks";

/** Opens (creating when missing) the chunk index on an Elasticsearch or OpenSearch node. */
export async function openElasticsearchIndex(options: ElasticsearchIndexOptions): Promise<IndexBackend> {
  const backend = new ElasticsearchIndexBackend(options);
  await backend.prepare();
  return backend;
}

/**
 * Elasticsearch/OpenSearch over plain REST (fetch): the official Elasticsearch client refuses
 * OpenSearch servers, and the few calls needed here do not need it. Terms come from Hearth's own
 * analyzer and are indexed with a whitespace analyzer, so BM25 sees the same jieba/stemmed terms
 * as the other backends. Vectors are `dense_vector` (Elasticsearch, cosine, HNSW kNN) or
 * `knn_vector` (OpenSearch, Lucene engine with filtering). Metadata filters use a keyword field
 * of `key\u0001type:value` strings so 2024, "2024" and true stay distinct.
 */
class ElasticsearchIndexBackend implements IndexBackend {
  readonly name = "elasticsearch";
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly index: string;
  private readonly timeoutMs: number;
  private distribution: "elasticsearch" | "opensearch" = "elasticsearch";

  constructor(private readonly options: ElasticsearchIndexOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (error) {
      throw new HearthError("INVALID_REQUEST", "The Elasticsearch URL is not a valid URL.", { cause: error });
    }
    this.headers = { "content-type": "application/json" };
    if (url.username !== "") {
      const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      this.headers.authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
      url.username = "";
      url.password = "";
    }
    if (options.apiKey !== undefined) this.headers.authorization = `ApiKey ${options.apiKey}`;
    this.base = url.toString().replace(/\/$/, "");
    this.index = options.indexName ?? ELASTICSEARCH_INDEX;
    if (!/^[a-z0-9][a-z0-9_-]{0,200}$/.test(this.index)) {
      throw new HearthError(
        "INVALID_REQUEST",
        "The Elasticsearch index name must be lower-case letters, digits, - and _.",
      );
    }
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async prepare(): Promise<void> {
    const info = (await this.request("GET", "/")) as { version?: { distribution?: string } };
    this.distribution = info.version?.distribution === "opensearch" ? "opensearch" : "elasticsearch";
    const exists = await this.request("HEAD", `/${this.index}`, undefined, [404]);
    if (exists !== 404) {
      // An index created before run-end terms existed gets their field (its chunks, once re-indexed).
      await this.request("PUT", `/${this.index}/_mapping`, { properties: { runEnds: RUN_ENDS_FIELD } });
      return;
    }
    const opensearch = this.distribution === "opensearch";
    await this.request("PUT", `/${this.index}`, {
      settings: {
        ...(opensearch ? { "index.knn": true } : {}),
        analysis: { analyzer: { hearth_terms: { type: "custom", tokenizer: "whitespace" } } },
        similarity: { default: { type: "BM25", k1: 1.2, b: 0.75 } },
      },
      mappings: {
        dynamic: false,
        properties: {
          id: { type: "keyword" },
          knowledgeBaseId: { type: "keyword" },
          documentId: { type: "keyword" },
          ordinal: { type: "integer" },
          contentHash: { type: "keyword" },
          metadataTerms: { type: "keyword" },
          terms: { type: "text", analyzer: "hearth_terms", similarity: "default" },
          runEnds: RUN_ENDS_FIELD,
          embedding: opensearch
            ? {
                type: "knn_vector",
                dimension: this.options.dimensions ?? 384,
                method: { name: "hnsw", space_type: "cosinesimil", engine: "lucene" },
              }
            : { type: "dense_vector", index: true, similarity: "cosine" },
        },
      },
    });
  }

  async upsertChunks(chunks: readonly ChunkRecord[]): Promise<void> {
    validateChunks(chunks);
    if (chunks.length === 0) return;
    const lines: string[] = [];
    for (const chunk of chunks) {
      const { embedding, analyzedTerms: _analyzed, ...rest } = chunk;
      const document: StoredChunk = {
        ...rest,
        metadataTerms: metadataTerms(chunk.metadata),
        ...chunkTerms(chunk),
        ...(embedding === undefined ? {} : { embedding: Array.from(embedding) }),
      };
      lines.push(JSON.stringify({ index: { _index: this.index, _id: chunk.id } }), JSON.stringify(document));
    }
    const result = (await this.request("POST", "/_bulk?refresh=wait_for", `${lines.join("\n")}\n`)) as {
      errors?: boolean;
      items?: Array<{ index?: { error?: { type?: string; reason?: string } } }>;
    };
    if (result.errors) {
      const first = result.items?.find((item) => item.index?.error !== undefined)?.index?.error;
      const dimensions = /dimension/i.test(first?.reason ?? "");
      throw new HearthError(
        dimensions ? "INDEX_DIMENSION_MISMATCH" : "INDEX_INVALID_CHUNK",
        `Elasticsearch rejected a chunk: ${first?.type ?? "error"}: ${first?.reason ?? "no reason given"}`,
      );
    }
  }

  async deleteChunks(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.deleteByQuery({ terms: { id: ids } });
  }

  async deleteDocument(knowledgeBaseId: string, documentId: string): Promise<void> {
    await this.deleteByQuery({
      bool: { filter: [{ term: { knowledgeBaseId } }, { term: { documentId } }] },
    });
  }

  async deleteKnowledgeBase(knowledgeBaseId: string): Promise<void> {
    await this.deleteByQuery({ term: { knowledgeBaseId } });
  }

  private async deleteByQuery(query: object): Promise<void> {
    await this.request("POST", `/${this.index}/_delete_by_query?refresh=true&conflicts=proceed`, { query });
  }

  async listChunkHashes(knowledgeBaseId: string, documentId: string): Promise<Map<string, string>> {
    const result = (await this.request("POST", `/${this.index}/_search`, {
      size: 10_000,
      _source: ["id", "contentHash"],
      query: { bool: { filter: [{ term: { knowledgeBaseId } }, { term: { documentId } }] } },
      sort: [{ ordinal: "asc" }],
    })) as SearchResponse;
    return new Map(result.hits.hits.map((hit) => [hit._source.id, hit._source.contentHash]));
  }

  async listChunks(
    knowledgeBaseId: string,
    documentId: string,
  ): Promise<Array<Omit<ChunkRecord, "embedding">>> {
    const result = (await this.request("POST", `/${this.index}/_search`, {
      size: 10_000,
      _source: { excludes: ["embedding", "terms", "runEnds", "metadataTerms"] },
      query: { bool: { filter: [{ term: { knowledgeBaseId } }, { term: { documentId } }] } },
      sort: [{ ordinal: "asc" }],
    })) as SearchResponse;
    return result.hits.hits.map((hit) => toChunk(hit._source));
  }

  async lexicalSearch(query: LexicalQuery): Promise<SearchHit[]> {
    validateQuery(query);
    const terms = queryTerms(query.text);
    if (terms.length === 0 || query.knowledgeBaseIds.length === 0) return [];
    const lone = new Set(queryCharacters(query.text));
    const words = terms.filter((term) => !lone.has(term));
    const characters = terms.filter((term) => lone.has(term));
    // A lone character matches the terms that begin with it and its run-end term: wherever it occurs.
    // A bool of one clause is that clause: a query without lone characters scores as it did.
    const clauses: object[] = [
      ...(words.length === 0 ? [] : [{ match: { terms: { query: words.join(" "), operator: "or" } } }]),
      ...characters.flatMap((character) => [
        { prefix: { terms: { value: character, boost: 0 } } },
        { prefix: { terms: { value: character, rewrite: `top_terms_blended_freqs_${CHARACTER_TERMS}` } } },
        { term: { runEnds: runEndTerm(character) } },
      ]),
    ];
    const result = (await this.request("POST", `/${this.index}/_search`, {
      size: query.topK,
      _source: { excludes: ["embedding", "terms", "runEnds", "metadataTerms"] },
      query: {
        bool: {
          must: [{ bool: { should: clauses, minimum_should_match: 1 } }],
          // A chunk holding a compound token, quoted phrase or Chinese word as written ("ERR-4021", "2.10.3")
          // gets a boost that puts it above chunks sharing only the words.
          should: queryPhrases(query.text).map((phrase) => ({
            match_phrase: { terms: { query: phrase.join(" "), boost: PHRASE_BOOST, _name: EXACT_QUERY } },
          })),
          filter: filterClauses(query.knowledgeBaseIds, query.filters),
        },
      },
    })) as SearchResponse;
    return exactFirst(
      result.hits.hits.map((hit) => ({
        chunk: toChunk(hit._source),
        score: hit._score,
        exact: hit.matched_queries?.includes(EXACT_QUERY) === true,
      })),
    );
  }

  async vectorSearch(query: VectorQuery): Promise<SearchHit[]> {
    validateVectorQuery(query);
    if (query.knowledgeBaseIds.length === 0) return [];
    const filter = { bool: { filter: filterClauses(query.knowledgeBaseIds, query.filters) } };
    const vector = Array.from(query.vector);
    const body =
      this.distribution === "opensearch"
        ? { size: query.topK, query: { knn: { embedding: { vector, k: query.topK, filter } } } }
        : {
            size: query.topK,
            knn: {
              field: "embedding",
              query_vector: vector,
              k: query.topK,
              num_candidates: Math.max(100, query.topK * 10),
              filter,
            },
          };
    let result: SearchResponse;
    try {
      result = (await this.request("POST", `/${this.index}/_search`, {
        ...body,
        _source: { excludes: ["embedding", "terms", "runEnds", "metadataTerms"] },
      })) as SearchResponse;
    } catch (error) {
      if (error instanceof UpstreamCallError && /dim/i.test(error.responseBody ?? "")) {
        throw new HearthError(
          "INDEX_DIMENSION_MISMATCH",
          "The query vector's dimensions differ from the indexed vectors'.",
          {
            cause: error,
          },
        );
      }
      throw error;
    }
    // Both engines report cosine as (1 + cos) / 2.
    return result.hits.hits.map((hit) => ({ chunk: toChunk(hit._source), score: hit._score * 2 - 1 }));
  }

  async checkReachable(): Promise<void> {
    await this.request("HEAD", `/${this.index}`, undefined, [404]);
  }

  async close(): Promise<void> {}

  private async request(
    method: string,
    path: string,
    body?: object | string,
    allowed: number[] = [],
  ): Promise<unknown> {
    const url = `${this.base}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers:
          typeof body === "string"
            ? { ...this.headers, "content-type": "application/x-ndjson" }
            : this.headers,
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new HearthError(
        "INDEX_UNAVAILABLE",
        `Elasticsearch at ${this.base} did not answer: ${describeNetworkError(error)}.`,
        {
          cause: error,
        },
      );
    }
    if (allowed.includes(response.status)) return response.status;
    const text = await response.text();
    if (!response.ok) {
      throw new UpstreamCallError({
        url,
        status: response.status,
        body: text.slice(0, 2000),
        message: `Elasticsearch answered ${response.status} to ${method} ${path.replace(/\?.*$/, "")}.`,
      });
    }
    return text === "" ? {} : JSON.parse(text);
  }
}

interface SearchResponse {
  hits: { hits: Array<{ _score: number; _source: StoredChunk; matched_queries?: string[] }> };
}

function metadataTerm(key: string, value: MetadataValue): string {
  return `${key}\u0001${typeof value}:${String(value)}`;
}

function metadataTerms(metadata: Record<string, MetadataValue>): string[] {
  return Object.entries(metadata).map(([key, value]) => metadataTerm(key, value));
}

function filterClauses(knowledgeBaseIds: readonly string[], filters: SearchFilters | undefined): object[] {
  const clauses: object[] = [{ terms: { knowledgeBaseId: knowledgeBaseIds } }];
  if (filters?.documentIds !== undefined) clauses.push({ terms: { documentId: filters.documentIds } });
  if (filters?.excludedDocumentIds !== undefined && filters.excludedDocumentIds.length > 0)
    clauses.push({ bool: { must_not: [{ terms: { documentId: filters.excludedDocumentIds } }] } });
  for (const [key, value] of Object.entries(filters?.metadata ?? {})) {
    clauses.push({ term: { metadataTerms: metadataTerm(key, value) } });
  }
  return clauses;
}

function toChunk(source: StoredChunk): Omit<ChunkRecord, "embedding"> {
  const {
    metadataTerms: _terms,
    terms: _analysed,
    runEnds: _runEnds,
    embedding: _embedding,
    ...chunk
  } = source;
  return chunk;
}
