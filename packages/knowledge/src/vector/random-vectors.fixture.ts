import { seededRandom } from "../../../../test/support/seeded-random.js";

/**
 * Seeded random vectors for the vector index's tests and bench/vector.bench.ts (test-only: *.fixture.ts
 * is outside the build), so both draw the same data from the same seed.
 */

/** Scales each row of `vectors` (rows of `dimensions` values, back to back) to unit length, in place. */
export function normalizeRows(vectors: Float32Array, dimensions: number): Float32Array {
  for (let row = 0; row < vectors.length / dimensions; row++) {
    const slice = vectors.subarray(row * dimensions, (row + 1) * dimensions);
    let norm = 0;
    for (const value of slice) norm += value * value;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < dimensions; i++) slice[i] = (slice[i] as number) / norm;
  }
  return vectors;
}

/** Uniform random directions (the hard case for ANN indexes): coordinates uniform in [-1, 1], then unit length. */
export function uniformUnitVectors(count: number, dimensions: number, seed: number): Float32Array {
  const next = seededRandom(seed);
  const vectors = new Float32Array(count * dimensions);
  for (let i = 0; i < vectors.length; i++) vectors[i] = next() * 2 - 1;
  return normalizeRows(vectors, dimensions);
}
