const LF = 10;

/**
 * Leaves out of an SSE stream the events that begin with `prefix` (the model service's
 * `: usage {…}` comment, which the public API asks for to meter a stream but its clients must not
 * see), whatever runs of payload the stream arrives in: split anywhere, events in a run together.
 *
 * `pass` is the hot path, called with each run of payload: true when the run goes out whole as it
 * came (no omitted event in it, nothing held back at its end), found with one native search per
 * arrival and without allocating; false when the run must go through `cut`, which hands on the
 * pieces kept. An event starts after a blank line ("\n\n"), and JSON data lines hold no raw newline,
 * so an answer's text that reads like the prefix is not taken for it.
 */
export class SseEventOmitter {
  readonly #prefix: Buffer;
  /** The last two payload bytes before what is looked at next (both LF: an event starts there). */
  #last = LF;
  #beforeLast = LF;
  /** Bytes of `prefix` held back at the end of the payload seen: an event that may be an omitted one. */
  #held = 0;
  /** Inside an omitted event, until its blank line. */
  #omitting = false;
  /** The buffer last searched, from where, and where the prefix is next in it (-1: nowhere). */
  #searched: Buffer | undefined;
  #searchedFrom = 0;
  #found = -1;

  constructor(prefix: Buffer) {
    if (prefix.length === 0 || prefix.includes(LF)) throw new TypeError("invalid event prefix");
    this.#prefix = prefix;
  }

  /** Whether `bytes` from `start` to `end` go out whole; when false, give the run to `cut`. */
  pass(bytes: Buffer, start: number, end: number): boolean {
    if (this.#held > 0 || this.#omitting) return false;
    if (this.#hit(bytes, start, end) !== -1 || this.#heldAtEnd(bytes, start, end) > 0) return false;
    this.#remember(bytes, start, end);
    return true;
  }

  /** Hands on the pieces of a run that are kept (`emit`'s bytes are only valid during the call). */
  cut(bytes: Buffer, start: number, end: number, emit: (bytes: Buffer, start: number, end: number) => void) {
    const prefix = this.#prefix;
    let i = start;
    if (this.#held > 0) {
      let k = this.#held;
      while (k < prefix.length && i < end && bytes[i] === prefix[k]) {
        k++;
        i++;
      }
      if (k === prefix.length) {
        // The held bytes began an omitted event: they go with it.
        this.#held = 0;
        this.#omitting = true;
        this.#last = 0;
      } else if (i === end) {
        this.#held = k;
        return;
      } else {
        // Not the event after all: what was held goes out, and the run is read from its start.
        emit(prefix, 0, this.#held);
        this.#last = prefix[this.#held - 1]!;
        this.#beforeLast = 0;
        this.#held = 0;
        i = start;
      }
    }
    while (i < end) {
      if (this.#omitting) {
        i = this.#skipEvent(bytes, i, end);
        continue;
      }
      const hit = this.#hit(bytes, i, end);
      if (hit === -1) {
        const held = this.#heldAtEnd(bytes, i, end);
        if (end - held > i) {
          emit(bytes, i, end - held);
          this.#remember(bytes, i, end - held);
        }
        this.#held = held;
        return;
      }
      if (hit > i) emit(bytes, i, hit);
      this.#omitting = true;
      this.#last = 0;
      i = hit + prefix.length;
    }
  }

  /** What is still held back when the stream ends (it ended inside what looked like the prefix). */
  flush(): Buffer | undefined {
    const held = this.#held;
    this.#held = 0;
    return held > 0 ? Buffer.from(this.#prefix.subarray(0, held)) : undefined;
  }

  /** Past an omitted event's end (its blank line) in the run, or the run's end. */
  #skipEvent(bytes: Buffer, from: number, end: number): number {
    for (let i = from; i < end; i++) {
      const byte = bytes[i]!;
      if (byte === LF && this.#last === LF) {
        this.#omitting = false;
        this.#beforeLast = LF;
        return i + 1;
      }
      this.#last = byte;
    }
    return end;
  }

  /** Where an omitted event starts in the run, or -1. */
  #hit(bytes: Buffer, from: number, end: number): number {
    let found: number;
    if (this.#searched === bytes && this.#searchedFrom <= from && (this.#found === -1 || this.#found >= from))
      found = this.#found;
    else found = this.#search(bytes, from);
    while (found !== -1 && found < end) {
      if (this.#startsEvent(bytes, from, found)) return found;
      found = this.#search(bytes, found + 1);
    }
    return -1;
  }

  #search(bytes: Buffer, from: number): number {
    this.#searched = bytes;
    this.#searchedFrom = from;
    this.#found = bytes.indexOf(this.#prefix, from);
    return this.#found;
  }

  /** Whether `at` (in the run that starts at `from`) follows a blank line. */
  #startsEvent(bytes: Buffer, from: number, at: number): boolean {
    const last = at - 1 >= from ? bytes[at - 1] : this.#last;
    const beforeLast = at - 2 >= from ? bytes[at - 2] : at - 1 >= from ? this.#last : this.#beforeLast;
    return last === LF && beforeLast === LF;
  }

  /** How many bytes at the run's end begin what may be an omitted event (0 almost always). */
  #heldAtEnd(bytes: Buffer, from: number, end: number): number {
    // An event's end, the usual end of a run.
    if (bytes[end - 1] === LF) return 0;
    const prefix = this.#prefix;
    let lineStart = end - 1;
    const limit = Math.max(from, end - (prefix.length - 1));
    while (lineStart > limit && bytes[lineStart - 1] !== LF) lineStart--;
    if (lineStart > from && bytes[lineStart - 1] !== LF) return 0;
    if (!this.#startsEvent(bytes, from, lineStart)) return 0;
    const length = end - lineStart;
    if (length >= prefix.length) return 0;
    for (let i = 0; i < length; i++) if (bytes[lineStart + i] !== prefix[i]) return 0;
    return length;
  }

  #remember(bytes: Buffer, from: number, to: number): void {
    if (to - from >= 2) {
      this.#beforeLast = bytes[to - 2]!;
      this.#last = bytes[to - 1]!;
    } else if (to > from) {
      this.#beforeLast = this.#last;
      this.#last = bytes[to - 1]!;
    }
  }
}
