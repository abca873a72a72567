/** A chunked HTTP/1.1 body that does not follow RFC 9112's framing. */
export class ChunkedBodyError extends Error {}

enum State {
  Size,
  Data,
  DataEnd,
  Trailer,
  Done,
}

/** Longer size or trailer lines are refused (a size line is a few hex digits and rarely an extension). */
const MAX_LINE = 4096;
const SIZE = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/;

export interface Decoded {
  /**
   * Bytes of the buffer before this offset end with a whole chunk (size line, payload, CRLF):
   * passed on as they are, what was passed stays a valid chunked body whatever follows. While the
   * body has not ended, the bytes after it are the start of a chunk not yet complete.
   */
  framedEnd: number;
  /** The offset just past the body's last byte (its final chunk and trailers), or -1. */
  end: number;
}

/**
 * Decodes a chunked body (RFC 9112, section 7.1) as its bytes arrive, in any split: each run of
 * payload goes to `onPayload` as a view into the buffer, with no copy. Knowing where each chunk
 * ends is also what lets a relay pass the framed bytes on unchanged, whole chunks only, and stop
 * before the final one.
 */
export class ChunkedDecoder {
  #state = State.Size;
  /** Payload bytes left in the current chunk; in DataEnd, the CRLF bytes left after it. */
  #remaining = 0;
  /** The start of a size or trailer line whose end has not arrived. */
  #line = "";

  get done(): boolean {
    return this.#state === State.Done;
  }

  push(buffer: Uint8Array, onPayload: (payload: Buffer) => void): Decoded {
    const bytes = Buffer.isBuffer(buffer)
      ? buffer
      : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.length);
    const length = bytes.length;
    let framedEnd = 0;
    let i = 0;
    while (i < length && this.#state !== State.Done) {
      if (this.#state === State.Data) {
        const take = Math.min(this.#remaining, length - i);
        onPayload(bytes.subarray(i, i + take));
        i += take;
        this.#remaining -= take;
        if (this.#remaining === 0) {
          this.#state = State.DataEnd;
          this.#remaining = 2;
        }
      } else if (this.#state === State.DataEnd) {
        const byte = bytes[i];
        i += 1;
        if (byte === 13 && this.#remaining === 2) {
          this.#remaining = 1;
        } else if (byte === 10) {
          this.#state = State.Size;
          framedEnd = i;
        } else {
          throw new ChunkedBodyError("a chunk's data is not followed by CRLF");
        }
      } else {
        const newline = bytes.indexOf(10, i);
        const stop = newline === -1 ? length : newline;
        this.#line += bytes.toString("latin1", i, stop);
        if (this.#line.length > MAX_LINE)
          throw new ChunkedBodyError("a chunk size or trailer line is too long");
        if (newline === -1) break;
        i = newline + 1;
        const line = this.#line.endsWith("\r") ? this.#line.slice(0, -1) : this.#line;
        this.#line = "";
        if (this.#state === State.Trailer) {
          if (line === "") this.#state = State.Done;
          continue;
        }
        const size = SIZE.exec(line);
        if (!size) throw new ChunkedBodyError(`invalid chunk size line ${JSON.stringify(line.slice(0, 40))}`);
        this.#remaining = Number.parseInt(size[1]!, 16);
        this.#state = this.#remaining === 0 ? State.Trailer : State.Data;
      }
    }
    return { framedEnd, end: this.#state === State.Done ? i : -1 };
  }
}
