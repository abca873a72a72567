/**
 * How every Hearth limit on a text counts its "characters" (a chat message, a conversation's
 * system prompt, custom instructions, a knowledge base's name...): in UTF-16 code units, as
 * JavaScript's `length` and a browser's `maxlength` count them, so that what a form lets through
 * the service takes, and the reverse. An emoji or a rare CJK character (outside the Basic
 * Multilingual Plane) counts two. Free of other imports, so the UI bundles it alone
 * (`@hearth/contracts/text-length`).
 */
export function textLength(text: string): number {
  return text.length;
}

/** Whether a text is over `limit` characters, counted as {@link textLength} counts them. */
export function isTooLong(text: string, limit: number): boolean {
  return textLength(text) > limit;
}
