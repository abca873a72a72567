import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Readable } from "node:stream";
import type {
  DocumentError,
  IngestionJob,
  JobDocumentProgress,
  JobEvent,
  KnowledgeDocument,
} from "@hearth/contracts";
import { HearthError, isHearthError, type Logger, logFailure } from "@hearth/core";
import type { EmbeddingClient } from "../embedding/embedding-client.js";
import type { IndexBackend } from "../index/index-backend.js";
import type { ParserPool } from "../parsing/parser-pool.js";
import {
  type DocumentRecord,
  documentView,
  type JobDocumentStatus,
  type KnowledgeStore,
} from "../store/knowledge-store.js";
import type { BlobStore } from "./blob-store.js";
import {
  indexChunks,
  indexedContentHash,
  indexedSettings,
  indexedVersion,
  type PipelineSettings,
  parseAndChunk,
  settingsVersion,
} from "./document-pipeline.js";
import { displayName, validateFileName } from "./file-name.js";
import { assertWatchableFolder, scanFolder } from "./folder-scan.js";
import type { IngestionMetrics } from "./ingestion-metrics.js";
import { JobScheduler } from "./job-scheduler.js";
import { type FetchDocumentOptions, fetchDocument, urlDocumentName } from "./url-fetch.js";

export interface IngestionOptions extends PipelineSettings {
  maxUploadBytes: number;
  /** Where URL ingestion may go although private, and where it never goes. */
  urlFetch: Pick<FetchDocumentOptions, "allowPrivateNetworks" | "allowPrivateRanges" | "ownServices">;
  concurrency: number;
  /** Hearth's data directory: a watched folder that is, holds or lies inside it is never synced. */
  dataDir?: string;
}

export interface IngestionDependencies {
  store: KnowledgeStore;
  blobs: BlobStore;
  backend: IndexBackend;
  parsers: ParserPool;
  embeddings: EmbeddingClient;
  metrics: IngestionMetrics;
  logger: Logger;
  settings: IngestionOptions;
}

export interface UploadPart {
  filename: string;
  file: Readable;
}

const TERMINAL = new Set<JobDocumentStatus>(["indexed", "skipped", "failed", "deleted"]);

/** Within-document progress is written to the store (and published) at most this often. */
export const PROGRESS_INTERVAL_MS = 1000;

/**
 * Failures the same bytes would meet again: a sync skips such a file until it changes instead of
 * failing it anew on every tick. Failures that may pass (Tika or the embedder down, a time limit)
 * are retried, and so is DOCUMENT_UNSUPPORTED_FORMAT: configuring Tika must pick such files up.
 */
const FAILS_AGAIN = new Set([
  "DOCUMENT_EMPTY",
  "DOCUMENT_NO_TEXT",
  "DOCUMENT_NAME_EMPTY",
  "DOCUMENT_NAME_TOO_LONG",
  "DOCUMENT_NAME_INVALID",
  "DOCUMENT_TYPE_MISMATCH",
  "DOCUMENT_ENCRYPTED",
]);

const PLAIN_TEXT_TYPES = new Set(["text/plain", "text/markdown", "text/csv", "application/json"]);
const IMAGE_NAME = /\.(png|jpe?g|gif|tiff?|bmp|webp|heic)$/i;

/** Why a document gave no text: OCR is named only where it could help (a PDF, an image). */
function noTextMessage(name: string, contentType: string): string {
  if (contentType === "application/pdf" || IMAGE_NAME.test(name))
    return "The document holds no extractable text (a scanned PDF or an image needs OCR, which is not enabled)";
  if (PLAIN_TEXT_TYPES.has(contentType))
    return "The document holds no text: only whitespace (or a byte order mark)";
  return "The document holds no extractable text";
}

/**
 * Ingestion jobs: uploads, URLs and watched-folder syncs become jobs of per-document tasks whose
 * state lives in the store, so progress can be streamed, a job cancelled, and a crash resumed
 * (every indexing step is idempotent). One document's failure is recorded on that document only.
 */
export class IngestionService {
  readonly #deps: IngestionDependencies;
  readonly #scheduler: JobScheduler;
  readonly #events = new EventEmitter();
  readonly #controllers = new Map<string, AbortController>();
  /** Each job's document tasks (and folder scan) under way: a cancel waits for them to stop. */
  readonly #running = new Map<string, Set<Promise<void>>>();
  /** Cancels being settled, by job: a second cancel of the same job answers with the first. */
  readonly #cancelling = new Map<string, Promise<IngestionJob>>();
  readonly #syncing = new Set<string>();
  readonly #removals = new Set<Promise<void>>();
  #closed = false;

  constructor(dependencies: IngestionDependencies) {
    this.#deps = dependencies;
    const slots = dependencies.settings.concurrency;
    this.#scheduler = new JobScheduler({ smallSlots: slots, largeSlots: Math.max(1, slots - 1) });
    this.#events.setMaxListeners(0);
  }

