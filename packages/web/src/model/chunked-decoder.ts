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
/** More hex digits than this is a size no answer has (16^12 bytes is 256 TiB). */
const MAX_DIGITS = 12;

const CR = 13;
const LF = 10;

/** The value of a hex digit's byte, or -1. */
function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/**
 * Decodes a chunked body (RFC 9112, section 7.1) as its bytes arrive, in any split, without
 * allocating: each run of payload goes to `onPayload` as a range of the buffer. Knowing where each
 * chunk ends is also what lets a relay pass the framed bytes on unchanged, whole chunks only, and
 * stop before the final one. After each `push`:
 * - `framedEnd`: the bytes of the buffer before it end with a whole chunk (size line, payload,
 *   CRLF); passed on as they are, what was passed stays a valid chunked body whatever follows. While
 *   the body has not ended, the bytes after it are the start of a chunk not yet complete.
 * - `end`: the offset just past the body's last byte (its final chunk and trailers), or -1.
 */
export class ChunkedDecoder {
  framedEnd = 0;
  end = -1;
  #state = State.Size;
  /** Payload bytes left in the current chunk; in DataEnd, the CRLF bytes left after it. */
  #remaining = 0;
  /** The size line or trailer line being read. */
  #size = 0;
  #digits = 0;
  #afterDigits = false;
  #inExtension = false;
  #sawCr = false;
  #lineLength = 0;

  get done(): boolean {
    return this.#state === State.Done;
  }

  push(bytes: Buffer, onPayload?: (bytes: Buffer, start: number, end: number) => void): void {
    const length = bytes.length;
    let framedEnd = 0;
    let i = 0;
    while (i < length && this.#state !== State.Done) {
      if (this.#state === State.Data) {
        const take = Math.min(this.#remaining, length - i);
        onPayload?.(bytes, i, i + take);
        i += take;
        this.#remaining -= take;
        if (this.#remaining === 0) {
          this.#state = State.DataEnd;
          this.#remaining = 2;
        }
        continue;
      }
      const byte = bytes[i]!;
      i += 1;
      if (this.#state === State.DataEnd) {
        if (byte === CR && this.#remaining === 2) {
          this.#remaining = 1;
        } else if (byte === LF) {
          this.#state = State.Size;
          framedEnd = i;
        } else {
          throw new ChunkedBodyError("a chunk's data is not followed by CRLF");
        }
      } else if (byte === LF) {
        this.#lineEnded();
      } else if (this.#sawCr) {
        throw new ChunkedBodyError("a CR in a chunk size or trailer line is not followed by LF");
      } else if (byte === CR) {
        this.#sawCr = true;
      } else if (++this.#lineLength > MAX_LINE) {
        throw new ChunkedBodyError("a chunk size or trailer line is too long");
      } else if (this.#state === State.Size && !this.#inExtension) {
        this.#sizeByte(byte);
      }
    }
    this.framedEnd = framedEnd;
    this.end = this.#state === State.Done ? i : -1;
  }

  #sizeByte(byte: number): void {
    const value = hexValue(byte);
    if (value !== -1 && !this.#afterDigits) {
      if (++this.#digits > MAX_DIGITS) throw new ChunkedBodyError("a chunk size is too large");
      this.#size = this.#size * 16 + value;
    } else if ((byte === 32 || byte === 9) && this.#digits > 0) {
      this.#afterDigits = true;
    } else if (byte === 59 && this.#digits > 0) {
      this.#inExtension = true;
    } else {
      throw new ChunkedBodyError("invalid chunk size line");
    }
  }

  #lineEnded(): void {
    const lineLength = this.#lineLength;
    this.#lineLength = 0;
    this.#sawCr = false;
    if (this.#state === State.Trailer) {
      if (lineLength === 0) this.#state = State.Done;
      return;
    }
    if (this.#digits === 0) throw new ChunkedBodyError("invalid chunk size line");
    this.#remaining = this.#size;
    this.#state = this.#size === 0 ? State.Trailer : State.Data;
    this.#size = 0;
    this.#digits = 0;
    this.#afterDigits = false;
    this.#inExtension = false;
  }
}
