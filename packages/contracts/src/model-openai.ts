/**
 * Wire schemas of the OpenAI API that the model service serves and that OpenAI-compatible upstreams
 * (vLLM, llama.cpp server, LM Studio, hosted APIs) answer. Minimal and tolerant (`.nullish()`).
 */
import { z } from "zod";

/**
 * Names the user a call to the model service is for (the web service sets it): the admission queue
 * serves users in turn, so one user's burst cannot hold back everyone else's answers.
 */
export const USER_HEADER = "x-hearth-user";

/**
 * Asks the model service for a streamed chat's or text completion's usage as a last SSE comment,
 * `: usage {"prompt_tokens":…}` (before `data: [DONE]`), when the request has no
 * `stream_options.include_usage`: a caller that meters usage (the web service's public API) reads
 * it and leaves it out of the stream it passes on, so that its client gets the stream OpenAI would
 * send.
 */
export const USAGE_COMMENT_HEADER = "x-hearth-usage-comment";

const textPart = z.looseObject({ type: z.string(), text: z.string().nullish() });

export const openAiMessageSchema = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(textPart)]).nullish(),
  reasoning_content: z.string().nullish(),
  name: z.string().nullish(),
  tool_call_id: z.string().nullish(),
  tool_calls: z
    .array(
      z.looseObject({
        id: z.string().nullish(),
        type: z.string().nullish(),
        function: z.looseObject({ name: z.string(), arguments: z.string().nullish() }),
      }),
    )
    .nullish(),
});
export type OpenAiMessage = z.infer<typeof openAiMessageSchema>;

/**
 * The texts a chat message carries for a model: its string content, or the `text` of each of its
 * content parts of type `text` (other parts carry no text a model reads; an image is refused).
 */
export function openAiTextParts(content: OpenAiMessage["content"]): string[] {
  if (content === null || content === undefined) return [];
  if (typeof content === "string") return [content];
  return content.flatMap((part) => (part.type === "text" ? [part.text ?? ""] : []));
}

/**
 * The text of a chat message as a model reads it: its text parts ({@link openAiTextParts}) joined
 * with nothing between them; "" for none. The model service builds a model's prompt with it, and
 * the web service's public API holds the same text to its length limit and its sensitive-word
 * filter, so that a word split across parts is refused as the word the model reads.
 */
export function openAiMessageText(content: OpenAiMessage["content"]): string {
  return openAiTextParts(content).join("");
}

const stopSchema = z.union([z.string(), z.array(z.string()).max(16)]);
const positiveInt = z.number().int().positive();

export const openAiResponseFormatSchema = z.union([
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    json_schema: z.looseObject({
      name: z.string().nullish(),
      schema: z.record(z.string(), z.unknown()).nullish(),
    }),
  }),
]);

export const openAiToolSchema = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
  }),
});

const biasRange = {
  error: (issue: { input?: unknown }) =>
    `a token's bias must be between -100 and 100, not ${JSON.stringify(issue.input)}`,
};

/**
 * OpenAI's `logit_bias`: token ids (as JSON object keys) to a bias from -100 (bans the token) to 100
 * (as good as forces it). Whether the ids exist is the runtime's to check: they are the model's.
 */
export const logitBiasSchema = z
  .record(
    z.string(),
    z
      .number({ error: "a token's bias must be a number between -100 and 100" })
      .finite()
      .min(-100, biasRange)
      .max(100, biasRange),
  )
  .superRefine((bias, context) => {
    for (const key of Object.keys(bias))
      if (!/^\d{1,9}$/.test(key))
        context.addIssue({
          code: "custom",
          path: [key],
          message: `${JSON.stringify(key)} is not a token id: the keys of logit_bias are token ids, such as "1234"`,
        });
  });

/**
 * Token ids as an input (`[1, 2, 3]`, or one list per input): what OpenAI's clients send from their
 * own tokenizer (LangChain's OpenAIEmbeddings does by default). Recognised only to refuse them
 * clearly: another tokenizer's ids mean other words to Hearth's models.
 */
export const tokenIdsSchema = z.union([z.array(z.number()).min(1), z.array(z.array(z.number())).min(1)]);

/**
 * Samplers beside OpenAI's, as llama.cpp's server and vLLM take them as extensions (and Ollama in its
 * `options`, by the same names): top_k draws from the k likeliest tokens only (0: off), min_p drops
 * tokens less likely than that share of the likeliest one's chance (0: off), and repeat_penalty
 * divides the chance of tokens already said (llama.cpp's multiplicative penalty, 1: off; 0 would
 * divide by zero). Refused out of range, as OpenAI's own samplers are.
 */
const topKRule = { error: "top_k must be a whole number, 0 or more (0: off)" };
const minPRule = { error: "min_p must be a number from 0 to 1 (0: off)" };
const repeatPenaltyRule = { error: "repeat_penalty must be a number greater than 0 (1: off)" };
const samplerExtensionFields = {
  top_k: z.number(topKRule).int(topKRule).min(0, topKRule).nullish(),
  min_p: z.number(minPRule).min(0, minPRule).max(1, minPRule).nullish(),
  repeat_penalty: z.number(repeatPenaltyRule).finite(repeatPenaltyRule).gt(0, repeatPenaltyRule).nullish(),
};

