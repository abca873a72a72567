/**
 * A vector scaled to unit length, as Ollama's /api/embed and OpenAI's embeddings answer (cosine
 * similarity is then a dot product); a zero vector stays as it is.
 */
export function unitLength(vector: number[]): number[] {
  let sum = 0;
  for (const value of vector) sum += value * value;
  if (sum === 0) return vector;
  const scale = 1 / Math.sqrt(sum);
  return vector.map((value) => value * scale);
}
