/**
 * Vector search at scale (issue 4): 384-d vectors at 100,000 (and, with `--1m` or
 * HEARTH_BENCH_VECTOR_1M=1, at 1,000,000), side by side in one run:
 * - Hearth's quantised index (int8 codes scanned with WebAssembly SIMD, exact re-scoring),
 * - plain JavaScript brute force over float32 (the exact reference for recall),
 * - sqlite-vec brute force (a vec0 table in a temporary file),
 * - a hybrid query (FTS5 BM25 + vector + reciprocal rank fusion) through the SQLite backend.
 * Vectors are uniform random on the sphere (the hard case for ANN indexes) and, at 100k, clustered
 * (a Gaussian mixture, closer to real embeddings). `npm run bench -- vector [--1m]`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import * as sqliteVec from "sqlite-vec";
import { openSqliteIndex } from "../packages/knowledge/src/index/sqlite-index-backend.js";
import { createRetriever } from "../packages/knowledge/src/retrieval/retriever.js";
import { QuantizedVectorIndex } from "../packages/knowledge/src/vector/quantized-vector-index.js";
import {
  normalizeRows,
  uniformUnitVectors,
} from "../packages/knowledge/src/vector/random-vectors.fixture.js";
import { seededRandom } from "../test/support/seeded-random.js";

const DIMENSIONS = 384;
const TOP_K = 10;

/** A mixture of 1,000 Gaussian clusters around random centres (queries are drawn the same way). */
function clusteredVectors(count: number, seed: number, centres: Float32Array): Float32Array {
  const next = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
  const clusters = centres.length / DIMENSIONS;
  const vectors = new Float32Array(count * DIMENSIONS);
  for (let row = 0; row < count; row++) {
    const centre = Math.floor(next() * clusters);
    for (let i = 0; i < DIMENSIONS; i++) {
      vectors[row * DIMENSIONS + i] = (centres[centre * DIMENSIONS + i] as number) + gaussian() * 0.04;
    }
  }
  return normalizeRows(vectors, DIMENSIONS);
}

function percentile(samples: number[], fraction: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number;
}

function timing(samples: number[]): string {
  return `p50 ${percentile(samples, 0.5).toFixed(2)} ms, p99 ${percentile(samples, 0.99).toFixed(2)} ms`;
}

function row(vectors: Float32Array, index: number): Float32Array {
  return vectors.subarray(index * DIMENSIONS, (index + 1) * DIMENSIONS);
}

/**
 * Plain JavaScript brute force: one pass over contiguous float32 rows, a bounded top-K list. The
 * baseline is written here, apart from the index, as the simplest fast scan anyone would write
 * (the index's exactSearch walks its own row blocks and is ~20 % slower: not a fair baseline).
 */
function bruteForce(vectors: Float32Array, query: Float32Array, topK: number): number[] {
  const count = vectors.length / DIMENSIONS;
  const best: Array<{ key: number; score: number }> = [];
  let threshold = Number.NEGATIVE_INFINITY;
  for (let key = 0; key < count; key++) {
    let score = 0;
    const offset = key * DIMENSIONS;
    for (let i = 0; i < DIMENSIONS; i++) score += (vectors[offset + i] as number) * (query[i] as number);
    if (score <= threshold) continue;
    best.push({ key, score });
    if (best.length > topK) {
      best.sort((a, b) => b.score - a.score);
      best.length = topK;
      threshold = (best[topK - 1] as { score: number }).score;
    }
  }
  return best.sort((a, b) => b.score - a.score).map((entry) => entry.key);
}

const WORDS = Array.from({ length: 20_000 }, (_, index) => `w${index.toString(36)}x`);
function chunkText(next: () => number): string {
  return Array.from({ length: 12 }, () => WORDS[Math.floor(next() * WORDS.length)]).join(" ");
}

