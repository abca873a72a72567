import type { Citation } from "../conversations/conversation-store.js";
import { MEMORY_HEADING, memoryLine, turnSystemPrompt } from "../memories/memory-prompt.js";
import type { ChatMessage } from "../model/model-client.js";
import { GROUNDING_PREAMBLE, type GroundingSource, groundingPrompt, sourceBlock } from "./grounding.js";

/**
 * Sizing a prompt to the model's context (see docs/web.md, "Fitting the prompt to the context").
 *
 * Tokens are estimated, not counted: the model service has no tokenizer route, and asking it for
 * every message would cost a round trip per turn. The estimate is meant to be high for common
 * tokenizers: a CJK character (Han, kana, Hangul) is one token, any other text a token per three
 * UTF-8 bytes (English averages about four characters a token), each message adds its template's
 * framing; the budget then keeps a tenth of the room spare, and the estimate is scaled up for a
 * model that has reported more prompt tokens than estimated (ContextWindows.noteUsage).
 */

/** The framing a chat template puts around one message (role markers, separators). */
export const MESSAGE_OVERHEAD_TOKENS = 8;
/** The framing around the whole prompt (start of text, the answer's opening marker). */
const PROMPT_OVERHEAD_TOKENS = 16;
/** Share of the room kept spare for the estimate's error. */
const SAFETY = 1.1;
/** Without max_tokens, this share of the context is kept for the answer. */
const ANSWER_SHARE = 0.25;
/** A source is cut to fit only when at least this many tokens of it would remain; else it is left out. */
const MIN_SOURCE_TOKENS = 48;

/** A character that is one token on its own: Han, kana, Hangul, CJK punctuation and full-width forms. */
function isWide(code: number): boolean {
  return (
    (code >= 0x2e80 && code <= 0x9fff) || // CJK radicals, punctuation, kana, Han
    (code >= 0xa960 && code <= 0xa97f) ||
    (code >= 0xac00 && code <= 0xd7ff) || // Hangul
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xffef) || // full-width forms
    (code >= 0x20000 && code <= 0x3134f) // Han extensions
  );
}

/** The estimated cost of one code point, in tokens (a fraction for most scripts). */
function codePointTokens(code: number): number {
  if (isWide(code)) return 1;
  const bytes = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  return bytes / 3;
}

/** The estimated tokens of a text (see the policy above). */
export function estimateTokens(text: string): number {
  let tokens = 0;
  for (const char of text) tokens += codePointTokens(char.codePointAt(0) ?? 0);
  return Math.ceil(tokens);
}

