import type { GgufFileInfo } from "node-llama-cpp";

/**
 * The tensors of a cross-encoder's classification head, as llama.cpp names them: `cls.output.weight`
 * (Qwen3-Reranker's two labels, bge-reranker-v2-m3's and jina-reranker's projection) or `cls.weight`
 * (a BERT-family head with its own dense layer).
 */
const HEAD_TENSORS = new Set(["cls.output.weight", "cls.weight"]);

/**
 * Whether a GGUF is a reranker: it has the classification head llama.cpp scores a query and a
 * document with. node-llama-cpp's `supportsRanking` looks for the same tensors (and for an EOS or
 * SEP token, which llama.cpp gives nearly every vocabulary); a pooling type alone says less, as
 * embedding models name one too.
 */
export function hasRerankerHead(info: GgufFileInfo): boolean {
  return (info.tensorInfo ?? []).some((tensor) => HEAD_TENSORS.has(tensor.name));
}
