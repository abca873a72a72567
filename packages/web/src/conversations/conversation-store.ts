import { randomUUID } from "node:crypto";
import {
  type AnswerFeedback,
  CHAT_CONTROL_NAMES,
  type ChatControlName,
  type ChatControls,
  DEFAULT_CHAT_CONTROLS,
} from "@hearth/contracts";
import { HearthError } from "@hearth/core";
import { sql } from "kysely";
import { feedbackOf } from "../feedback/message-feedback.js";
import type { ConversationsTable, MessagesTable, MessageVersionsTable } from "../storage/database-schema.js";
import { lockedTransaction } from "../storage/locked-transaction.js";
import type { WebDatabase } from "../storage/open-database.js";
import { firstCodePoints } from "../text/first-code-points.js";
import { controlsGiven } from "./chat-controls-schema.js";
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
  /** Why the model ended the answer (length: cut off at the length limit); null when it did not end it. */
  finishReason: string | null;
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
    finishReason: row.finish_reason ?? null,
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

/** A web search mode: off, auto (the model decides), on. */
export type WebSearchMode = "off" | "auto" | "on";

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
  /** A temporary chat: out of the list and its search; deleted when left. */
  temporary: boolean;
  /**
   * The assistant it was started with, by its id and its name then (the assistant may have been
   * renamed or deleted since: the conversation keeps what it took from it); null: none.
   */
  assistant: { id: string; name: string } | null;
  /** The knowledge bases it took from its assistant (the page's choice for it starts there); null: none taken. */
  knowledgeBaseIds: string[] | null;
  /**
   * The knowledge bases the user chose for it in the page (sent with a turn, or ticked before one),
   * which it opens with on any device; null: never chosen (it opens with its assistant's). The
   * routes give only those the user may still read.
   */
  chosenKnowledgeBaseIds: string[] | null;
  /**
   * Its web search mode, as last chosen for it (sent with a turn, set before one, or given as it was
   * made), which it opens with on any device; to start with, its assistant's. Null: never chosen (a
   * conversation from before it was kept, which opens with the user's default).
   */
  webSearch: WebSearchMode | null;
  /**
   * Its Chat controls: the model parameters its turns use (the temperature starts as its
   * assistant's); each null: the model's own.
   */
  temperature: number | null;
  topP: number | null;
  topK: number | null;
  minP: number | null;
  maxTokens: number | null;
  seed: number | null;
  frequencyPenalty: number | null;
  presencePenalty: number | null;
  repeatPenalty: number | null;
}

/** What a conversation started with an assistant takes from it (beside its model and system prompt). */
export interface ConversationAssistant {
  id: string;
  name: string;
  knowledgeBaseIds: string[];
  webSearch: "off" | "auto" | "on";
  temperature: number | null;
}

