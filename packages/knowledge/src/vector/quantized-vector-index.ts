import { HearthError } from "@hearth/core";
import { createInt8DotKernel, type Int8DotKernel } from "./int8-dot-kernel.js";
import { TopKHeap } from "./top-k-heap.js";

/** Exact float vectors are kept in blocks of this many rows, so growth never copies them. */
const BLOCK_ROWS = 65_536;
const WASM_PAGE = 65_536;

export interface VectorIndexOptions {
  dimensions: number;
  /**
   * How many int8-scan candidates are re-scored exactly: max(this, 3 × topK). 128 keeps
   * recall@10 ≥ 0.99 on uniform random 384-d vectors at 1M (bench/vector.bench.ts).
   */
  rescoreCandidates?: number;
}

export interface VectorSearchOptions {
  /** Only rows whose tag is in this set (e.g. knowledge-base codes). */
  tags?: ReadonlySet<number>;
  /** Only rows whose key passes (e.g. the rows a metadata filter allows). */
  filter?: (key: number) => boolean;
}

export interface VectorMatch {
  key: number;
  /** Exact dot product of the stored vector and the query (cosine for unit vectors). */
  score: number;
}

/**
 * An in-process vector index: every vector is kept twice, as float32 (for exact scores) and as int8
 * codes with a per-vector scale, scanned with a WebAssembly SIMD kernel. A query scans all codes
 * (brute force, so recall does not depend on the data having cluster structure: uniform random
 * vectors are as easy as real embeddings), keeps the best candidates, and re-scores them exactly.
 * See docs/decisions/knowledge-vector-scan.md.
 */
export class QuantizedVectorIndex {
  readonly dimensions: number;
  private readonly stride: number;
  private readonly rescoreCandidates: number;
  private readonly kernel: Int8DotKernel;
  private capacity = 0;
  private count = 0;
  private scalesOffset = 0;
  private scoresOffset = 0;
  private codesOffset = 0;
  private bytes!: Int8Array;
  private floats32!: Float32Array;
  private readonly blocks: Float32Array[] = [];
  private slotKeys = new Float64Array(0);
  private slotTags = new Int32Array(0);
  private readonly slotByKey = new Map<number, number>();
  private readonly codeScratch: Int8Array;

  constructor(options: VectorIndexOptions) {
    if (!Number.isInteger(options.dimensions) || options.dimensions < 1 || options.dimensions > 16_384) {
      throw new HearthError(
        "INVALID_REQUEST",
        `Vector dimensions must be an integer from 1 to 16384, not ${options.dimensions}.`,
      );
    }
    this.dimensions = options.dimensions;
    this.stride = Math.ceil(options.dimensions / 16) * 16;
    this.rescoreCandidates = options.rescoreCandidates ?? 128;
    this.kernel = createInt8DotKernel();
    this.codeScratch = new Int8Array(this.stride);
    this.grow(1024);
  }

  get size(): number {
    return this.count;
  }

  has(key: number): boolean {
    return this.slotByKey.has(key);
  }

  /** Adds a vector under `key`, replacing any vector already there. */
  add(key: number, vector: Float32Array, tag = 0): void {
    this.checkDimensions(vector);
    let slot = this.slotByKey.get(key);
    if (slot === undefined) {
      if (this.count === this.capacity) this.grow(this.capacity * 2);
      slot = this.count++;
      this.slotByKey.set(key, slot);
    }
    this.slotKeys[slot] = key;
    this.slotTags[slot] = tag;
    this.writeRow(slot, vector);
  }

  /** Adds many vectors stored back to back in `vectors` (rows × dimensions), with their keys. */
  addBatch(keys: ArrayLike<number>, vectors: Float32Array, tags?: ArrayLike<number>): void {
    if (vectors.length !== keys.length * this.dimensions) {
      throw new HearthError(
        "INDEX_DIMENSION_MISMATCH",
        `Expected ${keys.length} × ${this.dimensions} values, got ${vectors.length}.`,
      );
    }
    const needed = this.count + keys.length;
    if (needed > this.capacity) {
      let next = this.capacity;
      while (next < needed) next *= 2;
      this.grow(next);
    }
    for (let row = 0; row < keys.length; row++) {
      this.add(
        keys[row] as number,
        vectors.subarray(row * this.dimensions, (row + 1) * this.dimensions),
        tags?.[row] ?? 0,
      );
    }
  }

