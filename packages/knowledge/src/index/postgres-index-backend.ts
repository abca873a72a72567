import { HearthError, type Logger } from "@hearth/core";
import { queryCharacters, queryPhrases, queryTerms } from "../text/text-analyzer.js";
import { CHUNK_COLUMNS, type ChunkColumns, chunkFromColumns } from "./chunk-columns.js";
import { validateChunks, validateQuery, validateVectorQuery } from "./chunk-validation.js";
import { exactFirst } from "./exact-first.js";
import type {
  ChunkRecord,
  IndexBackend,
  LexicalQuery,
  SearchFilters,
  SearchHit,
  VectorQuery,
} from "./index-backend.js";
import { chunkTerms } from "./searchable-text.js";
import { pgPoolClient, type SqlClient } from "./sql-client.js";

/** BM25 parameters (Robertson & Zaragoza; the defaults of Lucene and SQLite FTS5). */
const K1 = 1.2;
const B = 0.75;
/** PostgreSQL keeps at most 256 positions per lexeme and positions up to 16,383. */
const MAX_POSITION = 16_383;

export interface PostgresIndexOptions {
  /** postgres://user@host:port/database; or pass `client`. */
  connectionString?: string;
  /** An existing connection (node-postgres pool adapter, PGlite adapter). Closed by close() only when owned. */
  client?: SqlClient;
  /** Where the loss of the connection to `connectionString` is logged (once per outage). */
  logger?: Logger;
  /** Prefix of the index's tables, so several indexes (or test runs) can share one database. */
  tablePrefix?: string;
  /**
   * Where embeddings live: "pgvector" (the `vector` type, cosine distance operator), "array"
   * (real[], cosine computed in SQL: for servers without pgvector), or "auto" (pgvector when the
   * extension can be created). Default "auto".
   */
  vectorStorage?: "auto" | "pgvector" | "array";
}

interface ChunkRow extends ChunkColumns {
  heading_path: string[];
  metadata: ChunkRecord["metadata"];
  score: number;
}

/** Opens the PostgreSQL backend: full-text search over analysed terms with BM25 in SQL, vectors in pgvector. */
export async function openPostgresIndex(options: PostgresIndexOptions): Promise<IndexBackend> {
  if (options.client === undefined && options.connectionString === undefined) {
    throw new HearthError("INVALID_REQUEST", "openPostgresIndex needs a connectionString or a client.");
  }
  const owned = options.client === undefined;
  const client =
    options.client ??
    pgPoolClient(options.connectionString as string, {
      ...(options.logger ? { logger: options.logger } : {}),
    });
  const prefix = options.tablePrefix ?? "hearth_index";
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) {
    throw new HearthError(
      "INVALID_REQUEST",
      "tablePrefix must be lower-case letters, digits and underscores.",
    );
  }
  try {
    const storage = await prepareSchema(client, prefix, options.vectorStorage ?? "auto");
    return new PostgresIndexBackend(client, owned, `${prefix}_chunks`, storage);
  } catch (error) {
    if (owned) await client.close().catch(() => {});
    throw error;
  }
}

async function prepareSchema(
  client: SqlClient,
  prefix: string,
  requested: "auto" | "pgvector" | "array",
): Promise<"pgvector" | "array"> {
  const table = `${prefix}_chunks`;
  const existing = await client.query<{ udt_name: string }>(
    "select udt_name from information_schema.columns where table_schema = current_schema() and table_name = $1 and column_name = 'embedding'",
    [table],
  );
  let storage: "pgvector" | "array";
  if (existing.rows[0] !== undefined) {
    storage = existing.rows[0].udt_name === "vector" ? "pgvector" : "array";
  } else if (requested === "array") {
    storage = "array";
  } else {
    try {
      await client.query("create extension if not exists vector");
      storage = "pgvector";
    } catch (error) {
      if (requested === "pgvector") {
        throw new HearthError(
          "INDEX_UNAVAILABLE",
          "The pgvector extension is not available on this PostgreSQL server.",
          {
            cause: error,
          },
        );
      }
      storage = "array";
    }
  }
  await client.query(`
    create table if not exists ${table} (
      id text primary key,
      knowledge_base_id text not null,
      document_id text not null,
      ordinal integer not null,
      text text not null,
      content_hash text not null,
      document_title text not null,
      page integer,
      heading_path jsonb not null,
      char_start integer not null,
      char_end integer not null,
      metadata jsonb not null,
      terms tsvector not null,
      term_count integer not null,
      embedding_dimensions integer,
      embedding ${storage === "pgvector" ? "vector" : "real[]"}
    )`);
  await client.query(
    `create index if not exists ${table}_document on ${table} (knowledge_base_id, document_id)`,
  );
  await client.query(`create index if not exists ${table}_terms on ${table} using gin (terms)`);
  return storage;
}

