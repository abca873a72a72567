import { randomUUID } from "node:crypto";
import { HearthError } from "@hearth/core";
import { sql } from "kysely";
import type { MessagesTable } from "../storage/database-schema.js";
import type { WebDatabase } from "../storage/open-database.js";
import { firstCodePoints } from "../text/first-code-points.js";
import { foldForSearch, searchCopy } from "./search-fold.js";

export interface Citation {
  n: number;
  kind: "document" | "web";
  title: string;
  url: string;
  snippet?: string;
}

export interface StoredMessage {
  id: string;
  seq: number;
  role: "user" | "assistant";
  content: string;
  reasoning: string | null;
  status: MessagesTable["status"];
  model: string | null;
  citations: Citation[];
  error: string | null;
  /** The error's stable code, so a reader sees it in their language (null for older failures). */
  errorCode: string | null;
  createdAt: string;
  /** While streaming: when its writer last stored it (null for answers that ended before heartbeats). */
  heartbeatAt: string | null;
}

/**
 * How long a streaming answer's writer may stay quiet before the answer is taken for abandoned (its
 * process died): writers store it at least every few seconds (answer-progress.ts).
 */
export const ANSWER_SILENCE_MS = 30_000;

/** Whether an answer is being written now: streaming, and its writer stored it within ANSWER_SILENCE_MS. */
export function isBeingWritten(
  message: Pick<StoredMessage, "status" | "createdAt" | "heartbeatAt">,
): boolean {
  return (
    message.status === "streaming" &&
    Date.parse(message.heartbeatAt ?? message.createdAt) > Date.now() - ANSWER_SILENCE_MS
  );
}

function toMessage(row: MessagesTable): StoredMessage {
  return {
    id: row.id,
    seq: Number(row.seq),
    role: row.role,
    content: row.content,
    reasoning: row.reasoning,
    status: row.status,
    model: row.model,
    citations: row.citations ? (JSON.parse(row.citations) as Citation[]) : [],
    error: row.error,
    errorCode: row.error_code ?? null,
    createdAt: row.created_at,
    heartbeatAt: row.heartbeat_at ?? null,
  };
}

/** An answer's text, reasoning and sources, as stored so far or in the end. */
export interface AnswerText {
  content: string;
  reasoning: string | null;
  citations?: Citation[];
}

function answerColumns(answer: AnswerText) {
  return {
    content: answer.content,
    content_folded: searchCopy(answer.content),
    reasoning: answer.reasoning || null,
    citations: answer.citations?.length ? JSON.stringify(answer.citations) : null,
  };
}

/** The escape character of conversation search's LIKE patterns (the same on SQLite and PostgreSQL). */
const LIKE_ESCAPE = "\\";

/** Text matched literally inside a LIKE pattern: its wildcards and the escape character escaped. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `${LIKE_ESCAPE}${c}`);
}

/** A conversation as the API gives it (its messages apart). */
export interface StoredConversation {
  id: string;
  title: string;
  model: string | null;
  createdAt: string;
  updatedAt: string;
  /** Sent to the model before the conversation's messages on every turn; null for none. */
  systemPrompt: string | null;
  /** Listed first (in the list's "Pinned" section). */
  pinned: boolean;
  /** The user's folder it is in; null: unfiled (the list's main part). */
  folderId: string | null;
  /** When it was archived (out of the list, in Archived chats); null: not archived. */
  archivedAt: string | null;
}

/** Which of a user's conversations a list holds. */
export interface ListFilter {
  /** The archived ones (Archived chats) instead of those in the list. */
  archived?: boolean;
  /** Those of one folder; null: the unfiled ones; absent: in any folder or none. */
  folderId?: string | null;
}

/** Where a page of the list ends: passed back for the next page (`next` of the list). */
export interface ListCursor {
  updatedAt: string;
  id: string;
  pinned: boolean;
}

/** What a user may change of a conversation (PATCH): only what is given changes. */
export interface ConversationChanges {
  title?: string;
  /** Null (or blank) clears it. */
  systemPrompt?: string | null;
  pinned?: boolean;
  /** The user's folder to move it into; null takes it out of its folder. */
  folderId?: string | null;
  /** Archives it (now) or takes it out of the archive. */
  archived?: boolean;
}

/**
 * The longest system prompt a conversation may have, in characters (never more than
 * web.maxMessageChars): it is sent on every turn, before the conversation's messages.
 */
export const SYSTEM_PROMPT_MAX_CHARS = 10_000;

/** The longest system prompt taken under a given web.maxMessageChars. */
export function systemPromptMaxChars(maxMessageChars: number): number {
  return Math.min(SYSTEM_PROMPT_MAX_CHARS, maxMessageChars);
}