  remove(key: number): boolean {
    const slot = this.slotByKey.get(key);
    if (slot === undefined) return false;
    this.slotByKey.delete(key);
    const last = --this.count;
    if (slot !== last) {
      // Keep rows dense: the last row moves into the freed slot.
      const lastKey = this.slotKeys[last] as number;
      this.slotKeys[slot] = lastKey;
      this.slotTags[slot] = this.slotTags[last] as number;
      this.slotByKey.set(lastKey, slot);
      this.bytes.copyWithin(
        this.codesOffset + slot * this.stride,
        this.codesOffset + last * this.stride,
        this.codesOffset + (last + 1) * this.stride,
      );
      this.floats32[this.scalesOffset / 4 + slot] = this.floats32[this.scalesOffset / 4 + last] as number;
      this.exactRow(slot).set(this.exactRow(last));
    }
    return true;
  }

  clear(): void {
    this.slotByKey.clear();
    this.count = 0;
  }

  /** The `topK` stored vectors with the highest dot product with `query`, best first. */
  search(query: Float32Array, topK: number, options: VectorSearchOptions = {}): VectorMatch[] {
    this.checkDimensions(query);
    if (topK < 1 || this.count === 0) return [];
    const codes = this.quantize(query, this.codeScratch);
    if (codes === 0) return [];
    this.bytes.set(this.codeScratch, 0);
    this.kernel.scan(0, this.codesOffset, this.scalesOffset, this.count, this.stride, this.scoresOffset);

    const approximate = this.floats32.subarray(this.scoresOffset / 4, this.scoresOffset / 4 + this.count);
    const heap = new TopKHeap(Math.max(this.rescoreCandidates, topK * 3));
    const { tags, filter } = options;
    const keys = this.slotKeys;
    const slotTags = this.slotTags;
    for (let slot = 0; slot < approximate.length; slot++) {
      const score = approximate[slot] as number;
      if (score <= heap.threshold) continue;
      if (tags !== undefined && !tags.has(slotTags[slot] as number)) continue;
      if (filter !== undefined && !filter(keys[slot] as number)) continue;
      heap.push(score, slot);
    }

    const matches: VectorMatch[] = [];
    for (const slot of heap.items()) {
      matches.push({ key: keys[slot] as number, score: this.exactDot(query, slot) });
    }
    matches.sort((a, b) => b.score - a.score);
    return matches.slice(0, topK);
  }

  /** Exact brute force over the float vectors: the reference the tests measure recall against. */
  exactSearch(query: Float32Array, topK: number): VectorMatch[] {
    this.checkDimensions(query);
    const heap = new TopKHeap(topK);
    for (let slot = 0; slot < this.count; slot++) {
      const score = this.exactDot(query, slot);
      if (score > heap.threshold) heap.push(score, slot);
    }
    return heap
      .items()
      .map((slot) => ({ key: this.slotKeys[slot] as number, score: this.exactDot(query, slot) }))
      .sort((a, b) => b.score - a.score);
  }

  private checkDimensions(vector: Float32Array): void {
    if (vector.length !== this.dimensions) {
      throw new HearthError(
        "INDEX_DIMENSION_MISMATCH",
        `The vector has ${vector.length} dimensions; this index holds ${this.dimensions}-dimensional vectors.`,
        { details: { expected: this.dimensions, received: vector.length } },
      );
    }
    for (let i = 0; i < vector.length; i++) {
      if (!Number.isFinite(vector[i])) {
        throw new HearthError(
          "INDEX_DIMENSION_MISMATCH",
          "The vector contains a value that is not a finite number.",
        );
      }
    }
  }

