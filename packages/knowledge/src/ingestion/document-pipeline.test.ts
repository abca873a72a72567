import { afterAll, describe, expect, it } from "vitest";
import { chunkDocument } from "../chunking/chunk-document.js";
import { cleanDocument } from "../cleaning/clean-document.js";
import type { ChunkRecord } from "../index/index-backend.js";
import { searchableText } from "../index/searchable-text.js";
import { parseDocument } from "../parsing/parse-document.js";
import { CHUNKS_PER_MESSAGE } from "../parsing/parse-worker.js";
import { ParserPool } from "../parsing/parser-pool.js";
import type { KnowledgeBaseRecord, KnowledgeStore } from "../store/knowledge-store.js";
import { memoryIndex } from "../testing/memory-index.fixture.js";
import { analyzeToDocument } from "../text/text-analyzer.js";
import {
  type IndexProgress,
  indexChunks,
  parseAndChunk,
  WRITE_BATCH,
  WRITE_BATCH_CHARS,
} from "./document-pipeline.js";

const settings = {
  maxExtractedBytes: 64 * 1024 * 1024,
  workerThresholdBytes: 64 * 1024,
  tikaUrl: undefined,
  tikaForAll: false,
};
const knowledgeBase = {
  id: "kb_1",
  name: "Big",
  embeddingModel: null,
  chunking: { maxTokens: 120, overlapTokens: 10 },
} as unknown as KnowledgeBaseRecord;

/** A text file of `paragraphs` distinct paragraphs, Chinese and English. */
function bigText(paragraphs: number): Uint8Array {
  const parts: string[] = [];
  for (let i = 0; i < paragraphs; i++)
    parts.push(
      `第${i}段：负责人为诸葛亮，项目代号青龙偃月，编号 ${i}。The review of item ${i} is due on Monday.`,
    );
  return new TextEncoder().encode(parts.join("\n\n"));
}

describe("indexing a big document", () => {
  const pool = new ParserPool({ size: 1 });
  afterAll(() => pool.close());

  it("parses, cleans and chunks it in one parser task, whose chunks come back in slices", async () => {
    const bytes = bigText(4000);
    const { chunked, contentType } = await parseAndChunk(
      { parsers: pool, settings },
      "big.txt",
      bytes,
      knowledgeBase,
    );
    const expected = chunkDocument(
      cleanDocument(await parseDocument("text", bytes, settings)),
      knowledgeBase.chunking,
    ).chunks;
    expect(expected.length).toBeGreaterThan(2 * CHUNKS_PER_MESSAGE);
    expect(chunked.chunks).toEqual(expected);
    expect(contentType).toBe("text/plain");
  });

  it("writes it in small batches whose terms a parser thread analysed, and reports its progress", async () => {
    const { chunked } = await parseAndChunk(
      { parsers: pool, settings },
      "big.txt",
      bigText(3000),
      knowledgeBase,
    );
    const { backend } = memoryIndex();
    const writes: ChunkRecord[][] = [];
    const upsert = backend.upsertChunks.bind(backend);
    backend.upsertChunks = async (chunks) => {
      writes.push([...chunks]);
      return upsert(chunks);
    };
    const analyse = pool.analyze.bind(pool);
    let analysed = 0;
    pool.analyze = async (texts, signal) => {
      analysed += texts.length;
      return analyse(texts, signal);
    };
    const progress: IndexProgress[] = [];
    const outcome = await indexChunks(
      {
        store: {} as KnowledgeStore,
        backend,
        parsers: pool,
        embeddings: {} as never,
        settings,
      },
      {
        knowledgeBase,
        documentId: "doc_1",
        documentTitle: "big.txt",
        chunked,
        metadata: {},
        onStage: () => {},
        onProgress: (report) => progress.push(report),
      },
    );
    const total = chunked.chunks.length;
    expect(outcome.chunksWritten).toBe(total);
    expect(writes.length).toBeGreaterThan(1);
    expect(writes.flat()).toHaveLength(total);
    for (const batch of writes) {
      expect(batch.length).toBeLessThanOrEqual(WRITE_BATCH);
      const chars = batch.reduce((sum, chunk) => sum + chunk.documentTitle.length + chunk.text.length, 0);
      if (batch.length > 1) expect(chars).toBeLessThanOrEqual(WRITE_BATCH_CHARS);
    }
    // Every chunk reached the index with its terms, analysed in the parser thread, not by the index.
    expect(analysed).toBe(total);
    for (const chunk of writes.flat().filter((_, index) => index % 97 === 0))
      expect(chunk.analyzedTerms).toBe(analyzeToDocument(searchableText(chunk)));
    expect(progress[0]).toEqual({ phase: "indexing", done: 0, total });
    expect(progress.at(-1)).toEqual({ phase: "indexing", done: total, total });
    expect(progress).toHaveLength(writes.length + 1);
  });

  it("reports the embedding phase as it starts, before the first batch of texts comes back", async () => {
    const { chunked } = await parseAndChunk(
      { parsers: pool, settings },
      "big.txt",
      bigText(300),
      knowledgeBase,
    );
    const texts = new Set(chunked.chunks.map((chunk) => chunk.contentHash)).size;
    const progress: IndexProgress[] = [];
    const seenBeforeFirstBatch: IndexProgress[][] = [];
    const embeddings = {
      async embed(
        _model: string,
        batch: readonly string[],
        _signal?: AbortSignal,
        onProgress?: (done: number) => void,
      ) {
        seenBeforeFirstBatch.push([...progress]);
        onProgress?.(batch.length);
        return batch.map(() => new Float32Array([1, 0]));
      },
    };
    await indexChunks(
      {
        store: { cachedEmbeddings: () => new Map(), cacheEmbeddings: () => {} } as unknown as KnowledgeStore,
        backend: memoryIndex().backend,
        parsers: pool,
        embeddings: embeddings as never,
        settings,
      },
      {
        knowledgeBase: { ...knowledgeBase, embeddingModel: "bge-small-zh" },
        documentId: "doc_1",
        documentTitle: "big.txt",
        chunked,
        metadata: {},
        onStage: () => {},
        onProgress: (report) => progress.push(report),
      },
    );
    expect(seenBeforeFirstBatch[0]).toEqual([{ phase: "embedding", done: 0, total: texts }]);
    expect(progress[1]).toEqual({ phase: "embedding", done: texts, total: texts });
  });
});
