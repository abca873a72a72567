/**
 * Worker thread entry: parses one document at a time for the ParserPool, so big files never block
 * the service's event loop; it also cleans and chunks big parsed documents (a "prepare" task),
 * which takes seconds for tens of megabytes of text, or both at once (a "parse-chunks" task, so the
 * parsed document never crosses to the service's thread), and analyses chunks' full-text terms (an
 * "analyze" task: jieba takes most of a second for a batch of Chinese chunks). Errors come back as
 * {code, message} (HearthError does not cross threads). A parse tells how many pages of a PDF it has
 * read as it goes, a message {id, pages: {read, pageCount}} a page.
 */
import { parentPort } from "node:worker_threads";
import { type ChunkingOptions, chunkDocument, type DocumentChunk } from "../chunking/chunk-document.js";
import { cleanDocument } from "../cleaning/clean-document.js";
import { analyzeToDocument } from "../text/text-analyzer.js";
import { parseDocument } from "./parse-document.js";
import type { DocumentFormat, ParsedDocument, ParseOptions } from "./parsed-document.js";
import type { PageStride } from "./pdf-parser.js";

export interface ParseTask {
  kind?: "parse";
  id: number;
  format: DocumentFormat;
  bytes: Uint8Array;
  options: ParseOptions;
  /** For PDFs split across threads: this thread's share of the pages. */
  stride?: PageStride;
}

/** Cleans and chunks a parsed document (what prepareChunks does, off the event loop). */
export interface PrepareTask {
  kind: "prepare";
  id: number;
  document: ParsedDocument;
  chunking: ChunkingOptions;
}

/** Parses, cleans and chunks a document; only the chunks and the title come back. */
export interface ParseChunksTask {
  kind: "parse-chunks";
  id: number;
  format: DocumentFormat;
  bytes: Uint8Array;
  options: ParseOptions;
  chunking: ChunkingOptions;
}

/** What a parse-chunks task gives: the chunks (not the whole cleaned text) and the declared title. */
export interface ParsedChunks {
  title?: string;
  chunks: DocumentChunk[];
}

/** Analyses texts into full-text terms (analyzeToDocument of each). */
export interface AnalyzeTask {
  kind: "analyze";
  id: number;
  texts: string[];
}

export type WorkerTask = ParseTask | PrepareTask | ParseChunksTask | AnalyzeTask;

/** Chunks per message of a parse-chunks task's answer (about a megabyte of text). */
export const CHUNKS_PER_MESSAGE = 512;

async function run(task: WorkerTask): Promise<unknown> {
  const onPages = (read: number, pageCount: number) =>
    parentPort?.postMessage({ id: task.id, pages: { read, pageCount } });
  switch (task.kind) {
    case "prepare":
      return chunkDocument(cleanDocument(task.document), task.chunking);
    case "analyze":
      return task.texts.map((text) => analyzeToDocument(text));
    case "parse-chunks": {
      const parsed = await parseDocument(task.format, task.bytes, task.options, undefined, onPages);
      const { chunks } = chunkDocument(cleanDocument(parsed), task.chunking);
      // Sent in slices, each its own message: the service's thread copies in one slice per turn of
      // its event loop instead of tens of thousands of chunks at once.
      for (let start = 0; start < chunks.length; start += CHUNKS_PER_MESSAGE)
        parentPort?.postMessage({ id: task.id, chunks: chunks.slice(start, start + CHUNKS_PER_MESSAGE) });
      return {
        ...(parsed.title !== undefined ? { title: parsed.title } : {}),
        chunks: [],
      } satisfies ParsedChunks;
    }
    default:
      return parseDocument(task.format, task.bytes, task.options, task.stride, onPages);
  }
}

parentPort?.on("message", async (task: WorkerTask) => {
  try {
    const result = await run(task);
    parentPort?.postMessage({ id: task.id, result });
  } catch (error) {
    const { code, details } = error as { code?: unknown; details?: Record<string, unknown> };
    parentPort?.postMessage({
      id: task.id,
      error: {
        code: typeof code === "string" && /^[A-Z_]+$/.test(code) ? code : "DOCUMENT_CORRUPT",
        message: (error as Error).message,
        ...(details ? { details } : {}),
      },
    });
  }
});
