/**
 * Ingestion benchmark (issue 4): the 175-page Chinese ctex manual parsed, cleaned, chunked and
 * indexed (no embeddings) by Hearth's pipeline, side by side with LangChain.js only loading it
 * (PDFLoader) and splitting it (RecursiveCharacterTextSplitter). Both read the file from disk on
 * every run and both are warm (one untimed run each first); medians and ranges of alternating runs
 * and the ratio are printed.
 *
 *   npm install --prefix bench/langchain --legacy-peer-deps   # LangChain.js, outside the workspace
 *   npm run bench -- ingest
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadConfig } from "@hearth/core";
import {
  parseBytes,
  prepareChunks,
  toChunkRecords,
} from "../packages/knowledge/src/ingestion/document-pipeline.js";
import { ParserPool } from "../packages/knowledge/src/parsing/parser-pool.js";
import { openDefaultIndex } from "../packages/knowledge/src/service/default-index.js";
import type { KnowledgeBaseRecord } from "../packages/knowledge/src/store/knowledge-store.js";

const RUNS = 7;
const here = fileURLToPath(new URL(".", import.meta.url));
const sharedDir = process.env.HEARTH_SHARED_DIR ?? resolve(here, "../../shared");
const manual = join(sharedDir, "fixtures/docs/zh-ctex-manual.pdf");

interface Timing {
  median: number;
  min: number;
  max: number;
  /** Median CPU time of the whole process (all threads) per run. */
  cpu: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const show = (timing: Timing) =>
  `${timing.median.toFixed(0)} ms (median of ${RUNS}, range ${timing.min.toFixed(0)}-${timing.max.toFixed(0)}; CPU ${timing.cpu.toFixed(0)} ms)`;

/**
 * Runs the contenders alternately (A B A B ...) after one warm-up each, so that load from other
 * processes on a shared machine falls on both alike; returns each one's timings in ms. CPU time is
 * reported beside wall time: on a busy machine it shows the work done, whatever the scheduler gave.
 */
async function alternate(runs: number, bodies: Array<() => Promise<void>>): Promise<Timing[]> {
  for (const body of bodies) await body(); // warm-up: module loading, worker start and JIT are not what is compared
  const times = bodies.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  for (let i = 0; i < runs; i++) {
    for (const [index, body] of bodies.entries()) {
      const started = performance.now();
      const startedCpu = process.cpuUsage();
      await body();
      const cpu = process.cpuUsage(startedCpu);
      times[index]!.wall.push(performance.now() - started);
      times[index]!.cpu.push((cpu.user + cpu.system) / 1000);
    }
  }
  return times.map(({ wall, cpu }) => ({
    median: median(wall),
    min: Math.min(...wall),
    max: Math.max(...wall),
    cpu: median(cpu),
  }));
}

export async function run(): Promise<void> {
  if (!existsSync(manual)) {
    console.log(`skipped: ${manual} not found (set HEARTH_SHARED_DIR)`);
    return;
  }
  const knowledgeBase = {
    id: "kb_bench",
    name: "bench",
    description: "",
    embeddingModel: null,
    chunking: { maxTokens: 512, overlapTokens: 64 },
    watchFolder: null,
    minRelevance: 0,
    rerankModel: null,
    documentCount: 0,
    createdAt: "",
    updatedAt: "",
  } satisfies KnowledgeBaseRecord;

  // The knowledge service's own settings (parser threads, worker threshold) and default index.
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-bench-ingest-"));
  const config = loadConfig({ overrides: { dataDir } });
  let index: Awaited<ReturnType<typeof openDefaultIndex>> | undefined;
  try {
    index = await openDefaultIndex(config);
  } catch (error) {
    console.log(`index: not included (${(error as Error).message.split(";")[0]})`);
  }
  // Started before the runs, as the service starts its pool; the warm-up run starts its threads.
  const parsers = new ParserPool({ size: config.knowledge.parserThreads });
  const settings = {
    maxExtractedBytes: config.knowledge.maxExtractedBytes,
    workerThresholdBytes: config.knowledge.workerThresholdBytes,
    tikaUrl: undefined,
    tikaForAll: false,
  };
  let chunkCount = 0;
  let pages = 0;
  let upload = 0;
  const hearth = async () => {
    // Each run is a new upload: a new document, so nothing is left to delete or skip as unchanged.
    const documentId = `doc_bench_${upload++}`;
    const bytes = readFileSync(manual);
    const { document } = await parseBytes({ parsers, settings }, "zh-ctex-manual.pdf", bytes);
    const chunked = prepareChunks(document, knowledgeBase);
    chunkCount = chunked.chunks.length;
    pages = document.pageCount ?? 0;
    if (index) {
      await index.backend.upsertChunks(
        toChunkRecords({
          knowledgeBase,
          documentId,
          documentTitle: "zh-ctex-manual.pdf",
          chunked,
          metadata: {},
        }),
      );
    }
  };

  const langchainDir = join(here, "langchain");
  let loader: { PDFLoader: new (path: string) => { load(): Promise<unknown[]> } } | undefined;
  let splitter:
    | {
        RecursiveCharacterTextSplitter: new (options: {
          chunkSize: number;
          chunkOverlap: number;
        }) => { splitDocuments(documents: unknown[]): Promise<unknown[]> };
      }
    | undefined;
  try {
    const require = createRequire(join(langchainDir, "package.json"));
    loader = await import(
      pathToFileURL(require.resolve("@langchain/community/document_loaders/fs/pdf")).href
    );
    splitter = await import(pathToFileURL(require.resolve("@langchain/textsplitters")).href);
  } catch {
    console.log("langchain: not installed (npm install --prefix bench/langchain --legacy-peer-deps)");
  }
  let langchainChunks = 0;
  const langchain = async () => {
    const documents = await new loader!.PDFLoader(manual).load();
    const chunks = await new splitter!.RecursiveCharacterTextSplitter({
      chunkSize: 1000,
      chunkOverlap: 200,
    }).splitDocuments(documents);
    langchainChunks = chunks.length;
  };
  const [hearthTiming, langchainTiming] = await alternate(RUNS, loader ? [hearth, langchain] : [hearth]);
  await parsers.close();
  await index?.backend.close();
  rmSync(dataDir, { recursive: true, force: true });
  console.log(
    `hearth: ${pages} pages -> ${chunkCount} chunks, parse (${config.knowledge.parserThreads} worker threads) + clean + chunk${index ? " + index" : ""}: ${show(hearthTiming!)}`,
  );

  if (langchainTiming === undefined) return;
  console.log(
    `langchain.js: PDFLoader + RecursiveCharacterTextSplitter(1000/200) -> ${langchainChunks} chunks: ${show(langchainTiming)}`,
  );
  console.log(
    `ratio hearth/langchain: ${(hearthTiming!.median / langchainTiming.median).toFixed(2)} (below 1 means Hearth is faster; CPU time ratio ${(hearthTiming!.cpu / langchainTiming.cpu).toFixed(2)})`,
  );
}
