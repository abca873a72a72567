import { readFileSync, stat, statSync } from "node:fs";
import { AhoCorasick } from "./aho-corasick.js";
import { normaliseForMatching, normaliseWord } from "./normalise-text.js";

/**
 * What a hit on a list does: refuse the text (`block`), remove the item it came in (`drop`),
 * replace the words with `*` (`mask`), or only count it (`flag`). The filter reports hits; what
 * refusing or removing means is the caller's business. An `allow` list holds longer words that
 * contain a listed one (手机密码 holding 机密): a hit that lies inside one of its words is no hit.
 */
export type FilterAction = "block" | "drop" | "mask" | "flag" | "allow";

/**
 * A word list: words given inline (`words`, replaceable at run time with
 * {@link SensitiveWordFilter.setWords}), or a UTF-8 file (`file`: one word or phrase a line,
 * `#` starts a comment line; UTF-16 with a byte order mark is read too) reloaded when it changes.
 */
export interface WordListSource {
  /** Names the list in hits, metrics and errors. */
  id: string;
  action: FilterAction;
  words?: readonly string[];
  file?: string;
}

/** Options of {@link createSensitiveWordFilter}. */
export interface SensitiveWordFilterOptions {
  /** The lists, checked together in one pass. */
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

/** What {@link SensitiveWordFilter.check} found in one text. */
export interface FilterVerdict {
  hits: FilterHit[];
  /** A `block` list matched: refuse the query. */
  blocked: boolean;
  /** A `drop` list matched: remove the result. */
  dropped: boolean;
  /** Ids of `flag` lists that matched. */
  flagged: string[];
  /**
   * The text with the words of `mask` lists (or of the lists whose action is in `maskActions`)
   * replaced by `*`, one per character; whitespace inside a masked phrase is kept.
   */
  masked: string;
}

/** Options of one {@link SensitiveWordFilter.check}. */
export interface CheckOptions {
  /** The actions whose words are masked in `masked`. Default `["mask"]`. */
  maskActions?: readonly FilterAction[];
  /**
   * Whether the hits are reported to `onHits`. Default true; callers that check the same text more
   * than once (a stream) pass false and report with {@link SensitiveWordFilter.recordHits}.
   */
  countHits?: boolean;
}

/**
 * A word list file could not be read, or is not UTF-8 text (at start: thrown by the constructor).
 * The message names the list, the file and the reason (an `fs` error code, or what to fix).
 */
export class WordListUnreadableError extends Error {
  readonly code = "WORD_LIST_UNREADABLE";
  constructor(
    readonly listId: string,
    readonly file: string,
    reason: string,
    options?: { cause: unknown },
  ) {
    super(`word list "${listId}" (${file}): ${reason}`, options);
    this.name = "WordListUnreadableError";
  }
}

/** Why a list file in a legacy encoding is refused, and what to do about it. */
const NOT_UNICODE =
  'not UTF-8 text (a file saved as GBK/GB18030, "ANSI" in Windows Notepad?): save it as UTF-8';

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
  /** The longest pattern, in normalised UTF-16 units. */
  longest: number;
}

const LATIN_WORD = /^[a-z0-9]+$/;
const ASCII_ALNUM = /[A-Za-z0-9]/;

/**
 * Creates a sensitive-word filter: Aho-Corasick over normalised text (NFKC, full/half width, case,
 * traditional to simplified, separators inserted between characters removed). Usable on queries,
 * results, fetched pages, user input and model output alike; {@link StreamMasker} masks a stream.
 *
 * @throws {WordListUnreadableError} when a list file cannot be read or is not UTF-8 text.
 * @example
 * const filter = createSensitiveWordFilter({ lists: [{ id: "abuse", action: "mask", file: "/etc/hearth/abuse.txt" }] });
 * const verdict = filter.check(modelOutput);
 * if (verdict.blocked) refuse(); else send(verdict.masked);
 */
export function createSensitiveWordFilter(options: SensitiveWordFilterOptions): SensitiveWordFilter {
  return new SensitiveWordFilter(options);
}

/**
 * The filter built by {@link createSensitiveWordFilter}. Word list files are watched (unless
 * `reloadIntervalMs` is 0) until {@link SensitiveWordFilter.close}.
 */
export class SensitiveWordFilter {
  readonly #options: SensitiveWordFilterOptions;
  readonly #lists: CompiledList[];
  #compiled: Compiled;
  #watcher: NodeJS.Timeout | undefined;

