import { randomBytes } from "node:crypto";
import { HearthError } from "@hearth/core";
import type { WebDatabase } from "../storage/open-database.js";
import { importedFinishReason, type MessageToStore } from "./conversation-import.js";
import type { StoredMessage } from "./conversation-store.js";

/**
 * A message as a share shows it: its text, reasoning, sources (as the answer cited them: a
 * document's link goes to its knowledge base's access-checked file route), model, time, and why the
 * model ended a done answer (`finishReason`: "length" when cut off at the length limit). Not its
 * error text, and an answer that failed or was cut off is an interrupted one.
 */
export type SharedMessage = Required<MessageToStore> & { createdAt: string };

/** A conversation's share link as its owner sees it. */
export interface ShareSummary {
  id: string;
  /** When the snapshot was taken: shared, or last updated. */
  createdAt: string;
  messageCount: number;
}

/** What a share's reader gets: the snapshot, by whom and when it was shared. */
export interface SharedConversation {
  id: string;
  title: string;
  /** The owner's user name, as shown everywhere. */
  ownerName: string;
  sharedAt: string;
  messages: SharedMessage[];
}

/** Random bytes of a share id: 144 bits, 24 base64url characters. */
const SHARE_ID_BYTES = 18;

/** A share's snapshot of the messages: those with text, as shared messages. */
function snapshot(messages: StoredMessage[]): SharedMessage[] {
  return messages
    .filter((message) => message.content.trim() !== "")
    .map((message) => ({
      role: message.role,
      content: message.content,
      reasoning: message.reasoning,
      status: message.status === "done" || message.status === "stopped" ? message.status : "interrupted",
      finishReason: importedFinishReason(message),
      model: message.model,
      citations: message.citations,
      createdAt: message.createdAt,
    }));
}

/** The answer to a link that does not open: the same whether it never was, was stopped, or links are off. */
export function shareNotFound(): HearthError {
  return new HearthError("SHARE_NOT_FOUND", "No shared conversation at this link");
}

/**
 * Conversations' share links (one a conversation) and the snapshots they show. Whose conversation
 * it is, and whether links are on, are the routes' to check (share-routes.ts).
 */
export class ShareStore {
  constructor(private readonly db: WebDatabase) {}

  /** The conversation's share, or null when it has none. */
  async of(conversationId: string): Promise<ShareSummary | null> {
    const row = await this.db
      .selectFrom("conversation_shares")
      .select(["id", "created_at", "message_count"])
      .where("conversation_id", "=", conversationId)
      .executeTakeFirst();
    return row ? { id: row.id, createdAt: row.created_at, messageCount: Number(row.message_count) } : null;
  }

  /**
   * Shares the conversation as it is now: a new link with a random id (never derived from the
   * conversation's), or its link's snapshot replaced, the link kept. `created`: whether it is new.
   */
  async save(
    conversationId: string,
    conversation: { title: string; messages: StoredMessage[] },
  ): Promise<ShareSummary & { created: boolean }> {
    const messages = snapshot(conversation.messages);
    const taken = {
      title: conversation.title,
      messages: JSON.stringify(messages),
      message_count: messages.length,
      created_at: new Date().toISOString(),
    };
    const id = randomBytes(SHARE_ID_BYTES).toString("base64url");
    const row = await this.db
      .insertInto("conversation_shares")
      .values({ id, conversation_id: conversationId, ...taken })
      .onConflict((conflict) => conflict.column("conversation_id").doUpdateSet(taken))
      .returning("id")
      .executeTakeFirstOrThrow();
    return { id: row.id, createdAt: taken.created_at, messageCount: messages.length, created: row.id === id };
  }

  /** Stops sharing the conversation: its link answers as one that never was. Whether it was shared. */
  async remove(conversationId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom("conversation_shares")
      .where("conversation_id", "=", conversationId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** The snapshot a link shows (404 SHARE_NOT_FOUND for none, or one whose owner's account is not active). */
  async read(shareId: string): Promise<SharedConversation> {
    const row = await this.db
      .selectFrom("conversation_shares")
      .innerJoin("conversations", "conversations.id", "conversation_shares.conversation_id")
      .innerJoin("users", "users.id", "conversations.user_id")
      .select([
        "conversation_shares.id",
        "conversation_shares.title",
        "conversation_shares.messages",
        "conversation_shares.created_at",
        "users.username",
      ])
      .where("conversation_shares.id", "=", shareId)
      .where("users.status", "=", "active")
      .executeTakeFirst();
    if (!row) throw shareNotFound();
    return {
      id: row.id,
      title: row.title,
      ownerName: row.username,
      sharedAt: row.created_at,
      // A snapshot taken before shares kept why an answer ended says nothing of it.
      messages: (JSON.parse(row.messages) as SharedMessage[]).map((message) => ({
        ...message,
        finishReason: message.finishReason ?? null,
      })),
    };
  }
}
