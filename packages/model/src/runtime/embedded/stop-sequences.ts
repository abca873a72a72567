/**
 * Stop sequences matched on the generated text, as the OpenAI and Ollama APIs define them. (llama.cpp's
 * own stop triggers, through node-llama-cpp, tokenize a string such as " happy" into a space piece
 * and a word piece that a SentencePiece model never generates in a row, so they can miss.) Text that
 * could be the start of a stop sequence is held back until it is clear.
 */
export class StopSequences {
  readonly #stops: string[];
  #held = "";
  #stopped = false;

  constructor(stops: string[]) {
    this.#stops = stops.filter((stop) => stop.length > 0);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Returns the text that can be sent now; after a stop sequence, nothing more. */
  push(text: string): string {
    if (this.#stopped) return "";
    const buffer = this.#held + text;
    let cut = -1;
    for (const stop of this.#stops) {
      const index = buffer.indexOf(stop);
      if (index >= 0 && (cut < 0 || index < cut)) cut = index;
    }
    if (cut >= 0) {
      this.#stopped = true;
      this.#held = "";
      return buffer.slice(0, cut);
    }
    let keep = 0;
    for (const stop of this.#stops) {
      for (let length = Math.min(stop.length - 1, buffer.length); length > keep; length--) {
        if (buffer.endsWith(stop.slice(0, length))) {
          keep = length;
          break;
        }
      }
    }
    this.#held = buffer.slice(buffer.length - keep);
    return buffer.slice(0, buffer.length - keep);
  }

  /** What was held back, at the end of generation. */
  flush(): string {
    const rest = this.#stopped ? "" : this.#held;
    this.#held = "";
    return rest;
  }
}
