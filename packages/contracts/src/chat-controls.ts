/**
 * A conversation's own model parameters ("Chat controls"): what the web service stores with a
 * conversation and sends the model on each of its turns, and their limits, shared by the web
 * service (which refuses values outside them) and the web UI (whose panel holds no more). Free of
 * other imports, so the UI bundles it alone (`@hearth/contracts/chat-controls`).
 */

/** A conversation's model parameters; each null: the model's own default. */
export interface ChatControls {
  /** Sampling temperature: 0 answers the same way each time, higher answers vary more. */
  temperature: number | null;
  /** Nucleus sampling: only the likeliest tokens whose probabilities add up to this are drawn from. */
  topP: number | null;
  /** llama.cpp's and Ollama's top_k: only the k likeliest tokens are drawn from; 0 turns it off. */
  topK: number | null;
  /**
   * llama.cpp's and Ollama's min_p: a token less likely than this share of the likeliest one's chance
   * is not drawn; 0 turns it off.
   */
  minP: number | null;
  /** The longest answer, in tokens (OpenAI's max_tokens, Ollama's num_predict). */
  maxTokens: number | null;
  /** The sampler's seed: with the same seed (and prompt), a model answers the same way. */
  seed: number | null;
  /**
   * OpenAI's frequency_penalty: above 0, a token is the less likely the more often it has come
   * already (less repetition of the same words); below 0, the more likely.
   */
  frequencyPenalty: number | null;
  /**
   * OpenAI's presence_penalty: above 0, a token that has come at all is less likely (new topics
   * rather than the same ones); below 0, more likely.
   */
  presencePenalty: number | null;
  /**
   * llama.cpp's and Ollama's repeat_penalty: the chance of a token already said is divided by it
   * (above 1, less repetition; below 1, more; 1 changes nothing). Beside OpenAI's two penalties,
   * which llama.cpp's sampler applies with it.
   */
  repeatPenalty: number | null;
}

/** The controls' names, in the order the panel shows them. */
export const CHAT_CONTROL_NAMES = [
  "temperature",
  "topP",
  "topK",
  "minP",
  "maxTokens",
  "seed",
  "frequencyPenalty",
  "presencePenalty",
  "repeatPenalty",
] as const;
export type ChatControlName = (typeof CHAT_CONTROL_NAMES)[number];

/** Every control at the model's own default. */
export const DEFAULT_CHAT_CONTROLS: ChatControls = {
  temperature: null,
  topP: null,
  topK: null,
  minP: null,
  maxTokens: null,
  seed: null,
  frequencyPenalty: null,
  presencePenalty: null,
  repeatPenalty: null,
};

/** The range each control takes (both ends included, unless `aboveMin`), and whether it takes whole numbers only. */
export interface ChatControlLimit {
  min: number;
  max: number;
  /** The min itself is refused: the value must be greater. */
  aboveMin?: boolean;
  integer: boolean;
  /** The step a slider or a number field moves by. */
  step: number;
}

/**
 * The ranges: temperature and top_p as the OpenAI API takes them (the model service refuses more);
 * an answer of at most 131,072 tokens (the largest context the reference models are run with: a cap
 * beyond the model's context is cut to the room left by the model service anyway); a seed that fits
 * a 32-bit signed integer (llama.cpp's, Ollama's and PostgreSQL's `integer` all hold it); the
 * penalties from -2 to 2, as the OpenAI API takes them (the model service refuses more). top_k,
 * min_p and repeat_penalty as Open WebUI's Advanced Params offer them: top_k up to 1,000 (beyond,
 * as good as off), min_p from 0 to 1 (the model service refuses more), and a repeat penalty above 0
 * (0 would divide by zero: the model service refuses it) up to 2.
 */
export const CHAT_CONTROL_LIMITS: Record<ChatControlName, ChatControlLimit> = {
  temperature: { min: 0, max: 2, integer: false, step: 0.05 },
  topP: { min: 0, max: 1, integer: false, step: 0.05 },
  topK: { min: 0, max: 1000, integer: true, step: 1 },
  minP: { min: 0, max: 1, integer: false, step: 0.01 },
  maxTokens: { min: 1, max: 131_072, integer: true, step: 1 },
  seed: { min: 0, max: 2_147_483_647, integer: true, step: 1 },
  frequencyPenalty: { min: -2, max: 2, integer: false, step: 0.1 },
  presencePenalty: { min: -2, max: 2, integer: false, step: 0.1 },
  repeatPenalty: { min: 0, aboveMin: true, max: 2, integer: false, step: 0.05 },
};

/** The control's name on the model service's OpenAI API (and in docs/api.md's prose), Open WebUI's too. */
export const CHAT_CONTROL_WIRE_NAMES: Record<ChatControlName, string> = {
  temperature: "temperature",
  topP: "top_p",
  topK: "top_k",
  minP: "min_p",
  maxTokens: "max_tokens",
  seed: "seed",
  frequencyPenalty: "frequency_penalty",
  presencePenalty: "presence_penalty",
  repeatPenalty: "repeat_penalty",
};

/** Whether a value is one the control takes (a finite number in its range; whole where it must be). */
export function isChatControlValue(name: ChatControlName, value: unknown): value is number {
  const limit = CHAT_CONTROL_LIMITS[name];
  return (
    typeof value === "number" &&
    Number.isFinite(value) &&
    (limit.aboveMin ? value > limit.min : value >= limit.min) &&
    value <= limit.max &&
    (!limit.integer || Number.isInteger(value))
  );
}

/** The rule a control's value breaks, in English (the API's message; the UI says it in its language). */
export function chatControlRule(name: ChatControlName): string {
  const limit = CHAT_CONTROL_LIMITS[name];
  const range = limit.aboveMin
    ? `above ${limit.min} and at most ${limit.max}`
    : `from ${limit.min} to ${limit.max}`;
  return `${name} must be ${limit.integer ? "a whole number" : "a number"} ${range}, or null for the model's own`;
}
