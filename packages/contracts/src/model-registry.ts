/**
 * Wire schemas of the model service's registry API (`/api/hearth/...`): installed models with their
 * semantic versions, content digests and changelog entries, and rollback. Hearth's own prefix, so it
 * never collides with Ollama's `/api/*` or OpenAI's `/v1/*`. Errors come in the service's Ollama
 * shape with Hearth's stable code added: `{ "error": "<message>", "code": "MODEL_NOT_FOUND" }`.
 */
import { z } from "zod";

export const modelRegistryVersionSchema = z.object({
  /** Semantic version, e.g. "1.1.0". */
  version: z.string(),
  /** `sha256:<hex>` of the GGUF file. */
  digest: z.string(),
  size: z.number().int().nonnegative(),
  /**
   * Where the version came from: a registry reference, a URL, `ollama:...`, "models dir" (a file
   * dropped in) or "models dir link" (a symbolic link to the user's own file, registered where it is).
   */
  source: z.string(),
  changelog: z.string(),
  /** ISO 8601. */
  created_at: z.string(),
  /** ISO 8601, only on a version whose weights were lost (overwritten in place): it cannot be served. */
  lost_at: z.string().optional(),
});
export type ModelRegistryVersion = z.infer<typeof modelRegistryVersionSchema>;

export const modelRegistryModelSchema = z.object({
  /** `name:tag`. */
  name: z.string(),
  /** Content digest, size and source of the current version. */
  digest: z.string(),
  size: z.number().int().nonnegative(),
  source: z.string(),
  /** The semantic version served now. */
  version: z.string(),
  /** Every version, oldest first. */
  versions: z.array(modelRegistryVersionSchema),
});
export type ModelRegistryModel = z.infer<typeof modelRegistryModelSchema>;

/**
 * A model whose file the model service is still registering: hashing it in the background (a GGUF
 * of many gigabytes takes a minute), so it has no version or digest yet. It is listed as registered
 * once the hash is done; until then it cannot be removed, tagged or rolled back (409
 * MODEL_REGISTERING). It is served meanwhile, as any file of the models dir is.
 */
export const modelRegisteringSchema = z.object({
  /** `name:tag`. */
  name: z.string(),
  /** The size of the file being hashed. */
  size: z.number().int().nonnegative(),
  /** Bytes of the file hashed so far (`completed`) of its size (`total`). */
  registering: z.object({
    completed: z.number().int().nonnegative(),
    total: z.number().int().nonnegative(),
  }),
  /** The versions recorded before, oldest first: none for a file new to the registry. */
  versions: z.array(modelRegistryVersionSchema),
});
export type ModelRegistering = z.infer<typeof modelRegisteringSchema>;

/** A model of `GET /api/hearth/models`: registered, or still being registered (it has `registering`). */
export const modelRegistryEntrySchema = z.union([modelRegistryModelSchema, modelRegisteringSchema]);
export type ModelRegistryEntry = z.infer<typeof modelRegistryEntrySchema>;

/** `GET /api/hearth/models`. */
export const modelRegistryListSchema = z.object({ models: z.array(modelRegistryEntrySchema) });
export type ModelRegistryList = z.infer<typeof modelRegistryListSchema>;

/**
 * A *.gguf file of the models dir that is not served, with why (a code and in words): a name that is
 * not a model name (with a name it would be served under), or a link that leads to no file (with
 * where it points).
 */
export const modelSkippedFileSchema = z.discriminatedUnion("reason", [
  z.object({
    /** The file's name in the models dir, e.g. "故事模型.gguf". */
    file: z.string(),
    /** not-a-model-name: a model name holds only ASCII letters, digits, '.', '_' and '-'. */
    reason: z.literal("not-a-model-name"),
    /** A name the file would be served under, e.g. "my-model.gguf". */
    suggested_file: z.string(),
    /** The reason and the fix in English. */
    message: z.string(),
  }),
  z.object({
    /** The link's name in the models dir, e.g. "llama.gguf". */
    file: z.string(),
    /** link-target-missing: a symbolic link whose target is gone (moved, deleted) or that loops. */
    reason: z.literal("link-target-missing"),
    /** Where the link points, as it is written, e.g. "/home/me/models/llama.gguf". */
    target: z.string(),
    /** The reason and the fix in English. */
    message: z.string(),
  }),
]);
export type ModelSkippedFile = z.infer<typeof modelSkippedFileSchema>;

/** `GET /api/hearth/models/skipped`. */
export const modelSkippedFilesSchema = z.object({ skipped: z.array(modelSkippedFileSchema) });
export type ModelSkippedFiles = z.infer<typeof modelSkippedFilesSchema>;

/** `GET /api/hearth/models/{name}/versions`. */
export const modelRegistryVersionsSchema = z.object({
  name: z.string(),
  version: z.string(),
  versions: z.array(modelRegistryVersionSchema),
});
export type ModelRegistryVersions = z.infer<typeof modelRegistryVersionsSchema>;

