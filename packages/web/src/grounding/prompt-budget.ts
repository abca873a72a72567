import type { Citation } from "../conversations/conversation-store.js";
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
  /** The messages to send: the sources' system message first (when any source fits), then `messages` that fit, in order. */
  messages: Array<M | ChatMessage>;
  /** The citations of the sources sent, numbered as the prompt numbers them. */
  citations: Citation[];
  /** Sources left out (a cut one counts as sent). */
  droppedSources: number;
  /** Earlier messages left out, oldest first. */
  droppedMessages: number;
  /** The estimated tokens of the prompt sent, unscaled (to learn the model's scale from what it reports). */
  estimatedTokens: number;
}

/**
 * Fits a turn's prompt into the model's context: room is kept for the answer (`answerTokens`, the
 * request's max_tokens, or a quarter of the context); the system messages and everything from the
 * latest user message on are always sent; then the sources, most relevant first, while they fit
 * (the first that does not is cut to the room left, or left out when little room is left, and
 * so are the rest); then the earlier conversation, newest turns first, while they fit (a turn is
 * a user message with what follows it, so a kept answer never loses its question).
 *
 * When the context is unknown, everything is sent as it was. When the kept messages alone do
 * not fit, they are sent anyway without sources or history: the model service then refuses with
 * CONTEXT_OVERFLOW, counting with its own tokenizer (the estimate may be wrong either way).
 */
export function fitPrompt<M extends BudgetMessage>(input: {
  messages: readonly M[];
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
  if (contextTokens === undefined) {
    const grounding = groundingPrompt(sources);
    return {
      messages: grounding.systemMessage ? [grounding.systemMessage, ...messages] : [...messages],
      citations: grounding.citations,
      droppedSources: 0,
      droppedMessages: 0,
      estimatedTokens: estimatePrompt(grounding.systemMessage, sizes),
    };
  }
  const reserve = input.answerTokens ?? Math.ceil(contextTokens * ANSWER_SHARE);
  const budget =
    Math.floor((contextTokens - reserve) / ((input.scale ?? 1) * SAFETY)) - PROMPT_OVERHEAD_TOKENS;

  const lastUser = messages.findLastIndex((message) => message.role === "user");
  const isSystem = (message: M) => message.role === "system" || message.role === "developer";
  const kept = messages.map((message, i) => i >= lastUser || isSystem(message));
  let used = sizes.reduce((sum, messageSize, i) => sum + (kept[i] ? messageSize : 0), 0);

  // The sources, most relevant first, while they fit; the first that does not is cut to the room left.
  const sent: GroundingSource[] = [];
  for (const source of sources) {
    const n = sent.length + 1;
    // The first source brings the system message and its preamble; each block ends with a newline.
    const preamble = sent.length === 0 ? estimateMessageTokens(GROUNDING_PREAMBLE) : 0;
    const cost = preamble + estimateTokens(sourceBlock(n, source.heading, source.text)) + 1;
    if (used + cost <= budget) {
      sent.push(source);
      used += cost;
      continue;
    }
    // Escaping `<` in the text may lengthen it a little: a few tokens are kept aside for that.
    const framing = preamble + estimateTokens(sourceBlock(n, source.heading, "")) + 1;
    const room = budget - used - framing - 4;
    if (room >= MIN_SOURCE_TOKENS) {
      const cut = { ...source, text: cutToTokens(source.text, room) };
      sent.push(cut);
      used += preamble + estimateTokens(sourceBlock(n, cut.heading, cut.text)) + 1;
    }
    break;
  }

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
    messages: grounding.systemMessage ? [grounding.systemMessage, ...included] : included,
    citations: grounding.citations,
    droppedSources: sources.length - sent.length,
    droppedMessages,
    estimatedTokens: estimatePrompt(
      grounding.systemMessage,
      sizes.filter((_, i) => kept[i]),
    ),
  };
}

/** The estimated tokens of a prompt: its system message of sources, and the sizes of its messages. */
function estimatePrompt(system: ChatMessage | undefined, sizes: readonly number[]): number {
  return (
    PROMPT_OVERHEAD_TOKENS +
    (system ? estimateMessageTokens(system.content) : 0) +
    sizes.reduce((sum, messageSize) => sum + messageSize, 0)
  );
}
