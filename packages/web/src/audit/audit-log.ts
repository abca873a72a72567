import { withoutUrlSecrets } from "@hearth/core";
import type { WebDatabase } from "../storage/open-database.js";

/** Sensitive actions recorded in the audit log (role changes, keys, deletions, settings). */
export type AuditAction =
  | "user.signup"
  | "user.create"
  | "user.role-change"
  | "user.status-change"
  | "user.delete"
  | "user.password-change"
  | "user.password-reset"
  | "user.create-admin"
  | "user.sso-sign-in"
  | "user.sso-sign-in-failed"
  | "user.sso-link"
  | "group.create"
  | "group.delete"
  | "group.rename"
  | "group.members-change"
  | "api-key.create"
  | "api-key.revoke"
  | "conversation.delete"
  | "conversation.import"
  | "conversation.share"
  | "conversation.share-revoke"
  | "knowledge-base.delete"
  | "knowledge-base.access-change"
  | "knowledge-base.settings-change"
  | "knowledge-base.document-delete"
  | "knowledge-base.document-disable"
  | "knowledge-base.document-enable"
  | "model.access-change"
  | "model.pull"
  | "model.pull-failed"
  | "model.delete"
  | "model.rollback"
  | "settings.change"
  | "prompt.shared-create"
  | "prompt.shared-change"
  | "prompt.shared-delete"
  | "banner.create"
  | "banner.change"
  | "banner.delete"
  | "banner.reorder"
  | "assistant.create"
  | "assistant.change"
  | "assistant.delete";

/**
 * Writes an entry with the names of its actor and target as they are now: the log still names them
 * after they are deleted. An account or a group is named from the web database; a target named
 * elsewhere (a knowledge base, by the knowledge service) is named by the caller (`targetName`). A
 * deletion is audited before its rows go.
 */
export async function audit(
  db: WebDatabase,
  entry: {
    actorId: string | null;
    action: AuditAction;
    target?: string;
    targetName?: string | null;
    details?: Record<string, unknown>;
  },
) {
  await db
    .insertInto("audit_log")
    .values({
      actor_id: entry.actorId,
      actor_name: entry.actorId ? await userName(db, entry.actorId) : null,
      action: entry.action,
      // A target that is a URL (a model pulled from one) loses its credentials: the log holds no secrets.
      target: entry.target === undefined ? null : withoutUrlSecrets(entry.target),
      target_name: entry.targetName ?? (entry.target ? await targetName(db, entry.target) : null),
      details: entry.details ? JSON.stringify(entry.details) : null,
      created_at: new Date().toISOString(),
    })
    .execute();
}

async function userName(db: WebDatabase, id: string): Promise<string | null> {
  const row = await db.selectFrom("users").select("username").where("id", "=", id).executeTakeFirst();
  return row?.username ?? null;
}

/** A target that is an account or a group is named; other targets are names already, or ids. */
async function targetName(db: WebDatabase, target: string): Promise<string | null> {
  const user = await userName(db, target);
  if (user !== null) return user;
  const group = await db.selectFrom("groups").select("name").where("id", "=", target).executeTakeFirst();
  return group?.name ?? null;
}
