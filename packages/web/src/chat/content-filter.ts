import { Counter, type HearthConfig, HearthError, type Logger, type Registry } from "@hearth/core";
import {
  createSensitiveWordFilter,
  type FilterAction,
  type SensitiveWordFilter,
  StreamMasker,
  WordListUnreadableError,
} from "@hearth/sensitive-words";
import type { ChatStreamPart } from "../model/model-client.js";
import type { Settings, SettingsStore } from "../settings/settings-store.js";

/** The list holding the words administrators edit (settings.filter.words); no config id can collide. */
const SETTINGS_LIST = "settings.filter";
/** The longer words administrators let through (settings.filter.allowedWords). */
const ALLOWED_LIST = "settings.filter.allowed";
/** A message that holds a word of a block or drop list is refused. */
const INPUT_REFUSE: readonly FilterAction[] = ["block", "drop"];
/** An answer being streamed cannot be refused: the words of block, drop and mask lists are masked. */
const OUTPUT_MASK: readonly FilterAction[] = ["block", "drop", "mask"];

/**
 * A word list of the config file (`web.filter.lists`) as administrators are shown it: its id, its
 * file, its action, how many words it holds now (never the words), and whether it refuses input
 * and masks output (when the settings apply the filter there).
 */
export interface WordListFile {
  id: string;
  file: string;
  action: FilterAction;
  words: number;
  input: boolean;
  output: boolean;
}

/** Masks one answer: pieces as they stream, or a whole text. */
export interface OutputMasker {
  push(text: string): string;
  flush(): string;
}

/** One answer's maskers: its text and a reasoning model's thinking, each holding back its own words. */
export interface OutputMaskers {
  content: OutputMasker;
  reasoning: OutputMasker;
}

/**
 * A model's stream with the answer and the reasoning masked apart. What the reasoning's masker held
 * back goes out when the answer begins or at the finish, the answer's at the finish; a stream that
 * breaks off leaves the rest in the maskers (`flush` them to store it).
 */
export async function* maskChatParts(
  parts: AsyncIterable<ChatStreamPart>,
  maskers: OutputMaskers | undefined,
): AsyncGenerator<ChatStreamPart> {
  if (!maskers) {
    yield* parts;
    return;
  }
  for await (const part of parts) {
    const arrived = maskedPart(part);
    if (arrived) {
      const masked = maskStep(maskers, arrived);
      if (masked.reasoning) yield { type: "reasoning-delta", text: masked.reasoning };
      if (masked.content) yield { type: "text-delta", text: masked.content };
    }
    if (part.type !== "reasoning-delta" && part.type !== "text-delta") yield part;
  }
}

/** What a stream part gives the maskers; undefined for parts they do not see (queue positions). */
function maskedPart(part: ChatStreamPart): Parameters<typeof maskStep>[1] | undefined {
  switch (part.type) {
    case "reasoning-delta":
      return { reasoning: part.text };
    case "text-delta":
      return { content: part.text };
    case "finish":
      return { finish: true };
    default:
      return undefined;
  }
}

/**
 * One step of masking an answer and its reasoning apart: what arrived is pushed through its
 * masker; what the reasoning's masker held back is let out once the answer begins or the stream
 * finishes, the answer's at the finish.
 */
export function maskStep(
  maskers: OutputMaskers,
  arrived: { reasoning?: string; content?: string; finish?: boolean },
): { reasoning: string; content: string } {
  let reasoning = arrived.reasoning === undefined ? "" : maskers.reasoning.push(arrived.reasoning);
  if (arrived.content || arrived.finish) reasoning += maskers.reasoning.flush();
  let content = arrived.content === undefined ? "" : maskers.content.push(arrived.content);
  if (arrived.finish) content += maskers.content.flush();
  return { reasoning, content };
}

/**
 * The web service's use of the shared sensitive-word filter (`@hearth/sensitive-words`): the lists
 * of `web.filter.lists` (files, reloaded when they change) and the words administrators edit in
 * `settings.filter.words` (a `block` list), applied where `settings.filter` says:
 * - input (`applyToInput`): a hit on a `block` or `drop` list (or an administrator's word) refuses
 *   the message with CONTENT_BLOCKED;
 * - output (`applyToOutput`): the words of `block`, `drop` and `mask` lists are replaced by `*`,
 *   also across stream chunks, in what is sent and what is stored;
 * - `flag` lists are only counted. Hits are counted in `hearth_web_filter_hits_total{list,action}`.
 */
export class ContentFilter {
  readonly #filter: SensitiveWordFilter;
  readonly #settings: SettingsStore;
  readonly #lists: HearthConfig["web"]["filter"]["lists"];
  #words: readonly string[] = [];
  #allowedWords: readonly string[] = [];

