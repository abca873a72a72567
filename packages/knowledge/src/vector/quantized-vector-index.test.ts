import { describe, expect, it } from "vitest";
import { compileKernel } from "./compile-kernel.js";
import { int8DotKernelBytes } from "./int8-dot-kernel.js";
import { QuantizedVectorIndex } from "./quantized-vector-index.js";
import { uniformUnitVectors } from "./random-vectors.fixture.js";

describe("QuantizedVectorIndex", () => {
  it("embeds exactly the kernel compiled from int8-dot-kernel.wat", async () => {
    expect(Buffer.from(int8DotKernelBytes()).equals(Buffer.from(await compileKernel()))).toBe(true);
  });

  it("finds the same top 10 as exact search on uniform random vectors (recall@10 ≥ 0.95)", () => {
    const dimensions = 384;
    const count = 20_000;
    const vectors = uniformUnitVectors(count, dimensions, 7);
    const index = new QuantizedVectorIndex({ dimensions });
    index.addBatch(
      Array.from({ length: count }, (_, i) => i + 1),
      vectors,
    );
    const queries = uniformUnitVectors(50, dimensions, 99);
    let found = 0;
    for (let q = 0; q < 50; q++) {
      const query = queries.subarray(q * dimensions, (q + 1) * dimensions);
      const exact = new Set(index.exactSearch(query, 10).map((match) => match.key));
      for (const match of index.search(query, 10)) if (exact.has(match.key)) found++;
    }
    expect(found / 500).toBeGreaterThanOrEqual(0.95);
  });

  it("returns exact cosine scores, best first, and honours replace and remove", () => {
    const index = new QuantizedVectorIndex({ dimensions: 3 });
    index.add(1, new Float32Array([1, 0, 0]));
    index.add(2, new Float32Array([0, 1, 0]));
    index.add(3, new Float32Array([0.6, 0.8, 0]));
    const first = index.search(new Float32Array([1, 0, 0]), 3);
    expect(first.map((match) => match.key)).toEqual([1, 3, 2]);
    expect(first[1]?.score).toBeCloseTo(0.6, 6);

    index.add(1, new Float32Array([0, 0, 1]));
    expect(index.search(new Float32Array([1, 0, 0]), 1)[0]?.key).toBe(3);
    expect(index.remove(3)).toBe(true);
    expect(index.remove(3)).toBe(false);
    expect(index.size).toBe(2);
    expect(index.search(new Float32Array([0.6, 0.8, 0]), 1)[0]?.key).toBe(2);
  });

  it("keeps vectors intact while it grows and moves rows on removal", () => {
    const dimensions = 20;
    const vectors = uniformUnitVectors(3000, dimensions, 3);
    const index = new QuantizedVectorIndex({ dimensions });
    for (let row = 0; row < 3000; row++)
      index.add(row, vectors.subarray(row * dimensions, (row + 1) * dimensions));
    for (let row = 0; row < 3000; row += 2) index.remove(row);
    for (const row of [1, 999, 2999]) {
      const match = index.search(vectors.subarray(row * dimensions, (row + 1) * dimensions), 1)[0];
      expect(match?.key).toBe(row);
      expect(match?.score).toBeCloseTo(1, 5);
    }
  });

  it("filters by tag and by key", () => {
    const index = new QuantizedVectorIndex({ dimensions: 2 });
    index.add(1, new Float32Array([1, 0]), 10);
    index.add(2, new Float32Array([0.9, 0.1]), 20);
    index.add(3, new Float32Array([0.8, 0.2]), 20);
    const query = new Float32Array([1, 0]);
    expect(index.search(query, 5, { tags: new Set([20]) }).map((match) => match.key)).toEqual([2, 3]);
    expect(
      index.search(query, 5, { tags: new Set([20]), filter: (key) => key !== 2 }).map((match) => match.key),
    ).toEqual([3]);
  });

  it("rejects a vector of the wrong length or with NaN with INDEX_DIMENSION_MISMATCH", () => {
    const index = new QuantizedVectorIndex({ dimensions: 4 });
    expect(() => index.add(1, new Float32Array(3))).toThrow(
      expect.objectContaining({ code: "INDEX_DIMENSION_MISMATCH" }),
    );
    expect(() => index.add(1, new Float32Array([1, Number.NaN, 0, 0]))).toThrow(
      expect.objectContaining({ code: "INDEX_DIMENSION_MISMATCH" }),
    );
    expect(() => index.search(new Float32Array(5), 1)).toThrow(
      expect.objectContaining({ code: "INDEX_DIMENSION_MISMATCH" }),
    );
    expect(index.size).toBe(0);
  });
});