const samplingFields = {
  model: z.string().min(1, "model is required").max(512),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  temperature: z.number().finite().min(0).max(2).nullish(),
  top_p: z.number().finite().min(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop: stopSchema.nullish(),
  max_tokens: positiveInt.nullish(),
  presence_penalty: z.number().finite().min(-2).max(2).nullish(),
  frequency_penalty: z.number().finite().min(-2).max(2).nullish(),
  ...samplerExtensionFields,
  // One answer per prompt: refused rather than answered with fewer choices than asked for.
  n: z.literal(1, { error: "only 1 completion per prompt is supported (n above 1 is not)" }).nullish(),
  user: z.string().max(256).nullish(),
  logit_bias: logitBiasSchema.nullish(),
};

export const openAiChatRequestSchema = z.looseObject({
  ...samplingFields,
  messages: z.array(openAiMessageSchema).min(1, "messages must not be empty"),
  max_completion_tokens: positiveInt.nullish(),
  response_format: openAiResponseFormatSchema.nullish(),
  tools: z.array(openAiToolSchema).nullish(),
  tool_choice: z
    .union(
      [
        z.enum(["none", "auto", "required"]),
        z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string().min(1) }) }),
      ],
      {
        error:
          'tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}',
      },
    )
    .nullish(),
  // The deprecated forms of tools and tool_choice: refused rather than ignored.
  functions: z.null({ error: "functions is deprecated and not supported: send tools" }).optional(),
  function_call: z
    .null({ error: "function_call is deprecated and not supported: send tool_choice" })
    .optional(),
  reasoning_effort: z.string().nullish(),
  // Refused rather than ignored: a client asking for them would read `logprobs: null` as none exist.
  logprobs: z.literal(false, { error: "logprobs are not supported" }).nullish(),
  top_logprobs: z.literal(0, { error: "logprobs are not supported" }).nullish(),
});
export type OpenAiChatRequest = z.infer<typeof openAiChatRequestSchema>;

export const openAiCompletionRequestSchema = z.looseObject({
  ...samplingFields,
  // A list of prompts is answered with one choice per prompt, in order. Token ids are refused by the
  // route (tokenIdsSchema), with a message saying to send text.
  prompt: z.union(
    [z.string(), z.array(z.string()).min(1, "prompt must not be an empty list").max(128), tokenIdsSchema],
    {
      error: "prompt must be a string or a list of strings",
    },
  ),
  suffix: z.string().nullish(),
  echo: z.boolean().nullish(),
  // Refused rather than ignored: one completion is generated, never the best of several.
  best_of: z
    .literal(1, { error: "only 1 completion per prompt is generated (best_of above 1 is not supported)" })
    .nullish(),
  logprobs: z.literal(0, { error: "logprobs are not supported" }).nullish(),
});
export type OpenAiCompletionRequest = z.infer<typeof openAiCompletionRequestSchema>;

/** A text completion's length when its request gives no max_tokens, as OpenAI's API has it. */
export const COMPLETION_DEFAULT_MAX_TOKENS = 16;

export const openAiEmbeddingRequestSchema = z.looseObject({
  model: z.string().min(1).max(512),
  // Token ids are refused by the route (tokenIdsSchema), with a message saying to send text.
  input: z.union([z.string(), z.array(z.string()).min(1).max(2048), tokenIdsSchema], {
    error: "input must be a string or a list of strings",
  }),
  encoding_format: z.enum(["float", "base64"]).nullish(),
  dimensions: positiveInt.nullish(),
});

// --- What upstream OpenAI-compatible servers answer ------------------------------------------------

export const openAiModelListSchema = z.looseObject({
  data: z.array(
    z.looseObject({ id: z.string(), owned_by: z.string().nullish(), created: z.number().nullish() }),
  ),
});

export const openAiUsageSchema = z.looseObject({
  prompt_tokens: z.number().nullish(),
  completion_tokens: z.number().nullish(),
  total_tokens: z.number().nullish(),
});

export const openAiChatChunkSchema = z.looseObject({
  id: z.string().nullish(),
  choices: z
    .array(
      z.looseObject({
        index: z.number().nullish(),
        delta: z
          .looseObject({
            role: z.string().nullish(),
            content: z.string().nullish(),
            reasoning_content: z.string().nullish(),
            reasoning: z.string().nullish(),
            tool_calls: z.array(z.looseObject({})).nullish(),
          })
          .nullish(),
        text: z.string().nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: openAiUsageSchema.nullish(),
});
export type OpenAiChatChunk = z.infer<typeof openAiChatChunkSchema>;

export const openAiErrorSchema = z.looseObject({
  error: z.union([
    z.looseObject({ message: z.string(), type: z.string().nullish(), code: z.unknown().optional() }),
    z.string(),
  ]),
});
