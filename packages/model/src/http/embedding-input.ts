import { HearthError } from "@hearth/core";

/**
 * Refuses an empty input to embed (an empty string has no embedding: answering a zero-length vector
 * beside full ones breaks a vector store later, and far from the cause), naming which one.
 */
export function refuseEmptyInputs(inputs: string[]): void {
  const index = inputs.findIndex((input) => input.length === 0);
  if (index < 0) return;
  throw new HearthError(
    "EMBEDDING_INPUT_EMPTY",
    inputs.length === 1
      ? "the input is empty: an empty text has no embedding"
      : `input ${index} (counting from 0) is empty: an empty text has no embedding; leave it out`,
    { details: { index, field: inputs.length === 1 ? "input" : `input.${index}` } },
  );
}

/**
 * Refuses `dimensions` (OpenAI's and Ollama's /api/embed) other than the size of the vectors the
 * model gives: Hearth does not shorten embeddings (cut, a vector of a model not trained for it
 * loses what it meant), so a client asking for fewer is told, rather than given vectors of another
 * size than it asked for. None, or the model's own size, is taken.
 */
export function refuseOtherDimensions(
  model: string,
  embeddings: number[][],
  dimensions: number | null | undefined,
): void {
  const size = embeddings[0]?.length;
  if (!dimensions || size === undefined || dimensions === size) return;
  throw new HearthError(
    "INVALID_REQUEST",
    `"${model}" gives embeddings of ${size} dimensions; it cannot ${dimensions < size ? "shorten" : "lengthen"} them to ${dimensions}: leave dimensions out, or send ${size}`,
    { details: { field: "dimensions" } },
  );
}
