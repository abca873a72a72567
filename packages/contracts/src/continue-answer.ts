/**
 * Continue: which answers the model can go on with, as the web service refuses the others
 * (ANSWER_NOT_CONTINUABLE) and the web UI offers the button for these alone. Free of other imports,
 * so the UI bundles it alone (`@hearth/contracts/continue-answer`).
 */

/** What of a stored message says whether it can be continued. */
export interface ContinuableMessage {
  role: "user" | "assistant";
  content: string;
  status?: "streaming" | "done" | "stopped" | "interrupted" | "error";
  /** Why the model ended it: "length" when it cut it off at the length limit. */
  finishReason?: string | null;
}

/**
 * Whether a message is an answer with more to write: one with text that the model cut off at the
 * length limit, or that was stopped or interrupted before it ended. (A whole answer, a failed one
 * with nothing in it and a question are answered again, not continued.)
 */
export function isContinuable(message: ContinuableMessage): boolean {
  if (message.role !== "assistant" || message.content.trim() === "") return false;
  return (
    (message.status === "done" && message.finishReason === "length") ||
    message.status === "stopped" ||
    message.status === "interrupted"
  );
}
