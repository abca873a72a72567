import { accessSync, constants, mkdirSync } from "node:fs";
import { join } from "node:path";
import multipart from "@fastify/multipart";
import {
  createServiceApp,
  type HearthConfig,
  HearthError,
  type Logger,
  OwnServices,
  PRIVATE_DIR,
} from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { EmbeddingClient } from "../embedding/embedding-client.js";
import { RerankClient } from "../embedding/rerank-client.js";
import { registerJobRoutes } from "../http/job-routes.js";
import { registerKnowledgeRoutes } from "../http/knowledge-routes.js";
import { BlobStore } from "../ingestion/blob-store.js";
import { createIngestionMetrics } from "../ingestion/ingestion-metrics.js";
import { IngestionService } from "../ingestion/ingestion-service.js";
import { ParserPool } from "../parsing/parser-pool.js";
import type { KnowledgeIndex } from "../query/knowledge-index.js";
import { QueryService } from "../query/query-service.js";
import { KnowledgeStore } from "../store/knowledge-store.js";
import { openDefaultIndex } from "./default-index.js";

export interface KnowledgeServiceOptions {
  /** The index to use instead of the default (tests, other backends). */
  index?: KnowledgeIndex;
}

export interface KnowledgeService {
  app: FastifyInstance;
  /** Resolves when no ingestion task is queued or running (tests, benchmarks). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Default chunking of a new knowledge base (tokens, estimated). */
export const DEFAULT_CHUNKING = { maxTokens: 512, overlapTokens: 64 } as const;

/**
 * Builds the knowledge service: relational state in `<dataDir>/knowledge/knowledge.db`, original
 * files beside it, the index, the ingestion jobs (resumed from where a crash left them), the
 * watched-folder schedule and the HTTP API. Not listening; see serveKnowledge.
 */
export async function createKnowledgeService(
  config: HearthConfig,
  logger: Logger,
  options: KnowledgeServiceOptions = {},
): Promise<KnowledgeService> {
  const settings = config.knowledge;
  const knowledgeDir = join(config.dataDir, "knowledge");
  try {
    mkdirSync(knowledgeDir, PRIVATE_DIR);
    accessSync(knowledgeDir, constants.W_OK);
  } catch (error) {
    throw new HearthError(
      "DATA_DIR_NOT_WRITABLE",
      `${knowledgeDir} cannot be created or written (HEARTH_DATA_DIR)`,
      { cause: error },
    );
  }
  const store = await KnowledgeStore.open({
    path: join(knowledgeDir, "knowledge.db"),
    dataDir: config.dataDir,
    logger,
  });
  let index: KnowledgeIndex;
  try {
    index = options.index ?? (await openDefaultIndex(config, logger));
  } catch (error) {
    store.close();
    throw error;
  }
  const blobs = new BlobStore(knowledgeDir);
  const parsers = new ParserPool({ size: settings.parserThreads });
  // knowledge.embeddingUrl may name a server of someone else's (a plain Ollama): the service token,
  // Hearth's own secret, goes only to Hearth's model service.
  const embeddingUrl = settings.embeddingUrl ?? config.services.modelUrl;
  const embeddings = new EmbeddingClient({
    baseUrl: embeddingUrl,
    batchSize: settings.embeddingBatchSize,
    ...(config.services.token && sameUrl(embeddingUrl, config.services.modelUrl)
      ? { token: config.services.token }
      : {}),
  });
  const { app, metrics, shutdownSignal } = createServiceApp({
    service: "knowledge",
    logger,
    bodyLimitBytes: 1024 * 1024,
    requestTimeoutSeconds: settings.requestTimeoutSeconds,
    ...(config.services.token ? { serviceToken: config.services.token } : {}),
    listenHost: config.knowledge.host,
    // Only the web service and the CLI call it; no page does.
    loopbackOriginsOnly: true,
    readiness: async () => {
      try {
        await index.backend.checkReachable();
        return { ready: true };
      } catch {
        return { ready: false, reason: `the ${index.backend.name} index is not reachable` };
      }
    },
  });
  await app.register(multipart, {
    limits: { fileSize: settings.maxUploadBytes, files: 1000, fields: 50, parts: 1050, headerPairs: 200 },
    throwFileSizeLimit: false,
    // Keep the name as sent, so that "../x" is refused rather than silently shortened.
    preservePath: true,
  });
  const ingestionMetrics = createIngestionMetrics(metrics);
  // The stale-knowledge alert reads the last update time; it survives restarts through the store.
  for (const knowledgeBase of store.listKnowledgeBases()) {
    if (knowledgeBase.lastIndexedAt) {
      ingestionMetrics.lastUpdate.set(
        { knowledge_base: knowledgeBase.id },
        Date.parse(knowledgeBase.lastIndexedAt) / 1000,
      );
    }
  }
  const ingestion = new IngestionService({
    store,
    blobs,
    backend: index.backend,
    parsers,
    embeddings,
    metrics: ingestionMetrics,
    logger,
    settings: {
      maxUploadBytes: settings.maxUploadBytes,
      maxExtractedBytes: settings.maxExtractedBytes,
      workerThresholdBytes: settings.workerThresholdBytes,
      tikaUrl: settings.tikaUrl,
      tikaForAll: settings.tikaForAll,
      urlFetch: {
        allowPrivateNetworks: settings.allowPrivateUrls,
        allowPrivateRanges: settings.allowPrivateRanges,
        ownServices: OwnServices.fromConfig(config),
      },
      concurrency: settings.ingestConcurrency,
      dataDir: config.dataDir,
    },
  });
  // Reranking is the model service's own API (/v1/rerank), not Ollama's: knowledge.embeddingUrl,
  // which may name a plain Ollama server for embeddings, does not move it.
  const reranker = new RerankClient({
    baseUrl: config.services.modelUrl,
    ...(config.services.token ? { token: config.services.token } : {}),
  });
  const queries = new QueryService(store, index.retriever, embeddings, reranker);
  registerKnowledgeRoutes(app, {
    store,
    ingestion,
    queries,
    backend: index.backend,
    blobs,
    defaults: DEFAULT_CHUNKING,
    dataDir: config.dataDir,
    maxUploadBytes: settings.maxUploadBytes,
    checkEmbeddingModel: (model) => embeddings.check(model),
    checkRerankModel: (model) => reranker.check(model),
  });
  registerJobRoutes(app, { store, ingestion, shutdownSignal });

  ingestion.resume();
  const schedule =
    settings.syncIntervalSeconds > 0
      ? setInterval(() => {
          for (const knowledgeBase of store.listKnowledgeBases()) {
            if (!knowledgeBase.watchFolder) continue;
            try {
              ingestion.syncFolder(knowledgeBase.id);
            } catch (error) {
              logger.warn(
                { err: error, knowledgeBaseId: knowledgeBase.id },
                "scheduled sync could not start",
              );
            }
          }
        }, settings.syncIntervalSeconds * 1000)
      : undefined;
  schedule?.unref();

  let closed = false;
  return {
    app,
    idle: () => ingestion.idle(),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(schedule);
      await app.close();
      await ingestion.close();
      await parsers.close();
      await index.backend.close();
      store.close();
    },
  };
}

/** Whether two URLs name the same server and path (`http://h:80/` and `http://h` alike). */
function sameUrl(a: string, b: string): boolean {
  const path = (url: URL) => url.pathname.replace(/\/+$/, "");
  const [left, right] = [new URL(a), new URL(b)];
  return left.origin === right.origin && path(left) === path(right);
}
