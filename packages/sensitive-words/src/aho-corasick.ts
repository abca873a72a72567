/** A match: pattern index and the [start, end) range in the searched units. */
export interface AutomatonMatch {
  pattern: number;
  start: number;
  end: number;
}

/**
 * Aho-Corasick multi-pattern matcher (Aho and Corasick, 1975) over UTF-16 units: one pass over
 * the text finds every occurrence of every pattern, whatever the number of patterns.
 *
 * Transitions live in one open-addressing hash table keyed by (state, unit) in typed arrays,
 * the root's in a dense table, and units that occur in no pattern reset to the root at once:
 * Chinese word lists have thousands of distinct characters, too many for a dense table per state.
 */
export class AhoCorasick {
  readonly #lengths: Int32Array;
  /** Units that occur in some pattern. */
  readonly #alphabet = new Uint8Array(0x10000);
  /** The root's transitions (state + 1; 0 = none). */
  readonly #root = new Int32Array(0x10000);
  #tableMask = 0;
  #tableStates: Int32Array = new Int32Array(0);
  #tableUnits: Int32Array = new Int32Array(0);
  #tableTargets: Int32Array = new Int32Array(0);
  #fail: Int32Array = new Int32Array(1);
  /** Patterns ending at each state, including those reached through failure links (CSR layout). */
  #outputStart: Int32Array = new Int32Array(2);
  #outputPatterns: Int32Array = new Int32Array(0);
  readonly stateCount: number;

  constructor(patterns: readonly string[]) {
    this.#lengths = Int32Array.from(patterns, (pattern) => pattern.length);
    // Build the trie with Maps first; it is flattened once below.
    const children: Array<Map<number, number>> = [new Map()];
    const ends: number[][] = [[]];
    patterns.forEach((pattern, index) => {
      if (pattern.length === 0) return;
      let state = 0;
      for (let i = 0; i < pattern.length; i++) {
        const unit = pattern.charCodeAt(i);
        this.#alphabet[unit] = 1;
        let target = children[state]!.get(unit);
        if (target === undefined) {
          target = children.length;
          children.push(new Map());
          ends.push([]);
          children[state]!.set(unit, target);
        }
        state = target;
      }
      ends[state]!.push(index);
    });
    this.stateCount = children.length;
    this.#flatten(children);

    // Failure links and merged outputs, breadth first.
    const fail = new Int32Array(children.length);
    const queue: number[] = [];
    for (const target of children[0]!.values()) queue.push(target);
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      for (const [unit, target] of children[state]!) {
        let f = fail[state]!;
        while (f !== 0 && this.#step(f, unit) < 0) f = fail[f]!;
        const candidate = this.#step(f, unit);
        fail[target] = candidate >= 0 && candidate !== target ? candidate : 0;
        const inherited = ends[fail[target]!]!;
        if (inherited.length > 0) ends[target] = [...ends[target]!, ...inherited];
        queue.push(target);
      }
    }
    this.#fail = fail;
    const outputStart = new Int32Array(children.length + 1);
    let total = 0;
    for (let state = 0; state < children.length; state++) {
      outputStart[state] = total;
      total += ends[state]!.length;
    }
    outputStart[children.length] = total;
    const outputPatterns = new Int32Array(total);
    for (let state = 0; state < children.length; state++)
      outputPatterns.set(ends[state]!, outputStart[state]!);
    this.#outputStart = outputStart;
    this.#outputPatterns = outputPatterns;
  }

  #flatten(children: Array<Map<number, number>>): void {
    let transitions = 0;
    for (const map of children) transitions += map.size;
    let size = 16;
    while (size < transitions * 2) size *= 2;
    this.#tableMask = size - 1;
    this.#tableStates = new Int32Array(size).fill(-1);
    this.#tableUnits = new Int32Array(size);
    this.#tableTargets = new Int32Array(size);
    children.forEach((map, state) => {
      for (const [unit, target] of map) {
        if (state === 0) {
          this.#root[unit] = target + 1;
          continue;
        }
        let slot = hashSlot(state, unit, this.#tableMask);
        while (this.#tableStates[slot] !== -1) slot = (slot + 1) & this.#tableMask;
        this.#tableStates[slot] = state;
        this.#tableUnits[slot] = unit;
        this.#tableTargets[slot] = target;
      }
    });
  }

  /** The goto function: the next state, or -1 when there is no edge. */
  #step(state: number, unit: number): number {
    if (state === 0) return this.#root[unit]! - 1;
    const states = this.#tableStates;
    let slot = hashSlot(state, unit, this.#tableMask);
    for (;;) {
      const at = states[slot]!;
      if (at === -1) return -1;
      if (at === state && this.#tableUnits[slot] === unit) return this.#tableTargets[slot]!;
      slot = (slot + 1) & this.#tableMask;
    }
  }

  /** Every occurrence of every pattern in `text` (a string, or the first `length` units of an array). */
  findAll(text: string | Uint16Array, length = text.length): AutomatonMatch[] {
    const units = typeof text === "string" ? toUnits(text) : text;
    const matches: AutomatonMatch[] = [];
    const alphabet = this.#alphabet;
    const fail = this.#fail;
    const outputStart = this.#outputStart;
    const outputPatterns = this.#outputPatterns;
    const lengths = this.#lengths;
    let state = 0;
    for (let i = 0; i < length; i++) {
      const unit = units[i]!;
      if (alphabet[unit] === 0) {
        state = 0;
        continue;
      }
      let target = this.#step(state, unit);
      while (target < 0 && state !== 0) {
        state = fail[state]!;
        target = this.#step(state, unit);
      }
      state = Math.max(target, 0);
      const from = outputStart[state]!;
      const to = outputStart[state + 1]!;
      for (let j = from; j < to; j++) {
        const pattern = outputPatterns[j]!;
        matches.push({ pattern, start: i + 1 - lengths[pattern]!, end: i + 1 });
      }
    }
    return matches;
  }
}

function hashSlot(state: number, unit: number, mask: number): number {
  let hash = Math.imul(state, 0x9e3779b1) ^ unit;
  hash ^= hash >>> 15;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return hash & mask;
}

function toUnits(text: string): Uint16Array {
  const units = new Uint16Array(text.length);
  for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i);
  return units;
}
