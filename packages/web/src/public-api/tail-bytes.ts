/**
 * The last `keep` bytes of a stream (where an OpenAI stream's usage chunk arrives), copied into one
 * buffer per stream and decoded once at the end. Copying, rather than keeping references to the
 * latest chunks, lets every chunk die young: held for the last kilobyte, each one outlived a
 * young-generation collection and was copied and promoted with the other open streams' chunks.
 */
export class TailBytes {
  readonly #keep: number;
  readonly #buffer: Buffer;
  #length = 0;

  constructor(keep: number) {
    this.#keep = keep;
    this.#buffer = Buffer.allocUnsafe(keep * 2);
  }

  /** Keeps `chunk`'s bytes from `start` to `end` (all of it by default). */
  push(chunk: Buffer, start = 0, end = chunk.length): void {
    const length = end - start;
    if (length >= this.#keep) {
      this.#buffer.set(chunk.subarray(end - this.#keep, end));
      this.#length = this.#keep;
      return;
    }
    if (this.#length + length > this.#buffer.length) {
      // Slide the bytes still wanted to the front: at most once every `keep` bytes.
      const kept = this.#keep - length;
      this.#buffer.copyWithin(0, this.#length - kept, this.#length);
      this.#length = kept;
    }
    // Byte by byte: a copy through Buffer#copy or set would allocate a view of the range per chunk.
    const buffer = this.#buffer;
    let at = this.#length;
    for (let i = start; i < end; i++) buffer[at++] = chunk[i]!;
    this.#length = at;
  }

  /** The last `keep` bytes (fewer if the stream was shorter), as UTF-8. */
  text(): string {
    return this.#buffer.toString("utf8", Math.max(0, this.#length - this.#keep), this.#length);
  }
}
