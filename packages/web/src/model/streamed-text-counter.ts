const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const U = 0x75;

/**
 * The keys whose string values are the model's output in OpenAI's stream chunks: a chat delta's
 * answer and reasoning (`reasoning_content` ends in `content` but is a key of its own), a tool
 * call's arguments, a text completion's text.
 */
export const COUNTED_KEYS = ["content", "reasoning_content", "arguments", "text"] as const;

/** A key's hash as the counter computes it while reading the key's bytes (ASCII keys). */
export function keyHash(key: string): number {
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (Math.imul(hash, 31) + key.charCodeAt(i)) | 0;
  return hash;
}

const COUNTED = new Set(COUNTED_KEYS.map(keyHash));

/**
 * Counts the characters of the model's output in an SSE stream of OpenAI chunks as it is relayed
 * (the answer, reasoning, tool-call arguments and completion text: the string values of
 * `COUNTED_KEYS`), to estimate the completion tokens of a stream that reported no usage: one the
 * client stopped, or that broke off. What is counted is what was passed on, not the events' framing
 * and JSON around it.
 *
 * On the streaming hot path: one pass over the payload's bytes with a few comparisons each, no
 * allocation and no JSON parsing; the state carries over between runs, so a stream split anywhere
 * counts the same. A character is a UTF-8 character, or one JSON escape (`\n`, `\"`, `\u4e2d`).
 * A string value is counted when it follows a key of `COUNTED_KEYS` and a colon; keys are told apart
 * by a hash of their bytes (the keys of OpenAI's chunks do not collide with the counted ones). A
 * line feed is never inside a JSON string, so each SSE line starts outside one: a line that is not
 * JSON cannot carry a wrong state into the next.
 */
export class StreamedTextCounter {
  /** Characters of counted values seen so far. */
  chars = 0;
  /** Of them, wide characters (U+0800 and above: three or four bytes in UTF-8; see TextSize). */
  wide = 0;
  #inString = false;
  /** Inside a counted value. */
  #counting = false;
  /** Bytes of an escape still to skip: 1 after a backslash, then 4 more for `\u`. */
  #skip = 0;
  /** The hash of the string being read (a key, or a value not counted). */
  #hash = 0;
  /** The last string read outside a value being counted was a counted key. */
  #countedKey = false;
  /** A colon, then only whitespace, since the last string: the next string is a value. */
  #afterColon = false;

  /** Counts `bytes` from `start` to `end`. */
  push(bytes: Buffer, start: number, end: number): void {
    let chars = this.chars;
    let wide = this.wide;
    let inString = this.#inString;
    let counting = this.#counting;
    let skip = this.#skip;
    let hash = this.#hash;
    for (let i = start; i < end; i++) {
      const byte = bytes[i]!;
      if (byte === LF) {
        // A raw line feed is never inside a JSON string: a new SSE line begins outside any.
        inString = false;
        counting = false;
        skip = 0;
        this.#afterColon = false;
        continue;
      }
      if (inString) {
        if (skip > 0) {
          if (skip === 1 && byte === U) skip = 5;
          skip--;
        } else if (byte === BACKSLASH) {
          skip = 1;
          if (counting) chars++;
        } else if (byte === QUOTE) {
          inString = false;
          if (!counting) this.#countedKey = COUNTED.has(hash);
          counting = false;
        } else if (counting) {
          // UTF-8: every byte but a continuation byte begins a character; 0xE0 and above, a wide one.
          if ((byte & 0xc0) !== 0x80) {
            chars++;
            if (byte >= 0xe0) wide++;
          }
        } else hash = (Math.imul(hash, 31) + byte) | 0;
      } else if (byte === QUOTE) {
        inString = true;
        counting = this.#afterColon && this.#countedKey;
        this.#countedKey = false;
        this.#afterColon = false;
        hash = 0;
      } else if (byte === COLON) this.#afterColon = true;
      else if (byte !== SPACE && byte !== TAB && byte !== CR) this.#afterColon = false;
    }
    this.chars = chars;
    this.wide = wide;
    this.#inString = inString;
    this.#counting = counting;
    this.#skip = skip;
    this.#hash = hash;
  }
}