/** A stored number as a number (PostgreSQL's may arrive as text), or null. */
function numberOrNull(value: number | string | null | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** Each Chat control's column in `conversations`. */
const CONTROL_COLUMNS = {
  temperature: "temperature",
  topP: "top_p",
  topK: "top_k",
  minP: "min_p",
  maxTokens: "max_tokens",
  seed: "seed",
  frequencyPenalty: "frequency_penalty",
  presencePenalty: "presence_penalty",
  repeatPenalty: "repeat_penalty",
} as const satisfies Record<ChatControlName, keyof ConversationsTable>;
type ControlColumn = (typeof CONTROL_COLUMNS)[ChatControlName];

/** The columns of the Chat controls given (each null: the model's own); those not given are left out. */
function controlColumns(controls: Partial<ChatControls>): Partial<Record<ControlColumn, number | null>> {
  return Object.fromEntries(
    CHAT_CONTROL_NAMES.filter((name) => controls[name] !== undefined).map((name) => [
      CONTROL_COLUMNS[name],
      controls[name],
    ]),
  );
}

/** A conversation's Chat controls from its row (PostgreSQL's numbers may arrive as text). */
function controlsOfRow(row: Partial<Record<ControlColumn, number | string | null>>): ChatControls {
  return Object.fromEntries(
    CHAT_CONTROL_NAMES.map((name) => [name, numberOrNull(row[CONTROL_COLUMNS[name]])]),
  ) as unknown as ChatControls;
}

/** An id list as stored: JSON, or null for none given. */
function idsColumn(ids: readonly string[] | null | undefined): string | null {
  return ids ? JSON.stringify(ids) : null;
}

/** A stored id list read tolerantly: null when there is none. */
function storedIds(json: string | null | undefined): string[] | null {
  if (!json) return null;
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === "string") : null;
  } catch {
    return null; // written by this store only, always as JSON
  }
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
  /** false keeps a temporary chat: it joins the list as any other conversation. */
  temporary?: false;
  /** Its Chat controls: each given one set (null: back to the model's own), the others kept. */
  controls?: Partial<ChatControls>;
  /** The knowledge bases the user chose for it (none: an empty list). */
  chosenKnowledgeBaseIds?: string[];
  /** Its web search mode as chosen. */
  webSearch?: WebSearchMode;
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

/**
 * The most versions a conversation keeps set aside (message versions: an edit and resend, a
 * regeneration), counting those within other versions: past it, the oldest are deleted, so that
 * storage cannot grow without bound. The path shown is never touched.
 */
export const MAX_STORED_VERSIONS = 100;

/** Which of the versions at its place a message begins, numbered from 1 in the order written, of how many. */
export interface MessageVersions {
  index: number;
  count: number;
}

/** Namespaces the per-conversation advisory lock of version changes among PostgreSQL advisory locks. */
const VERSIONS_LOCK = 0x48_56; // "HV"

/** What a stored version's `tail` holds: its messages, and the versions set aside within them. */
interface VersionTail {
  messages: MessagesTable[];
  versions: MessageVersionsTable[];
}

/** Inserts rows a batch at a time (a long tail would pass the database's limit on parameters). */
async function insertRows<T extends "messages" | "message_versions">(
  db: WebDatabase,
  table: T,
  rows: T extends "messages" ? MessagesTable[] : MessageVersionsTable[],
): Promise<void> {
  for (let start = 0; start < rows.length; start += 100)
    await db
      .insertInto(table)
      .values(rows.slice(start, start + 100) as never)
      .execute();
}

/**
 * Sets the conversation's messages from `fromSeq` on aside as a version at their place (with the
 * versions within them), in `db` (a locked transaction); its id, or undefined when there were none.
 * An answer left streaming is kept as interrupted: nothing writes it once it is set aside.
 */
async function setAsideTail(
  db: WebDatabase,
  conversationId: string,
  fromSeq: number,
): Promise<string | undefined> {
  const messages = await db
    .selectFrom("messages")
    .selectAll()
    .where("conversation_id", "=", conversationId)
    .where("seq", ">=", fromSeq)
    .orderBy("seq")
    .execute();
  const first = messages[0];
  if (!first) return undefined;
  const before = await db
    .selectFrom("messages")
    .select((eb) => eb.fn.max("seq").as("seq"))
    .where("conversation_id", "=", conversationId)
    .where("seq", "<", fromSeq)
    .executeTakeFirst();
  const afterSeq = Number(before?.seq ?? 0);
  // Every message after afterSeq is in the tail, and so is every version placed after one of them.
  const within = await db
    .selectFrom("message_versions")
    .selectAll()
    .where("conversation_id", "=", conversationId)
    .where("after_seq", ">", afterSeq)
    .execute();
  const tail: VersionTail = {
    messages: messages.map((row) => ({
      ...row,
      seq: Number(row.seq),
      ...(row.status === "streaming" ? { status: "interrupted" as const } : {}),
    })),
    versions: within.map((row) => ({ ...row, after_seq: Number(row.after_seq), held: Number(row.held) })),
  };
  const id = randomUUID();
  await db
    .deleteFrom("messages")
    .where("conversation_id", "=", conversationId)
    .where("seq", ">=", fromSeq)
    .execute();
  await db
    .deleteFrom("message_versions")
    .where("conversation_id", "=", conversationId)
    .where("after_seq", ">", afterSeq)
    .execute();
  await db
    .insertInto("message_versions")
    .values({
      id,
      conversation_id: conversationId,
      after_seq: afterSeq,
      created_at: first.created_at,
      tail: JSON.stringify(tail),
      held: 1 + tail.versions.reduce((sum, row) => sum + row.held, 0),
    })
    .execute();
  return id;
}

