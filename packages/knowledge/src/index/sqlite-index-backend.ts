import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import {
  describeSqliteOpenError,
  HearthError,
  nameDamagedSqlite,
  PRIVATE_DIR,
  probeSqliteWrite,
} from "@hearth/core";
import Database from "better-sqlite3";
import {
  isJunctionTerm,
  queryCharacters,
  queryPhrases,
  queryTerms,
  runEndTerm,
} from "../text/text-analyzer.js";
import { QuantizedVectorIndex } from "../vector/quantized-vector-index.js";
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

export interface SqliteIndexOptions {
  /** The database file (created with its folder when missing), or ":memory:". */
  path: string;
  /** better-sqlite3's open options (tests open the file read-only, as a file this user cannot write opens). */
  sqlite?: Database.Options;
}

interface ChunkRow extends ChunkColumns {
  rowid: number;
  heading_path: string;
  metadata: string;
}

const SCHEMA = `
create table if not exists index_chunks (
  rowid integer primary key,
  id text not null unique,
  knowledge_base_id text not null,
  document_id text not null,
  ordinal integer not null,
  text text not null,
  content_hash text not null,
  document_title text not null,
  page integer,
  heading_path text not null,
  char_start integer not null,
  char_end integer not null,
  metadata text not null,
  embedding blob
);
create index if not exists index_chunks_document on index_chunks (knowledge_base_id, document_id);
create virtual table if not exists index_chunk_terms using fts5 (terms, tokenize = 'unicode61 remove_diacritics 0');
create virtual table if not exists index_chunk_run_ends using fts5 (terms, tokenize = 'unicode61 remove_diacritics 0');
`;

const ROW_COLUMNS = `c.rowid, ${CHUNK_COLUMNS}`;

/** Where a query's terms are matched: the word terms, and the lone characters' run-end terms. */
interface TermSource {
  table: "index_chunk_terms" | "index_chunk_run_ends";
  /** The term a match counts for: its position among the query's terms. */
  term: string;
  /** The FTS5 query each row of the JSON parameter holds. */
  query: string;
}

/**
 * The word terms: the parameter is a JSON array of the terms' FTS5 queries, a term being its
 * position there. Terms are letters and digits only, so each quoted is an FTS5 phrase; a lone
 * character's query is a prefix query ("诉" *).
 */
const WORD_TERMS: TermSource = { table: "index_chunk_terms", term: "q.key", query: "q.value" };

/**
 * The run-end terms of the query's lone characters: the parameter is a JSON array of [term, FTS5
 * query] pairs, the term being the lone character's position among the terms.
 */
const RUN_END_TERMS: TermSource = {
  table: "index_chunk_run_ends",
  term: "q.value ->> 0",
  query: "(q.value ->> 1)",
};

/**
 * Each query term's matches in `source`, in every knowledge base: the term, the chunk, FTS5's BM25 of
 * that one term for the chunk (`part`) and whether the chunk is in the queried knowledge bases (a
 * JSON array, the first parameter, then the terms'). With `wholeIndex` the queried knowledge bases
 * hold every chunk (one team's installation): every match is inside, and no chunk row need be read
 * to say so (the terms are the only parameter).
 */
function termMatches(source: TermSource, wholeIndex: boolean): string {
  const inside = wholeIndex ? "1" : "c.knowledge_base_id in (select value from json_each(?))";
  return `
  select ${source.term} as term, m.rowid, -m.rank as part, ${inside} as inside
  from json_each(?) q
  join ${source.table} m on m.${source.table} match ${source.query}${
    wholeIndex ? "" : "\n  join index_chunks c on c.rowid = m.rowid"
  }`;
}

/**
 * Per term, what turns FTS5's `part` into BM25 as if the queried knowledge bases were an index of
 * their own (parameters: the chunks they hold, then the chunks the whole index holds). FTS5 weighs
 * a term by an IDF over the whole table, ln((N - n + 0.5) / (n + 0.5)), 1e-6 when not positive: a
 * term in half of all chunks, in any base, counted for nothing, and one user's large manual changed
 * the ranking in everyone else's bases. The weight divides that IDF out and puts in Lucene's,
 * always positive, from the queried bases' counts: ln(1 + (N - n + 0.5) / (n + 0.5)), as the
 * PostgreSQL backend computes it.
 */