/**
 * PostgreSQL behind the index contract. Terms come from the same analyzer as every backend and are
 * stored as a tsvector literal (positions kept, so term frequencies are exact), run-end terms
 * (splitDocument) after the others and left out of term_count, the length BM25 normalises by, so
 * that only a query's lone characters, which match them, see them; ranking is BM25 computed in SQL
 * from the tsvector's positions, the knowledge bases' document frequencies and average length,
 * since ts_rank is not BM25. Vectors use pgvector's cosine distance (exact scan).
 */
class PostgresIndexBackend implements IndexBackend {
  readonly name: string;

  constructor(
    private readonly client: SqlClient,
    private readonly owned: boolean,
    private readonly table: string,
    private readonly storage: "pgvector" | "array",
  ) {
    this.name = storage === "pgvector" ? "postgres+pgvector" : "postgres";
  }

  async upsertChunks(chunks: readonly ChunkRecord[]): Promise<void> {
    validateChunks(chunks);
    const rows = chunks.map((chunk) => {
      const { terms, runEnds } = chunkTerms(chunk);
      const words = terms.split(" ").filter(Boolean);
      // Run-end terms go in after the others, outside the length BM25 normalises by.
      const all = runEnds === "" ? words : [...words, ...runEnds.split(" ")];
      return { chunk, terms: toTsvectorLiteral(all), termCount: words.length };
    });
    await this.client.transaction(async (executor) => {
      for (const { chunk, terms, termCount } of rows) {
        await executor.query(
          `insert into ${this.table} (id, knowledge_base_id, document_id, ordinal, text, content_hash, document_title, page,
             heading_path, char_start, char_end, metadata, terms, term_count, embedding_dimensions, embedding)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12::jsonb, $13::tsvector, $14, $15, $16${this.vectorCast()})
           on conflict (id) do update set knowledge_base_id = excluded.knowledge_base_id, document_id = excluded.document_id,
             ordinal = excluded.ordinal, text = excluded.text, content_hash = excluded.content_hash,
             document_title = excluded.document_title, page = excluded.page, heading_path = excluded.heading_path,
             char_start = excluded.char_start, char_end = excluded.char_end, metadata = excluded.metadata,
             terms = excluded.terms, term_count = excluded.term_count,
             embedding_dimensions = excluded.embedding_dimensions, embedding = excluded.embedding`,
          [
            chunk.id,
            chunk.knowledgeBaseId,
            chunk.documentId,
            chunk.ordinal,
            stripNul(chunk.text),
            chunk.contentHash,
            stripNul(chunk.documentTitle),
            chunk.page ?? null,
            JSON.stringify(chunk.headingPath.map(stripNul)),
            chunk.charStart,
            chunk.charEnd,
            JSON.stringify(chunk.metadata),
            terms,
            termCount,
            chunk.embedding?.length ?? null,
            chunk.embedding === undefined ? null : this.vectorParameter(chunk.embedding),
          ],
        );
      }
    });
  }

  async deleteChunks(ids: readonly string[]): Promise<void> {
    await this.client.query(`delete from ${this.table} where id = any($1::text[])`, [ids]);
  }

  async deleteDocument(knowledgeBaseId: string, documentId: string): Promise<void> {
    await this.client.query(`delete from ${this.table} where knowledge_base_id = $1 and document_id = $2`, [
      knowledgeBaseId,
      documentId,
    ]);
  }

  async deleteKnowledgeBase(knowledgeBaseId: string): Promise<void> {
    await this.client.query(`delete from ${this.table} where knowledge_base_id = $1`, [knowledgeBaseId]);
  }

  async listChunkHashes(knowledgeBaseId: string, documentId: string): Promise<Map<string, string>> {
    const result = await this.client.query<{ id: string; content_hash: string }>(
      `select id, content_hash from ${this.table} where knowledge_base_id = $1 and document_id = $2 order by ordinal`,
      [knowledgeBaseId, documentId],
    );
    return new Map(result.rows.map((row) => [row.id, row.content_hash]));
  }

