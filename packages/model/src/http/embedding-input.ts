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
    { details: { index } },
  );
}
