import {
  type ModelRegistryClient,
  ModelRegistryClientError,
  type ModelRegistryEntry,
  modelRollbackRequestSchema,
} from "@hearth/contracts";
import { HearthError, isErrorCode, UpstreamCallError } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { audit } from "../audit/audit-log.js";
import { currentUser } from "../auth/route-access.js";
import type { WebDatabase } from "../storage/open-database.js";

const admin = { config: { access: "admin" as const } };

/** The model service's error, with the same stable code when it is one of ours. */
function forwardError(error: unknown, url: string): never {
  if (error instanceof ModelRegistryClientError) {
    if (isErrorCode(error.code) && error.status < 500) throw new HearthError(error.code, error.message);
    throw new UpstreamCallError({ url, status: error.status, message: error.message });
  }
  throw UpstreamCallError.noAnswer({ url, service: "model", cause: error });
}

/**
 * Model versions and rollback for administrators: forwarded to the model service's registry API
 * (`/api/hearth/models`, the same registry `hearth models` drives). Rollbacks go in the audit log.
 */
export function registerModelRegistryRoutes(
  app: FastifyInstance,
  deps: { db: WebDatabase; client: ModelRegistryClient },
) {
  const { client } = deps;

  /**
   * Every model the registry knows, with its versions, or (`registering`) how much of its file is
   * hashed while the model service registers it; `reachable: false` when the service is down.
   */
  app.get("/api/admin/models/versions", admin, async () => {
    let models: ModelRegistryEntry[] = [];
    let reachable = true;
    try {
      models = await client.listModels(AbortSignal.timeout(10_000));
    } catch {
      reachable = false;
    }
    return { reachable, models };
  });

  app.get("/api/admin/models/:model/versions", admin, async (request) => {
    const { model } = request.params as { model: string };
    return client.versions(model).catch((error: unknown) => forwardError(error, "/api/hearth/models"));
  });

  /**
   * Deletes a model, answering what became of its weights (as `hearth models rm` says it): deleted
   * when no other model used them, else kept, with the models that still use them, or kept because
   * they are outside the registry (a model imported from a local Ollama's store, or the user's file
   * that a link in the models dir led to: only the link is removed).
   */
  app.delete("/api/admin/models/:model", admin, async (request) => {
    const { model } = request.params as { model: string };
    const removal = await client
      .remove(model)
      .catch((error: unknown) => forwardError(error, "/api/hearth/models"));
    await audit(deps.db, { actorId: currentUser(request).id, action: "model.delete", target: model });
    return {
      model: removal.name,
      ...(removal.kept_file ? { keptFile: removal.kept_file } : {}),
      deletedWeights: removal.deleted_weights,
      keptWeights: removal.kept_weights.map((weights) => ({
        digest: weights.digest,
        ...(weights.used_by ? { usedBy: weights.used_by } : {}),
        ...(weights.outside ? { outside: weights.outside } : {}),
      })),
    };
  });

  app.post("/api/admin/models/:model/rollback", admin, async (request) => {
    const { model } = request.params as { model: string };
    const body = modelRollbackRequestSchema.parse(request.body ?? {});
    const result = await client
      .rollback(model, body)
      .catch((error: unknown) => forwardError(error, "/api/hearth/models"));
    await audit(deps.db, {
      actorId: currentUser(request).id,
      action: "model.rollback",
      target: result.name,
      details: { from: result.from, to: result.version, digest: result.digest },
    });
    return result;
  });
}
