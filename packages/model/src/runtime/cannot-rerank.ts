import { HearthError } from "@hearth/core";

/** The refusal of a rerank by a model (or a runtime) that cannot rerank, saying why (MODEL_CANNOT_RERANK). */
export function cannotRerank(model: string, why: string): HearthError {
  return new HearthError("MODEL_CANNOT_RERANK", `"${model}" is not a reranking model: ${why}`, {
    details: { model },
  });
}
