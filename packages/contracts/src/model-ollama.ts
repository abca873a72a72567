/**
 * Wire schemas of the Ollama API that the model service serves (https://github.com/ollama/ollama/blob/main/docs/api.md).
 * Minimal and tolerant: unknown fields pass, optional ones accept null.
 */
import { z } from "zod";

const nonNegative = z.number().finite().nonnegative();

/** Ollama's `options`: the sampling and runtime settings we honour (the rest are accepted and ignored). */
export const ollamaOptionsSchema = z.looseObject({
  temperature: nonNegative.max(100).nullish(),
  top_p: nonNegative.max(1).nullish(),
  top_k: z.number().int().nonnegative().nullish(),
  min_p: nonNegative.max(1).nullish(),
  seed: z.number().int().nullish(),
  num_predict: z.number().int().min(-2).nullish(),
  num_ctx: z.number().int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  repeat_penalty: nonNegative.nullish(),
  presence_penalty: z.number().finite().nullish(),
  frequency_penalty: z.number().finite().nullish(),
});
export type OllamaOptions = z.infer<typeof ollamaOptionsSchema>;

/** `format`: "json" or a JSON schema object. */
export const ollamaFormatSchema = z.union([
  z.literal("json"),
  z.literal(""),
  z.record(z.string(), z.unknown()),
]);

/** `keep_alive`: a duration string ("5m", "1h", "30s", "-1") or seconds. */
export const keepAliveSchema = z.union([z.string().max(32), z.number().finite()]);

export const ollamaToolCallSchema = z.looseObject({
  function: z.looseObject({ name: z.string(), arguments: z.record(z.string(), z.unknown()).nullish() }),
});

export const ollamaMessageSchema = z.looseObject({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string().nullish(),
  thinking: z.string().nullish(),
  images: z.array(z.string()).nullish(),
  tool_calls: z.array(ollamaToolCallSchema).nullish(),
  tool_name: z.string().nullish(),
});
export type OllamaMessage = z.infer<typeof ollamaMessageSchema>;

export const ollamaToolSchema = z.looseObject({
  type: z.literal("function").nullish(),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
  }),
});

const modelName = z.string().min(1, "model is required").max(512);

export const ollamaChatRequestSchema = z.looseObject({
  model: modelName,
  messages: z.array(ollamaMessageSchema).nullish(),
  stream: z.boolean().nullish(),
  format: ollamaFormatSchema.nullish(),
  options: ollamaOptionsSchema.nullish(),
  keep_alive: keepAliveSchema.nullish(),
  think: z.union([z.boolean(), z.enum(["low", "medium", "high"])]).nullish(),
  tools: z.array(ollamaToolSchema).nullish(),
});
export type OllamaChatRequest = z.infer<typeof ollamaChatRequestSchema>;

export const ollamaGenerateRequestSchema = z.looseObject({
  model: modelName,
  prompt: z.string().nullish(),
  suffix: z.string().nullish(),
  system: z.string().nullish(),
  template: z.string().nullish(),
  raw: z.boolean().nullish(),
  /** Deprecated in Ollama: the token ids an earlier answer gave back. Hearth gives none. */
  context: z.array(z.number()).nullish(),
  stream: z.boolean().nullish(),
  format: ollamaFormatSchema.nullish(),
  options: ollamaOptionsSchema.nullish(),
  keep_alive: keepAliveSchema.nullish(),
  think: z.union([z.boolean(), z.enum(["low", "medium", "high"])]).nullish(),
  images: z.array(z.string()).nullish(),
});
export type OllamaGenerateRequest = z.infer<typeof ollamaGenerateRequestSchema>;

export const ollamaEmbedRequestSchema = z.looseObject({
  model: modelName,
  input: z.union([z.string(), z.array(z.string())]),
  truncate: z.boolean().nullish(),
  /** The size of the vectors asked for; 0 as none, as Ollama reads it. */
  dimensions: z.number().int().nonnegative().nullish(),
  options: ollamaOptionsSchema.nullish(),
  keep_alive: keepAliveSchema.nullish(),
});

/** The legacy `/api/embeddings` request: one prompt, one vector. */
export const ollamaEmbeddingsRequestSchema = z.looseObject({
  model: modelName,
  prompt: z.string(),
  options: ollamaOptionsSchema.nullish(),
  keep_alive: keepAliveSchema.nullish(),
});

