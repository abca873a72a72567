/**
 * The sensitive-word filter applied to chat input and output. Matching is case-insensitive on
 * NFKC-normalised text, so full-width and half-width forms of a word match alike.
 * (The search service has its own filter for results; the lead may point both at one library.)
 */
export class SensitiveWordFilter {
  readonly #words: string[];
  readonly longest: number;

  constructor(words: readonly string[]) {
    this.#words = [...new Set(words.map((w) => w.normalize("NFKC").toLowerCase()).filter(Boolean))].sort(
      (a, b) => b.length - a.length,
    );
    this.longest = this.#words[0]?.length ?? 0;
  }

  get empty(): boolean {
    return this.#words.length === 0;
  }

  /** The first blocked word found in the text, if any. */
  find(text: string): string | undefined {
    if (this.empty) return undefined;
    const haystack = text.normalize("NFKC").toLowerCase();
    return this.#words.find((word) => haystack.includes(word));
  }

  /** Replaces each blocked word by asterisks of the same length. */
  mask(text: string): string {
    if (this.empty) return text;
    let result = text.normalize("NFKC");
    const lower = result.toLowerCase();
    if (lower.length !== result.length) return result;
    const marks = new Uint8Array(result.length);
    for (const word of this.#words) {
      let index = lower.indexOf(word);
      while (index !== -1) {
        marks.fill(1, index, index + word.length);
        index = lower.indexOf(word, index + 1);
      }
    }
    if (!marks.includes(1)) return result;
    result = Array.from(result, (char, i) => (marks[i] ? "*" : char)).join("");
    return result;
  }
}

/**
 * Masks a streamed answer: keeps back the last (longest word - 1) characters until more text
 * arrives, so a word split across two deltas is still caught.
 */
export class StreamMasker {
  #pending = "";
  constructor(readonly filter: SensitiveWordFilter) {}

  push(text: string): string {
    if (this.filter.empty) return text;
    this.#pending += text;
    const keep = Math.max(0, this.filter.longest - 1);
    const masked = this.filter.mask(this.#pending);
    if (masked.length <= keep) return "";
    const out = masked.slice(0, masked.length - keep);
    this.#pending = this.#pending.normalize("NFKC").slice(masked.length - keep);
    return out;
  }

  flush(): string {
    const out = this.filter.mask(this.#pending);
    this.#pending = "";
    return out;
  }
}
