import type { WebDatabase } from "../storage/open-database.js";

/** Sensitive actions recorded in the audit log (role changes, keys, deletions, settings). */
export type AuditAction =
  | "user.signup"
  | "user.role-change"
  | "user.status-change"
  | "user.delete"
  | "user.create-admin"
  | "group.create"
  | "group.delete"
  | "group.members-change"
  | "api-key.create"
  | "api-key.revoke"
  | "conversation.delete"
  | "knowledge-base.delete"
  | "knowledge-base.access-change"
  | "knowledge-base.document-delete"
  | "model.access-change"
  | "model.pull"
  | "model.delete"
  | "model.rollback"
  | "settings.change";

export async function audit(
  db: WebDatabase,
  entry: { actorId: string | null; action: AuditAction; target?: string; details?: Record<string, unknown> },
) {
  await db
    .insertInto("audit_log")
    .values({
      actor_id: entry.actorId,
      action: entry.action,
      target: entry.target ?? null,
      details: entry.details ? JSON.stringify(entry.details) : null,
      created_at: new Date().toISOString(),
    })
    .execute();
}
