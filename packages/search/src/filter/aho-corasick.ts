/** A match: pattern index and the [start, end) range in the searched string. */
export interface AutomatonMatch {
  pattern: number;
  start: number;
  end: number;
}

/**
 * Aho-Corasick multi-pattern matcher (Aho and Corasick, 1975) over UTF-16 units: one pass over
 * the text finds every occurrence of every pattern, whatever the number of patterns.
 */
export class AhoCorasick {
  readonly #next: Map<number, number>[] = [new Map()];
  #fail: Int32Array = new Int32Array(1);
  /** Patterns ending at each state, including those reached through failure links. */
  #output: number[][] = [[]];
  readonly #lengths: number[];

  constructor(patterns: readonly string[]) {
    this.#lengths = patterns.map((pattern) => pattern.length);
    patterns.forEach((pattern, index) => {
      if (pattern.length === 0) return;
      let state = 0;
      for (let i = 0; i < pattern.length; i++) {
        const code = pattern.charCodeAt(i);
        let target = this.#next[state]!.get(code);
        if (target === undefined) {
          target = this.#next.length;
          this.#next.push(new Map());
          this.#output.push([]);
          this.#next[state]!.set(code, target);
        }
        state = target;
      }
      this.#output[state]!.push(index);
    });
    this.#buildFailureLinks();
  }

  #buildFailureLinks(): void {
    const fail = new Int32Array(this.#next.length);
    const queue: number[] = [];
    for (const target of this.#next[0]!.values()) queue.push(target);
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      for (const [code, target] of this.#next[state]!) {
        let f = fail[state]!;
        while (f !== 0 && !this.#next[f]!.has(code)) f = fail[f]!;
        const candidate = this.#next[f]!.get(code);
        fail[target] = candidate !== undefined && candidate !== target ? candidate : 0;
        const inherited = this.#output[fail[target]!]!;
        if (inherited.length > 0) this.#output[target] = [...this.#output[target]!, ...inherited];
        queue.push(target);
      }
    }
    this.#fail = fail;
  }

  get stateCount(): number {
    return this.#next.length;
  }

  /** Every occurrence of every pattern in `text`. */
  findAll(text: string): AutomatonMatch[] {
    const matches: AutomatonMatch[] = [];
    const next = this.#next;
    const fail = this.#fail;
    const output = this.#output;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      let target = next[state]!.get(code);
      while (target === undefined && state !== 0) {
        state = fail[state]!;
        target = next[state]!.get(code);
      }
      state = target ?? 0;
      const found = output[state]!;
      for (let j = 0; j < found.length; j++) {
        const pattern = found[j]!;
        matches.push({ pattern, start: i + 1 - this.#lengths[pattern]!, end: i + 1 });
      }
    }
    return matches;
  }
}