/** A conversation's title taken from its first message: spaces folded, at most 60 whole characters. */
export function titleFromMessage(content: string): string {
  return firstCodePoints(content.replace(/\s+/g, " ").trim(), 60);
}

/** A system prompt as stored: its text with the white space at its ends taken off; null when nothing is left. */
function systemPromptColumn(text: string | null | undefined): string | null {
  return text?.trim() || null;
}

/** Conversations and their messages, always scoped to their owner: another user's id is a 404. */
export class ConversationStore {
  /** `db` may be a transaction: what the store does then is part of it (an import's conversation). */
  constructor(readonly db: WebDatabase) {}

  /** Runs `work` in a transaction: the store's own, or the one the store was made on. */
  private atomically<T>(work: (trx: WebDatabase) => Promise<T>): Promise<T> {
    return this.db.isTransaction ? work(this.db) : this.db.transaction().execute(work);
  }

  /**
   * A new conversation, created now unless `createdAt` (an ISO time: an imported one's) says when;
   * in the user's folder `folderId` when given (an imported one's: the caller checked it is theirs).
   */
  async create(
    userId: string,
    input: {
      title?: string;
      model?: string | null;
      systemPrompt?: string | null;
      createdAt?: string;
      folderId?: string | null;
    },
  ): Promise<StoredConversation> {
    const now = input.createdAt ?? new Date().toISOString();
    const row = {
      id: randomUUID(),
      user_id: userId,
      title: input.title?.trim() || "New chat",
      model: input.model ?? null,
      created_at: now,
      updated_at: now,
      system_prompt: systemPromptColumn(input.systemPrompt),
      folder_id: input.folderId ?? null,
    };
    const folded = searchCopy(row.title);
    await this.db
      .insertInto("conversations")
      .values({ ...row, title_folded: folded })
      .execute();
    return {
      id: row.id,
      title: row.title,
      model: row.model,
      createdAt: now,
      updatedAt: now,
      systemPrompt: row.system_prompt,
      pinned: false,
      folderId: row.folder_id,
      archivedAt: null,
    };
  }

  async get(userId: string, id: string): Promise<StoredConversation> {
    const row = await this.db
      .selectFrom("conversations")
      .selectAll()
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (!row) throw new HearthError("CONVERSATION_NOT_FOUND", "No such conversation");
    return {
      id: row.id,
      title: row.title,
      model: row.model,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      systemPrompt: row.system_prompt ?? null,
      pinned: Number(row.pinned) === 1,
      folderId: row.folder_id ?? null,
      archivedAt: row.archived_at ?? null,
    };
  }

  /**
   * A user's conversations in the list (not archived), the pinned ones first, then the rest, each
   * part the latest first, `limit` at a time: `after` is the page's last one (`next` of the
   * previous page), so a page never repeats or skips one as new turns arrive (nor where the pinned
   * part ends). `folderId` keeps those of one folder (null: the unfiled ones). `archived`: the
   * archived ones instead, the latest first (pinned or not: the archive has no pinned part).
   */
  async list(
    userId: string,
    options: { query?: string; limit?: number; after?: ListCursor } & ListFilter = {},
  ) {
    const limit = options.limit ?? 200;
    const after = options.after;
    const archived = options.archived === true;
    let select = this.db
      .selectFrom("conversations")
      .select(["id", "title", "model", "created_at", "updated_at", "pinned", "folder_id", "archived_at"])
      .where("user_id", "=", userId)
      .where("archived_at", archived ? "is not" : "is", null);
    if (options.folderId === null) select = select.where("folder_id", "is", null);
    else if (options.folderId !== undefined) select = select.where("folder_id", "=", options.folderId);
    if (!archived) select = select.orderBy("pinned", "desc");
    select = select
      .orderBy("updated_at", "desc")
      .orderBy("id", "desc")
      .limit(limit + 1);
    if (after && archived) {
      select = select.where((eb) =>
        eb.or([
          eb("updated_at", "<", after.updatedAt),
          eb.and([eb("updated_at", "=", after.updatedAt), eb("id", "<", after.id)]),
        ]),
      );
    } else if (after) {
      const pinned = after.pinned ? 1 : 0;
      select = select.where((eb) =>
        eb.or([
          eb("pinned", "<", pinned),
          eb.and([
            eb("pinned", "=", pinned),
            eb.or([
              eb("updated_at", "<", after.updatedAt),
              eb.and([eb("updated_at", "=", after.updatedAt), eb("id", "<", after.id)]),
            ]),
          ]),
        ]),
      );
    }
    // Each term of the query (split at white space) must be found somewhere in the conversation,
    // its title or any message: "行政 诉讼" finds one that says 行政 and 诉讼 apart. A term is matched
    // as written: its % and _ (and the escape character) are escaped, so "%" finds the
    // conversations that hold a percent sign, not every one. Both sides are folded alike: the
    // query here, the text by its stored folded copy or else lower().
    for (const term of foldForSearch(options.query ?? "")
      .split(/\s+/)
      .filter(Boolean)) {
      const pattern = `%${escapeLike(term)}%`;
      select = select.where((eb) =>
        eb.or([
          sql<boolean>`coalesce(conversations.title_folded, lower(conversations.title)) like ${pattern} escape ${LIKE_ESCAPE}`,
          eb.exists(
            eb
              .selectFrom("messages")
              .select("messages.id")
              .whereRef("messages.conversation_id", "=", "conversations.id")
              .where(
                sql<boolean>`coalesce(messages.content_folded, lower(messages.content)) like ${pattern} escape ${LIKE_ESCAPE}`,
              ),
          ),
        ]),
      );
    }
    const rows = await select.execute();
    const page = rows.slice(0, limit).map((r) => ({
      id: r.id,
      title: r.title,
      model: r.model,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      pinned: Number(r.pinned) === 1,
      folderId: r.folder_id ?? null,
      archivedAt: r.archived_at ?? null,
    }));
    const last = page.at(-1);
    const next: ListCursor | undefined =
      rows.length > limit && last
        ? { updatedAt: last.updatedAt, id: last.id, pinned: !archived && last.pinned }
        : undefined;
    return { conversations: page, ...(next ? { next } : {}) };
  }