/** `/api/show`, `/api/delete`: Ollama accepts `model` and the older `name`. */
export const ollamaModelRefSchema = z
  .looseObject({ model: z.string().min(1).max(512).nullish(), name: z.string().min(1).max(512).nullish() })
  .refine((value) => Boolean(value.model ?? value.name), { message: "model is required" });

export const ollamaCopyRequestSchema = z.looseObject({
  source: z.string().min(1).max(512),
  destination: z.string().min(1).max(512),
});

export const ollamaPullRequestSchema = z
  .looseObject({
    model: z.string().min(1).max(2048).nullish(),
    name: z.string().min(1).max(2048).nullish(),
    insecure: z.boolean().nullish(),
    stream: z.boolean().nullish(),
  })
  .refine((value) => Boolean(value.model ?? value.name), { message: "model is required" });

// --- What upstream Ollama servers answer (read by the Ollama upstream runtime) ----------------------

export const ollamaTagsResponseSchema = z.looseObject({
  models: z
    .array(
      z.looseObject({
        name: z.string(),
        model: z.string().nullish(),
        size: z.number().nullish(),
        digest: z.string().nullish(),
        modified_at: z.string().nullish(),
        details: z.looseObject({}).nullish(),
      }),
    )
    .nullish(),
});

export const ollamaChatChunkSchema = z.looseObject({
  model: z.string().nullish(),
  message: z
    .looseObject({
      role: z.string().nullish(),
      content: z.string().nullish(),
      thinking: z.string().nullish(),
      tool_calls: z.array(ollamaToolCallSchema).nullish(),
    })
    .nullish(),
  response: z.string().nullish(),
  thinking: z.string().nullish(),
  done: z.boolean().nullish(),
  done_reason: z.string().nullish(),
  prompt_eval_count: z.number().nullish(),
  eval_count: z.number().nullish(),
  error: z.string().nullish(),
});
export type OllamaChatChunk = z.infer<typeof ollamaChatChunkSchema>;

export const ollamaErrorSchema = z.looseObject({ error: z.string() });

export const ollamaVersionSchema = z.looseObject({ version: z.string() });

/**
 * The `expires_at` that `/api/ps` gives a model kept loaded for good (keep_alive -1): a far date
 * every client's parser takes (JavaScript's largest, year 275760, is refused by Go's and Python's).
 */
export const KEPT_LOADED_UNTIL = "9999-12-31T23:59:59.000Z";

const ollamaPsResponseSchema = z.looseObject({
  models: z.array(
    z.looseObject({
      name: z.string().optional(),
      model: z.string().optional(),
      size: z.number().nullish(),
      expires_at: z.string().nullish(),
      context_length: z.number().nullish(),
    }),
  ),
});

/** A model loaded in a model service's memory, as its `/api/ps` says. */
export interface LoadedModel {
  model: string;
  /** Bytes in memory; null when not said. */
  sizeBytes: number | null;
  contextLength: number | null;
  /** When it is unloaded if not used (ISO time); null when kept loaded or not said. */
  expiresAt: string | null;
  /** Kept loaded for good (keep_alive -1: KEPT_LOADED_UNTIL, or any date from year 9999 on). */
  keptLoaded: boolean;
}

/** The models an `/api/ps` answer lists (Ollama's or Hearth's); undefined when it is of another shape. */
export function loadedModelsOf(answer: unknown): LoadedModel[] | undefined {
  const parsed = ollamaPsResponseSchema.safeParse(answer);
  if (!parsed.success) return undefined;
  return parsed.data.models.map((loaded) => {
    const expires = loaded.expires_at ? new Date(loaded.expires_at) : undefined;
    const known = expires !== undefined && !Number.isNaN(expires.getTime());
    const keptLoaded = known && expires.getUTCFullYear() >= 9999;
    return {
      model: loaded.name ?? loaded.model ?? "",
      sizeBytes: loaded.size ?? null,
      contextLength: loaded.context_length ?? null,
      expiresAt: known && !keptLoaded ? expires.toISOString() : null,
      keptLoaded,
    };
  });
}
