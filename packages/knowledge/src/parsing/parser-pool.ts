import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { HearthError, isErrorCode } from "@hearth/core";
import type { ChunkedDocument, ChunkingOptions, DocumentChunk } from "../chunking/chunk-document.js";
import type { ParsedChunks, WorkerTask } from "./parse-worker.js";
import type { DocumentFormat, PagesRead, ParsedDocument, ParseOptions } from "./parsed-document.js";
import type { PageStride } from "./pdf-parser.js";

interface Pending {
  task: WorkerTask;
  /** Chunks a parse-chunks task has sent so far, slice by slice, before its answer. */
  chunks?: DocumentChunk[];
  /** Told as the task's parse reads the pages of a PDF. */
  onPages: PagesRead | undefined;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  signal: AbortSignal | undefined;
}

interface Slot {
  worker: Worker;
  busy: Pending | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A small pool of parser threads (they also clean and chunk big documents). Tasks queue in arrival order; a task that runs past the timeout
 * or is cancelled terminates its thread (PDFium cannot be interrupted otherwise) and a fresh one
 * takes its place.
 */
export class ParserPool {
  readonly #size: number;
  readonly #timeoutMs: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  #nextId = 1;
  #closed = false;

  constructor(options: { size?: number; timeoutMs?: number } = {}) {
    this.#size = options.size ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    this.#timeoutMs = options.timeoutMs ?? 300_000;
  }

