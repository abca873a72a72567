import { readFileSync, statSync, unwatchFile, watchFile } from "node:fs";
import { HearthError } from "@hearth/core";
import { AhoCorasick } from "./aho-corasick.js";
import { normaliseForMatching, normaliseWord } from "./normalise-text.js";

/** What a hit on a list does: refuse the query, drop the result, mask the words, or only count (flag). */
export type FilterAction = "block" | "drop" | "mask" | "flag";

/** A word list: words given inline, or a file (one entry a line, `#` comments) reloaded when it changes. */
export interface WordListSource {
  id: string;
  action: FilterAction;
  words?: readonly string[];
  file?: string;
}

export interface SensitiveWordFilterOptions {
  lists: readonly WordListSource[];
  /** How often list files are checked for changes (ms); 0 turns reloading off. Default 2000. */
  reloadIntervalMs?: number;
  /** Called with hit counts per list, for metrics. Never receives the matched text. */
  onHits?: (listId: string, action: FilterAction, count: number) => void;
  /** Called when a list file could not be reloaded (the previous words stay in force). */
  onReloadError?: (listId: string, error: Error) => void;
  /** Called after a list file was reloaded. */
  onReload?: (listId: string, words: number) => void;
}

/** One occurrence of a listed word, as positions in the checked text (never the text itself). */
export interface FilterHit {
  list: string;
  action: FilterAction;
  start: number;
  end: number;
}

export interface FilterVerdict {
  hits: FilterHit[];
  /** A `block` list matched: refuse the query. */
  blocked: boolean;
  /** A `drop` list matched: remove the result. */
  dropped: boolean;
  /** Ids of `flag` lists that matched. */
  flagged: string[];
  /** The text with the words of `mask` lists replaced by `*`, one per character. */
  masked: string;
}

interface CompiledList {
  source: WordListSource;
  words: string[];
  mtimeMs: number;
}

interface Compiled {
  automaton: AhoCorasick;
  /** pattern index -> list index */
  owners: number[];
  /** pattern index -> whether it is Latin letters/digits only (needs word boundaries) */
  latin: boolean[];
}

const LATIN_WORD = /^[a-z0-9]+$/;
const ASCII_ALNUM = /[A-Za-z0-9]/;

/**
 * The sensitive-word filter: Aho-Corasick over normalised text (NFKC, full/half width, case,
 * traditional to simplified, separators inserted between characters removed). Usable on queries,
 * results, fetched pages and model output alike.
 *
 * @example
 * const filter = createSensitiveWordFilter({ lists: [{ id: "abuse", action: "mask", file: "/etc/hearth/abuse.txt" }] });
 * const verdict = filter.check(modelOutput);
 * if (verdict.blocked) refuse(); else send(verdict.masked);
 */
export function createSensitiveWordFilter(options: SensitiveWordFilterOptions): SensitiveWordFilter {
  return new SensitiveWordFilter(options);
}

export class SensitiveWordFilter {
  readonly #options: SensitiveWordFilterOptions;
  readonly #lists: CompiledList[];
  #compiled: Compiled;
  readonly #watched: string[] = [];

