import { readFileSync } from "node:fs";
import { freemem } from "node:os";
import { HearthError } from "@hearth/core";
import { type GgufFileInfo, GgufInsights, type Llama } from "node-llama-cpp";

export interface MemoryEstimate {
  modelBytes: number;
  contextBytes: number;
  totalBytes: number;
}

/** The context a model is loaded with: its size in tokens, its sequences, and whether it embeds. */
export interface ContextShape {
  contextSize: number;
  sequences: number;
  /** A context that keeps embeddings rather than logits (an embedding model's, a reranker's). */
  embeddings: boolean;
}

/** Memory a model and its context need on the CPU, from the GGUF metadata (llama.cpp's own accounting). */
export async function estimateMemory(
  info: GgufFileInfo,
  llama: Llama,
  context: ContextShape,
): Promise<MemoryEstimate> {
  const insights = await GgufInsights.from(info, llama);
  const model = await insights.estimateModelResourceRequirementsV2({ gpuLayers: 0 });
  const contextResources = await insights.estimateContextResourceRequirementsV2({
    contextSize: context.contextSize,
    modelGpuLayers: 0,
    sequences: context.sequences,
    isEmbeddingContext: context.embeddings,
  });
  const modelBytes = model.cpuRam;
  const contextBytes = contextResources.cpuRam;
  return { modelBytes, contextBytes, totalBytes: modelBytes + contextBytes };
}

/** Memory the process may still use: MemAvailable on Linux (page cache counts as free), else os.freemem(). */
export function availableMemoryBytes(): number {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return freemem();
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

/**
 * Refuses a load that would not fit, naming the need, what is free and the fixes (fewer parallel
 * slots only where the context has more than one sequence).
 */
export function assertFits(
  name: string,
  estimate: MemoryEstimate,
  available: number,
  context: ContextShape,
): void {
  if (estimate.totalBytes <= available) return;
  const { contextSize, sequences } = context;
  const slots = sequences > 1 ? " fewer parallel slots (HEARTH_PARALLEL)," : "";
  throw new HearthError(
    "MODEL_MEMORY_INSUFFICIENT",
    `${name} needs about ${gib(estimate.totalBytes)} (${gib(estimate.modelBytes)} weights + ${gib(estimate.contextBytes)} for a ${contextSize}-token context) but only ${gib(available)} is free; use a smaller quantization, a smaller context (HEARTH_CONTEXT_SIZE),${slots} or add memory or swap`,
    { details: { neededBytes: estimate.totalBytes, availableBytes: available, contextSize } },
  );
}
