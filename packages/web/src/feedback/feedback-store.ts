import type { AnswerFeedback, AnswerRating } from "@hearth/contracts";
import { HearthError } from "@hearth/core";
import {
  type ConversationStore,
  isBeingWritten,
  type StoredMessage,
} from "../conversations/conversation-store.js";
import type { MessageFeedbackTable } from "../storage/database-schema.js";
import { firstCodePoints } from "../text/first-code-points.js";
import { toFeedback } from "./message-feedback.js";

/** How much of a rated answer is kept with its rating, in characters: the report shows it. */
export const ANSWER_START_CHARS = 500;

/**
 * Answer feedback: a user's rating of an answer of their own conversation, one an answer, given,
 * changed and taken back by its owner alone (another user's conversation, an administrator's
 * attempt too, is 404 CONVERSATION_NOT_FOUND, as everywhere in it).
 */
export class FeedbackStore {
  constructor(readonly conversations: ConversationStore) {}

  /**
   * The answer shown at `seq` in the user's conversation, and the conversation's messages;
   * 404 MESSAGE_NOT_FOUND when no answer shown has that seq (a user's message has no rating).
   */
  private async answerAt(
    userId: string,
    conversationId: string,
    seq: number,
  ): Promise<{ answer: StoredMessage; messages: StoredMessage[] }> {
    const messages = await this.conversations.messages(userId, conversationId);
    const answer = messages.find((message) => message.seq === seq && message.role === "assistant");
    if (!answer) throw new HearthError("MESSAGE_NOT_FOUND", "No answer with that seq in this conversation");
    return { answer, messages };
  }

  /**
   * Rates the answer shown at `seq` (replacing its rating and comment, if it had one), recording the
   * model that wrote it, its place and version, and the start of its text. 409 ANSWER_IN_PROGRESS
   * while it is being written.
   */
  async rate(
    userId: string,
    conversationId: string,
    seq: number,
    input: { rating: AnswerRating; comment: string | null },
  ): Promise<AnswerFeedback> {
    const { answer, messages } = await this.answerAt(userId, conversationId, seq);
    if (isBeingWritten(answer))
      throw new HearthError("ANSWER_IN_PROGRESS", "The answer is still being written: rate it once it ends");
    const versions = (await this.conversations.versionsOf(conversationId, messages)).get(answer.id);
    const row: MessageFeedbackTable = {
      message_id: answer.id,
      conversation_id: conversationId,
      user_id: userId,
      model: answer.model,
      seq: answer.seq,
      version_index: versions?.index ?? null,
      version_count: versions?.count ?? null,
      rating: input.rating,
      comment: input.comment,
      answer_start: firstCodePoints(answer.content, ANSWER_START_CHARS),
      rated_at: new Date().toISOString(),
    };
    const { message_id: _, ...changed } = row;
    await this.conversations.db
      .insertInto("message_feedback")
      .values(row)
      .onConflict((oc) => oc.column("message_id").doUpdateSet(changed))
      .execute()
      .catch(async (error: unknown) => {
        // The conversation was deleted meanwhile (its keys refuse the row): 404, as a moment later.
        await this.conversations.get(userId, conversationId);
        throw error;
      });
    return toFeedback(row);
  }

  /** Takes back the rating of the answer shown at `seq` (none given: nothing to do). */
  async remove(userId: string, conversationId: string, seq: number): Promise<void> {
    const { answer } = await this.answerAt(userId, conversationId, seq);
    await this.conversations.db.deleteFrom("message_feedback").where("message_id", "=", answer.id).execute();
  }
}