const TERM_WEIGHTS = `
  select term, ln(1 + (? - inside + 0.5) / (inside + 0.5)) / iif(fts_idf > 0, fts_idf, 1e-6) as weight
  from (select term, sum(inside) as inside, ln((? - count(*) + 0.5) / (count(*) + 0.5)) as fts_idf
    from matches group by term)`;

/** Each chunk's score: the sum of its terms' parts, each times its term's weight. */
const TERM_SCORES = `
  select m.rowid, sum(m.part * w.weight) as score from matches m join weights w using (term)
  where m.inside group by m.rowid`;

/**
 * TERM_WEIGHTS and TERM_SCORES when the query has lone characters and `matches` holds their run-end
 * matches too (`source` 1; 0 for the terms'). A chunk counts once for a lone character: by its
 * match among the terms when it has one (min(source) takes `part` from that row), else by its
 * run-end match; n counts the chunks either way. FTS5's IDF is divided out per table: each has a
 * row for every chunk (index_chunk_run_ends an empty one when there are no run ends), so N is the
 * chunks the whole index holds in both. Same parameters as TERM_WEIGHTS.
 */
const CHARACTER_WEIGHTS_AND_SCORES = `
  pairs as (select term, rowid, inside, min(source) as source, part from matches group by term, rowid),
  weights as (
    select i.term, i.source,
      ln(1 + (? - n.inside + 0.5) / (n.inside + 0.5)) / iif(i.fts_idf > 0, i.fts_idf, 1e-6) as weight
    from (select term, source, ln((? - count(*) + 0.5) / (count(*) + 0.5)) as fts_idf
      from matches group by term, source) i
    join (select term, sum(inside) as inside from pairs group by term) n using (term)),
  scores as (select p.rowid, sum(p.part * w.weight) as score from pairs p join weights w using (term, source)
    where p.inside group by p.rowid)`;

/** Opens (or creates) the embedded index: SQLite FTS5 over analysed terms, vectors in a quantised in-process index. */
export async function openSqliteIndex(options: SqliteIndexOptions): Promise<IndexBackend> {
  return SqliteIndexBackend.open(options);
}

/**
 * The default backend. Chunks live in one SQLite table; their analysed terms (jieba segmentation,
 * folding, stemming: see analyzeText) in an FTS5 table, their run-end terms (splitDocument: only a
 * query's lone characters match them) in another, so that they leave every other query's BM25 as it
 * was; ranked by BM25 with the queried knowledge bases' document frequencies (TERM_WEIGHTS; length
 * normalisation still uses FTS5's average length over all chunks); embeddings as float32 blobs in
 * the chunk row, loaded at open into a QuantizedVectorIndex per dimension count.
 */
export class SqliteIndexBackend implements IndexBackend {
  readonly name = "sqlite";
  private readonly vectorIndexes = new Map<number, QuantizedVectorIndex>();
  private readonly knowledgeBaseTags = new Map<string, number>();
  /** Chunks per knowledge base, kept as rows change: BM25's N (counting rows per query took ~10 ms at 100k). */
  private readonly chunkCounts = new Map<string, number>();
  /** Prepared statements by SQL text, so each is prepared once (queries differ only by their filters). */
  private readonly statements = new Map<string, Database.Statement>();
  private closed = false;

  private constructor(private readonly database: Database.Database) {}

  static open(options: SqliteIndexOptions): SqliteIndexBackend {
    let database: Database.Database | undefined;
    try {
      if (options.path !== ":memory:") mkdirSync(dirname(options.path), PRIVATE_DIR);
      database = new Database(options.path, options.sqlite);
      database.pragma("journal_mode = WAL");
      database.pragma("synchronous = NORMAL");
      // A query touches scattered pages (doc sizes for BM25, chunk rows for filters): read them
      // through a memory map and a 64 MB cache instead of one read() call per page.
      database.pragma("mmap_size = 1073741824");
      database.pragma("cache_size = -65536");
      database.exec(SCHEMA);
      // A file this user may not write opens read-only without a word: fail now, not at the first upload.
      if (options.path !== ":memory:") probeSqliteWrite(database);
    } catch (error) {
      database?.close();
      // The same code as before (INDEX_UNAVAILABLE), with the file's problem and its fix when SQLite says which.
      const described = describeSqliteOpenError(options.path, error);
      throw new HearthError(
        "INDEX_UNAVAILABLE",
        `The SQLite index at ${options.path} cannot be opened: ${described?.message ?? (error as Error).message}`,
        { cause: error },
      );
    }
    const backend = new SqliteIndexBackend(
      options.path === ":memory:" ? database : nameDamagedSqlite(database, options.path),
    );
    try {
      backend.loadVectors();
      backend.loadChunkCounts();
    } catch (error) {
      database.close();
      throw error;
    }
    return backend;
  }

