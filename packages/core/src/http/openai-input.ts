import { HearthError } from "../errors/hearth-error.js";

/**
 * Refuses token ids as an input or prompt: OpenAI's clients count them with tiktoken (LangChain's
 * OpenAIEmbeddings sends them by default), and another tokenizer's ids are other words to our models.
 * The model service's OpenAI routes and the web service's public API refuse them alike.
 */
export function refuseTokenIds(field: "input" | "prompt", value: unknown): void {
  const isIds = (item: unknown) =>
    typeof item === "number" || (Array.isArray(item) && typeof item[0] === "number");
  if (!Array.isArray(value) || !value.some(isIds)) return;
  throw new HearthError(
    "TOKEN_INPUT_NOT_SUPPORTED",
    `${field} was sent as token ids, which are not accepted: they are ids of another tokenizer (OpenAI's tiktoken), not of this model's vocabulary. Send the text instead${field === "input" ? " (LangChain: OpenAIEmbeddings(check_embedding_ctx_length=False))" : ""}`,
    { details: { field } },
  );
}

/** What a chat may send beside text, by OpenAI's content part type: none of it reaches a model. */
const MEDIA_PARTS: Record<string, "images" | "audio" | "files"> = {
  image_url: "images",
  input_audio: "audio",
  file: "files",
};

/**
 * The refusal of an image, audio or file sent to a model, naming the request field that carried it
 * (`messages[0].content[1]`, with its part's `type` when there is one; as `details.field`, OpenAI's
 * `param`): Hearth's models read text only, and a chat answered without what was sent reads as if
 * the model had seen it.
 */
export function mediaInputError(
  field: string,
  kind: "images" | "audio" | "files",
  partType?: string,
): HearthError {
  return new HearthError(
    "MEDIA_INPUT_NOT_SUPPORTED",
    `${field}${partType ? ` (${partType})` : ""}: the model does not take ${kind}; Hearth's models read text only. Send the text instead`,
    { details: { field } },
  );
}

/** Refuses a chat's image, audio and file content parts (OpenAI's `image_url`, `input_audio`, `file`). */
export function refuseMediaParts(messages: ReadonlyArray<{ content?: unknown }>): void {
  for (const [m, message] of messages.entries()) {
    if (!Array.isArray(message.content)) continue;
    for (const [p, part] of message.content.entries()) {
      const type = (part as { type?: unknown } | null)?.type;
      const kind =
        typeof type === "string" && Object.hasOwn(MEDIA_PARTS, type) ? MEDIA_PARTS[type] : undefined;
      if (kind) throw mediaInputError(`messages[${m}].content[${p}]`, kind, String(type));
    }
  }
}
