import { randomInt } from "node:crypto";
import { stat } from "node:fs/promises";
import { HearthError, type Logger, whenAborted } from "@hearth/core";
import {
  type ChatHistoryItem,
  type ChatModelFunctions,
  getLlama,
  type Llama,
  type LlamaChatSessionRepeatPenalty,
  LlamaCompletion,
  type LlamaContextSequence,
  type LlamaGrammar,
  LlamaLogLevel,
  type LlamaModel,
  NoBinaryFoundError,
  type Token,
  TokenBias,
} from "node-llama-cpp";
import { checkGgufFile, type GgufCheck } from "../../discovery/gguf-validation.js";
import { type ModelDetails, modelDetails } from "../../discovery/model-details.js";
import type { SkippedModelFile } from "../../discovery/model-name.js";
import { type ModelPurpose, modelPurpose } from "../../discovery/model-purpose.js";
import { listModelFiles } from "../../discovery/scan-models-dir.js";
import { AsyncQueue } from "../async-queue.js";
import { cannotRerank } from "../cannot-rerank.js";
import {
  type ChatMessage,
  collectStream,
  type EmbedCall,
  type FinishReason,
  type GenerateResult,
  type ModelCall,
  type ModelDescription,
  type ModelRuntime,
  type RerankCall,
  type RerankResult,
  type StreamPart,
  type ToolCall,
} from "../language-model.js";
import { templateOffersTools, templateThinks } from "./chat-template.js";
import { grammarSchema } from "./grammar-schema.js";
import { cannotChat, LoadedModel, SCORING_CONTEXT_MAX } from "./loaded-model.js";
import { assertFits, availableMemoryBytes, type ContextShape, estimateMemory } from "./memory-estimate.js";
import { StopSequences } from "./stop-sequences.js";

/** The context an embedded model is loaded with: the configured size, at most its trained one when that is known. */
export function servedContextSize(configured: number, trained: number | undefined): number {
  return trained && trained > 0 ? Math.min(configured, trained) : configured;
}

/**
 * The context a model is loaded with, for what it is for: a model that completes gets a chat context
 * of `parallel` sequences of the served size; one that only embeds or reranks gets no chat context,
 * only the context it embeds or ranks in (one sequence, at most SCORING_CONTEXT_MAX tokens, made on
 * first use), which is all its memory is counted for.
 */
function contextShape(purpose: ModelPurpose, served: number, parallel: number): ContextShape {
  return purpose === "completion"
    ? { contextSize: served, sequences: parallel, embeddings: false }
    : { contextSize: Math.min(served, SCORING_CONTEXT_MAX), sequences: 1, embeddings: true };
}

export interface EmbeddedRuntimeOptions {
  modelsDir: string;
  threads: number;
  contextSize: number;
  parallel: number;
  keepAliveSeconds: number;
  /** Shortest time between two handed-on deltas after the first (0: each as generated). */
  streamIntervalMs?: number;
  logger: Logger;
  /** Extra models (name -> file) outside the models dir, e.g. imported from a local Ollama. */
  extraModels?: () => Promise<Map<string, string>>;
  /** Content digests of registered models, shown in listings and keyed into the inference cache. */
  digests?: () => Promise<Map<string, string>>;
  /**
   * Registers a file of the models dir that has no digest yet (hashes it: the registry's `adopt`),
   * answering its digest. A scan asks once per new or changed file, in the background: listings do
   * not wait for a multi-gigabyte file to be hashed, and show its digest once it is.
   */
  register?: (name: string) => Promise<string | undefined>;
  /** Tests lower this to exercise the refusal; defaults to the memory the OS reports free. */
  availableMemory?: () => number;
  /**
   * Told of each model a scan finds gone from the models dir (removed, or its file renamed away); the
   * scan, and so `reread()`, ends once it is done.
   */
  onRemoved?: (id: string) => Promise<void>;
}

interface CatalogEntry {
  path: string;
  check: GgufCheck;
  mtimeMs: number;
  /** The inode behind the path: a version switch re-points a link to another file of the same size. */
  inode: number;
  /** What the file is for (modelPurpose), read once from its tensors when it is scanned. */
  purpose: ModelPurpose;
  /** Its size and quantization (modelDetails), read once from its metadata and tensors when it is scanned. */
  details: ModelDetails | undefined;
}

/** What tells one file served under a name from another: its inode, size and mtime. */
function stampOf(entry: CatalogEntry): string {
  return `${entry.inode}:${entry.check.sizeBytes}:${entry.mtimeMs}`;
}

/** How many of the tokens before it a generated token is decoded after (a word's leading space). */
const DECODE_CONTEXT_TOKENS = 16;

/** How old the catalog of the models dir may grow before it is re-read. */
const CATALOG_MAX_AGE_MS = 1000;

/** How long close() waits for a model load in flight before the service stops without it. */
const CLOSE_LOAD_WAIT_MS = 3000;

/** The value of `promise`, or undefined once `signal` aborts first (the promise goes on, unobserved). */
async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  const aborted = whenAborted(signal);
  const stopped = aborted.promise.catch(() => {
    promise.catch(() => {});
    return undefined;
  });
  try {
    return signal.aborted ? await stopped : await Promise.race([promise, stopped]);
  } finally {
    aborted.dispose();
  }
}

/** Whether `promise` settles within `ms`; the timer does not keep the process alive. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then(() => true as const), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Temperature when a request names none: Ollama's default. */
const DEFAULT_TEMPERATURE = 0.8;

/**
 * Runs GGUF models in this process with llama.cpp (node-llama-cpp), CPU only, with an explicit thread
 * count. Models load on first use and unload after their keep-alive.
 */