  /** @throws HearthError WEB_WORD_LIST_UNREADABLE when a list file of web.filter cannot be read. */
  constructor(config: HearthConfig, settings: SettingsStore, logger: Logger, registry?: Registry) {
    this.#settings = settings;
    this.#lists = config.web.filter.lists;
    const hits = registry
      ? new Counter({
          name: "hearth_web_filter_hits_total",
          help: "Sensitive-word hits in chat input and model output, per list and action",
          labelNames: ["list", "action"],
          registers: [registry],
        })
      : undefined;
    try {
      this.#filter = createSensitiveWordFilter({
        lists: [
          ...config.web.filter.lists,
          { id: SETTINGS_LIST, action: "block", words: [] },
          { id: ALLOWED_LIST, action: "allow", words: [] },
        ],
        reloadIntervalMs: config.web.filter.reloadIntervalMs,
        onHits: (list, action, count) => hits?.inc({ list, action }, count),
        onReload: (list, words) => logger.info({ list, words }, "word list reloaded"),
        onReloadError: (list, error) =>
          logger.warn({ list, reason: error.message }, "word list reload failed; keeping the previous words"),
      });
    } catch (error) {
      if (error instanceof WordListUnreadableError)
        throw new HearthError("WEB_WORD_LIST_UNREADABLE", error.message, { cause: error });
      throw error;
    }
  }

  /**
   * Refuses (CONTENT_BLOCKED) a request when any text the client sent holds a blocked word: every
   * message counts, not only the last user one, since a client may put the words in a system
   * prompt or an earlier turn it wrote itself. Each text is checked on its own. The refusal names
   * the words as the client wrote them (`details.words`): a word found inside a longer harmless
   * one (机密 in 手机密码) is otherwise a riddle to the writer.
   */
  async checkInputs(texts: Iterable<string>): Promise<void> {
    const words = await this.#refusedWords(texts);
    if (words.length > 0)
      throw new HearthError("CONTENT_BLOCKED", `The message contains blocked words: ${words.join(", ")}`, {
        details: { words },
      });
  }

  /**
   * Refuses (CONTENT_BLOCKED) a name or other text a user writes that others may see (a
   * conversation's title, a folder's name, a knowledge base's name and description, a user name) as
   * a message is refused, the same hits counting: `details.field` names the first field given that
   * holds a blocked word, `details.words` its words. Fields left out (undefined, null) are not checked.
   */
  async checkFields(fields: Record<string, string | null | undefined>): Promise<void> {
    for (const [field, text] of Object.entries(fields)) {
      if (text === undefined || text === null) continue;
      const words = await this.#refusedWords([text]);
      if (words.length > 0)
        throw new HearthError("CONTENT_BLOCKED", `The ${field} contains blocked words: ${words.join(", ")}`, {
          details: { field, words },
        });
    }
  }

  /** The words of `texts` that a block or drop list (or an administrator's word) refuses, as written. */
  async #refusedWords(texts: Iterable<string>): Promise<string[]> {
    const settings = await this.#current();
    // No word listed: nothing to find (the texts are not even normalised).
    if (!settings.applyToInput || this.#filter.longestWord === 0) return [];
    const words = new Set<string>();
    for (const text of texts) {
      for (const hit of this.#filter.check(text).hits)
        if (INPUT_REFUSE.includes(hit.action)) words.add(text.slice(hit.start, hit.end));
    }
    return [...words];
  }

  /** The maskers for one answer; undefined when output filtering is off or no word is listed. */
  async outputMaskers(): Promise<OutputMaskers | undefined> {
    const settings = await this.#current();
    if (!settings.applyToOutput || this.#filter.longestWord === 0) return undefined;
    return {
      content: new StreamMasker(this.#filter, { maskActions: OUTPUT_MASK }),
      reasoning: new StreamMasker(this.#filter, { maskActions: OUTPUT_MASK }),
    };
  }

  /** Masks a whole answer (a stored message, a non-streamed reply) when output filtering is on. */
  async maskOutput(text: string): Promise<string> {
    const settings = await this.#current();
    if (!settings.applyToOutput) return text;
    return this.#filter.check(text, { maskActions: OUTPUT_MASK }).masked;
  }

  /** The config file's word lists, with the words each holds now (a file reloaded since counts anew). */
  wordListFiles(): WordListFile[] {
    const counts = this.#filter.wordCounts;
    return this.#lists.map((list) => ({
      id: list.id,
      file: list.file,
      action: list.action,
      words: counts[list.id] ?? 0,
      input: INPUT_REFUSE.includes(list.action),
      output: OUTPUT_MASK.includes(list.action),
    }));
  }

  /** Stops watching the list files. */
  close(): void {
    this.#filter.close();
  }

  /** The settings in force, with the administrators' words (blocked and allowed) loaded into the filter. */
  async #current(): Promise<Settings["filter"]> {
    const { filter } = await this.#settings.get();
    if (!sameWords(filter.words, this.#words)) this.#filter.setWords(SETTINGS_LIST, filter.words);
    if (!sameWords(filter.allowedWords, this.#allowedWords))
      this.#filter.setWords(ALLOWED_LIST, filter.allowedWords);
    this.#words = filter.words;
    this.#allowedWords = filter.allowedWords;
    return filter;
  }
}

function sameWords(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  return a.length === b.length && a.every((word, index) => word === b[index]);
}
