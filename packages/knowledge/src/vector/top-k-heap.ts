/**
 * A fixed-size min-heap of (score, item) pairs that keeps the `capacity` highest scores. `threshold`
 * is the score a newcomer must beat, so a scan can skip most rows with one comparison.
 */
export class TopKHeap {
  private readonly scores: Float64Array;
  private readonly values: Int32Array;
  private length = 0;
  threshold = Number.NEGATIVE_INFINITY;

  constructor(readonly capacity: number) {
    this.scores = new Float64Array(capacity);
    this.values = new Int32Array(capacity);
  }

  get size(): number {
    return this.length;
  }

  push(score: number, value: number): void {
    if (this.length < this.capacity) {
      let index = this.length++;
      while (index > 0) {
        const parent = (index - 1) >> 1;
        if ((this.scores[parent] as number) <= score) break;
        this.scores[index] = this.scores[parent] as number;
        this.values[index] = this.values[parent] as number;
        index = parent;
      }
      this.scores[index] = score;
      this.values[index] = value;
      if (this.length === this.capacity) this.threshold = this.scores[0] as number;
      return;
    }
    if (score <= (this.scores[0] as number)) return;
    // Replace the root and sift down.
    let index = 0;
    for (;;) {
      const left = index * 2 + 1;
      if (left >= this.length) break;
      const right = left + 1;
      const child =
        right < this.length && (this.scores[right] as number) < (this.scores[left] as number) ? right : left;
      if ((this.scores[child] as number) >= score) break;
      this.scores[index] = this.scores[child] as number;
      this.values[index] = this.values[child] as number;
      index = child;
    }
    this.scores[index] = score;
    this.values[index] = value;
    this.threshold = this.scores[0] as number;
  }

  /** The kept items, in no particular order. */
  items(): number[] {
    return Array.from(this.values.subarray(0, this.length));
  }
}
