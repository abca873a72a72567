import { randomUUID } from "node:crypto";
import { foldName } from "@hearth/contracts";
import { HearthError } from "@hearth/core";
import type { WebDatabase } from "../storage/open-database.js";
import { isUniqueViolation } from "../storage/unique-violation.js";
import { deleteConversationRows } from "./conversation-store.js";

/** A folder as the API gives it. */
export interface StoredFolder {
  id: string;
  name: string;
  createdAt: string;
  /** How many of its conversations are in the list (archived ones are not counted). */
  conversationCount: number;
}

/** The longest folder name, in characters. */
export const FOLDER_NAME_MAX_CHARS = 100;

function nameTaken(): HearthError {
  return new HearthError("FOLDER_NAME_TAKEN", "You already have a folder with that name", {
    details: { field: "name" },
  });
}

/**
 * A user's folders of conversations, always scoped to their owner: another user's folder is a 404
 * (FOLDER_NOT_FOUND), as their conversation is. Names are unique per user, compared folded (case
 * and width: "Work", "WORK" and the full-width "ＷＯＲＫ" are one name), as user and group names are.
 */
export class FolderStore {
  constructor(readonly db: WebDatabase) {}

  /** The user's folders by name, each with the number of its conversations in the list. */
  async list(userId: string): Promise<StoredFolder[]> {
    const rows = await this.db
      .selectFrom("folders")
      .leftJoin("conversations", (join) =>
        join
          .onRef("conversations.folder_id", "=", "folders.id")
          .on("conversations.user_id", "=", userId)
          .on("conversations.archived_at", "is", null),
      )
      .select(["folders.id", "folders.name", "folders.name_folded", "folders.created_at"])
      .select((eb) => eb.fn.count<string | number>("conversations.id").as("count"))
      .where("folders.user_id", "=", userId)
      .groupBy(["folders.id", "folders.name", "folders.name_folded", "folders.created_at"])
      .orderBy("folders.name_folded")
      .orderBy("folders.id")
      .execute();
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      createdAt: row.created_at,
      conversationCount: Number(row.count),
    }));
  }

  /** One of the user's folders (FOLDER_NOT_FOUND for one that is not theirs). */
  async get(userId: string, id: string): Promise<StoredFolder> {
    const row = await this.db
      .selectFrom("folders")
      .select(["id", "name", "created_at"])
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (!row) throw new HearthError("FOLDER_NOT_FOUND", "No such folder");
    const count = await this.db
      .selectFrom("conversations")
      .select((eb) => eb.fn.countAll<string | number>().as("n"))
      .where("user_id", "=", userId)
      .where("folder_id", "=", id)
      .where("archived_at", "is", null)
      .executeTakeFirst();
    return {
      id: row.id,
      name: row.name,
      createdAt: row.created_at,
      conversationCount: Number(count?.n ?? 0),
    };
  }

  /** The name of the user's folder `id`; null for none (the folder deleted meanwhile). */
  async nameOf(userId: string, id: string | null): Promise<string | null> {
    if (!id) return null;
    const row = await this.db
      .selectFrom("folders")
      .select("name")
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return row?.name ?? null;
  }

  /** FOLDER_NAME_TAKEN when another of the user's folders has the name (folded). */
  private async assertNameFree(userId: string, folded: string, except?: string): Promise<void> {
    let query = this.db
      .selectFrom("folders")
      .select("id")
      .where("user_id", "=", userId)
      .where("name_folded", "=", folded);
    if (except) query = query.where("id", "!=", except);
    if (await query.executeTakeFirst()) throw nameTaken();
  }

  /** A new folder; `name` as the route took it (trimmed, 1-100 characters). */
  async create(userId: string, name: string): Promise<StoredFolder> {
    const folded = foldName(name);
    await this.assertNameFree(userId, folded);
    const row = {
      id: randomUUID(),
      user_id: userId,
      name,
      name_folded: folded,
      created_at: new Date().toISOString(),
    };
    try {
      await this.db.insertInto("folders").values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken();
      throw error;
    }
    return { id: row.id, name, createdAt: row.created_at, conversationCount: 0 };
  }

  async rename(userId: string, id: string, name: string): Promise<StoredFolder> {
    await this.get(userId, id);
    const folded = foldName(name);
    await this.assertNameFree(userId, folded, id);
    try {
      await this.db
        .updateTable("folders")
        .set({ name, name_folded: folded })
        .where("id", "=", id)
        .where("user_id", "=", userId)
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken();
      throw error;
    }
    return this.get(userId, id);
  }

  /**
   * The user's folder of that name (compared folded), made when they have none: an import's
   * conversation goes back into the folder it was exported from. Two imports making it at once
   * both get the one folder.
   */
  async findOrCreate(userId: string, name: string): Promise<string> {
    const find = () =>
      this.db
        .selectFrom("folders")
        .select("id")
        .where("user_id", "=", userId)
        .where("name_folded", "=", foldName(name))
        .executeTakeFirst();
    const found = await find();
    if (found) return found.id;
    try {
      return (await this.create(userId, name)).id;
    } catch (error) {
      const made =
        error instanceof HearthError && error.code === "FOLDER_NAME_TAKEN" ? await find() : undefined;
      if (made) return made.id;
      throw error;
    }
  }

  /**
   * Deletes a folder. Its conversations go back to the list's main part (unfiled), unless
   * `withConversations`: then those in the list are deleted with it (their messages and share
   * links too), and only its archived ones, which the folder's count did not show, stay (unfiled,
   * in Archived chats). Returns the conversations deleted, each with whether it held messages.
   */
  async delete(
    userId: string,
    id: string,
    options: { withConversations?: boolean } = {},
  ): Promise<Array<{ id: string; messages: number }>> {
    await this.get(userId, id);
    return this.db.transaction().execute(async (trx) => {
      let deleted: Array<{ id: string; messages: number }> = [];
      if (options.withConversations) {
        const listed = trx
          .selectFrom("conversations")
          .select("id")
          .where("user_id", "=", userId)
          .where("folder_id", "=", id)
          .where("archived_at", "is", null);
        const rows = await trx
          .selectFrom("conversations")
          .leftJoin("messages", "messages.conversation_id", "conversations.id")
          .select(["conversations.id"])
          .select((eb) => eb.fn.count<string | number>("messages.id").as("messages"))
          .where("conversations.id", "in", listed)
          .groupBy("conversations.id")
          .execute();
        deleted = rows.map((row) => ({ id: row.id, messages: Number(row.messages) }));
        await deleteConversationRows(
          trx,
          deleted.map((conversation) => conversation.id),
        );
      }
      await trx
        .updateTable("conversations")
        .set({ folder_id: null })
        .where("user_id", "=", userId)
        .where("folder_id", "=", id)
        .execute();
      await trx.deleteFrom("folders").where("id", "=", id).where("user_id", "=", userId).execute();
      return deleted;
    });
  }
}