  private loadVectors(): void {
    const rows = this.database
      .prepare("select rowid, knowledge_base_id, embedding from index_chunks where embedding is not null")
      .iterate() as IterableIterator<{
      rowid: number;
      knowledge_base_id: string;
      embedding: Buffer;
    }>;
    for (const row of rows)
      this.vectorIndexFor(row.embedding.byteLength / 4).add(
        row.rowid,
        blobToVector(row.embedding),
        this.tagOf(row.knowledge_base_id),
      );
  }

  private loadChunkCounts(): void {
    const rows = this.database
      .prepare("select knowledge_base_id, count(*) as chunks from index_chunks group by knowledge_base_id")
      .all() as Array<{ knowledge_base_id: string; chunks: number }>;
    for (const row of rows) this.chunkCounts.set(row.knowledge_base_id, row.chunks);
  }

  private countChunk(knowledgeBaseId: string, change: 1 | -1): void {
    const count = (this.chunkCounts.get(knowledgeBaseId) ?? 0) + change;
    if (count === 0) this.chunkCounts.delete(knowledgeBaseId);
    else this.chunkCounts.set(knowledgeBaseId, count);
  }

  private vectorIndexFor(dimensions: number): QuantizedVectorIndex {
    let index = this.vectorIndexes.get(dimensions);
    if (index === undefined) {
      index = new QuantizedVectorIndex({ dimensions });
      this.vectorIndexes.set(dimensions, index);
    }
    return index;
  }

  private tagOf(knowledgeBaseId: string): number {
    let tag = this.knowledgeBaseTags.get(knowledgeBaseId);
    if (tag === undefined) {
      tag = this.knowledgeBaseTags.size + 1;
      this.knowledgeBaseTags.set(knowledgeBaseId, tag);
    }
    return tag;
  }

  private statement(sql: string): Database.Statement {
    let prepared = this.statements.get(sql);
    if (prepared === undefined) {
      prepared = this.database.prepare(sql);
      if (this.statements.size < 256) this.statements.set(sql, prepared);
    }
    return prepared;
  }

  private ensureOpen(): void {
    if (this.closed) throw new HearthError("INDEX_UNAVAILABLE", "The SQLite index is closed.");
  }

