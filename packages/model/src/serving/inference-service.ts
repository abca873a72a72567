import { HearthError, type Logger } from "@hearth/core";
import type { CallSettings, ModelCallInput, RequestFields, StreamPart } from "../runtime/language-model.js";
import type { AdmissionQueue } from "./admission-queue.js";
import { forceToolCall, toolCallFromAnswer } from "./forced-tool-call.js";
import { InferenceCache } from "./inference-cache.js";
import type { CatalogModel, ModelCatalog } from "./model-catalog.js";
import type { ModelMetrics } from "./model-metrics.js";
import { applyPreset, findPreset, type ModelPreset } from "./presets.js";
import { splitThinking } from "./think-splitter.js";

export interface InferenceRequest {
  model: string;
  input: ModelCallInput;
  settings: CallSettings;
  /** The request's names for its settings, which a refusal names (not keyed into the cache). */
  fields?: RequestFields;
  /** Who asks, for queue fairness (the web service's user id, an OpenAI `user`, else the client address). */
  user: string;
  signal: AbortSignal;
  /** Skip the inference cache for this request (`x-hearth-cache: bypass`). */
  cacheBypass?: boolean;
  /**
   * Called while the request waits for a slot, with its 1-based place in the queue, whether the
   * cache was asked (a queued request is never a hit) and the model's name as it is served.
   */
  onQueued?: (position: number, cache: "miss" | "off", model: string) => void;
}

/** A rerank: documents scored against a query by a reranking model. */
export interface RerankRequest {
  model: string;
  query: string;
  documents: string[];
  /** How many of the best to answer; all when absent. */
  topN?: number;
  /** Who asks, for queue fairness (as InferenceRequest's). */
  user: string;
  signal: AbortSignal;
}

export interface RerankAnswer {
  model: CatalogModel;
  /** Best first (ties in the documents' order), at most `topN`; `index` is the document's place in the request. */
  results: Array<{ index: number; relevanceScore: number }>;
  promptTokens: number;
}

export interface StartedInference {
  model: CatalogModel;
  cache: "hit" | "miss" | "off";
  /** Where the request first stood in the queue; 0 when it did not wait. */
  queuePosition: number;
  /** How long the call waited for its model to load, in ms (0 when it was loaded, or answered from cache). */
  loadMs: number;
  /**
   * The answer. `start` returns once the runtime has accepted the call (its `stream-start`) or, for
   * a runtime that does not say, once the first part exists; errors before that were thrown by `start`.
   */
  parts: AsyncIterable<StreamPart>;
}

export interface InferenceServiceOptions {
  catalog: ModelCatalog;
  queue: AdmissionQueue;
  cache: InferenceCache;
  metrics: ModelMetrics;
  presets: ModelPreset[];
  deterministicOnly: boolean;
  /** Concurrent generations per model; defaults to the runtime's. */
  concurrency?: number;
  logger: Logger;
}

/**
 * One inference from request to answer, whatever API it came through: resolve the model, apply its
 * preset, answer from cache or wait for a slot, generate, split reasoning, record metrics.
 */
export class InferenceService {
  constructor(private readonly options: InferenceServiceOptions) {}