/** The estimated tokens of a message's text and its framing. */
export function estimateMessageTokens(content: string): number {
  return estimateTokens(content) + MESSAGE_OVERHEAD_TOKENS;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * The longest start of `text` estimated at no more than `tokens`, cut between characters (whole
 * grapheme clusters: never inside a surrogate pair or before a combining mark), at a space when
 * one falls in the last half, and marked with an ellipsis.
 */
export function cutToTokens(text: string, tokens: number): string {
  if (estimateTokens(text) <= tokens) return text;
  const limit = tokens - 1; // the ellipsis
  let used = 0;
  let end = 0;
  let lastSpace = -1;
  for (const { segment, index } of graphemes.segment(text)) {
    let cost = 0;
    for (const char of segment) cost += codePointTokens(char.codePointAt(0) ?? 0);
    if (used + cost > limit) break;
    used += cost;
    end = index + segment.length;
    if (/\s/.test(segment)) lastSpace = index;
  }
  const cut = lastSpace > end / 2 ? lastSpace : end;
  return `${text.slice(0, cut).trimEnd()}…`;
}

/** A message of the prompt as the budget sees it. */
export interface BudgetMessage {
  role: string;
}

export interface PromptFit<M extends BudgetMessage> {
  /**
   * The messages to send: the sources' system message first (when any source fits), then the
   * system prompt (when there is one), then `messages` that fit, in order.
   */
  messages: Array<M | ChatMessage>;
  /** The system prompt sent: the conversation's, with the memories that fit (turnSystemPrompt). */
  systemPrompt: string | undefined;
  /** The citations of the sources sent, numbered as the prompt numbers them. */
  citations: Citation[];
  /** Sources left out, by kind: knowledge passages and web results (a cut one counts as sent). */
  leftOut: { knowledge: number; web: number };
  /** The user's memories the context had no room for. */
  memoriesLeftOut: number;
  /** Earlier messages left out, oldest first. */
  droppedMessages: number;
  /** The estimated tokens of the prompt sent, unscaled (to learn the model's scale from what it reports). */
  estimatedTokens: number;
}

/**
 * The room to keep for the answer when a conversation asks for at most `maxTokens` (its Chat
 * controls): that many tokens while less than the usual quarter of the context (more history and
 * sources fit), never more (a cap past the context would leave no room for the prompt; the model
 * service cuts the answer to the room left anyway). Undefined (the usual share) without a cap or a
 * known context.
 */
export function answerReserve(
  contextTokens: number | undefined,
  maxTokens: number | null | undefined,
): number | undefined {
  if (contextTokens === undefined || maxTokens === null || maxTokens === undefined) return undefined;
  return Math.min(maxTokens, Math.ceil(contextTokens * ANSWER_SHARE));
}

/**
 * Fits a turn's prompt into the model's context: room is kept for the answer (`answerTokens`, the
 * request's max_tokens, or a quarter of the context); the system prompt, the system messages and
 * everything from the latest user message on are always sent; then the user's memories, in the
 * system prompt (fitMemories: at most half the room left, newest first); then the sources
 * (fitSources: each kind its share of the room, most relevant first, numbered in turn by rank);
 * then the earlier conversation, newest turns first, while they fit (a turn is a user message with
 * what follows it, so a kept answer never loses its question).
 *
 * When the context is unknown, everything is sent as it was. When the kept messages alone do
 * not fit, they are sent anyway without memories, sources or history: the model service then
 * refuses with CONTEXT_OVERFLOW, counting with its own tokenizer (the estimate may be wrong either
 * way).
 */
export function fitPrompt<M extends BudgetMessage>(input: {
  messages: readonly M[];
  /** The conversation's system prompt: sent before `messages`, with the memories that fit after it. */
  systemPrompt?: string | null;
  /** The user's memories to add to the system prompt, newest first. */
  memories?: readonly string[];
  sources: readonly GroundingSource[];
  /** The estimated tokens of one message (its text and framing). */
  size: (message: M) => number;
  contextTokens: number | undefined;
  answerTokens?: number | undefined;
  /** The model's estimate scale (ContextWindows.scale). */
  scale?: number;
}): PromptFit<M> {
  const { messages, sources, size, contextTokens } = input;
  // Each message's size once: the public API's size serializes the message.
  const sizes = messages.map((message) => size(message));
  const memories = input.memories ?? [];
  if (contextTokens === undefined) {
    const grounding = groundingPrompt(inTurn(byKind(sources)));
    const system = systemMessage(input.systemPrompt, memories);
    return {
      messages: [...leading(grounding.systemMessage, system), ...messages],
      systemPrompt: system?.content,
      citations: grounding.citations,
      leftOut: { knowledge: 0, web: 0 },
      memoriesLeftOut: 0,
      droppedMessages: 0,
      estimatedTokens: estimatePrompt([grounding.systemMessage, system], sizes),
    };
  }
  const reserve = input.answerTokens ?? Math.ceil(contextTokens * ANSWER_SHARE);
  const budget =
    Math.floor((contextTokens - reserve) / ((input.scale ?? 1) * SAFETY)) - PROMPT_OVERHEAD_TOKENS;

  const lastUser = messages.findLastIndex((message) => message.role === "user");
  const isSystem = (message: M) => message.role === "system" || message.role === "developer";
  const kept = messages.map((message, i) => i >= lastUser || isSystem(message));
  const alone = systemMessage(input.systemPrompt, []);
  let used =
    (alone ? estimateMessageTokens(alone.content) : 0) +
    sizes.reduce((sum, messageSize, i) => sum + (kept[i] ? messageSize : 0), 0);

  // The memories take at most half of the room left, so that sources and history keep some.
  const remembered = fitMemories(memories, Math.floor((budget - used) / 2));
  used += remembered.tokens;
  const system = systemMessage(input.systemPrompt, remembered.sent);

  const fitted = fitSources(sources, budget - used);
  const sent = fitted.sent;
  used += fitted.tokens;

  // The earlier conversation, newest turn first, while whole turns fit.
  const turns: number[][] = [];
  for (let i = 0; i < lastUser; i++) {
    if (kept[i]) continue;
    if (messages[i]?.role === "user" || turns.length === 0) turns.push([]);
    turns.at(-1)?.push(i);
  }
  let droppedMessages = 0;
  for (let t = turns.length - 1; t >= 0; t--) {
    const turn = turns[t] ?? [];
    const cost = turn.reduce((sum, i) => sum + (sizes[i] ?? 0), 0);
    if (used + cost > budget) {
      droppedMessages = turns.slice(0, t + 1).reduce((sum, older) => sum + older.length, 0);
      break;
    }
    for (const i of turn) kept[i] = true;
    used += cost;
  }

  const grounding = groundingPrompt(sent);
  const included = messages.filter((_, i) => kept[i]);
  return {
    messages: [...leading(grounding.systemMessage, system), ...included],
    systemPrompt: system?.content,
    citations: grounding.citations,
    leftOut: {
      knowledge: countKind(sources, "document") - countKind(sent, "document"),
      web: countKind(sources, "web") - countKind(sent, "web"),
    },
    memoriesLeftOut: memories.length - remembered.sent.length,
    droppedMessages,
    estimatedTokens: estimatePrompt(
      [grounding.systemMessage, system],
      sizes.filter((_, i) => kept[i]),
    ),
  };
}

/** The system prompt's message (turnSystemPrompt), when there is one. */
function systemMessage(
  systemPrompt: string | null | undefined,
  memories: readonly string[],
): ChatMessage | undefined {
  const content = turnSystemPrompt(systemPrompt, memories);
  return content === undefined ? undefined : { role: "system", content };
}

/** The system messages a prompt begins with, those there are: the sources', then the system prompt. */
function leading(...system: Array<ChatMessage | undefined>): ChatMessage[] {
  return system.filter((message): message is ChatMessage => message !== undefined);
}

/**
 * The memories sent in `room` tokens, and the tokens they add to the system prompt (the block's
 * heading, the blank line before it, each line, and a message's framing, which the block needs when
 * the conversation has no system prompt of its own): newest first as given, each whole while it
 * fits; one that does not is left out, and an older, shorter one may still fit. None when not even
 * the heading and one line fit.
 */
function fitMemories(memories: readonly string[], room: number): { sent: string[]; tokens: number } {
  const heading = estimateTokens(`\n\n${MEMORY_HEADING}`) + MESSAGE_OVERHEAD_TOKENS;
  let tokens = heading;
  const sent: string[] = [];
  for (const memory of memories) {
    const line = estimateTokens(`\n${memoryLine(memory)}`);
    if (tokens + line > room) continue;
    sent.push(memory);
    tokens += line;
  }
  return sent.length > 0 ? { sent, tokens } : { sent: [], tokens: 0 };
}

/**
 * The sources sent in `room` tokens, and the tokens they take (the system message's preamble and
 * each block). Each kind of source (knowledge passages, web results) has its share of the room:
 * the kind that needs less chooses first, from half of it, and what it leaves goes to the other, so
 * that passages cannot crowd the web results out (nor the reverse). Within its share a kind takes
 * its sources most relevant first, each whole while it fits; the first that does not is cut to the
 * share left (or left out when fewer than MIN_SOURCE_TOKENS would remain), and the rest of that
 * kind are left out. The sources sent are numbered in turn by rank: knowledge 1, web 1, knowledge 2,
 * web 2, ... (the longer list goes on alone once the other runs out). With one kind, its share is
 * the whole room.
 */
export function fitSources(
  sources: readonly GroundingSource[],
  room: number,
): { sent: GroundingSource[]; tokens: number } {
  if (sources.length === 0) return { sent: [], tokens: 0 };
  // The first source sent brings the system message and its preamble.
  const preamble = estimateMessageTokens(GROUNDING_PREAMBLE);
  let left = room - preamble;
  // A block is costed under the highest number any source could get (never less than it will
  // cost once numbered), and ends with a newline.
  const highest = sources.length;
  const cost = (source: GroundingSource) =>
    estimateTokens(sourceBlock(highest, source.heading, source.text)) + 1;
  const kinds = byKind(sources);
  const need = kinds.map((list) => list.reduce((sum, source) => sum + cost(source), 0));
  const order = kinds.map((_, i) => i).sort((a, b) => (need[a] ?? 0) - (need[b] ?? 0));
  const chosen: GroundingSource[][] = kinds.map(() => []);
  let spent = 0;
  order.forEach((kind, i) => {
    const share = Math.floor(left / (order.length - i));
    let tokens = 0;
    for (const source of kinds[kind] ?? []) {
      const whole = cost(source);
      if (tokens + whole <= share) {
        chosen[kind]?.push(source);
        tokens += whole;
        continue;
      }
      // Escaping `<` in the text may lengthen it a little: a few tokens are kept aside for that.
      const framing = estimateTokens(sourceBlock(highest, source.heading, "")) + 1;
      const rest = share - tokens - framing - 4;
      if (rest >= MIN_SOURCE_TOKENS) {
        const cut = { ...source, text: cutToTokens(source.text, rest) };
        chosen[kind]?.push(cut);
        tokens += cost(cut);
      }
      break;
    }
    left -= tokens;
    spent += tokens;
  });
  const sent = inTurn(chosen);
  return sent.length > 0 ? { sent, tokens: preamble + spent } : { sent: [], tokens: 0 };
}

/** The sources by kind, each list in its given (rank) order, kinds in the order they first appear. */
function byKind(sources: readonly GroundingSource[]): GroundingSource[][] {
  const kinds = new Map<string, GroundingSource[]>();
  for (const source of sources) {
    const list = kinds.get(source.citation.kind) ?? [];
    list.push(source);
    kinds.set(source.citation.kind, list);
  }
  return [...kinds.values()];
}

/** The lists' sources in turn by rank: each list's first, then each one's second, ... */
function inTurn(lists: readonly GroundingSource[][]): GroundingSource[] {
  const longest = Math.max(0, ...lists.map((list) => list.length));
  const sources: GroundingSource[] = [];
  for (let rank = 0; rank < longest; rank++)
    for (const list of lists) {
      const source = list[rank];
      if (source) sources.push(source);
    }
  return sources;
}

function countKind(sources: readonly GroundingSource[], kind: "document" | "web"): number {
  return sources.filter((source) => source.citation.kind === kind).length;
}

/** The estimated tokens of a prompt: its system messages (the sources', the system prompt), and the sizes of its messages. */
function estimatePrompt(system: ReadonlyArray<ChatMessage | undefined>, sizes: readonly number[]): number {
  return (
    PROMPT_OVERHEAD_TOKENS +
    system.reduce((sum, message) => sum + (message ? estimateMessageTokens(message.content) : 0), 0) +
    sizes.reduce((sum, messageSize) => sum + messageSize, 0)
  );
}