  /** Symmetric per-vector int8 quantisation; returns the scale (0 for a zero vector). */
  private quantize(vector: Float32Array, into: Int8Array): number {
    let largest = 0;
    for (let i = 0; i < vector.length; i++) largest = Math.max(largest, Math.abs(vector[i] as number));
    into.fill(0);
    if (largest === 0) return 0;
    const factor = 127 / largest;
    for (let i = 0; i < vector.length; i++) into[i] = Math.round((vector[i] as number) * factor);
    return largest / 127;
  }

  private writeRow(slot: number, vector: Float32Array): void {
    const scale = this.quantize(vector, this.codeScratch);
    this.bytes.set(this.codeScratch, this.codesOffset + slot * this.stride);
    this.floats32[this.scalesOffset / 4 + slot] = scale;
    this.exactRow(slot).set(vector);
  }

  /** A small index keeps one block sized to its capacity; past BLOCK_ROWS, full blocks are added. */
  private growExact(capacity: number): void {
    const first = this.blocks[0];
    const firstRows = Math.min(capacity, BLOCK_ROWS);
    if (first === undefined || first.length < firstRows * this.dimensions) {
      const block = new Float32Array(firstRows * this.dimensions);
      if (first !== undefined) block.set(first);
      this.blocks[0] = block;
    }
    while (this.blocks.length * BLOCK_ROWS < capacity)
      this.blocks.push(new Float32Array(BLOCK_ROWS * this.dimensions));
  }

  private exactDot(query: Float32Array, slot: number): number {
    const block = this.blocks[Math.floor(slot / BLOCK_ROWS)] as Float32Array;
    const offset = (slot % BLOCK_ROWS) * this.dimensions;
    let sum = 0;
    for (let i = 0; i < query.length; i++) sum += (query[i] as number) * (block[offset + i] as number);
    return sum;
  }

  private exactRow(slot: number): Float32Array {
    const block = this.blocks[Math.floor(slot / BLOCK_ROWS)] as Float32Array;
    const start = (slot % BLOCK_ROWS) * this.dimensions;
    return block.subarray(start, start + this.dimensions);
  }

  /**
   * Wasm memory layout: [query codes][scales: capacity × f32][scores: capacity × f32][codes: capacity × stride].
   * Growing moves the codes up (copyWithin handles the overlap) and extends the scales in place.
   */
  private grow(capacity: number): void {
    const scalesOffset = Math.ceil(this.stride / 16) * 16;
    const scoresOffset = scalesOffset + capacity * 4;
    const codesOffset = Math.ceil((scoresOffset + capacity * 4) / 16) * 16;
    const needed = codesOffset + capacity * this.stride;
    const memory = this.kernel.memory;
    if (needed > memory.buffer.byteLength) {
      const pages = Math.ceil((needed - memory.buffer.byteLength) / WASM_PAGE);
      try {
        memory.grow(pages);
      } catch (error) {
        throw new HearthError(
          "INDEX_UNAVAILABLE",
          `The vector index cannot grow to ${capacity} vectors (WebAssembly memory is limited to 4 GiB).`,
          { cause: error },
        );
      }
    }
    const bytes = new Int8Array(memory.buffer);
    if (this.count > 0)
      bytes.copyWithin(codesOffset, this.codesOffset, this.codesOffset + this.count * this.stride);
    this.bytes = bytes;
    this.floats32 = new Float32Array(memory.buffer);
    this.scalesOffset = scalesOffset;
    this.scoresOffset = scoresOffset;
    this.codesOffset = codesOffset;

    this.growExact(capacity);
    const keys = new Float64Array(capacity);
    keys.set(this.slotKeys.subarray(0, this.count));
    this.slotKeys = keys;
    const tags = new Int32Array(capacity);
    tags.set(this.slotTags.subarray(0, this.count));
    this.slotTags = tags;
    this.capacity = capacity;
  }
}
