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

  push(chunk: Uint8Array): void {
    if (chunk.length >= this.#keep) {
      this.#buffer.set(chunk.subarray(chunk.length - this.#keep));
      this.#length = this.#keep;
      return;
    }
    if (this.#length + chunk.length > this.#buffer.length) {
      // Slide the bytes still wanted to the front: at most once every `keep` bytes.
      const kept = this.#keep - chunk.length;
      this.#buffer.copyWithin(0, this.#length - kept, this.#length);
      this.#length = kept;
    }
    this.#buffer.set(chunk, this.#length);
    this.#length += chunk.length;
  }

  /** The last `keep` bytes (fewer if the stream was shorter), as UTF-8. */
  text(): string {
    return this.#buffer.toString("utf8", Math.max(0, this.#length - this.#keep), this.#length);
  }
}
