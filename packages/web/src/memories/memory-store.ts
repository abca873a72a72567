import { randomUUID } from "node:crypto";
import { MEMORY_MAX_COUNT, type Memory } from "@hearth/contracts";
import { HearthError } from "@hearth/core";
import type { Selectable } from "kysely";
import type { MemoriesTable } from "../storage/database-schema.js";
import { lockedTransaction } from "../storage/locked-transaction.js";
import type { WebDatabase } from "../storage/open-database.js";

/** The advisory lock namespace of a user's memories ("HM"): a count and the add it allows run one at a time. */
const MEMORIES_LOCK = 0x48_4d;

function notFound(): HearthError {
  return new HearthError("MEMORY_NOT_FOUND", "No such memory");
}

function toMemory(row: Selectable<MemoriesTable>): Memory {
  return { id: row.id, content: row.content, createdAt: row.created_at, updatedAt: row.updated_at };
}

/**
 * A memory as stored: one line (line breaks and the white space around them become one space, so
 * that it is one line of the prompt's block), without the white space at its ends.
 */
function oneLine(content: string): string {
  return content.replace(/\s*[\r\n\u2028\u2029]+\s*/g, " ").trim();
}

/**
 * A user's memories: facts they asked the assistant to remember about them, each theirs alone
 * (another user's id is a 404 MEMORY_NOT_FOUND as if it never was, to an administrator too), at most
 * MEMORY_MAX_COUNT of them (409 MEMORY_LIMIT_REACHED), listed newest first.
 */
export class MemoryStore {
  constructor(readonly db: WebDatabase) {}

  /** The user's memories, newest first. */
  async list(userId: string): Promise<Memory[]> {
    const rows = await this.db
      .selectFrom("memories")
      .selectAll()
      .where("user_id", "=", userId)
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .execute();
    return rows.map(toMemory);
  }

  /** A memory of the user's; MEMORY_NOT_FOUND for another's. */
  async get(userId: string, id: string): Promise<Memory> {
    const row = await this.db
      .selectFrom("memories")
      .selectAll()
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (!row) throw notFound();
    return toMemory(row);
  }

  /**
   * What a chat turn of the user's adds to its system prompt: their memories, newest first, while
   * they have memory on (their preference); none otherwise.
   */
  async forChat(userId: string): Promise<string[]> {
    // One query on every turn: the memories' text, joined to the preference that lets them in.
    const rows = await this.db
      .selectFrom("memories")
      .innerJoin("user_preferences", "user_preferences.user_id", "memories.user_id")
      .select("memories.content")
      .where("memories.user_id", "=", userId)
      .where("user_preferences.memory", "=", 1)
      .orderBy("memories.created_at", "desc")
      .orderBy("memories.id", "desc")
      .execute();
    return rows.map((row) => row.content);
  }

  /**
   * A new memory, the user's newest: created after every other of theirs (a millisecond later when
   * the clock has not moved on), so the list's order is the order they were added in. Refused once
   * the user has MEMORY_MAX_COUNT (counted and added under a lock, so that two adds at once cannot
   * pass the limit together).
   */
  async create(userId: string, content: string): Promise<Memory> {
    return lockedTransaction(this.db, { namespace: MEMORIES_LOCK, key: userId }, async (trx) => {
      const { count, newest } = await trx
        .selectFrom("memories")
        .select((eb) => [eb.fn.countAll<string | number>().as("count"), eb.fn.max("created_at").as("newest")])
        .where("user_id", "=", userId)
        .executeTakeFirstOrThrow();
      if (Number(count) >= MEMORY_MAX_COUNT)
        throw new HearthError(
          "MEMORY_LIMIT_REACHED",
          `You have ${MEMORY_MAX_COUNT} memories, the most you may keep: delete one to add another`,
          { details: { limit: MEMORY_MAX_COUNT } },
        );
      const now = Date.now();
      const after = newest ? Date.parse(newest) + 1 : now;
      const createdAt = new Date(Math.max(now, after)).toISOString();
      const row = {
        id: randomUUID(),
        user_id: userId,
        content: oneLine(content),
        created_at: createdAt,
        updated_at: createdAt,
      };
      await trx.insertInto("memories").values(row).execute();
      return toMemory(row);
    });
  }

  /** Changes a memory of the user's (it keeps its place in the list). */
  async update(userId: string, id: string, content: string): Promise<Memory> {
    const row = await this.db
      .updateTable("memories")
      .set({ content: oneLine(content), updated_at: new Date().toISOString() })
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw notFound();
    return toMemory(row);
  }

  /** Deletes a memory of the user's. */
  async delete(userId: string, id: string): Promise<void> {
    const { numDeletedRows } = await this.db
      .deleteFrom("memories")
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (Number(numDeletedRows) === 0) throw notFound();
  }

  /** Deletes every memory of the user's; how many there were. */
  async clear(userId: string): Promise<number> {
    const { numDeletedRows } = await this.db
      .deleteFrom("memories")
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return Number(numDeletedRows);
  }
}
