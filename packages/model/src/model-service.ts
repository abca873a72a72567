import { mkdir, stat } from "node:fs/promises";
import { resolve } from "node:path";
import {
  createServiceApp,
  type HearthConfig,
  HearthError,
  type Logger,
  listenService,
  PRIVATE_DIR,
} from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { formatModelError } from "./http/format-error.js";
import { modelCapability } from "./http/model-capability.js";
import { ollamaModelDetails, registerOllamaRoutes } from "./http/ollama-routes.js";
import { registerOpenAiRoutes } from "./http/openai-routes.js";
import { registerOriginPolicy } from "./http/origin-policy.js";
import { registerRegistryRoutes } from "./http/registry-routes.js";
import { registerRerankRoutes } from "./http/rerank-routes.js";
import type { ModelServiceContext } from "./http/service-context.js";
import { ModelRegistry } from "./registry/model-registry.js";
import { templateOffersTools, templateThinks } from "./runtime/embedded/chat-template.js";
import { EmbeddedRuntime, servedContextSize } from "./runtime/embedded/embedded-runtime.js";
import { OllamaRuntime } from "./runtime/upstream/ollama-runtime.js";
import { OpenAiCompatibleRuntime } from "./runtime/upstream/openai-compatible-runtime.js";
import { AdmissionQueue } from "./serving/admission-queue.js";
import { InferenceCache } from "./serving/inference-cache.js";
import { InferenceService } from "./serving/inference-service.js";
import { type CatalogModel, ModelCatalog } from "./serving/model-catalog.js";
import { ModelMetrics } from "./serving/model-metrics.js";
import { findPreset, type ModelPreset } from "./serving/presets.js";

const DEFAULT_OLLAMA = "http://127.0.0.1:11434";

/**
 * The models dir must exist: the default one (<dataDir>/models) is created, a configured one that is
 * missing stops start-up with MODELS_DIR_MISSING (a typo should not silently serve nothing).
 */
async function ensureModelsDir(config: HearthConfig): Promise<void> {
  const dir = config.model.modelsDir;
  try {
    const stats = await stat(dir);
    if (!stats.isDirectory())
      throw new HearthError("MODELS_DIR_MISSING", `the models dir ${dir} is not a directory`);
    return;
  } catch (error) {
    if (error instanceof HearthError) throw error;
  }
  if (resolve(dir) === resolve(config.dataDir, "models")) {
    await mkdir(dir, PRIVATE_DIR);
    return;
  }
  throw new HearthError(
    "MODELS_DIR_MISSING",
    `the models dir ${dir} does not exist; create it or set HEARTH_MODELS_DIR to a directory holding .gguf files`,
  );
}

export interface ModelServiceOptions {
  /** Bytes read at a time when the registry hashes a model file (64 KiB unless set); tests lower it to hash slowly. */
  hashChunkBytes?: number;
}

/**
 * Builds the model service (not listening): Ollama API under /api, OpenAI API under /v1, the model
 * registry (versions, rollback) under /api/hearth/models.
 */
export async function createModelService(
  config: HearthConfig,
  logger: Logger,
  options: ModelServiceOptions = {},
): Promise<{ app: FastifyInstance; close(): Promise<void> }> {
  await ensureModelsDir(config);
  const settings = config.model;
  // No request waits for a file to be hashed: a model whose file is new is hashed in the background,
  // listed as registering until it is done (a 20 GB GGUF takes a minute to hash on a small machine).
  const registry = new ModelRegistry(
    settings.modelsDir,
    {
      onChange: async (name) => {
        // The change is made: a models dir that cannot be read now does not make it answer a failure.
        await embedded
          .reread()
          .catch((error: unknown) =>
            logger.warn({ err: error, model: name }, "re-reading the models dir after a change failed"),
          );
        await embedded.unload(name);
      },
      onWarning: (message) => logger.warn(message),
    },
    settings.registryDir,
    { hashInBackground: true, hashChunkBytes: options.hashChunkBytes },
  );
  // Links left absolute by an earlier release, or dangling since the data dir moved, point at their blobs here.
  await registry
    .repairLinks()
    .catch((error: unknown) => logger.warn({ err: error }, "repairing the model links failed"));
  const embedded: EmbeddedRuntime = new EmbeddedRuntime({
    digests: () => registry.digests(),
    register: (name) => registry.adopt(name),
    modelsDir: settings.modelsDir,
    threads: settings.threads,
    contextSize: settings.contextSize,
    parallel: settings.parallel,
    keepAliveSeconds: settings.keepAliveSeconds,
    streamIntervalMs: settings.streamIntervalMs,
    logger,
    // A model gone from the models dir leaves /metrics: its queue, and its figures (again once its
    // last request ends, which may have added to them since).
    onRemoved: (name) => {
      queue.forget(name);
      return forgetMetrics(name);
    },
  });
  const ollamaUrl = settings.ollamaHost ?? (settings.ollamaAutodetect ? DEFAULT_OLLAMA : undefined);
  const ollama = ollamaUrl
    ? new OllamaRuntime({ baseUrl: ollamaUrl, listTimeoutMs: settings.ollamaHost ? 3000 : 500 })
    : undefined;
  const upstreams = new Map(
    settings.upstreams.map((upstream) => [
      upstream.name,
      new OpenAiCompatibleRuntime({
        name: upstream.name,
        baseUrl: upstream.baseUrl,
        apiKey: upstream.apiKey,
        models: upstream.models,
      }),
    ]),
  );
  const catalog = new ModelCatalog(embedded, ollama, upstreams, logger);

  const {
    app,
    metrics: metricsRegistry,
    shutdownSignal,
  } = createServiceApp({
    service: "model",
    logger,
    bodyLimitBytes: settings.bodyLimitBytes,
    formatError: formatModelError,
    serviceToken: config.services.token,
    // Ollama's "Ollama is running" (the Ollama CLI's heartbeat): constant, it tells no more than /healthz.
    publicPaths: ["/"],
    jsonWhateverContentType: true,
    listenHost: config.model.host,
  });
  registerOriginPolicy(app, settings.allowedOrigins);

  const queue = new AdmissionQueue({
    defaultConcurrency: settings.queue.concurrency ?? settings.parallel,
    maxQueue: settings.queue.maxQueue,
    maxWaitMs: settings.queue.maxWaitMs,
    onWaited: (model, waitedMs, outcome) => metrics.queueWait.observe({ model, outcome }, waitedMs / 1000),
    onDropped: (model) => void forgetMetrics(model),
  });
  const metrics = new ModelMetrics(metricsRegistry, {
    queue: () =>
      queue.keys().map((model) => ({ model, waiting: queue.depth(model).waiting, capacity: queue.capacity })),
    loaded: async () =>
      (await embedded.currentLoadedModels()).map((model) => ({ model: model.id, bytes: model.sizeBytes })),
  });
  const forgetMetrics = (model: string) =>
    metrics
      .forget(model)
      .catch((error: unknown) => logger.warn({ err: error, model }, "dropping a model's metrics failed"));
  const cache = new InferenceCache(settings.cache);
  const inference = new InferenceService({
    catalog,
    queue,
    cache,
    metrics,
    presets: settings.presets,
    deterministicOnly: settings.cache.deterministicOnly,
    concurrency: settings.queue.concurrency,
    logger,
  });

  const context: ModelServiceContext = {
    inference,
    catalog,
    registry,
    ollamaModelsDir: settings.ollamaModelsDir,
    shutdownSignal,
    skippedFiles: () => embedded.skippedFiles(),
    describe: (model) => describeModel(model, settings.presets, settings.contextSize),
  };
  registerOllamaRoutes(app, context);
  registerOpenAiRoutes(app, context);
  registerRerankRoutes(app, context);
  registerRegistryRoutes(app, context);

  let closed = false;
  return {
    app,
    async close() {
      if (closed) return;
      closed = true;
      registry.stopHashing();
      await app.close();
      await Promise.allSettled(catalog.runtimes.map((runtime) => runtime.close()));
    },
  };
}

