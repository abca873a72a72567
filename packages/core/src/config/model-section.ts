import { availableParallelism } from "node:os";
import { z } from "zod";
import { host, httpUrl, port } from "./fields.js";

/**
 * A llama.cpp thread count that does not over-subscribe the CPU: llama.cpp's own default of
 * max(cores, 4) makes a 2-core machine a thousand times slower (shared/models/README.md).
 */
export function defaultThreadCount(cores = availableParallelism()): number {
  return cores <= 2 ? 1 : cores - 1;
}

export const modelSection = z.strictObject({
  host: host.default("127.0.0.1"),
  port: port.default(8081),
  /** Where `.gguf` models are found; defaults to `<dataDir>/models`. */
  modelsDir: z.string().min(1).optional(),
  threads: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .default(() => defaultThreadCount()),
  contextSize: z.number().int().min(128).max(1_048_576).default(4096),
  /** Parallel sequences (slots) per loaded model. */
  parallel: z.number().int().min(1).max(64).default(2),
  /** An Ollama to list and proxy; when unset, 127.0.0.1:11434 is tried. */
  ollamaHost: httpUrl.optional(),
  /** Try an Ollama on 127.0.0.1:11434 when `ollamaHost` is unset. */
  ollamaAutodetect: z.boolean().default(true),
  /**
   * Origins (`scheme://host[:port]`, `*` wildcards) of web pages allowed to call the service from a
   * browser, beside loopback pages and desktop apps; requests without an Origin always pass.
   */
  allowedOrigins: z.array(z.string().min(1)).default([]),
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .default(8 * 1024 * 1024),
  /** How long an idle embedded model stays loaded, in seconds (Ollama's keep_alive; -1 keeps it forever). */
  keepAliveSeconds: z.number().int().min(-1).default(300),
  /**
   * The shortest time between two streamed writes of an embedded model's answer, in milliseconds:
   * tokens generated faster are sent together (the first token never waits). 0 writes every token.
   */
  streamIntervalMs: z.number().int().min(0).max(1000).default(16),
  /** Admission queue per model: at most `maxQueue` waiting requests, each waiting at most `maxWaitMs`. */
  queue: z
    .strictObject({
      /** Concurrent generations per model; defaults to `parallel` for embedded models. */
      concurrency: z.number().int().min(1).max(256).optional(),
      maxQueue: z.number().int().min(0).max(100_000).default(64),
      maxWaitMs: z.number().int().min(1).max(3_600_000).default(120_000),
    })
    .prefault({}),
  /** Inference cache: repeated identical requests answered from memory. */
  cache: z
    .strictObject({
      enabled: z.boolean().default(true),
      ttlSeconds: z.number().int().min(1).default(600),
      maxEntries: z.number().int().min(1).default(1000),
      maxBytes: z
        .number()
        .int()
        .min(1024)
        .default(32 * 1024 * 1024),
      /** Cache only requests that are deterministic (temperature 0 or a fixed seed). */
      deterministicOnly: z.boolean().default(true),
    })
    .prefault({}),
  /** OpenAI-compatible servers (vLLM, llama.cpp server, LM Studio, hosted APIs); models are listed as `<name>/<id>`. */
  upstreams: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, "letters, digits, '.', '_' and '-'"),
        baseUrl: httpUrl,
        apiKey: z.string().min(1).optional(),
        /** Models to offer; when omitted, the server's /v1/models list. */
        models: z.array(z.string().min(1)).optional(),
      }),
    )
    .default([]),
  /** Per-model request defaults by name pattern (`*` wildcard); built-in presets cover DeepSeek-R1. */
  presets: z
    .array(
      z.strictObject({
        match: z.string().min(1),
        temperature: z.number().min(0).max(2).optional(),
        topP: z.number().min(0).max(1).optional(),
        /** Move a system prompt into the first user turn (DeepSeek-R1's recommendation). */
        systemInUserTurn: z.boolean().optional(),
      }),
    )
    .default([]),
  /** Where the model registry keeps versions and pulled blobs; defaults to `<modelsDir>/.hearth`. */
  registryDir: z.string().min(1).optional(),
  /** A local Ollama's models dir (manifests and blobs) to import from; defaults to ~/.ollama/models. */
  ollamaModelsDir: z.string().min(1).optional(),
});