  async rename(userId: string, id: string, title: string) {
    return this.update(userId, id, { title });
  }

  /**
   * Changes what is given of a conversation. A new title or system prompt is a change to the
   * conversation (it moves up the list, as a new turn does); pinning only moves it between the
   * list's parts, keeping its place by its latest activity, and so do moving it to a folder and
   * archiving it. Archiving one already archived keeps when it was archived. A folder that is not
   * the user's is FOLDER_NOT_FOUND, as their conversation is a 404.
   */
  async update(userId: string, id: string, changes: ConversationChanges): Promise<StoredConversation> {
    const current = await this.get(userId, id);
    const { title, systemPrompt, pinned, folderId, archived } = changes;
    const edited = title !== undefined || systemPrompt !== undefined;
    const archiving = archived !== undefined && archived !== (current.archivedAt !== null);
    if (!edited && pinned === undefined && folderId === undefined && !archiving) return current;
    if (folderId) await this.assertOwnFolder(userId, folderId);
    const now = new Date().toISOString();
    await this.db
      .updateTable("conversations")
      .set({
        ...(title !== undefined ? { title, title_folded: searchCopy(title) } : {}),
        ...(systemPrompt !== undefined ? { system_prompt: systemPromptColumn(systemPrompt) } : {}),
        ...(pinned !== undefined ? { pinned: pinned ? 1 : 0 } : {}),
        ...(folderId !== undefined ? { folder_id: folderId } : {}),
        ...(archiving ? { archived_at: archived ? now : null } : {}),
        ...(edited ? { updated_at: now } : {}),
      })
      .where("id", "=", id)
      .execute();
    return this.get(userId, id);
  }