export class EmbeddedRuntime implements ModelRuntime {
  readonly specificationVersion = "hearth-1";
  readonly provider = "embedded";
  readonly #options: EmbeddedRuntimeOptions;
  #llama: Promise<Llama> | undefined;
  readonly #catalog = new Map<string, CatalogEntry>();
  readonly #loaded = new Map<string, LoadedModel>();
  readonly #loading = new Map<string, Promise<LoadedModel>>();
  #refreshedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | undefined;
  /** Bumped by reread(); a scan records the generation it started at. */
  #generation = 1;
  #scannedGeneration = 0;
  #digests = new Map<string, string>();
  /** Reads of the digests started, and the latest one applied (an older read never overwrites it). */
  #digestReads = 0;
  #digestsApplied = 0;
  /** Unregistered files of the models dir asked to be registered, with the stamp they had then. */
  readonly #registering = new Map<string, string>();
  /** Files of the models dir skipped (for their names, or links to no file), by path: each is logged once, when found. */
  #skipped = new Map<string, SkippedModelFile>();
  /** Size and mtime of the file each loaded model came from. */
  readonly #stamps = new Map<string, string | undefined>();
  #closed = false;

  constructor(options: EmbeddedRuntimeOptions) {
    this.#options = options;
  }

  /** node-llama-cpp's chat wrappers render prompts; its DeepSeek one leaves `<think>` to the model. */
  readonly usesPublishedTemplate = false;
  /** A forced tool call is an answer held to a JSON schema by the grammar (serving/forced-tool-call.ts). */
  readonly honoursToolChoice = false;

  get defaultConcurrency(): number {
    return this.#options.parallel;
  }

