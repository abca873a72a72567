/**
 * Retrieval quality on any BEIR-format folder (corpus.jsonl, queries.jsonl, qrels/*.tsv):
 *
 *   npm run bench:retrieval -- ../shared/datasets/xquad-retrieval/en
 *
 * The corpus is uploaded to a fresh knowledge service (one .txt file per document, through the
 * same multipart upload, parsing, cleaning, chunking and indexing as any upload), every query goes
 * through POST /v1/knowledge-bases/{id}/query, and the figures are printed: nDCG@10, recall@100,
 * query latency p50/p99; the last line is exactly `nDCG@10=<value>`.
 *
 * With --embedding-model every query also runs in each retrieval mode (`lexical`, `vector`, then the
 * default `hybrid`), one line per mode with nDCG@10 and recall@100, after a line naming the fusion;
 * the last line is the hybrid nDCG@10. This is how fusion is shown to beat each path alone.
 *
 * With --rerank-model the base reranks with that model (the model service's /v1/rerank): the modes
 * above are measured in retrieval order (`rerank: false`), then the default mode reranked, its line
 * `rerank <model>: nDCG@10=… (retrieval order …)`, and the last line is the reranked nDCG@10.
 *
 * Options: --embedding-model <name> (embed through the model service), --rerank-model <name>,
 * --limit <n> queries. The model service is HEARTH_MODEL_URL's (a running `hearth up`'s by default).
 * HEARTH_BENCH_INDEX=memory runs on the test-only in-memory index (to check this harness before
 * the real index is wired; its figures say nothing about the product).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { KnowledgeClient, type RetrievalMode } from "@hearth/contracts";
import { createLogger, listenService, loadConfig } from "@hearth/core";
import {
  createKnowledgeService,
  DEFAULT_FUSION,
  describeFusion,
  type KnowledgeServiceOptions,
} from "../packages/knowledge/src/index.js";

interface Args {
  dir: string;
  embeddingModel: string | undefined;
  rerankModel: string | undefined;
  limit: number | undefined;
}

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  let embeddingModel: string | undefined;
  let rerankModel: string | undefined;
  let limit: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--embedding-model") embeddingModel = argv[++i];
    else if (arg === "--rerank-model") rerankModel = argv[++i];
    else if (arg === "--limit") limit = Number(argv[++i]);
    else positional.push(arg);
  }
  if (!positional[0]) {
    console.error(
      "usage: npm run bench:retrieval -- <beir-folder> [--embedding-model <name>] [--rerank-model <name>] [--limit <queries>]",
    );
    process.exit(2);
  }
  return { dir: resolve(positional[0]), embeddingModel, rerankModel, limit };
}

function readJsonl<T>(path: string): T[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T);
}

function readQrels(dir: string): Map<string, Map<string, number>> {
  const qrels = new Map<string, Map<string, number>>();
  const folder = join(dir, "qrels");
  const files = readdirSync(folder).filter((name) => name.endsWith(".tsv"));
  const preferred =
    files.find((name) => name === "test.tsv") ?? files.find((name) => name === "validation.tsv") ?? files[0];
  if (!preferred) throw new Error(`no qrels/*.tsv in ${dir}`);
  for (const line of readFileSync(join(folder, preferred), "utf8").split("\n").slice(1)) {
    const [queryId, corpusId, score] = line.trim().split("\t");
    if (!queryId || !corpusId || !score) continue;
    const relevant = qrels.get(queryId) ?? new Map<string, number>();
    relevant.set(corpusId, Number(score));
    qrels.set(queryId, relevant);
  }
  return qrels;
}

function ndcgAt(k: number, ranked: string[], relevant: Map<string, number>): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((id, index) => {
    const gain = relevant.get(id) ?? 0;
    if (gain > 0) dcg += (2 ** gain - 1) / Math.log2(index + 2);
  });
  const ideal = [...relevant.values()].sort((a, b) => b - a).slice(0, k);
  const idcg = ideal.reduce((sum, gain, index) => sum + (2 ** gain - 1) / Math.log2(index + 2), 0);
  return idcg === 0 ? 0 : dcg / idcg;
}

function recallAt(k: number, ranked: string[], relevant: Map<string, number>): number {
  const positives = [...relevant].filter(([, gain]) => gain > 0).map(([id]) => id);
  if (positives.length === 0) return 0;
  const top = new Set(ranked.slice(0, k));
  return positives.filter((id) => top.has(id)).length / positives.length;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

async function indexOption(): Promise<KnowledgeServiceOptions> {
  if (process.env.HEARTH_BENCH_INDEX !== "memory") return {};
  const { memoryIndex } = await import("../packages/knowledge/src/testing/memory-index.fixture.js");
  console.log("index: test-only in-memory BM25 (HEARTH_BENCH_INDEX=memory), not a product figure");
  return { index: memoryIndex() };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const corpus = readJsonl<{ _id: string; title?: string; text: string }>(join(args.dir, "corpus.jsonl"));
  const qrels = readQrels(args.dir);
  const queries = readJsonl<{ _id: string; text: string }>(join(args.dir, "queries.jsonl"))
    .filter((query) => qrels.has(query._id))
    .slice(0, args.limit);

  const dataDir = mkdtempSync(join(tmpdir(), "hearth-bench-retrieval-"));
  const config = loadConfig({ overrides: { dataDir, knowledge: { port: 0, syncIntervalSeconds: 0 } } });
  const service = await createKnowledgeService(config, createLogger({ level: "warn" }), await indexOption());
  try {
    const url = await listenService(service.app, {
      host: "127.0.0.1",
      port: 0,
      description: "knowledge service (bench)",
    });
    const client = new KnowledgeClient({ baseUrl: url });
    const kb = await client.createKnowledgeBase({
      name: "bench",
      embeddingModel: args.embeddingModel ?? null,
      rerankModel: args.rerankModel ?? null,
    });

    const started = performance.now();
    const jobs: string[] = [];
    for (let i = 0; i < corpus.length; i += 100) {
      const files = corpus.slice(i, i + 100).map((doc) => ({
        name: `${doc._id.replace(/[/\\]/g, "_")}.txt`,
        data: Buffer.from(doc.title ? `${doc.title}\n\n${doc.text}` : doc.text),
      }));
      jobs.push((await client.uploadDocuments(kb.id, files)).job.id);
    }
    for (const jobId of jobs) {
      for await (const _event of client.jobEvents(jobId)) {
        // Drain the progress stream until the job ends.
      }
    }
    const documents = await client.listDocuments(kb.id);
    const failed = documents.filter((document) => document.status !== "indexed");
    const ingestSeconds = (performance.now() - started) / 1000;
    console.log(
      `corpus: ${corpus.length} documents ingested in ${ingestSeconds.toFixed(1)} s (${failed.length} not indexed), ${documents.reduce((n, d) => n + d.chunkCount, 0)} chunks`,
    );

    // With an embedding model every query runs in each mode, so the fused ranking can be compared
    // with each path alone; the default (hybrid) mode runs last and gives the last line.
    const modes: RetrievalMode[] = args.embeddingModel ? ["lexical", "vector", "hybrid"] : ["hybrid"];
    const count = Math.max(1, queries.length);
    console.log(
      `queries: ${queries.length}${args.embeddingModel ? `, embedding model ${args.embeddingModel}` : ", full text only (no embedding model)"}`,
    );
    if (args.embeddingModel) console.log(`fusion: ${describeFusion(DEFAULT_FUSION)}`);
    /** The documents a query's passages are from, best first, each once. */
    const rankedDocuments = (results: Array<{ documentTitle: string }>) => {
      const ranked: string[] = [];
      for (const result of results) {
        const id = result.documentTitle.replace(/\.txt$/, "");
        if (!ranked.includes(id)) ranked.push(id);
      }
      return ranked;
    };
    const latencyOf = (latencies: number[]) =>
      `latency p50=${percentile(latencies, 50).toFixed(1)} ms p99=${percentile(latencies, 99).toFixed(1)} ms`;
    let hybridNdcg = 0;
    for (const mode of modes) {
      const latencies: number[] = [];
      let ndcg = 0;
      let recall = 0;
      for (const query of queries) {
        const before = performance.now();
        const results = await client.query(kb.id, {
          query: query.text,
          topK: 100,
          ...(args.embeddingModel ? { mode } : {}),
          ...(args.rerankModel ? { rerank: false } : {}),
        });
        latencies.push(performance.now() - before);
        const ranked = rankedDocuments(results);
        const relevant = qrels.get(query._id)!;
        ndcg += ndcgAt(10, ranked, relevant);
        recall += recallAt(100, ranked, relevant);
      }
      const latency = latencyOf(latencies);
      if (args.embeddingModel) {
        console.log(
          `mode ${mode}: nDCG@10=${(ndcg / count).toFixed(4)} recall@100=${(recall / count).toFixed(4)} ${latency}`,
        );
      } else {
        console.log(`recall@100=${(recall / count).toFixed(4)}`);
        console.log(latency);
      }
      if (mode === "hybrid") hybridNdcg = ndcg;
    }
    if (args.rerankModel) {
      // Reranked as a chat's question is: its top 10 from the reranker's candidates.
      const latencies: number[] = [];
      let ndcg = 0;
      for (const query of queries) {
        const before = performance.now();
        const answer = await client.queryManyAnswer({
          knowledgeBaseIds: [kb.id],
          query: query.text,
          topK: 10,
        });
        latencies.push(performance.now() - before);
        const failed = answer.warnings?.find((warning) => warning.code === "RERANK_FAILED");
        if (failed) throw new Error(`the query was not reranked: ${failed.message}`);
        ndcg += ndcgAt(10, rankedDocuments(answer.results), qrels.get(query._id)!);
      }
      console.log(
        `rerank ${args.rerankModel}: nDCG@10=${(ndcg / count).toFixed(4)} (retrieval order ${(hybridNdcg / count).toFixed(4)}) ${latencyOf(latencies)}`,
      );
      hybridNdcg = ndcg;
    }
    console.log(`nDCG@10=${(hybridNdcg / count).toFixed(4)}`);
  } finally {
    await service.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
