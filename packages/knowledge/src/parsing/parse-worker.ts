/**
 * Worker thread entry: parses one document at a time for the ParserPool, so big files never block
 * the service's event loop; it also cleans and chunks big parsed documents (a "prepare" task),
 * which takes seconds for tens of megabytes of text. Errors come back as {code, message}
 * (HearthError does not cross threads).
 */
import { parentPort } from "node:worker_threads";
import { type ChunkingOptions, chunkDocument } from "../chunking/chunk-document.js";
import { cleanDocument } from "../cleaning/clean-document.js";
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

export type WorkerTask = ParseTask | PrepareTask;

parentPort?.on("message", async (task: WorkerTask) => {
  try {
    const result =
      task.kind === "prepare"
        ? chunkDocument(cleanDocument(task.document), task.chunking)
        : await parseDocument(task.format, task.bytes, task.options, task.stride);
    parentPort?.postMessage({ id: task.id, result });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    parentPort?.postMessage({
      id: task.id,
      error: {
        code: typeof code === "string" && /^[A-Z_]+$/.test(code) ? code : "DOCUMENT_CORRUPT",
        message: (error as Error).message,
      },
    });
  }
});