  /**
   * llama.cpp for this process: a build made with `node-llama-cpp source download`, else the prebuilt
   * binary once node-llama-cpp's test of it (a child process) passes. Never built from source while
   * serving (`build: "never"`): a compile takes minutes, and the test fails for reasons a build does
   * not cure, such as the terminal's Ctrl-C stopping the test's child along with Hearth. A failure is
   * LLAMA_BINARY_UNAVAILABLE, saying what to do, and the next load tries again.
   */
  #getLlama(): Promise<Llama> {
    if (!this.#llama) {
      const llama = getLlama({
        gpu: false,
        build: "never",
        maxThreads: this.#options.threads,
        logLevel: LlamaLogLevel.error,
        logger: (level, message) => {
          if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal)
            this.#options.logger.warn({ llama: message.trim() }, "llama.cpp");
        },
      }).catch((error: unknown) => {
        if (this.#llama === llama) this.#llama = undefined;
        throw llamaBinaryUnavailable(error);
      });
      this.#llama = llama;
    }
    return this.#llama;
  }

  /**
   * Reads the models dir again (this process installed or removed a model), so that what is served,
   * and the models gone (`onRemoved`), are as the dir is now.
   */
  async reread(): Promise<void> {
    this.#refreshedAt = Number.NEGATIVE_INFINITY;
    this.#generation++;
    await this.#refresh();
  }

  get #stale(): boolean {
    return performance.now() - this.#refreshedAt >= CATALOG_MAX_AGE_MS;
  }

  /**
   * Brings the catalog up to date with the models dir. It waits for a scan when this process changed
   * the dir (`reread()`), when the catalog is older than CATALOG_MAX_AGE_MS and `wait` is "stale"
   * (a listing, read by someone who just copied a file in), and always when `wait` is "always";
   * otherwise an old catalog is re-read in the background and the caller goes on with what it holds,
   * so no request waits for a directory scan. A file is re-validated only when its size, mtime or
   * inode changed.
   */
  async #refresh(wait: "changed" | "stale" | "always" = "changed"): Promise<void> {
    const wanted = this.#generation;
    const current = () =>
      wait !== "always" && this.#scannedGeneration >= wanted && (wait === "changed" || !this.#stale);
    if (current()) {
      if (this.#stale && !this.#refreshing) {
        this.#startScan().catch((error: unknown) =>
          this.#options.logger.warn({ err: error }, "re-reading the models dir failed"),
        );
      }
      return;
    }
    // A scan already running may have started before the change that asked for this one.
    if (this.#refreshing) await this.#refreshing;
    if (current()) return;
    await this.#startScan();
  }

  #startScan(): Promise<void> {
    this.#refreshing ??= this.#scan().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #scan(): Promise<void> {
    const startedAt = performance.now();
    const generation = this.#generation;
    const files = new Map<string, string>();
    /**
     * Names of the models dir (not extra models): registered if they have no digest (a file of its
     * own, or a link whose blob changed since it was hashed: the registry hashes it again).
     */
    const own = new Set<string>();
    const skipped = new Map<string, SkippedModelFile>();
    for (const model of await listModelFiles(this.#options.modelsDir)) {
      if (model.skipped) {
        skipped.set(model.path, model.skipped);
        if (!this.#skipped.has(model.path))
          this.#options.logger.warn(
            { file: model.skipped.file, path: model.path, reason: model.skipped.why, fix: model.skipped.fix },
            model.skipped.reason === "not-a-model-name"
              ? "skipping a model file whose name is not a model name"
              : "skipping a model link that leads to no file",
          );
        continue;
      }
      files.set(model.name, model.path);
      own.add(model.name);
    }
    this.#skipped = skipped;
    if (this.#options.extraModels)
      for (const [name, path] of await this.#options.extraModels())
        if (!files.has(name)) files.set(name, path);
    /** Models the catalog held that the dir no longer does. */
    const gone = [...this.#catalog.keys()].filter((name) => !files.has(name));
    for (const name of gone) this.#catalog.delete(name);
    for (const [name, path] of files) {
      let mtimeMs: number;
      let size: number;
      let inode: number;
      try {
        const stats = await stat(path);
        mtimeMs = stats.mtimeMs;
        size = stats.size;
        inode = stats.ino;
      } catch {
        if (this.#catalog.delete(name)) gone.push(name);
        continue;
      }
      const known = this.#catalog.get(name);
      if (
        known &&
        known.path === path &&
        known.mtimeMs === mtimeMs &&
        known.check.sizeBytes === size &&
        known.inode === inode
      )
        continue;
      const check = await checkGgufFile(path);
      if (!check.valid)
        this.#options.logger.warn(
          { model: name, path, reason: check.error },
          "skipping an invalid GGUF file",
        );
      const purpose = check.info ? modelPurpose(check.info) : "completion";
      const details = check.info && modelDetails(check.info);
      this.#catalog.set(name, { path, check, mtimeMs, inode, purpose, details });
    }
    // Read after the files: the registry records a version before it re-points the link to it, so
    // the digests read now are never older than the files just seen.
    await this.#readDigests();
    this.#scannedGeneration = generation;
    if (generation === this.#generation) this.#refreshedAt = startedAt;
    for (const name of this.#registering.keys()) if (!own.has(name)) this.#registering.delete(name);
    // Every file of the catalog was just stat'ed: a loaded model it no longer holds was removed.
    for (const [id, loaded] of [...this.#loaded]) if (!this.#catalog.has(id)) this.#retire(id, loaded);
    for (const name of gone) await this.#options.onRemoved?.(name);
    for (const name of own) {
      const entry = this.#catalog.get(name);
      if (entry?.check.valid && !this.#digests.has(name)) this.#register(name, stampOf(entry));
    }
  }

  async #readDigests(): Promise<void> {
    const read = ++this.#digestReads;
    const digests = (await this.#options.digests?.().catch(() => undefined)) ?? new Map<string, string>();
    if (read < this.#digestsApplied) return;
    this.#digestsApplied = read;
    this.#digests = digests;
  }

  /**
   * Registers a file found in the models dir without a digest, in the background: once per file
   * (and again if it changes: one still being copied in is registered when complete). The registry
   * makes the file a blob and the name a link to it, with the same bytes: a model loaded from it
   * keeps serving, and the next scan sees the same file.
   */
  #register(name: string, stamp: string): void {
    const register = this.#options.register;
    if (!register || this.#closed || this.#registering.get(name) === stamp) return;
    this.#registering.set(name, stamp);
    register(name)
      .then((digest) => (digest ? this.#readDigests() : undefined))
      .catch((error: unknown) =>
        this.#options.logger.warn({ err: error, model: name }, "registering a model file failed"),
      );
  }

  /** The files of the models dir skipped, as of a scan at most CATALOG_MAX_AGE_MS old. */
  async skippedFiles(): Promise<SkippedModelFile[]> {
    await this.#refresh("stale");
    return [...this.#skipped.values()];
  }

  async listModels(): Promise<ModelDescription[]> {
    await this.#refresh("stale");
    const models: ModelDescription[] = [];
    for (const id of this.#catalog.keys()) {
      const description = this.describe(id);
      if (description) models.push(description);
    }
    return models;
  }

  /** The model's Jinja chat template (`tokenizer.chat_template`), when its file has one. */
  chatTemplate(id: string): string | undefined {
    const template = this.#catalog.get(id)?.check.info?.metadata.tokenizer?.chat_template;
    return typeof template === "string" ? template : undefined;
  }

  thinks(id: string): boolean {
    return templateThinks(this.chatTemplate(id));
  }

  /** The chat template and flat `key: value` metadata of a model's GGUF (Ollama's `model_info`). */
  ggufMetadata(id: string): { template: string | undefined; info: Record<string, unknown> } | undefined {
    const info = this.#catalog.get(id)?.check.info;
    if (!info) return undefined;
    const flat: Record<string, unknown> = {};
    const walk = (value: unknown, prefix: string) => {
      if (Array.isArray(value)) return; // vocabularies: thousands of entries, as Ollama leaves out by default
      if (value !== null && typeof value === "object") {
        for (const [key, child] of Object.entries(value)) walk(child, prefix ? `${prefix}.${key}` : key);
      } else if (prefix !== "tokenizer.chat_template")
        flat[prefix] = typeof value === "bigint" ? Number(value) : value;
    };
    walk(info.metadata, "");
    return { template: this.chatTemplate(id), info: flat };
  }

  /** What the catalog knows of a valid model, without touching the disk. */
  describe(id: string): ModelDescription | undefined {
    const entry = this.#catalog.get(id);
    if (!entry?.check.valid || !entry.check.info) return undefined;
    {
      const metadata = entry.check.info.metadata;
      const { purpose } = entry;
      const general = metadata.general as { architecture?: string };
      return {
        id,
        sizeBytes: entry.check.sizeBytes,
        digest: this.#digests.get(id),
        revision: stampOf(entry),
        modifiedAt: new Date(entry.mtimeMs),
        family: general.architecture,
        ...entry.details,
        contextLength:
          Number(
            (entry.check.info.architectureMetadata as { context_length?: number }).context_length ?? 0,
          ) || undefined,
        hasChatTemplate: this.chatTemplate(id) !== undefined,
        ...(purpose === "rerank"
          ? { reranksOnly: true }
          : purpose === "embedding"
            ? { embedsOnly: true }
            : {}),
      };
    }
  }

  /**
   * Whether the runtime has a file for this model (valid or not), as the disk has it now: the catalog
   * (and so `describe`, whose digest and revision key the inference cache) is brought up to date first.
   */
  async hasModel(id: string): Promise<boolean> {
    return (await this.#fresh(id)) !== undefined;
  }

  /**
   * The catalog's entry for a model, checked against its file with one stat. Another process
   * (`hearth models pull`, `rollback` or `rm` from the CLI) re-points or removes the file without
   * telling this one: when the file is not the one the catalog holds, the models dir is read again.
   */
  async #fresh(id: string): Promise<CatalogEntry | undefined> {
    await this.#refresh();
    const entry = this.#catalog.get(id);
    const stats = entry && (await stat(entry.path).catch(() => undefined));
    if (
      entry &&
      stats &&
      stats.ino === entry.inode &&
      stats.size === entry.check.sizeBytes &&
      stats.mtimeMs === entry.mtimeMs
    )
      return entry;
    await this.#refresh("always");
    return this.#catalog.get(id);
  }

  async #entry(id: string): Promise<CatalogEntry> {
    const entry = await this.#fresh(id);
    if (!entry) throw new HearthError("MODEL_NOT_FOUND", `model "${id}" not found`);
    if (!entry.check.valid) {
      throw new HearthError("MODEL_FILE_INVALID", `model "${id}" cannot be used: ${entry.check.error}`, {
        details: { model: id },
      });
    }
    return entry;
  }

  async #load(id: string): Promise<LoadedModel> {
    if (this.#closed) throw new HearthError("SERVICE_NOT_READY", "the model service is shutting down");
    const loaded = this.#loaded.get(id);
    if (loaded) {
      // A new version installed under the same name (pull, rollback, `hearth models`) replaces the loaded one.
      await this.#refresh();
      const entry = this.#catalog.get(id);
      const stamp = entry ? stampOf(entry) : undefined;
      if (stamp === this.#stamps.get(id) || loaded.busy) return loaded;
      await this.unload(id);
    }
    let loading = this.#loading.get(id);
    if (!loading) {
      loading = this.#loadNow(id).finally(() => this.#loading.delete(id));
      this.#loading.set(id, loading);
    }
    return loading;
  }

  async #loadNow(id: string): Promise<LoadedModel> {
    const entry = await this.#entry(id);
    const info = entry.check.info!;
    const llama = await this.#getLlama();
    // Shutting down while llama.cpp was found: no model is loaded for a service about to exit.
    if (this.#closed) throw new HearthError("SERVICE_NOT_READY", "the model service is shutting down");
    const trainContext = Number(
      (info.architectureMetadata as { context_length?: number }).context_length ?? 0,
    );
    const { purpose } = entry;
    const shape = contextShape(
      purpose,
      servedContextSize(this.#options.contextSize, trainContext),
      this.#options.parallel,
    );
    const { contextSize, sequences } = shape;
    const estimate = await estimateMemory(info, llama, shape);
    assertFits(id, estimate, (this.#options.availableMemory ?? availableMemoryBytes)(), shape);
    const started = performance.now();
    try {
      const model = await llama.loadModel({ modelPath: entry.path, gpuLayers: 0 });
      try {
        const threads = this.#options.threads;
        const chatContext =
          purpose === "completion"
            ? await model.createContext({ contextSize, sequences, threads })
            : undefined;
        const parts = {
          purpose,
          chatContext,
          contextSize: chatContext?.contextSize ?? contextSize,
          sizeBytes: estimate.totalBytes,
          threads,
          keepAliveSeconds: this.#options.keepAliveSeconds,
        };
        const result = new LoadedModel(id, model, parts, () => {
          void this.unload(id);
        });
        if (this.#closed) {
          // A load close() stopped waiting for: nothing will unload it.
          await result.dispose();
          throw new HearthError("SERVICE_NOT_READY", "the model service is shutting down");
        }
        this.#loaded.set(id, result);
        this.#stamps.set(id, stampOf(entry));
        this.#options.logger.info(
          { model: id, purpose, contextSize, sequences, ms: Math.round(performance.now() - started) },
          "model loaded",
        );
        return result;
      } catch (error) {
        await model.dispose();
        throw error;
      }
    } catch (error) {
      throw new HearthError(
        "MODEL_LOAD_FAILED",
        `llama.cpp could not load "${id}": ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /**
   * Unloads the models whose name no longer resolves to the file they were loaded from: removed by
   * this process (`/api/delete`, the registry route) or by another one (`hearth models rm` edits the
   * models dir and the registry on disk). One stat per loaded model: called where the loaded models are
   * read (`/api/ps`, the metrics); a scan of the models dir does the same from what it just stat'ed. A
   * model answering requests unloads when they finish. A name re-pointed to another version is
   * replaced by its next request.
   */
  async #dropRemoved(): Promise<void> {
    for (const [id, loaded] of [...this.#loaded]) {
      const entry = this.#catalog.get(id);
      const present = entry && (await stat(entry.path).catch(() => undefined));
      if (present && this.#catalog.has(id)) continue;
      if (this.#loaded.get(id) === loaded) this.#retire(id, loaded);
    }
  }

  #retire(id: string, loaded: LoadedModel): void {
    this.#options.logger.info({ model: id }, "model removed: unloading it");
    loaded.retire();
  }

  /** The models loaded now, less those whose model was removed meanwhile (see #dropRemoved). */
  async currentLoadedModels(): Promise<ReturnType<EmbeddedRuntime["loadedModels"]>> {
    await this.#dropRemoved();
    return this.loadedModels();
  }

  async unload(id: string): Promise<void> {
    const loaded = this.#loaded.get(id);
    if (!loaded) return;
    if (loaded.busy) {
      // Removed while answering (the registry's onChange): unload once the answers finish.
      if (!(await this.#fresh(id))) loaded.retire();
      return;
    }
    this.#loaded.delete(id);
    await loaded.dispose();
    this.#options.logger.info({ model: id }, "model unloaded");
  }

  /** Makes `seconds` the keep-alive of a loaded model: the latest request's wins (see LoadedModel). */
  keepAlive(id: string, seconds: number): void {
    this.#loaded.get(id)?.touch(seconds);
  }

  /**
   * Loads a model without generating (Ollama: a generate request with no prompt), or with a
   * keep-alive of 0 unloads it: at once when idle, else when the requests it is answering end. A
   * model that is not loaded is not loaded only to be unloaded, as in Ollama.
   */
  async preload(id: string, keepAliveSeconds = this.#options.keepAliveSeconds): Promise<void> {
    if (keepAliveSeconds === 0) {
      const loaded = this.#loaded.get(id);
      if (loaded?.busy) loaded.touch(0);
      else await this.unload(id);
      return;
    }
    const loaded = await this.#load(id);
    loaded.touch(keepAliveSeconds);
  }

  loadedModels() {
    return [...this.#loaded.values()].map((loaded) => ({
      id: loaded.id,
      sizeBytes: loaded.sizeBytes,
      expiresAt: loaded.expiresAt,
      contextLength: loaded.contextSize,
    }));
  }

  async doGenerate(call: ModelCall): Promise<GenerateResult> {
    return collectStream(this.doStream(call));
  }

  doStream(call: ModelCall): AsyncIterable<StreamPart> {
    const abort = new AbortController();
    const onAbort = () => abort.abort(call.signal?.reason);
    if (call.signal?.aborted) abort.abort(call.signal.reason);
    else call.signal?.addEventListener("abort", onAbort, { once: true });
    const queue = new AsyncQueue<StreamPart>(() => abort.abort(new Error("consumer stopped")));
    void this.#run(call, queue, abort.signal).finally(() =>
      call.signal?.removeEventListener("abort", onAbort),
    );
    return queue;
  }

  async #run(call: ModelCall, queue: AsyncQueue<StreamPart>, signal: AbortSignal): Promise<void> {
    let started = false;
    let loaded: LoadedModel | undefined;
    let sequence: LlamaContextSequence | undefined;
    const keepAlive = call.settings.keepAliveSeconds ?? this.#options.keepAliveSeconds;
    // Parts after the first are handed on from a timer, after node-llama-cpp has asked llama.cpp for
    // the next token, so that streaming them (framing, socket writes, the client's reading) overlaps
    // generation instead of delaying it; and at most once per stream interval: tokens generated
    // faster (a small model on a fast CPU) go out together, which keeps the per-write work from
    // competing with generation for the cores. A model slower than the interval is never held back.
    const interval = this.#options.streamIntervalMs ?? 0;
    let pending: StreamPart[] = [];
    /** Cancels the hand-on that is scheduled; undefined when none is. */
    let cancelScheduled: (() => void) | undefined;
    let lastFlush = 0;
    const flush = () => {
      cancelScheduled = undefined;
      lastFlush = performance.now();
      const parts = pending;
      pending = [];
      for (const part of parts) queue.push(part);
    };
    const schedule = () => {
      const wait = lastFlush + interval - performance.now();
      if (wait > 0) {
        const timer = setTimeout(flush, wait);
        cancelScheduled = () => clearTimeout(timer);
      } else {
        const immediate = setImmediate(flush);
        cancelScheduled = () => clearImmediate(immediate);
      }
    };
    const stops = call.settings.stop?.length ? new StopSequences(call.settings.stop) : undefined;
    const stopController = new AbortController();
    const generationSignal = stops ? AbortSignal.any([signal, stopController.signal]) : signal;
    const forward = (part: StreamPart) => {
      if (!started) {
        // The first part goes out at once: time to first token is what users feel.
        started = true;
        lastFlush = performance.now();
        queue.push(part);
        return;
      }
      const last = pending.at(-1);
      if (
        last &&
        last.type === part.type &&
        (part.type === "text-delta" || part.type === "reasoning-delta")
      ) {
        (last as { text: string }).text += part.text;
      } else pending.push(part);
      if (!cancelScheduled) schedule();
    };
    const emit = (part: StreamPart) => {
      if (!stops || part.type !== "text-delta") return forward(part);
      const text = stops.push(part.text);
      if (text) forward({ type: "text-delta", text });
      if (stops.stopped) stopController.abort(new Error("stop sequence"));
    };
    const flushNow = () => {
      cancelScheduled?.();
      flush();
    };
    /** Once generation has begun, failures are parts of the answer, not errors of the call. */
    let accepted = false;
    let loadMs = 0;
    const accept = () => {
      accepted = true;
      queue.push({ type: "stream-start", loadMs });
    };
    try {
      // A JSON schema the grammar cannot enforce is refused before a model is loaded for it.
      const format = call.settings.format;
      const schema =
        format && format.type !== "json"
          ? grammarSchema(format.schema, call.fields?.format ?? "format")
          : undefined;
      // As Ollama does: tools offered to a model whose template cannot show them to it would be
      // answered as if they were not there.
      if (call.settings.tools?.length && !templateOffersTools(this.chatTemplate(call.modelId)))
        throw new HearthError(
          "TOOLS_NOT_SUPPORTED",
          `"${call.modelId}" does not support tools: its chat template has no place for them`,
          { details: { field: "tools" } },
        );
      // Refused from the file, before a model with no chat context is loaded only to be turned away.
      const purpose = this.#catalog.get(call.modelId)?.purpose ?? "completion";
      if (purpose !== "completion") throw cannotChat(call.modelId, purpose);
      const loadStarted = performance.now();
      // A load is not waited for once the call is stopped (its client gone, the service shutting
      // down): it goes on for the next call, or is dropped at close.
      loaded = await untilAborted(this.#load(call.modelId), signal);
      loadMs = performance.now() - loadStarted;
      if (loaded) sequence = await loaded.acquire(keepAlive);
      if (!loaded || !sequence || signal.aborted) {
        queue.push({
          type: "finish",
          finishReason: "abort",
          usage: { promptTokens: 0, completionTokens: 0 },
        });
        queue.end();
        return;
      }
      const result = await this.#generate(loaded, sequence, call, schema, generationSignal, accept, emit);
      const rest = stops?.flush();
      if (rest) forward({ type: "text-delta", text: rest });
      flushNow();
      queue.push({
        type: "finish",
        finishReason: signal.aborted ? "abort" : stops?.stopped ? "stop" : result.finishReason,
        usage: result.usage,
      });
      queue.end();
    } catch (error) {
      const failure =
        error instanceof HearthError
          ? error
          : new HearthError("INTERNAL_ERROR", "generation failed", { cause: error });
      if (accepted) {
        flushNow();
        queue.push({ type: "error", error: failure });
        queue.end();
      } else queue.end(failure);
    } finally {
      if (loaded && sequence) loaded.release(sequence);
    }
  }

  async #generate(
    loaded: LoadedModel,
    sequence: LlamaContextSequence,
    call: ModelCall,
    /** The request's JSON schema as the grammar takes it (grammarSchema). */
    schema: unknown,
    signal: AbortSignal,
    accept: () => void,
    emit: (part: StreamPart) => void,
  ): Promise<{ finishReason: FinishReason; usage: { promptTokens: number; completionTokens: number } }> {
    const settings = call.settings;
    const contextSize = loaded.contextSize;
    if (settings.maxTokens !== undefined && settings.maxTokens >= contextSize && !settings.capMaxTokens) {
      // Named as the client sent it: `max_completion_tokens` is refused as itself, not as `max_tokens`.
      const field = call.fields?.maxTokens ?? "max_tokens";
      throw new HearthError(
        "CONTEXT_OVERFLOW",
        `${field} ${settings.maxTokens} does not fit the ${contextSize}-token context of "${call.modelId}"`,
        { details: { contextSize, field } },
      );
    }
    const grammar = await this.#grammar(call, schema);
    const tokenBias = settings.logitBias
      ? logitBias(loaded.model, settings.logitBias, call.modelId)
      : undefined;
    let completionTokens = 0;
    const common = {
      signal,
      stopOnAbortSignal: true,
      temperature: settings.temperature ?? DEFAULT_TEMPERATURE,
      topK: settings.topK,
      topP: settings.topP,
      minP: settings.minP,
      // A request without a seed samples with a fresh one: node-llama-cpp would seed with the current
      // second, so requests within a second would draw the same "random" answer. A given seed is kept
      // (deterministic, as the inference cache assumes); at temperature 0 the seed is not used.
      seed: settings.seed ?? randomInt(0, 2 ** 31),
      tokenBias,
      customStopTriggers: settings.stop && settings.stop.length > 0 ? settings.stop : undefined,
      repeatPenalty: repeatPenaltyOf(settings),
    };

    if (call.input.kind === "completion") {
      // The answer's tokens are decoded after those before them (the prompt's, then its own): a
      // SentencePiece vocabulary writes a word's leading space only after other text, so node-llama-cpp's
      // own text chunks, which decode the first token alone, would go on "The cat sat on the" with
      // "ground" rather than " ground".
      const promptTokenIds = loaded.model.tokenize(call.input.prompt, false);
      const promptTokens = promptTokenIds.length + 1;
      // Only the last few tokens shape how the next ones decode (node-llama-cpp reads its last 3).
      let preceding = promptTokenIds.slice(-DECODE_CONTEXT_TOKENS);
      const maxTokens = budget(promptTokens, settings.maxTokens, contextSize, contextSize - 1, call.modelId);
      const completion = new LlamaCompletion({ contextSequence: sequence });
      const suffix = call.input.suffix;
      try {
        // Fill-in-the-middle needs the model's infill tokens (code models have them): refused clearly
        // rather than answered as if the suffix were not there.
        if (suffix && !completion.infillSupported)
          throw new HearthError(
            "INVALID_REQUEST",
            `"${call.modelId}" cannot fill in the middle (it has no infill tokens); send the prompt without a suffix`,
            { details: { field: "suffix" } },
          );
        accept();
        const options = {
          ...common,
          maxTokens,
          grammar,
          onToken: (tokens: Token[]) => {
            completionTokens += tokens.length;
            const text = loaded.model.detokenize(tokens, false, preceding);
            preceding = [...preceding, ...tokens].slice(-DECODE_CONTEXT_TOKENS);
            if (text) emit({ type: "text-delta", text });
          },
        };
        // A prompt is read whole: node-llama-cpp would drop its start to keep a tenth of the context
        // free for shifting it, which the budget never needs (the answer ends where the context does).
        const result = await (suffix
          ? completion.generateInfillCompletionWithMeta(call.input.prompt, suffix, options)
          : completion.generateCompletionWithMeta(call.input.prompt, { ...options, contextShiftSize: 1 })
        ).catch((error: unknown) => {
          throw asContextOverflow(error, promptTokens, contextSize, call.modelId);
        });
        return {
          finishReason: mapStop(result.metadata.stopReason),
          usage: { promptTokens, completionTokens },
        };
      } finally {
        completion.dispose({ disposeSequence: false });
      }
    }

    const chat = loaded.chatFor(sequence);
    const history = toChatHistory(call.input.messages);
    // A continued answer's first tokens are decoded after the tokens of its beginning, as a
    // completion's are: node-llama-cpp decodes them alone, which drops a SentencePiece word's
    // leading space and would glue the continuation's first word to the beginning's last.
    let begun = endsWithAnswerBegun(call.input.messages)
      ? loaded.model
          .tokenize(stripThinking(call.input.messages.at(-1)?.content ?? ""), false)
          .slice(-DECODE_CONTEXT_TOKENS)
      : undefined;
    const functions = grammar ? undefined : toFunctions(settings.tools);
    const countPrompt = () =>
      chat.chatWrapper
        .generateContextState({ chatHistory: history, availableFunctions: functions })
        .contextText.tokenize(loaded.model.tokenizer).length;
    // Counting the rendered prompt's tokens costs a template render and a tokenization: when the text
    // clearly fits (a token covers at least one byte of it, whatever the script), it is counted after
    // answering, off the path to the first token. Tools are documented in the prompt in the
    // template's own words, so a request with tools is always counted first.
    const bytes = call.input.messages.reduce(
      (sum, message) => sum + Buffer.byteLength(message.content) + 64,
      256,
    );
    const clearlyFits =
      !functions && settings.maxTokens !== undefined && bytes + settings.maxTokens < contextSize;
    let promptTokens = clearlyFits ? 0 : countPrompt();
    // node-llama-cpp's chat evaluates a prompt only while a cell of the context stays free after it
    // (LlamaChat's minFreeContextTokens): a prompt one token short of the context fails there.
    const maxTokens = clearlyFits
      ? settings.maxTokens
      : budget(promptTokens, settings.maxTokens, contextSize, contextSize - 2, call.modelId);
    accept();
    const result = await chat
      .generateResponse(history, {
        ...common,
        maxTokens,
        grammar: grammar as LlamaGrammar | undefined as never,
        functions: functions as never,
        budgets: settings.think === false ? { thoughtTokens: 0 } : undefined,
        onResponseChunk: (chunk) => {
          completionTokens += chunk.tokens.length;
          if (!chunk.text) return;
          if (chunk.type === "segment" && chunk.segmentType === "thought")
            emit({ type: "reasoning-delta", text: chunk.text });
          else if (chunk.type === undefined) {
            const text = begun ? loaded.model.detokenize(chunk.tokens, false, begun) : chunk.text;
            begun = undefined;
            emit({ type: "text-delta", text });
          }
        },
      })
      .catch((error: unknown) => {
        throw asContextOverflow(error, promptTokens || countPrompt(), contextSize, call.modelId);
      });
    const calls = (result.functionCalls ?? []) as Array<{ functionName: string; params: unknown }>;
    for (const functionCall of calls) {
      const toolCall: ToolCall = {
        name: functionCall.functionName,
        arguments: (functionCall.params ?? {}) as Record<string, unknown>,
      };
      emit({ type: "tool-call", toolCall });
    }
    const finishReason = calls.length > 0 ? "tool-calls" : mapStop(result.metadata.stopReason);
    if (clearlyFits) promptTokens = countPrompt();
    return { finishReason, usage: { promptTokens, completionTokens } };
  }

  async #grammar(call: ModelCall, schema: unknown): Promise<LlamaGrammar | undefined> {
    const format = call.settings.format;
    if (!format) return undefined;
    const llama = await this.#getLlama();
    if (format.type === "json") return llama.getGrammarFor("json");
    try {
      return await llama.createGrammarForJsonSchema(schema as never);
    } catch (error) {
      const field = call.fields?.format ?? "format";
      throw new HearthError(
        "INVALID_REQUEST",
        `${field}: the JSON schema cannot be enforced: ${(error as Error).message}`,
        { details: { field } },
      );
    }
  }

  /** The model an embedding's or a rerank's call is for, loaded; its cancel is INVALID_REQUEST. */
  async #loadFor(call: { modelId: string; signal?: AbortSignal | undefined }) {
    const loaded = call.signal
      ? await untilAborted(this.#load(call.modelId), call.signal)
      : await this.#load(call.modelId);
    if (!loaded) throw new HearthError("INVALID_REQUEST", "the request was cancelled");
    return loaded;
  }

  async embed(call: EmbedCall): Promise<{ embeddings: number[][]; promptTokens: number }> {
    const loaded = await this.#loadFor(call);
    return loaded.serve(call.keepAliveSeconds ?? this.#options.keepAliveSeconds, async () => {
      const context = await loaded.embeddingContext();
      const embeddings: number[][] = [];
      let promptTokens = 0;
      for (const [index, input] of call.inputs.entries()) {
        if (call.signal?.aborted) throw new HearthError("INVALID_REQUEST", "the request was cancelled");
        let tokens = loaded.model.tokenize(input);
        // Text the tokenizer drops whole (whitespace, for some vocabularies) has no embedding either.
        if (tokens.length === 0)
          throw new HearthError(
            "EMBEDDING_INPUT_EMPTY",
            `input ${index} (counting from 0) has no tokens for "${call.modelId}" (it is empty or only whitespace): it has no embedding; leave it out`,
            { details: { index } },
          );
        // The embedding context's size, less the BOS and EOS tokens llama.cpp adds around the input.
        const room = loaded.scoringContextSize - 2;
        if (tokens.length > room) {
          if (!call.truncate)
            throw new HearthError(
              "CONTEXT_OVERFLOW",
              `an input has ${tokens.length} tokens, more than the embedding context holds (${room})`,
            );
          tokens = tokens.slice(0, room);
        }
        promptTokens += tokens.length;
        const embedding = await context.getEmbeddingFor(tokens);
        embeddings.push([...embedding.vector]);
      }
      return { embeddings, promptTokens };
    });
  }

  async rerank(call: RerankCall): Promise<RerankResult> {
    // Refused from the file, before a chat model is loaded only to be turned away.
    const entry = await this.#entry(call.modelId);
    if (entry.purpose !== "rerank")
      throw cannotRerank(
        call.modelId,
        "its GGUF has no classification head (cls.output.weight or cls.weight) to score documents with",
      );
    const loaded = await this.#loadFor(call);
    return loaded.serve(this.#options.keepAliveSeconds, async () => {
      const context = await loaded.rankingContext().catch((error: unknown) => {
        // node-llama-cpp's own refusals (an encoder-decoder model, a vocabulary with neither EOS nor
        // SEP and no rerank template): "Computing rankings is not supported for ...".
        const message = error instanceof Error ? error.message : String(error);
        if (/rankings is not supported|template is invalid/i.test(message))
          throw cannotRerank(call.modelId, message);
        throw error;
      });
      const frame = context.calculateInputLength(call.query, "");
      if (frame >= context.contextSize - 1)
        throw new HearthError(
          "CONTEXT_OVERFLOW",
          `the query has ${frame} tokens with the tokens around it, and leaves no room for a document in the ranking context (${context.contextSize})`,
        );
      const scores: number[] = [];
      let promptTokens = 0;
      for (const document of call.documents) {
        if (call.signal?.aborted) throw new HearthError("INVALID_REQUEST", "the request was cancelled");
        promptTokens += context.calculateInputLength(call.query, document);
        // A document too long to score beside the query is scored in pieces that fit (each
        // overlapping the one before by half), and its best piece's score is its own
        // (node-llama-cpp's "maxChunk"): cutting it instead would lose what its end says.
        scores.push(await context.rank(call.query, document, { onOverflow: "maxChunk" }));
      }
      return { scores, promptTokens };
    });
  }

  /**
   * Unloads every model once the calls using it have stopped: the service aborts them first (an
   * answer being generated stops at its next token, an embedding at its next text), and a model is
   * never disposed under a call still in native code.
   */
  async close(): Promise<void> {
    this.#closed = true;
    // A load in flight (node-llama-cpp testing its binary, a large model being read) is waited for
    // briefly; past that the process exits without it, and llama.cpp is not disposed under it.
    const loads = Promise.allSettled([...this.#loading.values(), ...(this.#llama ? [this.#llama] : [])]);
    if (!(await settlesWithin(loads, CLOSE_LOAD_WAIT_MS))) {
      this.#options.logger.warn("a model load still in flight is abandoned at shutdown");
      return;
    }
    const models = [...this.#loaded.values()];
    this.#loaded.clear();
    await Promise.allSettled(
      models.map(async (model) => {
        await model.idle();
        await model.dispose();
      }),
    );
    if (this.#llama) await (await this.#llama.catch(() => undefined))?.dispose();
  }
}

/**
 * node-llama-cpp found no llama.cpp it could use: the prebuilt binary failed its test (the log above,
 * prefixed [node-llama-cpp], says why) and there is no build of its own.
 */
function llamaBinaryUnavailable(error: unknown): HearthError {
  const detail = error instanceof NoBinaryFoundError ? "" : ` (${(error as Error)?.message ?? error})`;
  return new HearthError(
    "LLAMA_BINARY_UNAVAILABLE",
    `llama.cpp, which runs the embedded models, could not be loaded${detail}: its prebuilt binary failed its test on this machine (the log's [node-llama-cpp] lines say why; stopping Hearth during the first model load stops that test too). Retry; if it fails again, stop Hearth, build llama.cpp once with \`npx node-llama-cpp source download\` (needs CMake and a C++ compiler) and start Hearth again, or serve models from an Ollama (OLLAMA_HOST)`,
    { cause: error },
  );
}

/**
 * The truncation policy: a prompt longer than `largestPrompt` (the context less one token to answer,
 * and less what the runtime keeps free beside it) leaves no room to answer and is refused
 * (400 CONTEXT_OVERFLOW); otherwise the token limit (max_tokens, num_predict) is capped at the room
 * left, and the answer ends with finish reason "length". A max_tokens at or beyond the whole context
 * was refused before (unless `capMaxTokens`: Ollama's num_predict).
 */
/**
 * node-llama-cpp's repeat penalty for a request's settings: Ollama's repeat_penalty as its
 * multiplicative `penalty`, and OpenAI's frequency_penalty and presence_penalty (Ollama's too) as
 * its own, which llama.cpp's sampler applies as OpenAI defines them. None asked for (or penalties of
 * 0, which change nothing): undefined, the library's own.
 */
export function repeatPenaltyOf(
  settings: Pick<ModelCall["settings"], "repeatPenalty" | "presencePenalty" | "frequencyPenalty">,
): LlamaChatSessionRepeatPenalty | undefined {
  if (settings.repeatPenalty === undefined && !settings.presencePenalty && !settings.frequencyPenalty)
    return undefined;
  return {
    penalty: settings.repeatPenalty,
    presencePenalty: settings.presencePenalty,
    frequencyPenalty: settings.frequencyPenalty,
  };
}

function budget(
  promptTokens: number,
  requested: number | undefined,
  contextSize: number,
  largestPrompt: number,
  model: string,
): number {
  if (promptTokens > largestPrompt) throw promptOverflow(promptTokens, contextSize, model);
  const room = contextSize - promptTokens;
  return requested === undefined ? room : Math.min(requested, room);
}

function promptOverflow(promptTokens: number, contextSize: number, model: string, cause?: unknown) {
  return new HearthError(
    "CONTEXT_OVERFLOW",
    `the prompt has ${promptTokens} tokens, more than the ${contextSize}-token context of "${model}" leaves room for`,
    { details: { promptTokens, contextSize }, cause },
  );
}

/**
 * node-llama-cpp's failures to fit a prompt and its answer into the context ("Failed to compress chat
 * history for context shift…", "The context size is too small to generate a response") as what
 * they are: a request too long for the context (400 CONTEXT_OVERFLOW, which the web service's prompt
 * fitting learns from), not a failure of the service; other errors as they are.
 */
export function asContextOverflow(
  error: unknown,
  promptTokens: number,
  contextSize: number,
  model: string,
): unknown {
  return error instanceof Error && /context shift|context size is too small/i.test(error.message)
    ? promptOverflow(promptTokens, contextSize, model, error)
    : error;
}

/**
 * OpenAI's `logit_bias` as llama.cpp applies it: each bias is added to its token's logit, as OpenAI
 * does; -100 bans the token outright ("never"). Token ids are the model's own: one outside its
 * vocabulary is refused, and so is an end-of-generation token, which node-llama-cpp does not bias.
 */
function logitBias(model: LlamaModel, biases: Record<string, number>, modelId: string): TokenBias {
  const vocabulary = model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
  const bias = new TokenBias(model.tokenizer);
  for (const [key, value] of Object.entries(biases)) {
    const token = Number(key) as Token;
    if (!Number.isInteger(token) || token < 0 || token >= vocabulary)
      throw new HearthError(
        "INVALID_REQUEST",
        `logit_bias: ${key} is not a token id of "${modelId}" (its vocabulary has ${vocabulary} tokens, 0 to ${vocabulary - 1})`,
        { details: { field: "logit_bias" } },
      );
    if (model.isEogToken(token))
      throw new HearthError(
        "PARAMETER_NOT_SUPPORTED",
        `logit_bias: token ${key} ends generation in "${modelId}", and the embedded runtime cannot bias end-of-generation tokens; leave it out (max_tokens and stop bound the answer)`,
        { details: { field: "logit_bias" } },
      );
    bias.set(token, value <= -100 ? "never" : { logit: value });
  }
  return bias;
}

function mapStop(reason: string): FinishReason {
  if (reason === "maxTokens") return "length";
  if (reason === "abort") return "abort";
  if (reason === "functionCalls") return "tool-calls";
  return "stop";
}

/** Reasoning from earlier turns is never sent back to the model (DeepSeek's guidance). */
function stripThinking(text: string): string {
  return text.replace(/<think>[\s\S]*?<\/think>\s*/g, "");
}

/**
 * Whether a chat's messages end with the beginning of the answer: a last assistant message with no
 * tool calls is continued rather than answered (assistant prefill, as Ollama and llama.cpp's server
 * do), so that a client can ask the model to go on from where an answer cut short ended.
 */
function endsWithAnswerBegun(messages: readonly ChatMessage[]): boolean {
  const last = messages.at(-1);
  return last?.role === "assistant" && !last.toolCalls?.length;
}

function toChatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  for (const message of messages) {
    switch (message.role) {
      case "system":
        history.push({ type: "system", text: message.content });
        break;
      case "user":
        history.push({ type: "user", text: message.content });
        break;
      case "tool":
        history.push({
          type: "user",
          text: `Result of ${message.toolName ?? "the tool"}: ${message.content}`,
        });
        break;
      case "assistant": {
        const response: string[] = [stripThinking(message.content)];
        for (const call of message.toolCalls ?? [])
          response.push(`${call.name}(${JSON.stringify(call.arguments)})`);
        history.push({ type: "model", response: [response.join("\n")] });
        break;
      }
    }
  }
  // node-llama-cpp generates after the last model response's text, with its turn left open.
  if (!endsWithAnswerBegun(messages)) history.push({ type: "model", response: [] });
  return history;
}

function toFunctions(tools: ModelCall["settings"]["tools"]): ChatModelFunctions | undefined {
  if (!tools || tools.length === 0) return undefined;
  const functions: Record<string, ChatModelFunctions[string]> = {};
  for (const tool of tools) {
    functions[tool.name] = { description: tool.description, params: tool.parameters as never };
  }
  return functions;
}