  async listChunks(
    knowledgeBaseId: string,
    documentId: string,
  ): Promise<Array<Omit<ChunkRecord, "embedding">>> {
    const result = await this.client.query<ChunkRow>(
      `select ${CHUNK_COLUMNS} from ${this.table} c where c.knowledge_base_id = $1 and c.document_id = $2 order by c.ordinal`,
      [knowledgeBaseId, documentId],
    );
    return result.rows.map((row) => chunkFromColumns(row, row.heading_path, row.metadata));
  }

  async lexicalSearch(query: LexicalQuery): Promise<SearchHit[]> {
    validateQuery(query);
    const terms = queryTerms(query.text);
    if (terms.length === 0 || query.knowledgeBaseIds.length === 0) return [];
    // A lone character matches each lexeme that begins with it (run-end terms too): wherever it
    // occurs. Its term is written "诉*", which no lexeme is, and counts those lexemes' positions.
    const lone = new Set(queryCharacters(query.text));
    const characters = terms.filter((term) => lone.has(term));
    const lexemeQueries = terms.map((term) =>
      lone.has(term) ? `${quoteLexeme(term)}:*` : quoteLexeme(term),
    );
    const tsquery = lexemeQueries.join(" | ");
    const statistics = await this.client.query<{ total: number; average_length: number }>(
      `select count(*)::int as total, coalesce(avg(term_count), 0)::float8 as average_length
       from ${this.table} where knowledge_base_id = any($1::text[])`,
      [query.knowledgeBaseIds],
    );
    const { total, average_length: averageLength } = statistics.rows[0] ?? { total: 0, average_length: 0 };
    if (total === 0) return [];
    const frequencies = await this.client.query<{ frequency: number }>(
      `select (select count(*) from ${this.table} c
         where c.knowledge_base_id = any($1::text[]) and c.terms @@ t.query::tsquery)::int as frequency
       from unnest($2::text[]) as t(query)`,
      [query.knowledgeBaseIds, lexemeQueries],
    );
    // Lucene's BM25 idf, always positive: ln(1 + (N - n + 0.5) / (n + 0.5)).
    const idfs = frequencies.rows.map((row) =>
      Math.log(1 + (total - row.frequency + 0.5) / (row.frequency + 0.5)),
    );
    // Chunks holding a compound token, quoted phrase or Chinese word as written ("ERR-4021", "2.10.3") rank first.
    const phrases = queryPhrases(query.text).map((phrase) => `(${phrase.map(quoteLexeme).join(" <-> ")})`);
    const filter = filterClause(query.filters, characters.length === 0 ? 6 : 7);
    const lexemes =
      "select u.lexeme, coalesce(array_length(u.positions, 1), 1) as frequency from unnest(c.terms) u";
    const result = await this.client.query<ChunkRow & { exact: boolean }>(
      `with q as (select * from unnest($2::text[], $3::float8[]) as q(term, idf))
       select ${CHUNK_COLUMNS},
         sum(q.idf * (t.frequency * ${K1 + 1}) / (t.frequency + ${K1} * (1 - ${B} + ${B} * c.term_count / $4::float8)))::float8 as score,
         coalesce(c.terms @@ $5::tsquery, false) as exact
       from ${this.table} c
       cross join lateral (${
         characters.length === 0
           ? lexemes
           : `${lexemes} union all
              select p.character || '*', sum(coalesce(array_length(u.positions, 1), 1))
              from unnest(c.terms) u join unnest($6::text[]) as p(character) on starts_with(u.lexeme, p.character)
              group by p.character`
       }) t
       join q on q.term = t.lexeme
       where c.knowledge_base_id = any($1::text[]) and c.terms @@ $${filter.next}::tsquery ${filter.sql}
       group by c.id
       order by exact desc, score desc, c.id
       limit $${filter.next + 1}`,
      [
        query.knowledgeBaseIds,
        terms.map((term) => (lone.has(term) ? `${term}*` : term)),
        idfs,
        Math.max(averageLength, 1),
        phrases.length === 0 ? null : phrases.join(" | "),
        ...(characters.length === 0 ? [] : [characters]),
        ...filter.parameters,
        tsquery,
        query.topK,
      ],
    );
    return exactFirst(result.rows.map((row) => ({ ...rowToHit(row), exact: row.exact === true })));
  }