  async start(request: InferenceRequest): Promise<StartedInference> {
    const { catalog, queue, cache, metrics } = this.options;
    const model = await catalog.resolve(request.model);
    const chat = request.input.kind === "chat" ? request.input.messages : undefined;
    const forced =
      chat && !model.runtime.honoursToolChoice ? forceToolCall(chat, request.settings) : undefined;
    const preset = findPreset(model.name, this.options.presets);
    const applied = applyPreset(preset, forced?.settings ?? request.settings, forced?.messages ?? chat);
    const input: ModelCallInput = applied.messages
      ? { kind: "chat", messages: applied.messages }
      : request.input;
    const settings = withoutRandomSeed(applied.settings);
    // As Ollama answers `think` (or a think level) asked of a model that cannot think: refused, not
    // ignored. A runtime that cannot tell (an upstream) is left to answer it itself.
    if (
      settings.think === true &&
      !preset?.impliedThinkOpen &&
      model.runtime.thinks?.(model.modelId) === false
    )
      throw new HearthError("THINKING_NOT_SUPPORTED", `"${request.model}" does not support thinking`);

    const deterministic = settings.temperature === 0 || settings.seed !== undefined;
    const cacheable =
      cache.enabled && !request.cacheBypass && (deterministic || !this.options.deterministicOnly);
    const { keepAliveSeconds: _keepAlive, ...cachedSettings } = settings;
    const cacheKey = cacheable
      ? InferenceCache.key({
          provider: model.runtime.provider,
          model: model.modelId,
          version: [
            model.description.digest,
            model.description.revision ?? [
              model.description.sizeBytes,
              model.description.modifiedAt?.getTime(),
            ],
          ],
          input,
          settings: cachedSettings,
        })
      : "";
    if (cacheable) {
      const hit = cache.get(cacheKey);
      metrics.cache.inc({ model: model.name, result: hit ? "hit" : "miss" });
      if (hit) {
        // The model is not used, but the request's keep_alive still holds (0: unload it now).
        if (settings.keepAliveSeconds !== undefined)
          model.runtime.keepAlive?.(model.modelId, settings.keepAliveSeconds);
        return { model, cache: "hit", queuePosition: 0, loadMs: 0, parts: replay(hit) };
      }
    }

    const onQueued = request.onQueued;
    const admission = await queue.acquire(model.name, request.user, {
      signal: request.signal,
      concurrency: this.options.concurrency ?? model.runtime.defaultConcurrency,
      onPosition: onQueued && ((position) => onQueued(position, cacheable ? "miss" : "off", model.name)),
    });
    const admitted = performance.now();
    let iterator: AsyncIterator<StreamPart>;
    let first: IteratorResult<StreamPart>;
    try {
      const generated = model.runtime.doStream({
        modelId: model.modelId,
        input,
        settings,
        ...(request.fields ? { fields: request.fields } : {}),
        signal: request.signal,
      });
      const stream = forced ? toolCallFromAnswer(generated, forced.tools) : generated;
      const impliedOpen =
        Boolean(preset?.impliedThinkOpen) && input.kind === "chat" && model.runtime.usesPublishedTemplate;
      const split = splitThinking(stream, impliedOpen);
      // `think: false` (Ollama): the answer comes without its reasoning.
      iterator = (settings.think === false ? withoutReasoning(split) : split)[Symbol.asyncIterator]();
      first = await iterator.next();
    } catch (error) {
      admission.release();
      throw error;
    }
    const firstAt = performance.now();
    const record = cacheable ? ([] as StreamPart[]) : undefined;
    const parts = async function* (): AsyncGenerator<StreamPart> {
      let result = first;
      let firstToken: number | undefined;
      try {
        while (!result.done) {
          const part = result.value;
          if (part.type === "stream-start") {
            result = await iterator.next();
            continue;
          }
          if (firstToken === undefined && (part.type === "text-delta" || part.type === "reasoning-delta")) {
            firstToken = part === first.value ? firstAt : performance.now();
            metrics.timeToFirstToken.observe({ model: model.name }, (firstToken - admitted) / 1000);
          }
          if (part.type === "finish") {
            const end = performance.now();
            metrics.total.observe({ model: model.name }, (end - admitted) / 1000);
            metrics.tokens.inc({ model: model.name, kind: "prompt" }, part.usage.promptTokens);
            metrics.tokens.inc({ model: model.name, kind: "completion" }, part.usage.completionTokens);
            if (firstToken !== undefined && part.usage.completionTokens > 1 && end > firstToken) {
              metrics.tokensPerSecond.observe(
                { model: model.name },
                (part.usage.completionTokens - 1) / ((end - firstToken) / 1000),
              );
            }
            if (record && part.finishReason !== "abort") cache.set(cacheKey, [...record, part]);
          } else if (record) {
            if (part.type === "error") record.length = 0;
            else record.push(part);
          }
          yield part;
          result = await iterator.next();
        }
      } finally {
        admission.release();
        if (!result.done) await iterator.return?.();
      }
    };
    return {
      model,
      cache: cacheable ? "miss" : "off",
      queuePosition: admission.initialPosition,
      loadMs: !first.done && first.value.type === "stream-start" ? (first.value.loadMs ?? 0) : 0,
      parts: parts(),
    };
  }

  /**
   * Scores documents against a query with a reranking model: model work, so it waits its turn in
   * the model's admission queue as a chat does, and is timed and counted alike.
   */
  async rerank(request: RerankRequest): Promise<RerankAnswer> {
    const { catalog, queue, metrics } = this.options;
    const model = await catalog.resolve(request.model);
    const admission = await queue.acquire(model.name, request.user, {
      signal: request.signal,
      concurrency: this.options.concurrency ?? model.runtime.defaultConcurrency,
    });
    const admitted = performance.now();
    try {
      const { scores, promptTokens } = await model.runtime.rerank({
        modelId: model.modelId,
        query: request.query,
        documents: request.documents,
        signal: request.signal,
      });
      metrics.total.observe({ model: model.name }, (performance.now() - admitted) / 1000);
      metrics.tokens.inc({ model: model.name, kind: "prompt" }, promptTokens);
      const results = scores
        .map((relevanceScore, index) => ({ index, relevanceScore }))
        .sort((a, b) => b.relevanceScore - a.relevanceScore || a.index - b.index);
      return { model, results: results.slice(0, request.topN ?? results.length), promptTokens };
    } finally {
      admission.release();
    }
  }
}

/**
 * A negative seed is none: -1 is Ollama's (and llama.cpp's server's) default, meaning a random one.
 * Sampled afresh each time, so the answer is not deterministic, and not cached for it.
 */
function withoutRandomSeed(settings: CallSettings): CallSettings {
  if (settings.seed === undefined || settings.seed >= 0) return settings;
  const { seed: _random, ...rest } = settings;
  return rest;
}

async function* withoutReasoning(parts: AsyncIterable<StreamPart>): AsyncGenerator<StreamPart> {
  for await (const part of parts) if (part.type !== "reasoning-delta") yield part;
}

async function* replay(parts: StreamPart[]): AsyncGenerator<StreamPart> {
  yield* parts;
}