  /** Re-queues what a crash or restart interrupted. */
  resume(): number {
    const { store } = this.#deps;
    store.settleCancelledJobDocuments();
    for (const document of store.orphanedDocuments()) {
      // An interrupted re-upload goes back to its indexed version, as a cancelled one does.
      const kept = this.#keepIndexedVersion(undefined, document.knowledgeBaseId, document.id);
      if (kept) void this.#discard(document.knowledgeBaseId, document.id, kept.discard);
      else
        store.setDocumentStatus(document.id, "failed", {
          code: "JOB_CANCELLED",
          message: "The upload was interrupted before its job started; upload the file again",
        });
    }
    const jobs = store.unfinishedJobs();
    for (const job of jobs) {
      this.#deps.logger.info({ jobId: job.id, kind: job.kind }, "resuming ingestion job");
      if (job.kind === "sync") void this.#track(job.id, this.#runSync(job.id, job.knowledgeBaseId));
      else this.#start(job.id);
    }
    return jobs.length;
  }

  async acceptUploads(
    knowledgeBaseId: string,
    parts: AsyncIterable<UploadPart>,
  ): Promise<{ job: IngestionJob; documents: KnowledgeDocument[] }> {
    const { store, blobs, settings: options } = this.#deps;
    store.getKnowledgeBase(knowledgeBaseId);
    const accepted: Array<{
      document: DocumentRecord;
      error?: HearthError;
      /** The bytes this part stored (a part that failed stored none). */
      sha256?: string;
      /** A later part of this request has the same name: it replaces this one, as a re-upload would. */
      superseded?: boolean;
    }> = [];
    /** Each document's version before this request: a part replaced by a failed one goes back to it. */
    const contentBefore = new Map<string, string | null>();
    const add = (entry: (typeof accepted)[number]) => {
      const { id, contentHash } = entry.document;
      for (const earlier of accepted) if (earlier.document.id === id) earlier.superseded = true;
      if (!contentBefore.has(id)) contentBefore.set(id, contentHash);
      accepted.push(entry);
    };
    for await (const part of parts) {
      let name: string;
      try {
        name = validateFileName(part.filename);
      } catch (error) {
        part.file.resume();
        const document = store.upsertDocument({
          knowledgeBaseId,
          name: displayName(part.filename),
          source: "upload",
          sourceKey: `invalid-name:${part.filename}`,
          sizeBytes: 0,
          contentType: "application/octet-stream",
        });
        add({ document, error: error as HearthError });
        continue;
      }
      const received = await blobs.receive(part.file, options.maxUploadBytes);
      if (received.truncated) {
        await blobs.discard(received.path);
        const document = store.upsertDocument({
          knowledgeBaseId,
          name,
          source: "upload",
          sourceKey: name,
          sizeBytes: 0,
          contentType: "application/octet-stream",
        });
        add({
          document,
          error: new HearthError(
            "DOCUMENT_TOO_LARGE",
            `The file is larger than the limit of ${options.maxUploadBytes} bytes (knowledge.maxUploadBytes)`,
            { details: { maxBytes: options.maxUploadBytes } },
          ),
        });
        continue;
      }
      const document = store.upsertDocument({
        knowledgeBaseId,
        name,
        source: "upload",
        sourceKey: name,
        sizeBytes: received.sizeBytes,
        contentType: "application/octet-stream",
      });
      // Read before this part's bytes are recorded: the version the document had before the request.
      const before = store.getDocument(knowledgeBaseId, document.id);
      await blobs.keep(received.path, knowledgeBaseId, document.id, received.sha256);
      add({ document: before, sha256: received.sha256 });
      store.setDocumentContent(document.id, received.sha256, received.sizeBytes, document.contentType);
      accepted[accepted.length - 1]!.document = store.getDocument(knowledgeBaseId, document.id);
    }
    if (accepted.length === 0)
      throw new HearthError(
        "INVALID_REQUEST",
        'No file parts: send one or more files in multipart fields named "file"',
      );
    await this.#settleSuperseded(knowledgeBaseId, accepted, contentBefore);
    const job = store.createJob(knowledgeBaseId, "upload", []);
    for (const [index, { document, error, superseded }] of accepted.entries()) {
      if (superseded) {
        // Its own entry (a job lists a document once): every part of the request is accounted for.
        const entry = { id: `superseded:${index + 1}:${document.id}`, name: document.name };
        const failure = error
          ? documentError(error)
          : {
              code: "DOCUMENT_SUPERSEDED",
              message: "A later file of the same name in this upload replaced this one before it was indexed",
            };
        store.addJobDocument(job.id, entry, error ? "failed" : "skipped", failure);
        this.#deps.metrics.documents.inc({ outcome: error ? "failed" : "skipped" });
      } else if (error) {
        store.setDocumentStatus(document.id, "failed", documentError(error));
        store.addJobDocument(job.id, document, "failed", documentError(error));
        this.#deps.metrics.documents.inc({ outcome: "failed" });
      } else {
        store.setDocumentStatus(document.id, "queued");
        store.addJobDocument(job.id, document, "queued");
        if (document.contentHash) store.setJobDocumentContent(job.id, document.id, document.contentHash);
      }
    }
    this.#start(job.id);
    return {
      job: store.getJob(job.id),
      documents: accepted
        .filter(({ superseded }) => !superseded)
        .map(({ document }) => documentView(store.getDocument(knowledgeBaseId, document.id))),
    };
  }