  async vectorSearch(query: VectorQuery): Promise<SearchHit[]> {
    validateVectorQuery(query);
    if (query.knowledgeBaseIds.length === 0) return [];
    const filter = filterClause(query.filters, 4);
    const similarity =
      this.storage === "pgvector"
        ? "1 - (c.embedding <=> $3::vector)"
        : "(select sum(a * b) / nullif(sqrt(sum(a * a) * sum(b * b)), 0) from unnest(c.embedding, $3::real[]) as x(a, b))";
    const result = await this.client.query<ChunkRow>(
      `select ${CHUNK_COLUMNS}, (${similarity})::float8 as score
       from ${this.table} c
       where c.knowledge_base_id = any($1::text[]) and c.embedding_dimensions = $2 ${filter.sql}
       order by ${this.storage === "pgvector" ? "c.embedding <=> $3::vector" : "score desc"}, c.id
       limit $${filter.next}`,
      [
        query.knowledgeBaseIds,
        query.vector.length,
        this.vectorParameter(query.vector),
        ...filter.parameters,
        query.topK,
      ],
    );
    if (result.rows.length === 0) {
      const other = await this.client.query<{ dimensions: number }>(
        `select embedding_dimensions as dimensions from ${this.table}
         where knowledge_base_id = any($1::text[]) and embedding_dimensions is not null limit 1`,
        [query.knowledgeBaseIds],
      );
      const stored = other.rows[0]?.dimensions;
      if (stored !== undefined && stored !== query.vector.length) {
        throw new HearthError(
          "INDEX_DIMENSION_MISMATCH",
          `The query vector has ${query.vector.length} dimensions; the index holds ${stored}-dimensional vectors.`,
          { details: { expected: stored, received: query.vector.length } },
        );
      }
    }
    return result.rows.map(rowToHit);
  }

  async checkReachable(): Promise<void> {
    await this.client.query("select 1");
  }

  async close(): Promise<void> {
    if (this.owned) await this.client.close();
  }

  private vectorCast(): string {
    return this.storage === "pgvector" ? "::vector" : "::real[]";
  }

  private vectorParameter(vector: Float32Array): string | number[] {
    return this.storage === "pgvector" ? `[${Array.from(vector).join(",")}]` : Array.from(vector);
  }
}

/** Extra conditions on alias `c`, numbered from `first`; `next` is the first number left unused. */
function filterClause(
  filters: SearchFilters | undefined,
  first: number,
): { sql: string; parameters: unknown[]; next: number } {
  let sql = "";
  const parameters: unknown[] = [];
  if (filters?.documentIds !== undefined) {
    sql += ` and c.document_id = any($${first + parameters.length}::text[])`;
    parameters.push(filters.documentIds);
  }
  if (filters?.excludedDocumentIds !== undefined && filters.excludedDocumentIds.length > 0) {
    sql += ` and c.document_id <> all($${first + parameters.length}::text[])`;
    parameters.push(filters.excludedDocumentIds);
  }
  if (filters?.metadata !== undefined && Object.keys(filters.metadata).length > 0) {
    // jsonb containment compares types too: 2024 does not match "2024", true does not match 1.
    sql += ` and c.metadata @> $${first + parameters.length}::jsonb`;
    parameters.push(JSON.stringify(filters.metadata));
  }
  return { sql, parameters, next: first + parameters.length };
}

/** A tsvector literal with each term's positions: 'term':1,5 'other':2 (terms are letters and digits only). */
function toTsvectorLiteral(terms: readonly string[]): string {
  const positions = new Map<string, number[]>();
  terms.forEach((term, index) => {
    const list = positions.get(term);
    const position = Math.min(index + 1, MAX_POSITION);
    if (list === undefined) positions.set(term, [position]);
    else if (list.length < 256) list.push(position);
  });
  return [...positions].map(([term, list]) => `${quoteLexeme(term)}:${list.join(",")}`).join(" ");
}

function quoteLexeme(term: string): string {
  return `'${term.replace(/['\\]/g, (character) => `\\${character}`)}'`;
}

/** PostgreSQL text cannot hold NUL characters. */
function stripNul(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "") : text;
}

function rowToHit(row: ChunkRow): SearchHit {
  return { chunk: chunkFromColumns(row, row.heading_path, row.metadata), score: Number(row.score) };
}
