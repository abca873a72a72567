import { HearthError } from "@hearth/core";
import type { CurrentUser } from "../accounts/account-store.js";
import type { WebDatabase } from "../storage/open-database.js";

export type KnowledgePermission = "read" | "write" | "manage";

/**
 * Knowledge-base access: a conversation's base (the files attached to a chat) is its owner's alone.
 * Otherwise the owner (and admins) manage (settings, sharing, re-index, delete); a
 * public base is readable by every user; a shared one by the groups it is shared with, with read or
 * write (add, delete and re-sync documents). Anything else is a 404, so
 * the existence of a private base is not revealed.
 */
export class KnowledgeAccess {
  constructor(readonly db: WebDatabase) {}

  async permissionOf(user: CurrentUser, id: string): Promise<KnowledgePermission | undefined> {
    const base = await this.db
      .selectFrom("knowledge_bases")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    if (!base) return undefined;
    // A chat's files are its owner's alone, an administrator's no more than anyone's; they add and
    // remove documents, while the base itself (its settings, sharing, deletion) goes with the chat.
    if (base.conversation_id) return base.owner_id === user.id ? "write" : undefined;
    if (user.role === "admin" || base.owner_id === user.id) return "manage";
    let permission: KnowledgePermission | undefined = base.visibility === "public" ? "read" : undefined;
    if (base.visibility !== "private" && user.groupIds.length > 0) {
      const shares = await this.db
        .selectFrom("knowledge_shares")
        .select("permission")
        .where("knowledge_base_id", "=", id)
        .where("group_id", "in", user.groupIds)
        .execute();
      if (shares.some((s) => s.permission === "write")) permission = "write";
      else if (shares.length > 0) permission ??= "read";
    }
    return permission;
  }

  /** Throws KNOWLEDGE_BASE_NOT_FOUND unless the user has at least `needed` on the base. */
  async assert(user: CurrentUser, id: string, needed: KnowledgePermission): Promise<KnowledgePermission> {
    const permission = await this.permissionOf(user, id);
    const rank = { read: 1, write: 2, manage: 3 } as const;
    if (!permission) throw new HearthError("KNOWLEDGE_BASE_NOT_FOUND", "No such knowledge base");
    if (rank[permission] < rank[needed]) {
      throw new HearthError(
        "FORBIDDEN",
        needed === "write"
          ? "You may read this knowledge base but not change it"
          : "Only the owner or an administrator may do this",
      );
    }
    return permission;
  }

  /** Ids of the bases the user may read (the files attached to chats aside). */
  async readableIds(user: CurrentUser): Promise<string[]> {
    const bases = await this.db
      .selectFrom("knowledge_bases")
      .select(["id"])
      .where("conversation_id", "is", null)
      .execute();
    const ids: string[] = [];
    for (const base of bases) if (await this.permissionOf(user, base.id)) ids.push(base.id);
    return ids;
  }
}