  /** @throws {WordListUnreadableError} when a list file cannot be read or is not UTF-8 text. */
  constructor(options: SensitiveWordFilterOptions) {
    this.#options = options;
    this.#lists = options.lists.map((source) => (source.file ? fileList(source) : inlineList(source)));
    this.#compiled = compile(this.#lists);
    const interval = options.reloadIntervalMs ?? 2000;
    const files = this.#lists.flatMap((list, index) => (list.source.file ? [index] : []));
    if (interval > 0 && files.length > 0) {
      // The modification time each file had when last looked at, starting from the one its words
      // were read at: a change made at any moment after the read is seen on the next look.
      const seen = new Map(files.map((index) => [index, this.#lists[index]!.mtimeMs]));
      this.#watcher = setInterval(() => {
        for (const index of files) {
          stat(this.#lists[index]!.source.file!, (error, current) => {
            const mtimeMs = error ? Number.NaN : current.mtimeMs;
            if (Object.is(mtimeMs, seen.get(index))) return;
            seen.set(index, mtimeMs);
            if (this.#watcher) this.#reload(index);
          });
        }
      }, interval).unref();
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

  /** The longest word in force, in normalised UTF-16 units (0 when every list is empty). */
  get longestWord(): number {
    return this.#compiled.longest;
  }

  /**
   * Replaces the words of an inline list (one without `file`), e.g. words an administrator edits
   * at run time; the filter is rebuilt at once.
   * @throws {Error} when no inline list has this id.
   */
  setWords(listId: string, words: readonly string[]): void {
    const index = this.#lists.findIndex((list) => list.source.id === listId && !list.source.file);
    if (index === -1) throw new Error(`no inline word list "${listId}"`);
    this.#lists[index] = inlineList({ ...this.#lists[index]!.source, words: [...words] });
    this.#compiled = compile(this.#lists);
  }

  /** Reports hits to `onHits` (counted per list), for callers that checked with `countHits: false`. */
  recordHits(hits: readonly FilterHit[]): void {
    const counts = new Map<string, { action: FilterAction; count: number }>();
    for (const hit of hits) {
      const entry = counts.get(hit.list) ?? { action: hit.action, count: 0 };
      entry.count += 1;
      counts.set(hit.list, entry);
    }
    for (const [list, { action, count }] of counts) this.#options.onHits?.(list, action, count);
  }

  /**
   * Checks a text against every list: positions of the hits (never the words), whether a `block`
   * or `drop` list matched, the `flag` lists that matched, and the text masked. Hits inside a word
   * of an `allow` list are left out; the allowed words themselves are not hits.
   */
  check(text: string, options: CheckOptions = {}): FilterVerdict {
    const normalised = normaliseForMatching(text);
    const { automaton, owners, latin } = this.#compiled;
    const found: FilterHit[] = [];
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
      found.push({ list: list.id, action: list.action, start, end });
    }
    const allowed = found.filter((hit) => hit.action === "allow");
    const hits = found.filter(
      (hit) =>
        hit.action !== "allow" && !allowed.some((allow) => allow.start <= hit.start && hit.end <= allow.end),
    );
    if (options.countHits !== false) this.recordHits(hits);
    const maskActions = options.maskActions ?? ["mask"];
    return {
      hits,
      blocked: hits.some((hit) => hit.action === "block"),
      dropped: hits.some((hit) => hit.action === "drop"),
      flagged: [...new Set(hits.filter((hit) => hit.action === "flag").map((hit) => hit.list))],
      masked: maskText(
        text,
        hits.filter((hit) => maskActions.includes(hit.action)),
      ),
    };
  }

  /** Stops watching list files. */
  close(): void {
    clearInterval(this.#watcher);
    this.#watcher = undefined;
  }

  #reload(index: number): void {
    const list = this.#lists[index]!;
    try {
      const reloaded = fileList(list.source);
      this.#lists[index] = reloaded;
      this.#compiled = compile(this.#lists);
      this.#options.onReload?.(list.source.id, reloaded.words.length);
    } catch (error) {
      this.#options.onReloadError?.(list.source.id, error as Error);
    }
  }
}

/** A list given inline: its words normalised, those that normalise to nothing left out. */
function inlineList(source: WordListSource): CompiledList {
  return { source, words: normaliseWords(source.words ?? []), mtimeMs: 0 };
}

function normaliseWords(words: readonly string[]): string[] {
  return words.map(normaliseWord).filter(Boolean);
}

/** A list read from its file (one word a line, `#` comments), normalised like an inline one. */
function fileList(source: WordListSource): CompiledList {
  const file = source.file!;
  let mtimeMs: number;
  let bytes: Uint8Array;
  try {
    mtimeMs = statSync(file).mtimeMs;
    bytes = readFileSync(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new WordListUnreadableError(source.id, file, reason, { cause: error });
  }
  let text: string;
  try {
    text = decodeWordList(bytes);
  } catch (error) {
    throw new WordListUnreadableError(source.id, file, NOT_UNICODE, { cause: error });
  }
  const words = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  return { source, words: normaliseWords(words), mtimeMs };
}

/**
 * A list file's text: UTF-8, or UTF-16 when a byte order mark says so (Windows Notepad's
 * "Unicode"); a leading BOM is dropped. Bytes that are not valid in it throw: read leniently, a
 * GBK file would become replacement characters that match nothing, and block nothing.
 */
function decodeWordList(bytes: Uint8Array): string {
  const encoding =
    bytes[0] === 0xff && bytes[1] === 0xfe
      ? "utf-16le"
      : bytes[0] === 0xfe && bytes[1] === 0xff
        ? "utf-16be"
        : "utf-8";
  return new TextDecoder(encoding, { fatal: true }).decode(bytes);
}

function compile(lists: readonly CompiledList[]): Compiled {
  const patterns: string[] = [];
  const owners: number[] = [];
  const latin: boolean[] = [];
  let longest = 0;
  lists.forEach((list, listIndex) => {
    for (const word of list.words) {
      patterns.push(word);
      owners.push(listIndex);
      latin.push(LATIN_WORD.test(word));
      longest = Math.max(longest, word.length);
    }
  });
  return { automaton: new AhoCorasick(patterns), owners, latin, longest };
}

/** Replaces the characters (not the whitespace) of each hit's range with one `*` each. */
export function maskText(text: string, hits: readonly FilterHit[]): string {
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