async function measure(
  label: string,
  count: number,
  vectors: Float32Array,
  queries: Float32Array,
  lance: "flat" | "flat+ivf-pq",
): Promise<void> {
  const queryCount = queries.length / DIMENSIONS;
  const large = count >= 1_000_000;
  console.log(`\n### ${label}: ${count.toLocaleString("en")} vectors, ${DIMENSIONS}-d, top ${TOP_K}`);

  // Hearth's quantised index.
  const index = new QuantizedVectorIndex({ dimensions: DIMENSIONS });
  const keys = Float64Array.from({ length: count }, (_, key) => key);
  let started = performance.now();
  index.addBatch(keys, vectors);
  const addSeconds = (performance.now() - started) / 1000;
  for (let q = 0; q < 5; q++) index.search(row(queries, q), TOP_K); // warm-up (JIT)
  const quantisedTimes: number[] = [];
  const quantisedResults: number[][] = [];
  for (let q = 0; q < queryCount; q++) {
    started = performance.now();
    const matches = index.search(row(queries, q), TOP_K);
    quantisedTimes.push(performance.now() - started);
    quantisedResults.push(matches.map((match) => match.key));
  }

  // Plain JavaScript brute force: the exact top 10, and its own latency.
  const exactQueries = large ? 20 : 100;
  const bruteTimes: number[] = [];
  const exactTop: Array<Set<number>> = [];
  let found = 0;
  for (let q = 0; q < exactQueries; q++) {
    started = performance.now();
    const exact = new Set(bruteForce(vectors, row(queries, q), TOP_K));
    bruteTimes.push(performance.now() - started);
    exactTop.push(exact);
    for (const key of quantisedResults[q] ?? []) if (exact.has(key)) found++;
  }
  const recall = found / (exactQueries * TOP_K);
  console.log(
    `hearth quantised (int8 + wasm SIMD, exact re-score): add ${addSeconds.toFixed(1)} s, ${timing(quantisedTimes)}, recall@10 ${recall.toFixed(3)} (${exactQueries} queries vs exact)`,
  );
  console.log(`plain JS brute force (float32): ${timing(bruteTimes)}`);

  // sqlite-vec brute force.
  const folder = mkdtempSync(join(tmpdir(), "hearth-vector-bench-"));
  try {
    const database = new Database(join(folder, "vec.sqlite"));
    sqliteVec.load(database);
    database.pragma("journal_mode = WAL");
    database.exec(
      `create virtual table items using vec0(embedding float[${DIMENSIONS}] distance_metric=cosine)`,
    );
    const insert = database.prepare("insert into items (rowid, embedding) values (?, ?)");
    started = performance.now();
    database.transaction(() => {
      for (let key = 0; key < count; key++) {
        const vector = row(vectors, key);
        insert.run(BigInt(key), Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength));
      }
    })();
    const vecInsertSeconds = (performance.now() - started) / 1000;
    const select = database.prepare(
      "select rowid from items where embedding match ? and k = ? order by distance",
    );
    const vecTimes: number[] = [];
    let vecFound = 0;
    const vecQueries = large ? 10 : 30;
    for (let q = 0; q < vecQueries; q++) {
      const vector = row(queries, q);
      started = performance.now();
      const rows = select.all(
        Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength),
        TOP_K,
      ) as Array<{
        rowid: number;
      }>;
      vecTimes.push(performance.now() - started);
      for (const { rowid } of rows) if (exactTop[q]?.has(Number(rowid))) vecFound++;
    }
    database.close();
    console.log(
      `sqlite-vec brute force: insert ${vecInsertSeconds.toFixed(1)} s, ${timing(vecTimes)}, recall@10 ${(vecFound / (vecQueries * TOP_K)).toFixed(3)}`,
    );
    console.log(
      `ratios: quantised p50 is ${(percentile(bruteTimes, 0.5) / percentile(quantisedTimes, 0.5)).toFixed(1)}x faster than plain JS, ${(percentile(vecTimes, 0.5) / percentile(quantisedTimes, 0.5)).toFixed(1)}x faster than sqlite-vec`,
    );
    await measureLance(folder, count, vectors, queries, exactTop, lance);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  index.clear();
}

/**
 * LanceDB 0.31 (a dev dependency): flat search, and an IVF-PQ index (default partitions) where asked:
 * only once, at 100k uniform, because its k-means build takes minutes on 2 cores.
 */
