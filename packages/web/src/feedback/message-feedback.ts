import type { AnswerFeedback } from "@hearth/contracts";
import type { MessageFeedbackTable } from "../storage/database-schema.js";
import type { WebDatabase } from "../storage/open-database.js";

/** A stored rating as its answer carries it. */
export function toFeedback(
  row: Pick<MessageFeedbackTable, "rating" | "comment" | "rated_at">,
): AnswerFeedback {
  return { rating: row.rating, comment: row.comment, ratedAt: row.rated_at };
}

/**
 * The ratings of a conversation's answers, by message id: those of the path shown and those of the
 * versions set aside (an answer set aside keeps its id, and its rating shows again with it).
 */
export async function feedbackOf(
  db: WebDatabase,
  conversationId: string,
): Promise<Map<string, AnswerFeedback>> {
  const rows = await db
    .selectFrom("message_feedback")
    .select(["message_id", "rating", "comment", "rated_at"])
    .where("conversation_id", "=", conversationId)
    .execute();
  return new Map(rows.map((row) => [row.message_id, toFeedback(row)]));
}