/**
 * Ollama's /api/show: an upstream Ollama answers for its own models; embedded ones from their GGUF
 * metadata, with `num_ctx` in `parameters` saying the context they are served with (the configured
 * context size, at most the one the model was trained on), which clients size their prompts to.
 */
async function describeModel(
  model: CatalogModel,
  presets: ModelPreset[],
  contextSize: number,
): Promise<Record<string, unknown>> {
  if (model.runtime instanceof OllamaRuntime) return model.runtime.show(model.modelId);
  const description = model.description;
  const gguf =
    model.runtime instanceof EmbeddedRuntime ? model.runtime.ggufMetadata(model.modelId) : undefined;
  const template = gguf?.template;
  const preset = findPreset(model.name, presets);
  const capabilities: string[] = [modelCapability(description)];
  // A reranker scores documents: whatever its chat template says (Qwen3-Reranker's thinks), it does
  // not chat, so it neither calls tools nor thinks.
  if (capabilities[0] !== "rerank") {
    if (templateOffersTools(template)) capabilities.push("tools");
    if (preset?.impliedThinkOpen || templateThinks(template)) capabilities.push("thinking");
  }
  return {
    modelfile: "",
    parameters: [
      ...(preset?.temperature !== undefined ? [`temperature ${preset.temperature}`] : []),
      ...(preset?.topP !== undefined ? [`top_p ${preset.topP}`] : []),
      ...(model.runtime instanceof EmbeddedRuntime
        ? [`num_ctx ${servedContextSize(contextSize, description.contextLength)}`]
        : []),
    ].join("\n"),
    template: template ?? "",
    details: ollamaModelDetails(description),
    model_info: gguf?.info ?? {
      "general.architecture": description.family ?? "",
      ...(description.contextLength
        ? { [`${description.family ?? "llama"}.context_length`]: description.contextLength }
        : {}),
    },
    capabilities,
    modified_at: (description.modifiedAt ?? new Date(0)).toISOString(),
  };
}

/** Builds the model service and listens on its host and port. */
export async function serveModel(
  config: HearthConfig,
  logger: Logger,
  options: ModelServiceOptions = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const service = await createModelService(config, logger, options);
  try {
    const url = await listenService(service.app, {
      host: config.model.host,
      port: config.model.port,
      description: "model service (HEARTH_MODEL_PORT)",
      hostSetting: "HEARTH_MODEL_HOST",
    });
    return { url, close: () => service.close() };
  } catch (error) {
    await service.close();
    throw error;
  }
}

/** For `hearth doctor`: whether an Ollama answers at baseUrl, its version and models. */
export async function probeOllama(
  baseUrl: string,
  timeoutMs = 1500,
): Promise<{ reachable: boolean; version?: string; models?: string[]; error?: string }> {
  const runtime = new OllamaRuntime({ baseUrl, listTimeoutMs: timeoutMs });
  try {
    const version = await runtime.version();
    const models = (await runtime.listModels()).map((model) => model.id);
    return { reachable: true, version, models };
  } catch (error) {
    return { reachable: false, error: (error as Error).message };
  }
}