  /**
   * Parses a document in a worker thread; a big PDF is shared out page by page (interleaved) over
   * every thread of the pool and the pieces merged in page order. `onPages` is told how many of a
   * PDF's pages are read, by all the threads together.
   */
  async parse(
    format: DocumentFormat,
    bytes: Uint8Array,
    options: ParseOptions,
    signal?: AbortSignal,
    onPages?: PagesRead,
  ): Promise<ParsedDocument> {
    if (!this.splits(format, bytes.length)) return this.#run(format, bytes, options, signal, onPages);
    const readByPart = Array.from({ length: this.#size }, () => 0);
    const parts = await Promise.all(
      readByPart.map((_, index) =>
        this.#run(
          format,
          bytes,
          options,
          signal,
          (read, pageCount) => {
            readByPart[index] = read;
            onPages?.(
              readByPart.reduce((sum, part) => sum + part, 0),
              pageCount,
            );
          },
          { of: this.#size, index },
        ),
      ),
    );
    const blocks = parts.flatMap((part, index) =>
      part.blocks.map((block, order) => ({ block, index, order })),
    );
    blocks.sort(
      (a, b) => (a.block.page ?? 0) - (b.block.page ?? 0) || a.index - b.index || a.order - b.order,
    );
    return { ...parts[0]!, blocks: blocks.map((entry) => entry.block) };
  }

  /**
   * Cleans and chunks a parsed document in a worker thread: for tens of megabytes of text this
   * takes seconds, which on the event loop would stall every request (health checks included).
   */
  prepare(
    document: ParsedDocument,
    chunking: ChunkingOptions,
    signal?: AbortSignal,
  ): Promise<ChunkedDocument> {
    return this.#submit({ kind: "prepare", id: this.#nextId++, document, chunking }, signal);
  }

  /**
   * Parses, cleans and chunks a document in one worker task: the parsed document (tens of megabytes
   * of blocks for a big text file) stays in the worker instead of being copied here and back, which
   * would hold the event loop for a second or more.
   */
  parseChunks(
    format: DocumentFormat,
    bytes: Uint8Array,
    options: ParseOptions,
    chunking: ChunkingOptions,
    signal?: AbortSignal,
    onPages?: PagesRead,
  ): Promise<ParsedChunks> {
    return this.#submit(
      { kind: "parse-chunks", id: this.#nextId++, format, bytes, options, chunking: { ...chunking } },
      signal,
      onPages,
    );
  }

  /** Analyses texts into full-text terms (analyzeToDocument) in a worker thread. */
  analyze(texts: string[], signal?: AbortSignal): Promise<string[]> {
    return this.#submit({ kind: "analyze", id: this.#nextId++, texts }, signal);
  }

  /** Whether parse() shares a document of this format and size out over several threads. */
  splits(format: DocumentFormat, size: number): boolean {
    return format === "pdf" && this.#size >= 2 && size >= 1024 * 1024;
  }

  #run(
    format: DocumentFormat,
    bytes: Uint8Array,
    options: ParseOptions,
    signal: AbortSignal | undefined,
    onPages: PagesRead | undefined,
    stride?: PageStride,
  ): Promise<ParsedDocument> {
    return this.#submit(
      { id: this.#nextId++, format, bytes, options, ...(stride ? { stride } : {}) },
      signal,
      onPages,
    );
  }

  #submit<T>(task: WorkerTask, signal: AbortSignal | undefined, onPages?: PagesRead): Promise<T> {
    if (this.#closed)
      return Promise.reject(new HearthError("SERVICE_NOT_READY", "The parser pool is closed"));
    // An abort listener added to a signal already aborted never fires: such a task would never
    // settle and the document (and its scheduler lane) would wait for it for ever.
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      // A job's signal outlives each of its documents: its listener goes with the task, or every
      // document of the job (and its bytes) would be held until the job ends.
      const onAbort = () => this.#abort(pending);
      const pending: Pending = {
        task,
        onPages,
        resolve: (result) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(result as T);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
        signal,
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(pending);
      this.#pump();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const pending of this.#queue.splice(0))
      pending.reject(new HearthError("SERVICE_NOT_READY", "The service is shutting down"));
    await Promise.all(this.#slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((candidate) => !candidate.busy);
      if (!slot && this.#slots.length < this.#size) slot = this.#spawn();
      if (!slot) return;
      const pending = this.#queue.shift()!;
      if (pending.signal?.aborted) {
        pending.reject(abortReason(pending.signal));
        continue;
      }
      slot.busy = pending;
      slot.timer = setTimeout(
        () =>
          this.#fail(
            slot!,
            new HearthError(
              "DOCUMENT_CORRUPT",
              `${TASK_NAMES[pending.task.kind ?? "parse"]} took longer than ${this.#timeoutMs / 1000} s and was stopped`,
            ),
          ),
        this.#timeoutMs,
      );
      const { task } = pending;
      if (task.kind === "prepare" || task.kind === "analyze") slot.worker.postMessage(task);
      else {
        const copy = new Uint8Array(task.bytes);
        slot.worker.postMessage({ ...task, bytes: copy }, [copy.buffer]);
      }
    }
  }

  #spawn(): Slot {
    // From TypeScript sources (tests, tsx) the worker first registers tsx's loader, then imports
    // the .ts entry; the built package starts its .js entry directly.
    const fromSource = import.meta.url.endsWith(".ts");
    const worker = fromSource
      ? new Worker(
          `import(${JSON.stringify(
            pathToFileURL(
              createRequire(import.meta.url)
                .resolve("tsx/esm/api")
                .replace(/\.cjs$/, ".mjs"),
            ).href,
          )})` +
            `.then((api) => { api.register(); return import(${JSON.stringify(new URL("./parse-worker.ts", import.meta.url).href)}); })`,
          { eval: true, execArgv: ["--conditions=source"], resourceLimits: { maxOldGenerationSizeMb: 2048 } },
        )
      : new Worker(new URL("./parse-worker.js", import.meta.url), {
          resourceLimits: { maxOldGenerationSizeMb: 2048 },
        });
    const slot: Slot = { worker, busy: undefined, timer: undefined };
    worker.on(
      "message",
      (message: {
        id: number;
        result?: unknown;
        chunks?: DocumentChunk[];
        pages?: { read: number; pageCount: number };
        error?: { code: string; message: string; details?: Record<string, unknown> };
      }) => {
        const pending = slot.busy;
        if (!pending || pending.task.id !== message.id) return;
        if (message.pages) {
          pending.onPages?.(message.pages.read, message.pages.pageCount);
          return;
        }
        if (message.chunks) {
          pending.chunks ??= [];
          for (const chunk of message.chunks) pending.chunks.push(chunk);
          return;
        }
        clearTimeout(slot.timer);
        slot.busy = undefined;
        if (message.error) {
          const code = isErrorCode(message.error.code) ? message.error.code : "DOCUMENT_CORRUPT";
          pending.reject(new HearthError(code, message.error.message, { details: message.error.details }));
        } else if (pending.chunks)
          pending.resolve({ ...(message.result as ParsedChunks), chunks: pending.chunks });
        else pending.resolve(message.result);
        this.#pump();
      },
    );
    worker.on("error", (error) => {
      const reason = /out of memory|ERR_WORKER_OUT_OF_MEMORY/i.test(String(error))
        ? new HearthError("DOCUMENT_EXPANDS_TOO_LARGE", "Parsing the document ran out of memory")
        : new HearthError("DOCUMENT_CORRUPT", `The parser failed: ${error.message}`);
      this.#fail(slot, reason);
    });
    worker.unref();
    this.#slots.push(slot);
    return slot;
  }

  #abort(pending: Pending): void {
    const queued = this.#queue.indexOf(pending);
    if (queued >= 0) this.#queue.splice(queued, 1);
    const slot = this.#slots.find((candidate) => candidate.busy === pending);
    const reason = pending.signal ? abortReason(pending.signal) : cancelled();
    if (slot) this.#fail(slot, reason);
    else pending.reject(reason);
  }

  #fail(slot: Slot, error: Error): void {
    clearTimeout(slot.timer);
    const pending = slot.busy;
    slot.busy = undefined;
    const index = this.#slots.indexOf(slot);
    if (index >= 0) this.#slots.splice(index, 1);
    void slot.worker.terminate();
    pending?.reject(error);
    if (!this.#closed) this.#pump();
  }
}

const TASK_NAMES = {
  parse: "Parsing",
  prepare: "Cleaning and chunking",
  "parse-chunks": "Parsing",
  analyze: "Analysing the text for the index",
} as const;

const cancelled = () => new HearthError("JOB_CANCELLED", "The job was cancelled");

/** What an aborted task rejects with: the signal's reason when it is an error, else JOB_CANCELLED. */
function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : cancelled();
}
