import { normaliseForMatching } from "./normalise-text.js";
import {
  type FilterAction,
  type FilterHit,
  maskText,
  type SensitiveWordFilter,
} from "./sensitive-word-filter.js";

/** Options of a {@link StreamMasker}. */
export interface StreamMaskerOptions {
  /** The actions whose words are masked. Default `["mask"]`. */
  maskActions?: readonly FilterAction[];
  /**
   * The most characters held back (default 1024): separators may stand between a word's characters,
   * so a long run of them (spaces, punctuation, emoji) would otherwise wait for the next letter.
   */
  maxHeldChars?: number;
}

const ASCII_ALNUM = /[A-Za-z0-9]/;

/**
 * Masks a text that arrives in pieces (a model's streamed answer): a word split across two pieces,
 * or spread over them with separators (`敏` + ` 感词`), is still masked. Text that could be the
 * start of a word is held back until more arrives or {@link StreamMasker.flush}; everything before
 * it is handed out at once. Hits are reported to the filter's `onHits` once each.
 *
 * @example
 * const masker = new StreamMasker(filter, { maskActions: ["block", "drop", "mask"] });
 * for await (const delta of answer) send(masker.push(delta));
 * send(masker.flush());
 */
export class StreamMasker {
  readonly #filter: SensitiveWordFilter;
  readonly #maskActions: readonly FilterAction[];
  readonly #maxHeld: number;
  /** Text received and not handed out yet. */
  #pending = "";
  /** The last character handed out: a Latin word must stand alone, so its neighbour matters. */
  #context = "";

  constructor(filter: SensitiveWordFilter, options: StreamMaskerOptions = {}) {
    this.#filter = filter;
    this.#maskActions = options.maskActions ?? ["mask"];
    this.#maxHeld = Math.max(0, options.maxHeldChars ?? 1024);
  }

  /** Adds a piece; returns the masked text that can be handed out now (maybe ""). */
  push(text: string): string {
    this.#pending += text;
    if (this.#pending === "") return "";
    const pending = this.#pending;
    const offset = this.#context.length;
    const hits = this.#hits(this.#context + pending, offset);
    let cut = Math.max(this.#safeCut(pending), pending.length - this.#maxHeld);
    // Never cut through a masked word: hold it back whole, it is found again next time.
    for (let moved = true; moved; ) {
      moved = false;
      for (const hit of hits) {
        if (hit.start < offset + cut && hit.end > offset + cut) {
          cut = Math.max(0, hit.start - offset);
          moved = true;
        }
      }
    }
    // Never split a surrogate pair.
    if (cut > 0 && cut < pending.length && isHighSurrogate(pending.charCodeAt(cut - 1))) cut -= 1;
    return this.#emit(pending, offset, cut, hits);
  }

  /** Hands out whatever is held back, masked (call when the stream ends). */
  flush(): string {
    const pending = this.#pending;
    if (pending === "") {
      this.#context = "";
      return "";
    }
    const offset = this.#context.length;
    const out = this.#emit(pending, offset, pending.length, this.#hits(this.#context + pending, offset));
    this.#context = "";
    return out;
  }

  /**
   * Hits in context + pending that start in pending: the context only decides word boundaries
   * (a word that began in text already handed out was complete, and was found, back then).
   */
  #hits(text: string, offset: number): FilterHit[] {
    return this.#filter.check(text, { countHits: false }).hits.filter((hit) => hit.start >= offset);
  }

  /** Where `pending` can be cut so that no word still being written starts before the cut. */
  #safeCut(pending: string): number {
    const longest = this.#filter.longestWord;
    if (longest === 0) return pending.length;
    const normalised = normaliseForMatching(pending);
    // A word not yet complete starts within the last (longest - 1) normalised units.
    const first = normalised.length - (longest - 1);
    let cut = first >= normalised.length ? pending.length : first <= 0 ? 0 : normalised.starts[first]!;
    // A Latin word at the very end may go on in the next piece ("ass" + "et"): hold it back.
    let run = pending.length;
    while (run > 0 && ASCII_ALNUM.test(pending[run - 1]!)) run -= 1;
    if (run < pending.length && pending.length - run <= longest) cut = Math.min(cut, run);
    return cut;
  }

  #emit(pending: string, offset: number, cut: number, hits: readonly FilterHit[]): string {
    const emitted = pending.slice(0, cut);
    // Hits ending before the cut are final: mask them in the emitted part and count them once.
    const final = hits.filter((hit) => hit.end <= offset + cut);
    this.#filter.recordHits(final);
    const out = maskText(
      emitted,
      final
        .filter((hit) => this.#maskActions.includes(hit.action))
        .map((hit) => ({ ...hit, start: hit.start - offset, end: hit.end - offset })),
    );
    if (cut > 0) {
      const last = emitted.charCodeAt(cut - 1);
      this.#context = cut >= 2 && isLowSurrogate(last) ? emitted.slice(cut - 2) : emitted.slice(cut - 1);
    }
    this.#pending = pending.slice(cut);
    return out;
  }
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
