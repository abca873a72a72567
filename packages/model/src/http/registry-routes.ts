import { basename } from "node:path";
import {
  type ModelRegistryEntry,
  type ModelRegistryModel,
  type ModelRegistryVersion,
  type ModelRemoval,
  type ModelRollbackResponse,
  type ModelSkippedFiles,
  modelRollbackRequestSchema,
} from "@hearth/contracts";
import type { FastifyInstance } from "fastify";
import {
  isRegistering,
  type ModelVersion,
  type RegistryEntry,
  type RegistryModel,
} from "../registry/model-registry.js";
import type { ModelServiceContext } from "./service-context.js";

/** Hearth's own prefix: no collision with Ollama's `/api/*` or OpenAI's `/v1/*`. */
export const REGISTRY_PREFIX = "/api/hearth/models";

function wireVersion(version: ModelVersion): ModelRegistryVersion {
  return {
    version: version.version,
    digest: version.digest,
    size: version.sizeBytes,
    source: version.source,
    changelog: version.changelog,
    created_at: version.createdAt,
    ...(version.lostAt ? { lost_at: version.lostAt } : {}),
  };
}

function wireModel(model: RegistryModel): ModelRegistryModel {
  return {
    name: model.name,
    digest: model.current.digest,
    size: model.current.sizeBytes,
    source: model.current.source,
    version: model.current.version,
    versions: model.versions.map(wireVersion),
  };
}

/** A model of the listing: registered, or still being registered (no version or digest yet). */
function wireEntry(entry: RegistryEntry): ModelRegistryEntry {
  if (!isRegistering(entry)) return wireModel(entry);
  return {
    name: entry.name,
    size: entry.sizeBytes,
    registering: entry.registering,
    versions: entry.versions.map(wireVersion),
  };
}

/**
 * The model registry over HTTP: the same ModelRegistry the `hearth models` command drives, so a
 * rollback here and `hearth models rollback` are one operation (one link swap, the runtime reloads);
 * and the files of the models dir the runtime skips, for the web UI's no-model card.
 */
export function registerRegistryRoutes(app: FastifyInstance, service: ModelServiceContext): void {
  const { registry } = service;

  // Answers at once: a model whose file is still being hashed is listed as registering.
  app.get(REGISTRY_PREFIX, async () => ({ models: (await registry.listing()).map(wireEntry) }));

  app.get(
    `${REGISTRY_PREFIX}/skipped`,
    async (): Promise<ModelSkippedFiles> => ({
      skipped: (await service.skippedFiles()).map((file) =>
        file.reason === "not-a-model-name"
          ? {
              file: file.file,
              reason: file.reason,
              suggested_file: file.suggestedFile,
              message: file.message,
            }
          : { file: file.file, reason: file.reason, target: file.target, message: file.message },
      ),
    }),
  );

  app.get<{ Params: { name: string } }>(`${REGISTRY_PREFIX}/:name/versions`, async (request) => {
    const model = wireModel(await registry.model(request.params.name));
    return { name: model.name, version: model.version, versions: model.versions };
  });

  app.post<{ Params: { name: string } }>(
    `${REGISTRY_PREFIX}/:name/rollback`,
    async (request): Promise<ModelRollbackResponse> => {
      const { to } = modelRollbackRequestSchema.parse(request.body ?? {});
      const rolled = await registry.rollback(request.params.name, to);
      const model = wireModel(rolled.model);
      return { name: model.name, from: rolled.from, version: model.version, digest: model.digest, model };
    },
  );

  /** The removal `hearth models rm` and `/api/delete` make, answering what became of the weights. */
  app.delete<{ Params: { name: string } }>(
    `${REGISTRY_PREFIX}/:name`,
    async (request): Promise<ModelRemoval> => {
      const removed = await registry.remove(request.params.name);
      return {
        name: removed.name,
        removed: removed.removed !== undefined,
        ...(removed.keptFile ? { kept_file: basename(removed.keptFile) } : {}),
        deleted_weights: removed.deletedWeights.map((w) => ({ digest: w.digest, size: w.sizeBytes })),
        kept_weights: removed.keptWeights.map((w) => ({
          digest: w.digest,
          ...(w.usedBy ? { used_by: w.usedBy } : {}),
          ...(w.outside ? { outside: w.outside } : {}),
        })),
      };
    },
  );
}
