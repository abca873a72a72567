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
  threads: z.number().int().min(1).max(1024).default(() => defaultThreadCount()),
  contextSize: z.number().int().min(128).max(1_048_576).default(4096),
  /** Parallel sequences (slots) per loaded model. */
  parallel: z.number().int().min(1).max(64).default(2),
  /** An Ollama to list and proxy; when unset, 127.0.0.1:11434 is tried. */
  ollamaHost: httpUrl.optional(),
  /** Try an Ollama on 127.0.0.1:11434 when `ollamaHost` is unset. */
  ollamaAutodetect: z.boolean().default(true),
  bodyLimitBytes: z.number().int().positive().default(8 * 1024 * 1024),
});