  async upsertChunks(chunks: readonly ChunkRecord[]): Promise<void> {
    this.ensureOpen();
    validateChunks(chunks);
    const upsert = this.statement(
      `insert into index_chunks (id, knowledge_base_id, document_id, ordinal, text, content_hash, document_title, page, heading_path, char_start, char_end, metadata, embedding)
       values (@id, @knowledgeBaseId, @documentId, @ordinal, @text, @contentHash, @documentTitle, @page, @headingPath, @charStart, @charEnd, @metadata, @embedding)
       on conflict (id) do update set knowledge_base_id = excluded.knowledge_base_id, document_id = excluded.document_id, ordinal = excluded.ordinal,
         text = excluded.text, content_hash = excluded.content_hash, document_title = excluded.document_title, page = excluded.page,
         heading_path = excluded.heading_path, char_start = excluded.char_start, char_end = excluded.char_end, metadata = excluded.metadata,
         embedding = excluded.embedding
       returning rowid`,
    );
    const deleteTerms = this.statement("delete from index_chunk_terms where rowid = ?");
    const insertTerms = this.statement("insert into index_chunk_terms (rowid, terms) values (?, ?)");
    const deleteRunEnds = this.statement("delete from index_chunk_run_ends where rowid = ?");
    const insertRunEnds = this.statement("insert into index_chunk_run_ends (rowid, terms) values (?, ?)");
    const previousRow = this.statement(
      "select knowledge_base_id, length(embedding) / 4 as dimensions from index_chunks where id = ?",
    );
    // Terms are analysed before the transaction (unless ingestion did it in a parser thread): jieba
    // is the slow part and needs no lock.
    const documents = chunks.map((chunk) => chunkTerms(chunk));
    const changes: Array<{
      rowid: number;
      previous: { knowledge_base_id: string; dimensions: number | null } | undefined;
      chunk: ChunkRecord;
    }> = [];
    this.database.transaction(() => {
      for (const [position, chunk] of chunks.entries()) {
        const previous = previousRow.get(chunk.id) as
          | { knowledge_base_id: string; dimensions: number | null }
          | undefined;
        const { rowid } = upsert.get({
          id: chunk.id,
          knowledgeBaseId: chunk.knowledgeBaseId,
          documentId: chunk.documentId,
          ordinal: chunk.ordinal,
          text: chunk.text,
          contentHash: chunk.contentHash,
          documentTitle: chunk.documentTitle,
          page: chunk.page ?? null,
          headingPath: JSON.stringify(chunk.headingPath),
          charStart: chunk.charStart,
          charEnd: chunk.charEnd,
          metadata: JSON.stringify(chunk.metadata),
          embedding: chunk.embedding === undefined ? null : vectorToBlob(chunk.embedding),
        }) as { rowid: number };
        const { terms, runEnds } = documents[position]!;
        deleteTerms.run(rowid);
        insertTerms.run(rowid, terms);
        deleteRunEnds.run(rowid);
        insertRunEnds.run(rowid, runEnds);
        changes.push({ rowid, previous, chunk });
      }
    })();
    // The in-memory vectors and counts follow only once the rows are committed.
    for (const { rowid, previous, chunk } of changes) {
      if (previous?.knowledge_base_id !== chunk.knowledgeBaseId) {
        if (previous !== undefined) this.countChunk(previous.knowledge_base_id, -1);
        this.countChunk(chunk.knowledgeBaseId, 1);
      }
      const dimensions = previous?.dimensions ?? null;
      if (dimensions !== null && dimensions !== chunk.embedding?.length)
        this.vectorIndexes.get(dimensions)?.remove(rowid);
      if (chunk.embedding !== undefined)
        this.vectorIndexFor(chunk.embedding.length).add(
          rowid,
          chunk.embedding,
          this.tagOf(chunk.knowledgeBaseId),
        );
    }
  }

  async deleteChunks(ids: readonly string[]): Promise<void> {
    this.ensureOpen();
    this.deleteWhere("id in (select value from json_each(?))", [JSON.stringify(ids)]);
  }

  async deleteDocument(knowledgeBaseId: string, documentId: string): Promise<void> {
    this.ensureOpen();
    this.deleteWhere("knowledge_base_id = ? and document_id = ?", [knowledgeBaseId, documentId]);
  }

  async deleteKnowledgeBase(knowledgeBaseId: string): Promise<void> {
    this.ensureOpen();
    this.deleteWhere("knowledge_base_id = ?", [knowledgeBaseId]);
  }

  private deleteWhere(condition: string, parameters: unknown[]): void {
    const removed = this.database.transaction(() => {
      const rows = this.statement(
        `select rowid, knowledge_base_id, length(embedding) / 4 as dimensions from index_chunks where ${condition}`,
      ).all(...parameters) as Array<{ rowid: number; knowledge_base_id: string; dimensions: number | null }>;
      const deleteTerms = this.statement("delete from index_chunk_terms where rowid = ?");
      const deleteRunEnds = this.statement("delete from index_chunk_run_ends where rowid = ?");
      for (const row of rows) {
        deleteTerms.run(row.rowid);
        deleteRunEnds.run(row.rowid);
      }
      this.statement(`delete from index_chunks where ${condition}`).run(...parameters);
      return rows;
    })();
    for (const row of removed) {
      this.countChunk(row.knowledge_base_id, -1);
      if (row.dimensions !== null) this.vectorIndexes.get(row.dimensions)?.remove(row.rowid);
    }
  }

  async listChunkHashes(knowledgeBaseId: string, documentId: string): Promise<Map<string, string>> {
    this.ensureOpen();
    const rows = this.statement(
      "select id, content_hash from index_chunks where knowledge_base_id = ? and document_id = ? order by ordinal",
    ).all(knowledgeBaseId, documentId) as Array<{ id: string; content_hash: string }>;
    return new Map(rows.map((row) => [row.id, row.content_hash]));
  }

  async listChunks(
    knowledgeBaseId: string,
    documentId: string,
  ): Promise<Array<Omit<ChunkRecord, "embedding">>> {
    this.ensureOpen();
    const rows = this.statement(
      `select ${ROW_COLUMNS} from index_chunks c where c.knowledge_base_id = ? and c.document_id = ? order by c.ordinal`,
    ).all(knowledgeBaseId, documentId) as ChunkRow[];
    return rows.map(rowToChunk);
  }

