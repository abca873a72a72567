import type { ModelDescription } from "../runtime/language-model.js";

/**
 * What a model is for, as the first of its `capabilities` (Ollama's /api/show, and Hearth's
 * /v1/models): "embedding" for an embedding model, "completion" for the rest (which may be asked for
 * embeddings all the same), as Ollama lists them; and "rerank" for a reranker, which Ollama has no
 * word for (it has no rerank API), so that a client offers it for reranking and neither for chat
 * nor for embeddings.
 */
export function modelCapability(description: ModelDescription): "completion" | "embedding" | "rerank" {
  if (description.reranksOnly) return "rerank";
  return description.embedsOnly ? "embedding" : "completion";
}
