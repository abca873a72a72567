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
    return (await this.permissionsOf(user, [id])).get(id);
  }

  /**
   * The user's permission on each of `ids` they have one on (the others are absent), in two queries
   * whatever their number: the bases, then the shares of them with the user's groups.
   */
  async permissionsOf(user: CurrentUser, ids: readonly string[]): Promise<Map<string, KnowledgePermission>> {
    if (ids.length === 0) return new Map();
    const bases = await this.db
      .selectFrom("knowledge_bases")
      .select(["id", "owner_id", "visibility", "conversation_id"])
      .where("id", "in", [...new Set(ids)])
      .execute();
    return this.permissionsOfBases(user, bases);
  }

  /** permissionsOf, for bases already read (one query: the shares of them with the user's groups). */
  async permissionsOfBases(
    user: CurrentUser,
    bases: ReadonlyArray<{
      id: string;
      owner_id: string;
      visibility: string;
      conversation_id: string | null;
    }>,
  ): Promise<Map<string, KnowledgePermission>> {
    const permissions = new Map<string, KnowledgePermission>();
    const sharable: string[] = [];
    for (const base of bases) {
      // A chat's files are its owner's alone, an administrator's no more than anyone's; they add and
      // remove documents, while the base itself (its settings, sharing, deletion) goes with the chat.
      if (base.conversation_id) {
        if (base.owner_id === user.id) permissions.set(base.id, "write");
      } else if (user.role === "admin" || base.owner_id === user.id) permissions.set(base.id, "manage");
      else {
        if (base.visibility === "public") permissions.set(base.id, "read");
        if (base.visibility !== "private") sharable.push(base.id);
      }
    }
    if (sharable.length > 0 && user.groupIds.length > 0) {
      const shares = await this.db
        .selectFrom("knowledge_shares")
        .select(["knowledge_base_id", "permission"])
        .where("knowledge_base_id", "in", sharable)
        .where("group_id", "in", user.groupIds)
        .execute();
      // The widest of the user's groups' shares, and of the public read.
      for (const share of shares)
        if (share.permission === "write") permissions.set(share.knowledge_base_id, "write");
        else if (!permissions.has(share.knowledge_base_id)) permissions.set(share.knowledge_base_id, "read");
    }
    return permissions;
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
}