  /** Throws SEARCH_WORD_LIST_UNREADABLE when a list file cannot be read. */
  constructor(options: SensitiveWordFilterOptions) {
    this.#options = options;
    this.#lists = options.lists.map((source) => {
      if (source.file) {
        const { words, mtimeMs } = readWordFile(source);
        return { source, words, mtimeMs };
      }
      return { source, words: (source.words ?? []).map(normaliseWord).filter(Boolean), mtimeMs: 0 };
    });
    this.#compiled = compile(this.#lists);
    const interval = options.reloadIntervalMs ?? 2000;
    if (interval > 0) {
      this.#lists.forEach((list, index) => {
        const file = list.source.file;
        if (!file) return;
        watchFile(file, { interval, persistent: false }, (current) => {
          if (current.mtimeMs !== this.#lists[index]!.mtimeMs) this.#reload(index);
        });
        this.#watched.push(file);
      });
    }
  }

  /** Number of words in force per list id. */
  get wordCounts(): Record<string, number> {
    return Object.fromEntries(this.#lists.map((list) => [list.source.id, list.words.length]));
  }

  /** Whether any list has an action of this kind (e.g. skip work when nothing can block). */
  hasAction(action: FilterAction): boolean {
    return this.#lists.some((list) => list.source.action === action && list.words.length > 0);
  }

  /** Checks a text against every list. */
  check(text: string): FilterVerdict {
    const normalised = normaliseForMatching(text);
    const { automaton, owners, latin } = this.#compiled;
    const hits: FilterHit[] = [];
    const counts = new Map<number, number>();
    for (const match of automaton.findAll(normalised.units, normalised.length)) {
      const start = normalised.starts[match.start]!;
      const end = normalised.ends[match.end - 1]!;
      // A Latin word must stand alone in the original text: "ass" must not hit "class".
      if (
        latin[match.pattern] &&
        (ASCII_ALNUM.test(text[start - 1] ?? "") || ASCII_ALNUM.test(text[end] ?? ""))
      )
        continue;
      const listIndex = owners[match.pattern]!;
      const list = this.#lists[listIndex]!.source;
      hits.push({ list: list.id, action: list.action, start, end });
      counts.set(listIndex, (counts.get(listIndex) ?? 0) + 1);
    }
    for (const [listIndex, count] of counts) {
      const list = this.#lists[listIndex]!.source;
      this.#options.onHits?.(list.id, list.action, count);
    }
    return {
      hits,
      blocked: hits.some((hit) => hit.action === "block"),
      dropped: hits.some((hit) => hit.action === "drop"),
      flagged: [...new Set(hits.filter((hit) => hit.action === "flag").map((hit) => hit.list))],
      masked: mask(
        text,
        hits.filter((hit) => hit.action === "mask"),
      ),
    };
  }

  /** Stops watching list files. */
  close(): void {
    for (const file of this.#watched) unwatchFile(file);
    this.#watched.length = 0;
  }

  #reload(index: number): void {
    const list = this.#lists[index]!;
    try {
      const { words, mtimeMs } = readWordFile(list.source);
      this.#lists[index] = { source: list.source, words, mtimeMs };
      this.#compiled = compile(this.#lists);
      this.#options.onReload?.(list.source.id, words.length);
    } catch (error) {
      this.#options.onReloadError?.(list.source.id, error as Error);
    }
  }
}

function readWordFile(source: WordListSource): { words: string[]; mtimeMs: number } {
  try {
    const mtimeMs = statSync(source.file!).mtimeMs;
    const words = readFileSync(source.file!, "utf8")
      .replace(/^\uFEFF/, "")
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"))
      .map(normaliseWord)
      .filter(Boolean);
    return { words, mtimeMs };
  } catch (error) {
    throw new HearthError(
      "SEARCH_WORD_LIST_UNREADABLE",
      `word list "${source.id}" (${source.file}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { cause: error },
    );
  }
}

function compile(lists: readonly CompiledList[]): Compiled {
  const patterns: string[] = [];
  const owners: number[] = [];
  const latin: boolean[] = [];
  lists.forEach((list, listIndex) => {
    for (const word of list.words) {
      patterns.push(word);
      owners.push(listIndex);
      latin.push(LATIN_WORD.test(word));
    }
  });
  return { automaton: new AhoCorasick(patterns), owners, latin };
}

function mask(text: string, hits: readonly FilterHit[]): string {
  if (hits.length === 0) return text;
  // Merge the hit ranges, then replace each range's characters (not its spaces) with one * each.
  const ranges = hits.map((hit) => [hit.start, hit.end] as [number, number]).sort((a, b) => a[0] - b[0]);
  const parts: string[] = [];
  let copied = 0;
  let current = ranges[0]!;
  const flush = ([start, end]: [number, number]) => {
    parts.push(text.slice(copied, start));
    for (const character of text.slice(start, end)) parts.push(/\s/.test(character) ? character : "*");
    copied = end;
  };
  for (const range of ranges.slice(1)) {
    if (range[0] <= current[1]) current = [current[0], Math.max(current[1], range[1])];
    else {
      flush(current);
      current = range;
    }
  }
  flush(current);
  parts.push(text.slice(copied));
  return parts.join("");
}