/** `POST /api/hearth/models/{name}/rollback`: to a given version, or (empty body) the one before the current. */
export const modelRollbackRequestSchema = z.strictObject({
  to: z
    .string()
    .regex(/^v?\d+\.\d+\.\d+$/, "to must be a semantic version such as 1.0.0")
    .optional(),
});
export type ModelRollbackRequest = z.infer<typeof modelRollbackRequestSchema>;

export const modelRollbackResponseSchema = z.object({
  name: z.string(),
  /** The version served before the rollback. */
  from: z.string(),
  /** The version served now. */
  version: z.string(),
  digest: z.string(),
  model: modelRegistryModelSchema,
});
export type ModelRollbackResponse = z.infer<typeof modelRollbackResponseSchema>;

/**
 * `DELETE /api/hearth/models/{name}`: the model removed, and what became of its weights (the same
 * removal as `hearth models rm` and Ollama's `/api/delete`). Weights are deleted only when they are
 * the registry's own blob and no other model uses them.
 */
export const modelRemovalSchema = z.object({
  /** `name:tag`. */
  name: z.string(),
  /** Whether the name's link was removed from the models dir (false: only its registry entry was there). */
  removed: z.boolean(),
  /** A file under the name that is not the registry's own (still being written?): left where it is; its file name. */
  kept_file: z.string().optional(),
  /** Weights deleted: no other model used them. */
  deleted_weights: z.array(z.object({ digest: z.string(), size: z.number().int().nonnegative() })),
  /**
   * Weights kept: another model still uses them (`used_by`), or they are outside the registry
   * (`outside`: their path): in a local Ollama's store, or the user's file that the removed link
   * pointed to. Files outside the registry are never deleted: removing such a model removes its link.
   */
  kept_weights: z.array(
    z.object({ digest: z.string(), used_by: z.array(z.string()).optional(), outside: z.string().optional() }),
  ),
});
export type ModelRemoval = z.infer<typeof modelRemovalSchema>;

/** The model service's error body on these routes (Ollama's `error` plus Hearth's code). */
export const modelRegistryErrorSchema = z.looseObject({ error: z.string(), code: z.string().optional() });

/** An error answered by the model service's registry API, with its stable code. */
export class ModelRegistryClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ModelRegistryClientError";
  }
}

export interface ModelRegistryClientOptions {
  /** Base URL of the model service, e.g. http://127.0.0.1:8081. */
  baseUrl: string;
  /** Sent as x-hearth-service-token when the service requires one. */
  token?: string;
  fetch?: typeof fetch;
}

/** The path of a model's registry resource: names hold ':' (name:tag), which stays readable. */
export function modelRegistryPath(name: string, action?: "versions" | "rollback"): string {
  return `/api/hearth/models/${encodeURIComponent(name).replace(/%3A/gi, ":")}${action ? `/${action}` : ""}`;
}

/** A typed client for the model service's registry API (used by the web service). */
export class ModelRegistryClient {
  readonly #baseUrl: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: ModelRegistryClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#token = options.token;
    this.#fetch = options.fetch ?? fetch;
  }

  async listModels(signal?: AbortSignal): Promise<ModelRegistryEntry[]> {
    const body = await this.#json("GET", "/api/hearth/models", undefined, signal);
    return modelRegistryListSchema.parse(body).models;
  }

  /** The files of the models dir the model service skips, each with why and a name to rename it to. */
  async skippedFiles(signal?: AbortSignal): Promise<ModelSkippedFile[]> {
    const body = await this.#json("GET", "/api/hearth/models/skipped", undefined, signal);
    return modelSkippedFilesSchema.parse(body).skipped;
  }

  async versions(name: string, signal?: AbortSignal): Promise<ModelRegistryVersions> {
    return modelRegistryVersionsSchema.parse(
      await this.#json("GET", modelRegistryPath(name, "versions"), undefined, signal),
    );
  }

  async rollback(name: string, request: ModelRollbackRequest = {}): Promise<ModelRollbackResponse> {
    const body = JSON.stringify(modelRollbackRequestSchema.parse(request));
    return modelRollbackResponseSchema.parse(
      await this.#json("POST", modelRegistryPath(name, "rollback"), body),
    );
  }

  /** Removes a model; says which of its weights were deleted and which kept, and why. */
  async remove(name: string): Promise<ModelRemoval> {
    return modelRemovalSchema.parse(await this.#json("DELETE", modelRegistryPath(name)));
  }

  async #json(method: string, path: string, body?: string, signal?: AbortSignal): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.#token) headers["x-hearth-service-token"] = this.#token;
    const response = await this.#fetch(`${this.#baseUrl}${path}`, {
      method,
      headers,
      body,
      signal: signal ?? AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = modelRegistryErrorSchema.safeParse(parsed);
      throw new ModelRegistryClientError(
        response.status,
        (error.success && error.data.code) || "UPSTREAM_ERROR",
        error.success ? error.data.error : `${method} ${path} answered ${response.status}`,
      );
    }
    return parsed;
  }
}