  /**
   * The parts of one upload that a later part of the same name replaced: their stored bytes are
   * removed (unless the document still needs them: the latest part's, the indexed version's, the
   * version it had before, one another job is to index), and a document whose latest part failed
   * goes back to the version it had before the request.
   */
  async #settleSuperseded(
    knowledgeBaseId: string,
    accepted: ReadonlyArray<{
      document: DocumentRecord;
      error?: HearthError;
      sha256?: string;
      superseded?: boolean;
    }>,
    contentBefore: ReadonlyMap<string, string | null>,
  ): Promise<void> {
    const { store } = this.#deps;
    for (const { document, sha256, superseded } of accepted) {
      if (!superseded || !sha256) continue;
      const current = store.getDocument(knowledgeBaseId, document.id);
      const latest = accepted.findLast((entry) => entry.document.id === document.id)!;
      const before = contentBefore.get(document.id) ?? null;
      if (latest.error && current.contentHash === sha256) store.restoreIndexedContent(document.id, before);
      if (
        sha256 === latest.sha256 ||
        sha256 === before ||
        sha256 === indexedContentHash(current.indexedHash) ||
        store.hasPendingVersion(document.id, sha256, "")
      )
        continue;
      await this.#discard(knowledgeBaseId, document.id, sha256);
    }
  }

  ingestUrl(knowledgeBaseId: string, url: string): IngestionJob {
    const { store } = this.#deps;
    store.getKnowledgeBase(knowledgeBaseId);
    const parsed = new URL(url);
    // Named as fetchDocument will name it, before the answer's type adds an extension.
    const name = urlDocumentName(parsed);
    const document = store.upsertDocument({
      knowledgeBaseId,
      name,
      source: "url",
      sourceKey: parsed.href,
      sizeBytes: 0,
      contentType: "application/octet-stream",
    });
    store.setDocumentStatus(document.id, "queued");
    const job = store.createJob(knowledgeBaseId, "url", [document]);
    this.#start(job.id);
    return store.getJob(job.id);
  }

  /** Syncs a knowledge base's watched folder now; a sync already running is returned instead. */
  syncFolder(knowledgeBaseId: string): IngestionJob {
    const { store } = this.#deps;
    const knowledgeBase = store.getKnowledgeBase(knowledgeBaseId);
    if (!knowledgeBase.watchFolder)
      throw new HearthError("INVALID_REQUEST", "This knowledge base has no watchFolder to sync");
    const running = store.unfinishedJobOf(knowledgeBaseId, "sync");
    if (running) return running;
    const job = store.createJob(knowledgeBaseId, "sync", []);
    void this.#track(job.id, this.#runSync(job.id, knowledgeBaseId));
    return store.getJob(job.id);
  }

  /**
   * Re-indexes a base's stale documents (indexed under other settings or an older processing), or
   * with `all` every indexed document, from their stored bytes. Each keeps its indexed version, and
   * stays in query results, until the new one is indexed. A re-index already running is returned
   * instead, unless `restart` (the settings changed since it began): then it is cancelled and a new
   * one started. With nothing to do, the job is created completed and empty.
   */
  async reindex(
    knowledgeBaseId: string,
    options: { all?: boolean; restart?: boolean } = {},
  ): Promise<IngestionJob> {
    const { store, blobs } = this.#deps;
    const knowledgeBase = store.getKnowledgeBase(knowledgeBaseId);
    const running = store.unfinishedJobOf(knowledgeBaseId, "reindex");
    if (running && !options.restart) return running;
    if (running) await this.cancel(running.id);
    const current = settingsVersion(knowledgeBase);
    const chosen: Array<{ document: DocumentRecord; contentHash: string }> = [];
    for (const document of store.listDocuments(knowledgeBaseId)) {
      if (!document.indexedHash) continue;
      const contentHash = indexedContentHash(document.indexedHash);
      if (!contentHash || (!options.all && indexedSettings(document.indexedHash) === current)) continue;
      if (!(await blobs.exists(knowledgeBaseId, document.id, contentHash))) continue;
      chosen.push({ document, contentHash });
    }
    const job = store.createJob(knowledgeBaseId, "reindex", []);
    for (const { document, contentHash } of chosen) {
      // Still searchable meanwhile: queries follow the indexed version, not the status.
      store.setDocumentStatus(document.id, "queued");
      store.addJobDocument(job.id, document, "queued");
      // The indexed bytes: a newer upload still pending is its own job's to index.
      store.setJobDocumentContent(job.id, document.id, contentHash);
    }
    this.#start(job.id);
    return store.getJob(job.id);
  }

  /**
   * Cancels a job and answers once it has settled: queued documents stop at once, running ones are
   * aborted (parsing, embedding and index writes stop at their next step) and waited for, each sends
   * its `document` event, and then the final `job` event goes out. No document of the answer is
   * still running, and none changes after the job's finishedAt. A finished job is returned as it is.
   */
  async cancel(jobId: string): Promise<IngestionJob> {
    const job = this.#deps.store.getJob(jobId);
    if (job.status === "completed" || job.status === "failed" || job.status === "cancelled") return job;
    let cancelling = this.#cancelling.get(jobId);
    if (!cancelling) {
      cancelling = this.#settleCancel(jobId);
      this.#cancelling.set(jobId, cancelling);
    }
    return cancelling;
  }

  async #settleCancel(jobId: string): Promise<IngestionJob> {
    const { store } = this.#deps;
    try {
      this.#controllers.get(jobId)?.abort(new HearthError("JOB_CANCELLED", "The job was cancelled"));
      this.#scheduler.drop(jobId);
      // A running document marks itself cancelled (or indexed, when the cancel came after its last step).
      await Promise.allSettled(this.#running.get(jobId) ?? []);
      const job = store.getJob(jobId);
      for (const document of job.documents) {
        if (TERMINAL.has(document.status)) continue;
        // The blob of a cancelled re-upload is removed in the background: the answer need not wait.
        void this.#discard(
          job.knowledgeBaseId,
          document.documentId,
          this.#cancelDocument(jobId, job.knowledgeBaseId, document.documentId),
        );
      }
      store.setJobStatus(jobId, "cancelled", { code: "JOB_CANCELLED", message: "Cancelled by request" });
      this.#publishJob(jobId);
      this.#forget(jobId);
      return store.getJob(jobId);
    } finally {
      this.#cancelling.delete(jobId);
    }
  }

  /** Subscribes to a job's events; returns the unsubscribe function. */
  subscribe(jobId: string, listener: (event: JobEvent) => void): () => void {
    this.#events.on(jobId, listener);
    return () => this.#events.off(jobId, listener);
  }

  async deleteDocument(knowledgeBaseId: string, documentId: string): Promise<void> {
    const { store, backend, blobs } = this.#deps;
    const document = store.getDocument(knowledgeBaseId, documentId);
    store.deleteDocument(documentId);
    await backend.deleteDocument(knowledgeBaseId, documentId);
    await blobs.remove(knowledgeBaseId, documentId, document.contentHash);
    await blobs.remove(knowledgeBaseId, documentId, indexedContentHash(document.indexedHash) ?? null);
    this.#recordUpdate(knowledgeBaseId);
  }

  async deleteKnowledgeBase(knowledgeBaseId: string): Promise<void> {
    const { store, backend, blobs } = this.#deps;
    store.getKnowledgeBase(knowledgeBaseId);
    for (const job of store.unfinishedJobs())
      if (job.knowledgeBaseId === knowledgeBaseId) await this.cancel(job.id);
    store.deleteKnowledgeBase(knowledgeBaseId);
    await backend.deleteKnowledgeBase(knowledgeBaseId);
    await blobs.removeKnowledgeBase(knowledgeBaseId);
  }

  /** Resolves when no document task is queued or running. */
  async idle(): Promise<void> {
    await this.#scheduler.idle();
    await Promise.all(this.#removals);
  }

  async close(): Promise<void> {
    this.#closed = true;
    // Running tasks are abandoned, not failed: their jobs stay unfinished and resume on restart.
    for (const controller of this.#controllers.values())
      controller.abort(new HearthError("SERVICE_NOT_READY", "The service is shutting down"));
    for (const jobId of this.#controllers.keys()) this.#scheduler.drop(jobId);
    await this.#scheduler.idle();
    await Promise.allSettled(this.#cancelling.values());
  }

  // Job execution

  #controller(jobId: string): AbortController {
    let controller = this.#controllers.get(jobId);
    if (!controller) {
      controller = new AbortController();
      this.#controllers.set(jobId, controller);
      this.#deps.metrics.activeJobs.inc();
    }
    return controller;
  }

  #start(jobId: string): void {
    const { store } = this.#deps;
    const job = store.getJob(jobId);
    const controller = this.#controller(jobId);
    store.setJobStatus(jobId, "running");
    this.#publishJob(jobId);
    let scheduled = 0;
    for (const document of job.documents) {
      if (TERMINAL.has(document.status)) continue;
      const large =
        this.#pendingSize(job.knowledgeBaseId, document.documentId) >=
        this.#deps.settings.workerThresholdBytes;
      scheduled++;
      this.#scheduler.add({
        jobId,
        large,
        run: () =>
          this.#track(
            jobId,
            this.#processDocument(jobId, job.knowledgeBaseId, document.documentId, controller.signal),
          ),
      });
    }
    if (scheduled === 0) this.#maybeFinish(jobId);
  }

  /** Counts a task of a job as running until it settles (see cancel). */
  async #track(jobId: string, task: Promise<void>): Promise<void> {
    const running = this.#running.get(jobId) ?? new Set();
    this.#running.set(jobId, running);
    running.add(task);
    try {
      await task;
    } finally {
      running.delete(task);
      if (running.size === 0) this.#running.delete(jobId);
    }
  }

  /**
   * The size of the version a document is to be indexed from. The record keeps the indexed version's
   * size until the new one is indexed, so a re-upload is measured by its stored bytes.
   */
  #pendingSize(knowledgeBaseId: string, documentId: string): number {
    const record = this.#deps.store.findDocument(knowledgeBaseId, documentId);
    if (!record) return 0;
    if (!record.contentHash) return record.sizeBytes;
    return this.#deps.blobs.sizeOf(knowledgeBaseId, documentId, record.contentHash) ?? record.sizeBytes;
  }

  async #runSync(jobId: string, knowledgeBaseId: string): Promise<void> {
    const { store, blobs, settings: options } = this.#deps;
    if (this.#syncing.has(jobId)) return;
    this.#syncing.add(jobId);
    const controller = this.#controller(jobId);
    try {
      store.setJobStatus(jobId, "running");
      this.#publishJob(jobId);
      const knowledgeBase = store.getKnowledgeBase(knowledgeBaseId);
      // Also here, not only when the folder is set: a base stored before the check existed.
      if (options.dataDir) assertWatchableFolder(knowledgeBase.watchFolder ?? "", options.dataDir);
      const { files, problems } = await scanFolder(knowledgeBase.watchFolder ?? "", options.dataDir);
      const seen = new Set<string>();
      const already = new Set(store.getJob(jobId).documents.map((document) => document.documentId));
      for (const problem of problems) {
        const entryId = `entry:${problem.relativePath}`;
        if (already.has(entryId)) continue;
        store.addJobDocument(jobId, { id: entryId, name: problem.relativePath }, "failed", {
          code: problem.code,
          message: problem.message,
        });
        this.#publishDocument(jobId, entryId);
      }
      for (const file of files) {
        if (controller.signal.aborted) return;
        seen.add(file.relativePath);
        const existing = store.findDocumentBySource(knowledgeBaseId, "folder", file.relativePath);
        if (existing && already.has(existing.id)) continue;
        const document = store.upsertDocument({
          knowledgeBaseId,
          name: file.relativePath,
          source: "folder",
          sourceKey: file.relativePath,
          sizeBytes: file.sizeBytes,
          contentType: existing?.contentType ?? "application/octet-stream",
        });
        if (file.sizeBytes > options.maxUploadBytes) {
          const error = {
            code: "DOCUMENT_TOO_LARGE",
            message: `The file is larger than the limit of ${options.maxUploadBytes} bytes`,
            details: { maxBytes: options.maxUploadBytes },
          };
          store.setDocumentStatus(document.id, "failed", error);
          store.addJobDocument(jobId, document, "failed", error);
          this.#publishDocument(jobId, document.id);
          continue;
        }
        let hashed: { sha256: string; sizeBytes: number };
        try {
          hashed = await blobs.hashFile(file.absolutePath);
        } catch (error) {
          const failure = {
            code: "FOLDER_UNREADABLE",
            message: `Cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          };
          store.setDocumentStatus(document.id, "failed", failure);
          store.addJobDocument(jobId, document, "failed", failure);
          continue;
        }
        const unchanged =
          (document.indexedHash === indexedVersion(hashed.sha256, knowledgeBase) &&
            document.status === "indexed") ||
          (document.status === "failed" &&
            document.contentHash === hashed.sha256 &&
            FAILS_AGAIN.has(document.error?.code ?? ""));
        if (unchanged) {
          // A file skipped because it failed before says why, as its document does.
          const reason =
            document.status === "failed" && document.error
              ? { ...document.error, message: `Unchanged since it failed: ${document.error.message}` }
              : undefined;
          store.addJobDocument(jobId, document, "skipped", reason);
          this.#deps.metrics.documents.inc({ outcome: "skipped" });
          this.#publishDocument(jobId, document.id);
          continue;
        }
        if (!(await blobs.exists(knowledgeBaseId, document.id, hashed.sha256))) {
          await blobs.copyIn(file.absolutePath, knowledgeBaseId, document.id, hashed.sha256);
        }
        store.setDocumentContent(document.id, hashed.sha256, hashed.sizeBytes, document.contentType);
        store.setDocumentStatus(document.id, "queued");
        store.addJobDocument(jobId, document, "queued");
        this.#publishDocument(jobId, document.id);
      }
      for (const document of store.listDocuments(knowledgeBaseId)) {
        if (document.source !== "folder" || seen.has(document.sourceKey)) continue;
        await this.deleteDocument(knowledgeBaseId, document.id);
        store.addJobDocument(jobId, document, "deleted");
        this.#deps.metrics.documents.inc({ outcome: "deleted" });
        this.#publishDocument(jobId, document.id);
      }
      this.#syncing.delete(jobId);
      if (!controller.signal.aborted) this.#start(jobId);
    } catch (error) {
      const failure = isHearthError(error)
        ? { code: error.code, message: error.message }
        : { code: "INTERNAL_ERROR", message: "The sync failed unexpectedly" };
      if (!isHearthError(error)) this.#deps.logger.error({ err: error, jobId }, "folder sync failed");
      if (store.findJob(jobId)) {
        store.setJobStatus(jobId, "failed", failure);
        this.#publishJob(jobId);
      }
      this.#forget(jobId);
    } finally {
      this.#syncing.delete(jobId);
    }
  }

  async #processDocument(
    jobId: string,
    knowledgeBaseId: string,
    documentId: string,
    signal: AbortSignal,
  ): Promise<void> {
    const { store, blobs, settings: options, metrics } = this.#deps;
    if (signal.aborted || this.#closed) return;
    const started = performance.now();
    const knowledgeBase = store.findKnowledgeBase(knowledgeBaseId);
    let document = store.findDocument(knowledgeBaseId, documentId);
    if (!knowledgeBase || !document) {
      if (store.findJob(jobId)) store.setJobDocumentStatus(jobId, documentId, "deleted");
      this.#maybeFinish(jobId);
      return;
    }
    // A later upload of the same name replaced this entry's version before it was indexed: that
    // upload's job indexes the newer bytes; this one's file is removed unless another job has it to do.
    const wanted = store.jobDocumentContent(jobId, documentId);
    if (wanted && document.contentHash && wanted !== document.contentHash) {
      if (
        wanted !== indexedContentHash(document.indexedHash) &&
        !store.hasPendingVersion(documentId, wanted, jobId)
      )
        await this.#discard(knowledgeBaseId, documentId, wanted);
      this.#finishDocument(jobId, documentId, "skipped", {
        code: "DOCUMENT_SUPERSEDED",
        message: "A later upload of the same name replaced this version before it was indexed",
      });
      return;
    }
    const setStage = (stage: "parsing" | "embedding") => {
      store.setDocumentStatus(documentId, stage);
      store.setJobDocumentStatus(jobId, documentId, stage);
      this.#publishDocument(jobId, documentId);
    };
    // The chunks this run adds to the index, removed again if it is cancelled or fails.
    const written: string[] = [];
    try {
      setStage("parsing");
      const job = store.getJob(jobId);
      if (document.source === "url" && job.kind === "url") {
        const fetched = await fetchDocument(document.sourceKey, {
          maxBytes: options.maxUploadBytes,
          ...options.urlFetch,
          signal,
        });
        const sha256 = createHash("sha256").update(fetched.bytes).digest("hex");
        await blobs.writeBytes(fetched.bytes, knowledgeBaseId, documentId, sha256);
        store.upsertDocument({
          knowledgeBaseId,
          name: fetched.name,
          source: "url",
          sourceKey: document.sourceKey,
          sizeBytes: fetched.bytes.length,
          contentType: document.contentType,
        });
        store.setDocumentContent(documentId, sha256, fetched.bytes.length, document.contentType);
        document = store.getDocument(knowledgeBaseId, documentId);
      }
      if (!document.contentHash)
        throw new HearthError("DOCUMENT_EMPTY", "The document has no stored content");
      const version = indexedVersion(document.contentHash, knowledgeBase);
      // A re-index job redoes its documents even when current (`?all=true`).
      if (document.indexedHash === version && job.kind !== "reindex") {
        store.setDocumentStatus(documentId, "indexed");
        this.#finishDocument(jobId, documentId, "skipped");
        return;
      }
      const bytes = await blobs.read(knowledgeBaseId, documentId, document.contentHash);
      const report = this.#progressReporter(jobId, documentId);
      // A big PDF takes seconds to read: its pages read are shown meanwhile.
      const { chunked, contentType, title } = await parseAndChunk(
        this.#deps,
        document.name,
        bytes,
        knowledgeBase,
        signal,
        (read, pageCount) => report({ phase: "parsing", done: read, total: pageCount }),
      );
      store.setDocumentContent(documentId, document.contentHash, bytes.length, contentType);
      if (signal.aborted) throw signal.reason;
      if (chunked.chunks.length === 0)
        throw new HearthError("DOCUMENT_NO_TEXT", noTextMessage(document.name, contentType));
      const outcome = await indexChunks(this.#deps, {
        knowledgeBase,
        documentId,
        documentTitle: document.name,
        chunked,
        metadata: {
          source: document.source,
          contentType,
          ...(title ? { title: title.slice(0, 300) } : {}),
        },
        onStage: setStage,
        onProgress: report,
        replaceAll:
          document.indexedHash !== null && indexedSettings(document.indexedHash) !== indexedSettings(version),
        signal,
        written,
      });
      // A delete that raced this task wins: its chunks must not come back.
      const current = store.findDocument(knowledgeBaseId, documentId);
      if (!current) {
        await this.#deps.backend.deleteDocument(knowledgeBaseId, documentId);
        this.#finishDocument(jobId, documentId, "deleted");
        return;
      }
      // The version indexed now, not when this task started: a concurrent upload of the same name
      // may have been indexed meanwhile, and its file goes as this one replaces it (unless it is
      // the document's latest upload or another job still has it to do).
      const previous = indexedContentHash(current.indexedHash);
      store.markDocumentIndexed(documentId, version, outcome.chunkCount, {
        sizeBytes: bytes.length,
        contentType,
      });
      if (
        previous &&
        previous !== document.contentHash &&
        previous !== current.contentHash &&
        !store.hasPendingVersion(documentId, previous, jobId)
      )
        await blobs.remove(knowledgeBaseId, documentId, previous);
      metrics.embeddedTexts.inc(outcome.textsEmbedded);
      metrics.duration.observe((performance.now() - started) / 1000);
      this.#recordUpdate(knowledgeBaseId);
      this.#finishDocument(jobId, documentId, "indexed");
    } catch (error) {
      if (this.#closed && !isHearthError(error)) return;
      if (this.#closed && isHearthError(error) && error.code === "SERVICE_NOT_READY") return;
      const reason = signal.aborted ? signal.reason : error;
      if (isHearthError(reason) && reason.code === "SERVICE_NOT_READY") return;
      if (isHearthError(reason) && reason.code === "JOB_CANCELLED") {
        await this.#dropPartialVersion(jobId, knowledgeBaseId, documentId, written);
        await this.#discard(
          knowledgeBaseId,
          documentId,
          this.#cancelDocument(jobId, knowledgeBaseId, documentId),
        );
        this.#maybeFinish(jobId);
        return;
      }
      const failure = isHearthError(error)
        ? documentError(error)
        : {
            code: "INTERNAL_ERROR",
            message: "An unexpected error stopped this document; the log has the detail",
          };
      logFailure(this.#deps.logger, error, { message: "document ingestion failed", documentId, jobId });
      await this.#dropPartialVersion(jobId, knowledgeBaseId, documentId, written);
      // A failed re-upload leaves the indexed version in place; the job reports the failure.
      const kept = this.#keepIndexedVersion(jobId, knowledgeBaseId, documentId);
      if (kept) await this.#discard(knowledgeBaseId, documentId, kept.discard);
      else if (store.findDocument(knowledgeBaseId, documentId))
        store.setDocumentStatus(documentId, "failed", failure);
      this.#finishDocument(jobId, documentId, "failed", failure);
    }
  }

  /**
   * Removes what a cancelled or failed run left in the index: a document with no indexed version
   * loses every chunk (hidden from queries, they would stay until the document is deleted); one
   * with an indexed version keeps that version's chunks, less those this run added. Left alone
   * while another job still works on the document: some of them may be that job's.
   */
  async #dropPartialVersion(
    jobId: string,
    knowledgeBaseId: string,
    documentId: string,
    written: readonly string[],
  ): Promise<void> {
    const { store, backend } = this.#deps;
    if (store.hasPendingWork(documentId, jobId)) return;
    const current = store.findDocument(knowledgeBaseId, documentId);
    try {
      if (!current?.indexedHash) await backend.deleteDocument(knowledgeBaseId, documentId);
      else if (written.length > 0) await backend.deleteChunks(written);
    } catch (error) {
      this.#deps.logger.error({ err: error, documentId }, "removing a stopped document's chunks failed");
    }
  }

  /**
   * Records a document's progress in its job, at most once per PROGRESS_INTERVAL_MS (and at the
   * start of each phase, so its total shows at once): not a database write per page or chunk.
   */
  #progressReporter(jobId: string, documentId: string): (progress: JobDocumentProgress) => void {
    let lastPhase: JobDocumentProgress["phase"] | undefined;
    let lastWrite = 0;
    return (progress) => {
      const now = performance.now();
      if (progress.phase === lastPhase && now - lastWrite < PROGRESS_INTERVAL_MS) return;
      lastPhase = progress.phase;
      lastWrite = now;
      if (!this.#deps.store.findJob(jobId)) return;
      this.#deps.store.setDocumentProgress(jobId, documentId, progress);
      this.#publishDocument(jobId, documentId);
    };
  }

  /** Marks a document of a job cancelled; returns the blob of an abandoned re-upload, for #discard. */
  #cancelDocument(jobId: string, knowledgeBaseId: string, documentId: string): string | null {
    const { store } = this.#deps;
    const cancelled = {
      code: "JOB_CANCELLED",
      message: "The job was cancelled before this document was indexed",
    };
    // A document with an earlier indexed version keeps it; a new one records the cancellation.
    const kept = this.#keepIndexedVersion(jobId, knowledgeBaseId, documentId);
    if (!kept && store.findDocument(knowledgeBaseId, documentId))
      store.setDocumentStatus(documentId, "failed", cancelled);
    store.setJobDocumentStatus(jobId, documentId, "failed", cancelled);
    this.#publishDocument(jobId, documentId);
    return kept?.discard ?? null;
  }

  /**
   * After a cancelled or failed re-upload: the document goes back to its indexed version exactly as
   * it was (status, bytes served by .../file) and the new version's blob is removed, unless another
   * unfinished job is still to index it (the caller passes `discard` to #discard). Returns undefined
   * for a document with no indexed version.
   */
  #keepIndexedVersion(
    /** The job giving up on it; undefined for a document no job holds (resume after a crash). */
    jobId: string | undefined,
    knowledgeBaseId: string,
    documentId: string,
  ): { discard: string | null } | undefined {
    const { store } = this.#deps;
    const document = store.findDocument(knowledgeBaseId, documentId);
    if (!document?.indexedHash) return undefined;
    store.setDocumentStatus(documentId, "indexed");
    const previous = indexedContentHash(document.indexedHash)!;
    // One query, not every unfinished job loaded whole for each cancelled document.
    const pendingElsewhere = store.hasPendingWork(documentId, jobId);
    if (!document.contentHash || document.contentHash === previous || pendingElsewhere)
      return { discard: null };
    store.restoreIndexedContent(documentId, previous);
    return { discard: document.contentHash };
  }

  /** Removes an abandoned version's blob; idle() waits for removals still running. */
  async #discard(knowledgeBaseId: string, documentId: string, sha256: string | null): Promise<void> {
    if (!sha256) return;
    const removal = this.#deps.blobs.remove(knowledgeBaseId, documentId, sha256).catch((error: unknown) => {
      this.#deps.logger.error({ err: error, documentId }, "removing a cancelled upload's file failed");
    });
    this.#removals.add(removal);
    await removal;
    this.#removals.delete(removal);
  }

  #finishDocument(jobId: string, documentId: string, status: JobDocumentStatus, error?: DocumentError): void {
    const { store } = this.#deps;
    if (!store.findJob(jobId)) return;
    store.setJobDocumentStatus(jobId, documentId, status, error);
    this.#deps.metrics.documents.inc({ outcome: status });
    this.#publishDocument(jobId, documentId);
    this.#maybeFinish(jobId);
  }

  #maybeFinish(jobId: string): void {
    const { store } = this.#deps;
    const job = store.findJob(jobId);
    // A job being cancelled is finished by the cancel, once its running documents have stopped.
    if (!job || this.#syncing.has(jobId) || this.#cancelling.has(jobId)) return;
    if (job.documents.some((document) => !TERMINAL.has(document.status))) return;
    // A sync that changed something was marked as indexing by #recordUpdate, document by document.
    if (job.status !== "cancelled") store.setJobStatus(jobId, "completed");
    this.#publishJob(jobId);
    this.#forget(jobId);
  }

  #forget(jobId: string): void {
    if (this.#controllers.delete(jobId)) this.#deps.metrics.activeJobs.dec();
  }

  #recordUpdate(knowledgeBaseId: string): void {
    this.#deps.store.markKnowledgeBaseIndexed(knowledgeBaseId);
    this.#deps.metrics.updates.inc({ knowledge_base: knowledgeBaseId });
    this.#deps.metrics.lastUpdate.set({ knowledge_base: knowledgeBaseId }, Date.now() / 1000);
  }

  #publishDocument(jobId: string, documentId: string): void {
    if (this.#events.listenerCount(jobId) === 0) return;
    const job = this.#deps.store.findJob(jobId);
    const document = job?.documents.find((entry) => entry.documentId === documentId);
    if (job && document)
      this.#events.emit(jobId, { type: "document", jobId, document, counts: job.counts } satisfies JobEvent);
  }

  #publishJob(jobId: string): void {
    if (this.#events.listenerCount(jobId) === 0) return;
    const job = this.#deps.store.findJob(jobId);
    if (job) this.#events.emit(jobId, { type: "job", job } satisfies JobEvent);
  }
}

/** A failure as a document and its job entry record it: its code, message and details (what a page says it by). */
function documentError(error: HearthError): DocumentError {
  return { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) };
}
