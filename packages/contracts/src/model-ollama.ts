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