/**
 * Brings a stored version back as the path shown after its place, in `db` (a locked transaction
 * whose path after that place was set aside or removed): its messages as they were, its own
 * versions stored again, the row gone.
 */
async function bringBack(db: WebDatabase, row: MessageVersionsTable): Promise<void> {
  const tail = JSON.parse(row.tail) as VersionTail;
  await insertRows(db, "messages", tail.messages);
  await insertRows(db, "message_versions", tail.versions);
  await db.deleteFrom("message_versions").where("id", "=", row.id).execute();
}

/**
 * Deletes the conversation's oldest stored versions while it holds more than MAX_STORED_VERSIONS
 * (counting those within others), never `keep` (the one just set aside).
 */
async function trimVersions(db: WebDatabase, conversationId: string, keep: string): Promise<void> {
  const rows = await db
    .selectFrom("message_versions")
    .select(["id", "held"])
    .where("conversation_id", "=", conversationId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  let held = rows.reduce((sum, row) => sum + Number(row.held), 0);
  const gone: string[] = [];
  for (const row of rows) {
    if (held <= MAX_STORED_VERSIONS) break;
    if (row.id === keep) continue;
    gone.push(row.id);
    held -= Number(row.held);
  }
  if (gone.length > 0) await db.deleteFrom("message_versions").where("id", "in", gone).execute();
}

/** Appends a message after the conversation's last one in `db`; the conversation's latest activity is its time. */
async function appendRow(
  db: WebDatabase,
  conversationId: string,
  message: NewMessage,
): Promise<StoredMessage> {
  const now = message.createdAt ?? new Date().toISOString();
  const last = await db
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
    finish_reason: message.finishReason ?? null,
  };
  await db.insertInto("messages").values(row).execute();
  await db.updateTable("conversations").set({ updated_at: now }).where("id", "=", conversationId).execute();
  return toMessage(row);
}

/** A message to append: written now unless `createdAt` (an ISO time: an imported one's) says when. */
export type NewMessage = Pick<StoredMessage, "role" | "content" | "status" | "model"> & {
  reasoning?: string | null;
  citations?: Citation[];
  /** Why the model ended a copied answer (a branch's, a share's, an import's): "length" when cut off. */
  finishReason?: string | null;
  createdAt?: string;
};

/** A conversation's title taken from its first message: spaces folded, at most 60 whole characters. */
export function titleFromMessage(content: string): string {
  return firstCodePoints(content.replace(/\s+/g, " ").trim(), 60);
}

/** A system prompt as stored: its text with the white space at its ends taken off; null when nothing is left. */
function systemPromptColumn(text: string | null | undefined): string | null {
  return text?.trim() || null;
}

/**
 * Deletes conversations with their messages, stored versions and the ratings of their answers
 * (share links go with them by their foreign key), in `db` (a transaction): the one way
 * conversations are deleted, alone, with their folder or with their account. Returns how many
 * messages they held.
 */
