import type { GgufFileInfo } from "node-llama-cpp";

/**
 * The tensors of a cross-encoder's classification head, as llama.cpp names them: `cls.output.weight`
 * (Qwen3-Reranker's two labels, bge-reranker-v2-m3's and jina-reranker's projection) or `cls.weight`
 * (a BERT-family head with its own dense layer).
 */
const HEAD_TENSORS = new Set(["cls.output.weight", "cls.weight"]);

/** What a model is for, as the first of its `capabilities` names it. */
export type ModelPurpose = "completion" | "embedding" | "rerank";

/**
 * What an embedded GGUF is for, as `capabilities` name it: "rerank" for a reranker, which has the
 * classification head llama.cpp scores a query and a document with (node-llama-cpp's
 * `supportsRanking` looks for the same tensors, and for an EOS or SEP token, which llama.cpp gives
 * nearly every vocabulary); "embedding" for an embedding model, which names a pooling type (as
 * Ollama tells them; a reranker names one too, so its head is what tells it apart); "completion" for
 * the rest. Only a model that completes is chatted with, and only it is loaded with a chat context.
 */
export function modelPurpose(info: GgufFileInfo): ModelPurpose {
  if ((info.tensorInfo ?? []).some((tensor) => HEAD_TENSORS.has(tensor.name))) return "rerank";
  return "pooling_type" in (info.architectureMetadata as object) ? "embedding" : "completion";
}
