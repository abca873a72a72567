/**
 * How a chat turn's system prompt is written (the one place it is): the conversation's own system
 * prompt, then the user's memories as a block of their own, set apart by a blank line and a heading
 * that says what they are, one line each, newest first.
 */

/** The heading of the memories' block. */
export const MEMORY_HEADING = "About the user (what they asked you to remember):";

/** One memory's line of the block. */
export function memoryLine(memory: string): string {
  return `- ${memory}`;
}

/**
 * The system prompt a turn sends: the conversation's (`systemPrompt`, when it has one) and the
 * memories given, in their order; undefined when there is neither.
 */
export function turnSystemPrompt(
  systemPrompt: string | null | undefined,
  memories: readonly string[],
): string | undefined {
  const block = memories.length > 0 ? [MEMORY_HEADING, ...memories.map(memoryLine)].join("\n") : "";
  return [systemPrompt ?? "", block].filter((part) => part !== "").join("\n\n") || undefined;
}
