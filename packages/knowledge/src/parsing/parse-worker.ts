/**
 * Worker thread entry: parses one document at a time for the ParserPool, so big files never block
 * the service's event loop. Errors come back as {code, message} (HearthError does not cross threads).
 */
import { parentPort } from "node:worker_threads";
import { parseDocument } from "./parse-document.js";
import type { DocumentFormat, ParseOptions } from "./parsed-document.js";
import type { PageStride } from "./pdf-parser.js";

export interface ParseTask {
  id: number;
  format: DocumentFormat;
  bytes: Uint8Array;
  options: ParseOptions;
  /** For PDFs split across threads: this thread's share of the pages. */
  stride?: PageStride;
}

parentPort?.on("message", async (task: ParseTask) => {
  try {
    const document = await parseDocument(task.format, task.bytes, task.options, task.stride);
    parentPort?.postMessage({ id: task.id, document });
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