export async function deleteConversationRows(db: WebDatabase, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const removed = await db.deleteFrom("messages").where("conversation_id", "in", ids).executeTakeFirst();
  await db.deleteFrom("message_versions").where("conversation_id", "in", ids).execute();
  await db.deleteFrom("message_feedback").where("conversation_id", "in", ids).execute();
  // The files attached to them: their bases are no one's from now on (gone from every route), and
  // are deleted on the knowledge service too (ConversationFiles.purge, at once and every minute).
  const bases = await db
    .selectFrom("knowledge_bases")
    .select("id")
    .where("conversation_id", "in", ids)
    .execute();
  if (bases.length > 0) {
    const baseIds = bases.map((base) => base.id);
    const now = new Date().toISOString();
    await db
      .insertInto("knowledge_base_deletions")
      .values(baseIds.map((id) => ({ knowledge_base_id: id, requested_at: now })))
      .onConflict((oc) => oc.column("knowledge_base_id").doNothing())
      .execute();
    // Their jobs and shares go with them by their foreign keys, as any deleted base's do.
    await db.deleteFrom("knowledge_bases").where("id", "in", baseIds).execute();
  }
  await db.deleteFrom("conversations").where("id", "in", ids).execute();
  return Number(removed.numDeletedRows);
}

/** What sharing, pinning, filing or archiving a temporary chat is answered. */
export function temporaryChatError(): HearthError {
  return new HearthError(
    "CONVERSATION_TEMPORARY",
    "A temporary chat cannot be shared, pinned, filed or archived: keep it first",
  );
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
      temporary?: boolean;
      /** The assistant it is started with: it remembers it, and what it took from it. */
      assistant?: ConversationAssistant;
      /** Its Chat controls (a temperature given here is kept over its assistant's). */
      controls?: Partial<ChatControls>;
      /** The knowledge bases chosen for it (a branch keeps its source's choice). */
      chosenKnowledgeBaseIds?: string[] | null;
      /** Its web search mode as chosen (over its assistant's; a branch keeps its source's). */
      webSearch?: WebSearchMode | null;
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
      temporary: input.temporary ? 1 : 0,
      assistant_id: input.assistant?.id ?? null,
      assistant_name: input.assistant?.name ?? null,
      knowledge_base_ids: idsColumn(input.assistant?.knowledgeBaseIds),
      web_search: input.webSearch ?? input.assistant?.webSearch ?? null,
      chosen_knowledge_base_ids: idsColumn(input.chosenKnowledgeBaseIds),
      ...controlColumns({
        ...DEFAULT_CHAT_CONTROLS,
        // An assistant's temperature, unless the request gives one.
        temperature: input.assistant?.temperature ?? null,
        ...controlsGiven(input.controls ?? {}),
      }),
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
      temporary: row.temporary === 1,
      assistant: input.assistant ? { id: input.assistant.id, name: input.assistant.name } : null,
      knowledgeBaseIds: input.assistant ? [...input.assistant.knowledgeBaseIds] : null,
      chosenKnowledgeBaseIds: storedIds(row.chosen_knowledge_base_ids),
      webSearch: row.web_search,
      ...controlsOfRow(row),
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
      temporary: Number(row.temporary) === 1,
      assistant:
        row.assistant_id && row.assistant_name ? { id: row.assistant_id, name: row.assistant_name } : null,
      knowledgeBaseIds: storedIds(row.knowledge_base_ids),
      chosenKnowledgeBaseIds: storedIds(row.chosen_knowledge_base_ids),
      webSearch: row.web_search ?? null,
      ...controlsOfRow(row),
    };
  }

  /**
   * A user's conversations in the list (not archived, nor temporary), the pinned ones first, then the rest, each
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
      .where("temporary", "=", 0)
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
   * archiving it, and so does changing its Chat controls, its chosen knowledge bases or its web search mode (settings,
   * not activity; a temporary chat's may change). Archiving one already archived keeps when it was
   * archived. A folder that is not the user's is FOLDER_NOT_FOUND, as their conversation is a 404. A
   * temporary chat is pinned, filed or archived only as it is kept (CONVERSATION_TEMPORARY
   * otherwise): it is in no list.
   */
  async update(userId: string, id: string, changes: ConversationChanges): Promise<StoredConversation> {
    const current = await this.get(userId, id);
    const { title, systemPrompt, pinned, folderId, archived, chosenKnowledgeBaseIds, webSearch } = changes;
    const controls = controlColumns(changes.controls ?? {});
    const keeping = changes.temporary === false && current.temporary;
    const edited = title !== undefined || systemPrompt !== undefined;
    const archiving = archived !== undefined && archived !== (current.archivedAt !== null);
    if (
      current.temporary &&
      !keeping &&
      (pinned !== undefined || folderId !== undefined || archived !== undefined)
    )
      throw temporaryChatError();
    if (
      !edited &&
      pinned === undefined &&
      folderId === undefined &&
      !archiving &&
      !keeping &&
      chosenKnowledgeBaseIds === undefined &&
      webSearch === undefined &&
      Object.keys(controls).length === 0
    )
      return current;
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
        ...(keeping ? { temporary: 0 } : {}),
        ...controls,
        ...(chosenKnowledgeBaseIds !== undefined
          ? { chosen_knowledge_base_ids: idsColumn(chosenKnowledgeBaseIds) }
          : {}),
        ...(webSearch !== undefined ? { web_search: webSearch } : {}),
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
      .where("temporary", "=", 0)
      .where("archived_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Deletes the temporary chats (of every user) whose last activity was before `before` (an ISO
   * time): those their users did not leave in the app. Returns their ids.
   */
  async deleteTemporaryBefore(before: string): Promise<string[]> {
    return this.atomically(async (trx) => {
      const rows = await trx
        .selectFrom("conversations")
        .select("id")
        .where("temporary", "=", 1)
        .where("updated_at", "<", before)
        .execute();
      const ids = rows.map((row) => row.id);
      if (ids.length > 0) await deleteConversationRows(trx, ids);
      return ids;
    });
  }

  /** Deletes a conversation, its messages and their stored versions; says how many messages it held, and whether it was a temporary chat. */
  async delete(userId: string, id: string): Promise<{ messages: number; temporary: boolean }> {
    const { temporary } = await this.get(userId, id);
    const messages = await this.db.transaction().execute((trx) => deleteConversationRows(trx, [id]));
    return { messages, temporary };
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
  async append(conversationId: string, message: NewMessage) {
    return this.atomically((trx) => appendRow(trx, conversationId, message));
  }

  async finishMessage(
    id: string,
    update: AnswerText & {
      status: MessagesTable["status"];
      error?: string | null;
      errorCode?: string | null;
      finishReason?: string | null;
    },
  ) {
    await this.db
      .updateTable("messages")
      .set({
        ...answerColumns(update),
        status: update.status,
        error: update.error ?? null,
        error_code: update.errorCode ?? null,
        finish_reason: update.finishReason ?? null,
      })
      .where("id", "=", id)
      .execute();
  }

  /**
   * Continue: the conversation's answer `message` (as read, its last message) is written again from
   * where it ended, by `model`: streaming, its ending (finish reason, error, a Stop asked for it
   * before) cleared, the conversation's latest activity now. 409 ANSWER_IN_PROGRESS when it is no
   * longer as read (another turn took it first).
   */
  async resume(conversationId: string, message: StoredMessage, model: string): Promise<void> {
    const now = new Date().toISOString();
    await this.atomically(async (trx) => {
      const resumed = await trx
        .updateTable("messages")
        .set({
          status: "streaming",
          model,
          heartbeat_at: now,
          stop_requested_at: null,
          error: null,
          error_code: null,
          finish_reason: null,
        })
        .where("id", "=", message.id)
        .where("conversation_id", "=", conversationId)
        .where("status", "=", message.status)
        .executeTakeFirst();
      if (Number(resumed.numUpdatedRows) === 0)
        throw new HearthError("ANSWER_IN_PROGRESS", "The conversation's answer is still being written");
      await trx
        .updateTable("conversations")
        .set({ updated_at: now })
        .where("id", "=", conversationId)
        .execute();
    });
  }

  /** Puts an answer back as it was read (`message`): a continuation that added nothing leaves it so. */
  async putBack(message: StoredMessage): Promise<void> {
    await this.db
      .updateTable("messages")
      .set({
        ...answerColumns(message),
        status: message.status,
        model: message.model,
        error: message.error,
        error_code: message.errorCode,
        finish_reason: message.finishReason,
        heartbeat_at: message.heartbeatAt,
        stop_requested_at: null,
      })
      .where("id", "=", message.id)
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
   * Removes the messages from `seq` on (a failed answer with nothing in it, regenerated: not worth
   * keeping as a version), and the versions stored within them.
   */
  async truncateFrom(conversationId: string, seq: number) {
    await this.atomically(async (trx) => {
      await trx
        .deleteFrom("messages")
        .where("conversation_id", "=", conversationId)
        .where("seq", ">=", seq)
        .execute();
      await trx
        .deleteFrom("message_versions")
        .where("conversation_id", "=", conversationId)
        .where("after_seq", ">=", seq)
        .execute();
    });
  }

  /**
   * Runs `work` in a transaction holding the conversation's version lock (one change of its path at
   * a time, across workers and replicas), or in the transaction the store was made on.
   */
  private locked<T>(conversationId: string, work: (trx: WebDatabase) => Promise<T>): Promise<T> {
    return this.db.isTransaction
      ? work(this.db)
      : lockedTransaction(this.db, { namespace: VERSIONS_LOCK, key: conversationId }, work);
  }

  /**
   * Sets the messages from `seq` on aside as a version (a regeneration: the answer it replaces);
   * the version's id, or undefined when there were none. The oldest versions go past
   * MAX_STORED_VERSIONS.
   */
  async setAside(conversationId: string, seq: number): Promise<string | undefined> {
    return this.locked(conversationId, async (trx) => {
      const id = await setAsideTail(trx, conversationId, seq);
      if (id) await trimVersions(trx, conversationId, id);
      return id;
    });
  }

  /**
   * Edit and resend, in one transaction: the messages from `seq` on are set aside as a version
   * (setAside) and `message` is appended in their place. The version's id (undefined when there was
   * nothing from `seq` on) and the message.
   */
  async resend(
    conversationId: string,
    seq: number,
    message: NewMessage,
  ): Promise<{ versionId: string | undefined; message: StoredMessage }> {
    return this.locked(conversationId, async (trx) => {
      const versionId = await setAsideTail(trx, conversationId, seq);
      if (versionId) await trimVersions(trx, conversationId, versionId);
      return { versionId, message: await appendRow(trx, conversationId, message) };
    });
  }

  /**
   * Puts a version set aside by setAside or resend back in place of what followed its place since
   * (a new answer that failed or was stopped, and an edit's message), which is removed. Whether the
   * version was there to put back (safe to repeat: once put back, it is not a stored version).
   */
  async restoreVersion(conversationId: string, versionId: string): Promise<boolean> {
    return this.locked(conversationId, async (trx) => {
      const row = await trx
        .selectFrom("message_versions")
        .selectAll()
        .where("id", "=", versionId)
        .where("conversation_id", "=", conversationId)
        .executeTakeFirst();
      if (!row) return false;
      const afterSeq = Number(row.after_seq);
      await trx
        .deleteFrom("messages")
        .where("conversation_id", "=", conversationId)
        .where("seq", ">", afterSeq)
        .execute();
      await trx
        .deleteFrom("message_versions")
        .where("conversation_id", "=", conversationId)
        .where("after_seq", ">", afterSeq)
        .execute();
      await bringBack(trx, row);
      return true;
    });
  }

  /**
   * The versions of the conversation's messages (`messages`: its path shown, in order): for each
   * message that begins one of several versions at its place, which one it is and of how many,
   * numbered from 1 in the order they were written.
   */
  async versionsOf(conversationId: string, messages: StoredMessage[]): Promise<Map<string, MessageVersions>> {
    const rows = await this.db
      .selectFrom("message_versions")
      .select(["after_seq", "created_at"])
      .where("conversation_id", "=", conversationId)
      .execute();
    const stored = new Map<number, string[]>();
    for (const row of rows) {
      const place = Number(row.after_seq);
      stored.set(place, [...(stored.get(place) ?? []), row.created_at]);
    }
    const versions = new Map<string, MessageVersions>();
    messages.forEach((message, i) => {
      const others = stored.get(i === 0 ? 0 : messages[i - 1]!.seq);
      if (!others) return;
      versions.set(message.id, {
        index: 1 + others.filter((createdAt) => createdAt <= message.createdAt).length,
        count: others.length + 1,
      });
    });
    return versions;
  }

  /**
   * The conversation's messages (its path shown) as the page shows them: each beginning one of
   * several versions with `versions`, each answer its owner rated with `feedback`.
   */
  async messagesShown(
    userId: string,
    id: string,
  ): Promise<Array<StoredMessage & { versions?: MessageVersions; feedback?: AnswerFeedback }>> {
    const messages = await this.messages(userId, id);
    const versions = await this.versionsOf(id, messages);
    const feedback = await feedbackOf(this.db, id);
    return messages.map((message) => {
      const own = versions.get(message.id);
      const rated = feedback.get(message.id);
      return { ...message, ...(own ? { versions: own } : {}), ...(rated ? { feedback: rated } : {}) };
    });
  }

  /**
   * Shows version `index` (from 1, as versionsOf numbers them) of those at the place of the message
   * shown at `seq`: what follows that place now is set aside as a version and the chosen one put
   * back, in one transaction. 409 ANSWER_IN_PROGRESS while an answer is being written in the
   * conversation; 404 MESSAGE_NOT_FOUND when no message shown has that seq; 400
   * VERSION_OUT_OF_RANGE for an index that is not one of its versions.
   */
  async switchVersion(userId: string, conversationId: string, seq: number, index: number): Promise<void> {
    await this.get(userId, conversationId);
    await this.locked(conversationId, async (trx) => {
      const shown = (
        await trx
          .selectFrom("messages")
          .selectAll()
          .where("conversation_id", "=", conversationId)
          .orderBy("seq")
          .execute()
      ).map(toMessage);
      if (shown.some(isBeingWritten))
        throw new HearthError("ANSWER_IN_PROGRESS", "The conversation's answer is still being written");
      const at = shown.findIndex((message) => message.seq === seq);
      const message = shown[at];
      if (!message)
        throw new HearthError("MESSAGE_NOT_FOUND", "No message with that seq in this conversation");
      const afterSeq = at === 0 ? 0 : shown[at - 1]!.seq;
      const stored = await trx
        .selectFrom("message_versions")
        .selectAll()
        .where("conversation_id", "=", conversationId)
        .where("after_seq", "=", afterSeq)
        .orderBy("created_at")
        .orderBy("id")
        .execute();
      // The one shown goes after the stored ones written before it (or at the same time).
      const before = stored.filter((row) => row.created_at <= message.createdAt).length;
      const versions: Array<MessageVersionsTable | undefined> = [
        ...stored.slice(0, before),
        undefined,
        ...stored.slice(before),
      ];
      if (!Number.isInteger(index) || index < 1 || index > versions.length)
        throw new HearthError(
          "VERSION_OUT_OF_RANGE",
          `The message has versions 1 to ${versions.length}; there is no version ${index}`,
          { details: { count: versions.length } },
        );
      const chosen = versions[index - 1];
      if (!chosen) return;
      await setAsideTail(trx, conversationId, seq);
      await bringBack(trx, chosen);
    });
  }
}
