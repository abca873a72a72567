import { open, stat } from "node:fs/promises";
import { type GgufFileInfo, readGgufFileInfo } from "node-llama-cpp";

/**
 * Bytes per block and elements per block of ggml tensor types (ggml.c `type_traits`), to check that
 * a file holds all of its tensor data. Types missing here are not size-checked.
 */
const GGML_TYPE_SIZES: Record<number, [bytes: number, elements: number]> = {
  0: [4, 1], // F32
  1: [2, 1], // F16
  2: [18, 32], // Q4_0
  3: [20, 32], // Q4_1
  6: [22, 32], // Q5_0
  7: [24, 32], // Q5_1
  8: [34, 32], // Q8_0
  9: [36, 32], // Q8_1
  10: [84, 256], // Q2_K
  11: [110, 256], // Q3_K
  12: [144, 256], // Q4_K
  13: [176, 256], // Q5_K
  14: [210, 256], // Q6_K
  15: [292, 256], // Q8_K
  16: [66, 256], // IQ2_XXS
  17: [74, 256], // IQ2_XS
  18: [98, 256], // IQ3_XXS
  19: [50, 256], // IQ1_S
  20: [18, 32], // IQ4_NL
  21: [110, 256], // IQ3_S
  22: [82, 256], // IQ2_S
  23: [136, 256], // IQ4_XS
  24: [1, 1], // I8
  25: [2, 1], // I16
  26: [4, 1], // I32
  27: [8, 1], // I64
  28: [8, 1], // F64
  29: [56, 256], // IQ1_M
  30: [2, 1], // BF16
};

/** llama.cpp's LLAMA_MAX_LAYERS: a larger `<arch>.block_count` fails an assertion that ends the process. */
const LLAMA_MAX_LAYERS = 512;

/**
 * The hyperparameters llama.cpp asserts on (or divides by) while loading, checked before it ever
 * sees the file: a value out of range there aborts the whole process (GGML_ASSERT), not one request.
 * Answers what is wrong, naming the key and its value, or undefined when nothing is.
 */
function checkHyperparameters(info: GgufFileInfo): string | undefined {
  const metadata = info.metadata as Record<string, unknown>;
  const general = metadata.general as { architecture?: unknown } | undefined;
  const architecture = typeof general?.architecture === "string" ? general.architecture : undefined;
  if (!architecture) return "the GGUF file names no architecture (general.architecture)";
  const values = (info.architectureMetadata ?? {}) as Record<string, unknown>;
  const attention = (values.attention ?? {}) as Record<string, unknown>;
  const bad = (key: string, value: unknown, want: string) =>
    `${architecture}.${key} = ${Array.isArray(value) ? `[${value.join(", ")}]` : String(value)} (llama.cpp needs ${want})`;
  const whole = (value: unknown): value is number | bigint =>
    (typeof value === "number" && Number.isInteger(value)) || typeof value === "bigint";

  const blockCount = values.block_count;
  if (!whole(blockCount) || Number(blockCount) < 1 || Number(blockCount) > LLAMA_MAX_LAYERS)
    return bad("block_count", blockCount, `a whole number from 1 to ${LLAMA_MAX_LAYERS}`);
  const embedding = values.embedding_length;
  if (!whole(embedding) || Number(embedding) < 1) return bad("embedding_length", embedding, "more than 0");
  const context = values.context_length;
  if (context !== undefined && (!whole(context) || Number(context) < 1))
    return bad("context_length", context, "more than 0");
  // Recurrent models (Mamba, RWKV) have no attention heads and write 0; per-layer arrays (hybrid
  // models) may hold 0 for their non-attention layers. Only a single count is checked.
  const recurrent = /^(mamba|rwkv)/.test(architecture);
  const heads = attention.head_count;
  const kvHeads = attention.head_count_kv;
  if (heads !== undefined && !Array.isArray(heads)) {
    if (!whole(heads) || (!recurrent && Number(heads) < 1))
      return bad("attention.head_count", heads, "more than 0");
    if (
      kvHeads !== undefined &&
      !Array.isArray(kvHeads) &&
      (!whole(kvHeads) || Number(kvHeads) > Number(heads))
    )
      return bad("attention.head_count_kv", kvHeads, `at most attention.head_count (${heads})`);
  }
  const tokenizer = metadata.tokenizer as { ggml?: { model?: unknown; tokens?: unknown } } | undefined;
  const tokens = tokenizer?.ggml?.tokens;
  if (
    tokenizer?.ggml?.model !== "none" &&
    tokens !== undefined &&
    (!Array.isArray(tokens) || tokens.length === 0)
  )
    return "tokenizer.ggml.tokens is empty (llama.cpp needs at least one token)";
  return undefined;
}

export interface GgufCheck {
  valid: boolean;
  error?: string;
  info?: GgufFileInfo;
  sizeBytes: number;
}

/**
 * Whether a file is a complete GGUF: the header and metadata parse, and the file is long enough to
 * hold every tensor (a truncated download fails here, before llama.cpp ever maps it).
 */
export async function checkGgufFile(path: string): Promise<GgufCheck> {
  let sizeBytes = 0;
  try {
    sizeBytes = (await stat(path)).size;
    const head = Buffer.alloc(4);
    const handle = await open(path, "r");
    try {
      await handle.read(head, 0, 4, 0);
    } finally {
      await handle.close();
    }
    if (head.toString("latin1") !== "GGUF")
      return { valid: false, error: "not a GGUF file (no GGUF magic)", sizeBytes };
    const info = await readGgufFileInfo(path, { readTensorInfo: true, logWarnings: false });
    const alignment = Number((info.metadata.general as { alignment?: number } | undefined)?.alignment ?? 32);
    const infoEnd = info.infoEndOffset ?? 0;
    const dataStart = Math.ceil(infoEnd / alignment) * alignment;
    let end = dataStart;
    for (const tensor of info.tensorInfo ?? []) {
      const size = GGML_TYPE_SIZES[tensor.ggmlType];
      if (!size) continue;
      const elements = tensor.dimensions.reduce<number>(
        (product, dimension) => product * Number(dimension),
        1,
      );
      end = Math.max(end, dataStart + Number(tensor.offset) + (elements / size[1]) * size[0]);
    }
    if ((info.tensorInfo?.length ?? 0) === 0)
      return { valid: false, error: "the GGUF file has no tensors", sizeBytes };
    if (sizeBytes < end) {
      return {
        valid: false,
        error: `truncated: the tensors need ${end} bytes but the file has ${sizeBytes}`,
        sizeBytes,
      };
    }
    const hyperparameters = checkHyperparameters(info);
    if (hyperparameters) return { valid: false, error: hyperparameters, sizeBytes };
    return { valid: true, info, sizeBytes };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { valid: false, error: `unreadable GGUF: ${reason}`, sizeBytes };
  }
}