  /** FOLDER_NOT_FOUND unless the folder is the user's. */
  async assertOwnFolder(userId: string, folderId: string): Promise<void> {
    const folder = await this.db
      .selectFrom("folders")
      .select("id")
      .where("id", "=", folderId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (!folder) throw new HearthError("FOLDER_NOT_FOUND", "No such folder");
  }

  /** Archives every conversation of the user's list ("Archive all chats"); returns how many. */
  async archiveAll(userId: string): Promise<number> {
    const result = await this.db
      .updateTable("conversations")
      .set({ archived_at: new Date().toISOString() })
      .where("user_id", "=", userId)
      .where("archived_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Deletes a conversation and its messages; returns how many messages it held. */
  async delete(userId: string, id: string): Promise<number> {
    await this.get(userId, id);
    return this.db.transaction().execute(async (trx) => {
      const removed = await trx.deleteFrom("messages").where("conversation_id", "=", id).executeTakeFirst();
      await trx.deleteFrom("conversations").where("id", "=", id).execute();
      return Number(removed.numDeletedRows);
    });
  }

  async messages(userId: string, id: string): Promise<StoredMessage[]> {
    await this.get(userId, id);
    const rows = await this.db
      .selectFrom("messages")
      .selectAll()
      .where("conversation_id", "=", id)
      .orderBy("seq")
      .execute();
    return rows.map(toMessage);
  }

  /**
   * Appends a message after the last one, written now unless `createdAt` (an ISO time: an imported
   * one's) says when; the conversation's latest activity becomes the message's time.
   */
  async append(
    conversationId: string,
    message: Pick<StoredMessage, "role" | "content" | "status" | "model"> & {
      reasoning?: string | null;
      citations?: Citation[];
      createdAt?: string;
    },
  ) {
    const now = message.createdAt ?? new Date().toISOString();
    return this.atomically(async (trx) => {
      const last = await trx
        .selectFrom("messages")
        .select((eb) => eb.fn.max("seq").as("seq"))
        .where("conversation_id", "=", conversationId)
        .executeTakeFirst();
      const seq = Number(last?.seq ?? 0) + 1;
      const row: MessagesTable = {
        id: randomUUID(),
        conversation_id: conversationId,
        seq,
        role: message.role,
        content: message.content,
        content_folded: searchCopy(message.content),
        reasoning: message.reasoning ?? null,
        status: message.status,
        model: message.model,
        citations: message.citations?.length ? JSON.stringify(message.citations) : null,
        error: null,
        error_code: null,
        created_at: now,
        heartbeat_at: message.status === "streaming" ? now : null,
        stop_requested_at: null,
      };
      await trx.insertInto("messages").values(row).execute();
      await trx
        .updateTable("conversations")
        .set({ updated_at: now })
        .where("id", "=", conversationId)
        .execute();
      return toMessage(row);
    });
  }

  async finishMessage(
    id: string,
    update: AnswerText & {
      status: MessagesTable["status"];
      error?: string | null;
      errorCode?: string | null;
    },
  ) {
    await this.db
      .updateTable("messages")
      .set({
        ...answerColumns(update),
        status: update.status,
        error: update.error ?? null,
        error_code: update.errorCode ?? null,
      })
      .where("id", "=", id)
      .execute();
  }

  /**
   * Stores what a streaming answer holds so far, its status left as it is, and that its writer is
   * alive: read by other processes (another device's page, another replica) while it is written,
   * and kept through a crash.
   */
  /** Stores a streaming answer as it stands; returns whether a Stop was asked for it meanwhile. */
  async saveProgress(id: string, soFar: AnswerText): Promise<{ stopRequested: boolean }> {
    const row = await this.db
      .updateTable("messages")
      .set({ ...answerColumns(soFar), heartbeat_at: new Date().toISOString() })
      .where("id", "=", id)
      .returning("stop_requested_at")
      .executeTakeFirst();
    return { stopRequested: Boolean(row?.stop_requested_at) };
  }

  /**
   * Asks the writer of the conversation's answer being written to stop (it reads this as it stores
   * the answer so far): the Stop of a process that may not be the one writing it, kept in the
   * database so that it holds even where the peer bus's notice is lost. Whether one was streaming.
   */
  async requestStop(conversationId: string): Promise<boolean> {
    const result = await this.db
      .updateTable("messages")
      .set({ stop_requested_at: new Date().toISOString() })
      .where("conversation_id", "=", conversationId)
      .where("status", "=", "streaming")
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Marks the answers left "streaming" by a process that stopped without finishing them (a crash, a
   * kill) as interrupted, so that they are not taken for answers still being written; returns how
   * many there were. `abandonedOnly`: only those whose writer has been quiet for ANSWER_SILENCE_MS,
   * for a database other processes write answers in at the same time (replicas on PostgreSQL);
   * otherwise every one (run at start, before any turn, by the only process writing answers).
   */
  async interruptUnfinished(options: { abandonedOnly?: boolean } = {}): Promise<number> {
    let update = this.db
      .updateTable("messages")
      .set({ status: "interrupted" })
      .where("status", "=", "streaming");
    if (options.abandonedOnly) {
      const quietSince = new Date(Date.now() - ANSWER_SILENCE_MS).toISOString();
      update = update.where((eb) => eb(eb.fn.coalesce("heartbeat_at", "created_at"), "<", quietSince));
    }
    const result = await update.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Removes the messages from `seq` on (edit and resend, regenerate), or only those before
   * `beforeSeq` when it is given (the answer a completed regeneration replaces).
   */
  async truncateFrom(conversationId: string, seq: number, beforeSeq?: number) {
    let remove = this.db
      .deleteFrom("messages")
      .where("conversation_id", "=", conversationId)
      .where("seq", ">=", seq);
    if (beforeSeq !== undefined) remove = remove.where("seq", "<", beforeSeq);
    await remove.execute();
  }
}
