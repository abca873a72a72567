import type { GgufFileInfo } from "node-llama-cpp";

/** How big a model is and how it is quantized, as Ollama's `details` give them. */
export interface ModelDetails {
  /** The count of its tensors' elements as Ollama writes it ("293K", "494.03M", "7.6B"). */
  parameterSize: string | undefined;
  /** The name of its `general.file_type`, else of the file type llama.cpp guesses from its tensors. */
  quantization: string | undefined;
}

/**
 * A GGUF's size and quantization, read once when the catalog scans it. Its size is its parameters,
 * the elements of all its tensors, as Ollama sizes every model: neither `general.size_label` (a
 * rounded label such as "7B") nor `general.parameter_count` is read, as Ollama reads neither (it
 * puts the count of the tensors in place of the latter). A file without `general.file_type` gets the
 * type llama.cpp guesses when it loads it: that of most of its tensors.
 */
export function modelDetails(info: GgufFileInfo): ModelDetails {
  const general = info.metadata.general as { file_type?: number };
  const tensors = info.tensorInfo ?? [];
  const parameters = tensors.reduce(
    (sum, tensor) => sum + tensor.dimensions.reduce<bigint>((product, size) => product * BigInt(size), 1n),
    0n,
  );
  const fileType = general.file_type ?? guessedFileType(tensors.map((tensor) => tensor.ggmlType));
  return {
    parameterSize: tensors.length > 0 ? humanNumber(Number(parameters)) : undefined,
    quantization: fileType === undefined ? undefined : fileTypeName(fileType),
  };
}

/**
 * A count as Ollama's `format.HumanNumber` writes it, which its `parameter_size` is: billions with
 * one decimal and millions with two, unless whole ("7.6B", "494.03M", "1B"), and thousands whole
 * ("293K").
 */
export function humanNumber(count: number): string {
  if (count >= 1e9) return `${wholeOrFixed(count / 1e9, 1)}B`;
  if (count >= 1e6) return `${wholeOrFixed(count / 1e6, 2)}M`;
  if (count >= 1e3) return `${goFixed(count / 1e3, 0)}K`;
  return String(count);
}

function wholeOrFixed(value: number, decimals: number): string {
  return Number.isInteger(value) ? String(value) : goFixed(value, decimals);
}

/**
 * `value` with `decimals` decimals as Go's `%.*f` writes it: rounded to the nearest, and a tie (the
 * double exactly half-way) to even, where JavaScript's toFixed rounds it up ("2K" for 2500, not
 * "3K"). A tie is a value that 2^(decimals+1) makes an odd integer (an exact product: a power of
 * two), since 10^decimals·2 is that power times an odd 5^decimals.
 */
function goFixed(value: number, decimals: number): string {
  const halves = value * 2 ** (decimals + 1);
  if (!Number.isInteger(halves) || halves % 2 === 0) return value.toFixed(decimals);
  const below = (halves * 5 ** decimals - 1) / 2;
  const units = below % 2 === 0 ? below : below + 1;
  const scale = 10 ** decimals;
  const whole = Math.floor(units / scale);
  return decimals === 0 ? String(whole) : `${whole}.${String(units % scale).padStart(decimals, "0")}`;
}

/**
 * The file type llama.cpp guesses for a GGUF without `general.file_type` (llama-model-loader.cpp):
 * the LLAMA_FTYPE of the ggml type most of its tensors have (the first to reach that count).
 */
function guessedFileType(ggmlTypes: readonly number[]): number | undefined {
  const counts = new Map<number, number>();
  let most: number | undefined;
  for (const type of ggmlTypes) {
    const count = (counts.get(type) ?? 0) + 1;
    counts.set(type, count);
    if (most === undefined || count > counts.get(most)!) most = type;
  }
  return most === undefined ? undefined : FILE_TYPE_OF_GGML_TYPE[most];
}

/** LLAMA_FTYPE by the ggml type that makes it, as llama.cpp guesses it (its k-quants as their _M variants). */
const FILE_TYPE_OF_GGML_TYPE: Record<number, number> = {
  0: 0, // F32
  1: 1, // F16
  2: 2, // Q4_0
  3: 3, // Q4_1
  6: 8, // Q5_0
  7: 9, // Q5_1
  8: 7, // Q8_0
  10: 10, // Q2_K
  11: 12, // Q3_K_M
  12: 15, // Q4_K_M
  13: 17, // Q5_K_M
  14: 18, // Q6_K
  30: 32, // BF16
};

/** llama.cpp's `general.file_type` (LLAMA_FTYPE) as Ollama shows it. */
function fileTypeName(fileType: number): string {
  const names: Record<number, string> = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    32: "BF16",
  };
  return names[fileType] ?? `type ${fileType}`;
}