async function measureLance(
  folder: string,
  count: number,
  vectors: Float32Array,
  queries: Float32Array,
  exactTop: Array<Set<number>>,
  mode: "flat" | "flat+ivf-pq",
): Promise<void> {
  let lancedb: typeof import("@lancedb/lancedb");
  try {
    lancedb = await import("@lancedb/lancedb");
  } catch {
    console.log("LanceDB: not installed, skipped");
    return;
  }
  const database = await lancedb.connect(join(folder, "lance"));
  let started = performance.now();
  const batch = (first: number) => {
    const rows = [];
    for (let key = first; key < Math.min(count, first + 50_000); key++) {
      rows.push({ id: key, vector: Array.from(row(vectors, key)) });
    }
    return rows;
  };
  const table = await database.createTable("items", batch(0));
  for (let first = 50_000; first < count; first += 50_000) await table.add(batch(first));
  const insertSeconds = (performance.now() - started) / 1000;
  const search = async (label: string, queryCount: number, refine?: boolean) => {
    const times: number[] = [];
    let found = 0;
    for (let q = 0; q < queryCount; q++) {
      started = performance.now();
      let request = table
        .vectorSearch(Array.from(row(queries, q)))
        .distanceType("l2")
        .limit(TOP_K);
      if (refine) request = request.nprobes(20);
      const results = (await request.toArray()) as Array<{ id: number }>;
      times.push(performance.now() - started);
      for (const { id } of results) if (exactTop[q]?.has(id)) found++;
    }
    console.log(`LanceDB ${label}: ${timing(times)}, recall@10 ${(found / (queryCount * TOP_K)).toFixed(3)}`);
  };
  console.log(`LanceDB: insert ${insertSeconds.toFixed(1)} s`);
  await search("flat (no index)", count >= 1_000_000 ? 3 : 10);
  if (mode === "flat") return;
  started = performance.now();
  await table.createIndex("vector", { config: lancedb.Index.ivfPq({ distanceType: "l2" }) });
  console.log(`LanceDB IVF-PQ build: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await search("IVF-PQ (nprobes 20)", 20, true);
}

/** A hybrid query (full text + vector, fused) through the SQLite backend holding `count` chunks. */
async function measureHybrid(count: number, vectors: Float32Array, queries: Float32Array): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), "hearth-hybrid-bench-"));
  const backend = await openSqliteIndex({ path: join(folder, "index.sqlite") });
  try {
    const next = seededRandom(11);
    let started = performance.now();
    const batch = 10_000;
    for (let first = 0; first < count; first += batch) {
      const chunks = [];
      for (let key = first; key < Math.min(count, first + batch); key++) {
        const text = chunkText(next);
        chunks.push({
          id: `chunk-${key}`,
          knowledgeBaseId: key % 10 === 0 ? "kb-small" : "kb-main",
          documentId: `doc-${Math.floor(key / 20)}`,
          ordinal: key % 20,
          text,
          contentHash: `h${key}`,
          documentTitle: "",
          headingPath: [],
          charStart: 0,
          charEnd: text.length,
          metadata: { lang: "en" },
          embedding: row(vectors, key),
        });
      }
      await backend.upsertChunks(chunks);
    }
    const loadSeconds = (performance.now() - started) / 1000;
    const retriever = createRetriever(backend);
    const times: number[] = [];
    const queryCount = Math.min(200, queries.length / DIMENSIONS);
    for (let q = -5; q < queryCount; q++) {
      const text = chunkText(next).split(" ").slice(0, 4).join(" ");
      started = performance.now();
      await retriever.retrieve({
        knowledgeBaseIds: ["kb-main", "kb-small"],
        text,
        vector: row(queries, Math.max(0, q)),
        topK: TOP_K,
      });
      if (q >= 0) times.push(performance.now() - started);
    }
    console.log(
      `hybrid query through the SQLite backend (FTS5 BM25 top 50 + vector top 50, RRF): ${timing(times)} (${count.toLocaleString("en")} chunks loaded with text in ${loadSeconds.toFixed(1)} s)`,
    );
  } finally {
    await backend.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const withMillion = process.argv.includes("--1m") || process.env.HEARTH_BENCH_VECTOR_1M === "1";
  // The machine is shared: the load average says how much the latencies below were disturbed.
  const load = () =>
    loadavg()
      .map((value) => value.toFixed(1))
      .join(" ");
  console.log(`load average at start: ${load()}`);
  process.on("beforeExit", () => console.log(`load average at end: ${load()}`));
  const queries = uniformUnitVectors(200, DIMENSIONS, 2);
  const hundredThousand = uniformUnitVectors(100_000, DIMENSIONS, 1);
  await measure("uniform random", 100_000, hundredThousand, queries, "flat+ivf-pq");
  await measureHybrid(100_000, hundredThousand, queries);

  const centres = uniformUnitVectors(1000, DIMENSIONS, 3);
  await measure(
    "clustered",
    100_000,
    clusteredVectors(100_000, 4, centres),
    clusteredVectors(200, 5, centres),
    "flat",
  );

  if (!withMillion) {
    console.log(
      "\n(1,000,000 skipped: run `npm run bench -- vector --1m` for it, ~4 GB of memory, a few minutes)",
    );
    return;
  }
  const million = uniformUnitVectors(1_000_000, DIMENSIONS, 6);
  await measure("uniform random", 1_000_000, million, queries, "flat");
  await measureHybrid(1_000_000, million, queries);
}