  async lexicalSearch(query: LexicalQuery): Promise<SearchHit[]> {
    this.ensureOpen();
    validateQuery(query);
    const phrases = queryPhrases(query.text);
    // A phrase's terms are searched as words too, so every chunk holding the phrase is a candidate
    // (its junction terms aside: they stand beside its words and characters, which are searched).
    const words = phrases.flat().filter((term) => !isJunctionTerm(term));
    const terms = [...new Set([...queryTerms(query.text), ...words])];
    if (terms.length === 0 || query.knowledgeBaseIds.length === 0) return [];
    // A lone character matches each term that begins with it, and run-end terms: wherever it occurs.
    const characters = new Set(queryCharacters(query.text));
    const termQueries = JSON.stringify(
      terms.map((term) => (characters.has(term) ? `"${term}" *` : `"${term}"`)),
    );
    const runEndQueries = terms.flatMap((term, position) =>
      characters.has(term) ? [[position, `"${runEndTerm(term)}"`]] : [],
    );
    const filter = filterClause(query.knowledgeBaseIds, query.filters);
    const knowledgeBaseIds = JSON.stringify(query.knowledgeBaseIds);
    // Chunks holding a compound token, quoted phrase or Chinese word as written come first (by BM25 among
    // themselves), then the rest: word matches alone rank "ERR-4012 … port 4021" above "ERR-4021".
    const exact =
      phrases.length === 0
        ? "0"
        : "c.rowid in (select rowid from index_chunk_terms where index_chunk_terms match ?)";
    let chunks = 0;
    for (const id of new Set(query.knowledgeBaseIds)) chunks += this.chunkCounts.get(id) ?? 0;
    let allChunks = 0;
    for (const count of this.chunkCounts.values()) allChunks += count;
    const wholeIndex = chunks === allChunks;
    const inBases = wholeIndex ? [] : [knowledgeBaseIds];
    // A query without lone characters runs as it did before run-end terms existed: same SQL, same scores.
    const ranking =
      runEndQueries.length === 0
        ? {
            matches: termMatches(WORD_TERMS, wholeIndex),
            weightsAndScores: `weights as (${TERM_WEIGHTS}), scores as (${TERM_SCORES})`,
            parameters: [...inBases, termQueries],
          }
        : {
            matches: `select *, 0 as source from (${termMatches(WORD_TERMS, wholeIndex)})
              union all select *, 1 from (${termMatches(RUN_END_TERMS, wholeIndex)})`,
            weightsAndScores: CHARACTER_WEIGHTS_AND_SCORES,
            parameters: [...inBases, termQueries, ...inBases, JSON.stringify(runEndQueries)],
          };
    const rows = this.statement(
      `with matches as materialized (${ranking.matches}), ${ranking.weightsAndScores}
       select ${ROW_COLUMNS}, s.score, ${exact} as exact from scores s join index_chunks c on c.rowid = s.rowid
       where ${filter.sql} order by exact desc, s.score desc, c.rowid limit ?`,
    ).all(
      ...ranking.parameters,
      chunks,
      allChunks,
      ...(phrases.length === 0 ? [] : [phrases.map((phrase) => `"${phrase.join(" ")}"`).join(" OR ")]),
      ...filter.parameters,
      query.topK,
    ) as Array<ChunkRow & { score: number; exact: number }>;
    return exactFirst(
      rows.map((row) => ({ chunk: rowToChunk(row), score: row.score, exact: row.exact === 1 })),
    );
  }

  async vectorSearch(query: VectorQuery): Promise<SearchHit[]> {
    this.ensureOpen();
    validateVectorQuery(query);
    const index = this.vectorIndexes.get(query.vector.length);
    if (index === undefined || index.size === 0) {
      const stored = [...this.vectorIndexes.entries()].find(([, candidate]) => candidate.size > 0);
      if (stored !== undefined) {
        throw new HearthError(
          "INDEX_DIMENSION_MISMATCH",
          `The query vector has ${query.vector.length} dimensions; the index holds ${stored[0]}-dimensional vectors.`,
          { details: { expected: stored[0], received: query.vector.length } },
        );
      }
      return [];
    }
    const tags = new Set<number>();
    for (const id of query.knowledgeBaseIds) {
      const tag = this.knowledgeBaseTags.get(id);
      if (tag !== undefined) tags.add(tag);
    }
    if (tags.size === 0) return [];
    const matches = index.search(query.vector, query.topK, {
      tags,
      ...this.vectorFilter(query.knowledgeBaseIds, query.filters),
    });
    if (matches.length === 0) return [];
    const rows = this.statement(
      `select ${ROW_COLUMNS} from index_chunks c where c.rowid in (select value from json_each(?))`,
    ).all(JSON.stringify(matches.map((match) => match.key))) as ChunkRow[];
    const byRowid = new Map(rows.map((row) => [row.rowid, row]));
    return matches.flatMap((match) => {
      const row = byRowid.get(match.key);
      return row === undefined ? [] : [{ chunk: rowToChunk(row), score: match.score }];
    });
  }

  /**
   * The rows a vector search may return, as a test of each row the scan meets (none without
   * filters). Filters on documents or metadata give the rows they allow; documents left out alone
   * (the usual case: a few switched off) give their rows, found through the document index, so
   * that a query does not read every chunk row of its bases to allow nearly all of them.
   */
  private vectorFilter(
    knowledgeBaseIds: readonly string[],
    filters: SearchFilters | undefined,
  ): { filter?: (key: number) => boolean } {
    if (filters?.documentIds !== undefined || filters?.metadata !== undefined) {
      const filter = filterClause(knowledgeBaseIds, filters);
      const allowed = new Set(
        this.statement(`select c.rowid from index_chunks c where ${filter.sql}`)
          .pluck()
          .all(...filter.parameters) as number[],
      );
      return { filter: (key) => allowed.has(key) };
    }
    if (filters?.excludedDocumentIds === undefined || filters.excludedDocumentIds.length === 0) return {};
    const excluded = new Set(
      this.statement(
        `select c.rowid from index_chunks c where c.knowledge_base_id in (select value from json_each(?))
           and c.document_id in (select value from json_each(?))`,
      )
        .pluck()
        .all(JSON.stringify(knowledgeBaseIds), JSON.stringify(filters.excludedDocumentIds)) as number[],
    );
    return excluded.size === 0 ? {} : { filter: (key) => !excluded.has(key) };
  }

  async checkReachable(): Promise<void> {
    this.ensureOpen();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    this.database.close();
    this.vectorIndexes.clear();
  }
}

/** The SQL condition (on alias `c`) for a knowledge-base list and filters, with its parameters. */
function filterClause(
  knowledgeBaseIds: readonly string[],
  filters: SearchFilters | undefined,
): { sql: string; parameters: unknown[] } {
  const conditions = ["c.knowledge_base_id in (select value from json_each(?))"];
  const parameters: unknown[] = [JSON.stringify(knowledgeBaseIds)];
  if (filters?.documentIds !== undefined) {
    conditions.push("c.document_id in (select value from json_each(?))");
    parameters.push(JSON.stringify(filters.documentIds));
  }
  if (filters?.excludedDocumentIds !== undefined && filters.excludedDocumentIds.length > 0) {
    conditions.push("c.document_id not in (select value from json_each(?))");
    parameters.push(JSON.stringify(filters.excludedDocumentIds));
  }
  for (const [key, value] of Object.entries(filters?.metadata ?? {})) {
    const path = `$."${key}"`;
    if (typeof value === "boolean") {
      conditions.push("json_type(c.metadata, ?) = ?");
      parameters.push(path, value ? "true" : "false");
    } else if (typeof value === "number") {
      conditions.push("json_type(c.metadata, ?) in ('integer', 'real') and json_extract(c.metadata, ?) = ?");
      parameters.push(path, path, value);
    } else {
      conditions.push("json_type(c.metadata, ?) = 'text' and json_extract(c.metadata, ?) = ?");
      parameters.push(path, path, value);
    }
  }
  return { sql: conditions.join(" and "), parameters };
}

function rowToChunk(row: ChunkRow): Omit<ChunkRecord, "embedding"> {
  return chunkFromColumns(
    row,
    JSON.parse(row.heading_path) as string[],
    JSON.parse(row.metadata) as ChunkRecord["metadata"],
  );
}

function vectorToBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer.slice(vector.byteOffset, vector.byteOffset + vector.byteLength));
}

function blobToVector(blob: Buffer): Float32Array {
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return new Float32Array(copy.buffer);
}
