import { type HearthConfig, HearthError } from "@hearth/core";
import { findUserByName } from "../accounts/account-store.js";
import { audit } from "../audit/audit-log.js";
import { openDatabase, type WebDatabase } from "../storage/open-database.js";

/**
 * The web account a knowledge base made outside the web service (`hearth ingest --create --owner`)
 * belongs to: USER_NOT_FOUND before anything is created when no account has that name.
 */
export async function findKnowledgeBaseOwner(
  config: HearthConfig,
  username: string,
): Promise<{ id: string; username: string }> {
  const db = await openDatabase(config);
  try {
    const user = await findUserByName(db, username);
    if (!user)
      throw new HearthError(
        "USER_NOT_FOUND",
        `No web account is named "${username}" (\`hearth users list\` shows them)`,
      );
    return { id: user.id, username: user.username };
  } finally {
    await db.destroy();
  }
}

/**
 * Gives a knowledge base the web service does not know yet to a web account, private, as if its
 * owner had made it in the web UI (run against the web database directly, as `hearth users` is). A
 * base the web service knows keeps its owner: asking for another is refused.
 */
export async function assignKnowledgeBaseOwner(
  config: HearthConfig,
  input: { knowledgeBaseId: string; owner: { id: string; username: string } },
): Promise<void> {
  const db = await openDatabase(config);
  try {
    await recordKnowledgeBaseOwner(db, { ...input, actorId: null, via: "cli" });
  } finally {
    await db.destroy();
  }
}

/**
 * Records the owner of a base the web service did not know (made on the knowledge service directly,
 * or by `hearth ingest` without `--owner`): private, audited as an access change. Refused with
 * FORBIDDEN when the base already belongs to another account; nothing happens when it is the owner's.
 */
export async function recordKnowledgeBaseOwner(
  db: WebDatabase,
  input: {
    knowledgeBaseId: string;
    owner: { id: string; username: string };
    /** Who did it: the admin who adopted the base in the web UI, null for the command line. */
    actorId: string | null;
    via: "cli" | "web";
  },
): Promise<void> {
  const known = await db
    .selectFrom("knowledge_bases")
    .select("owner_id")
    .where("id", "=", input.knowledgeBaseId)
    .executeTakeFirst();
  if (known) {
    if (known.owner_id === input.owner.id) return;
    throw new HearthError(
      "FORBIDDEN",
      `Knowledge base ${input.knowledgeBaseId} already belongs to another web account; its owner or an administrator shares it from the web UI`,
    );
  }
  await db
    .insertInto("knowledge_bases")
    .values({
      id: input.knowledgeBaseId,
      owner_id: input.owner.id,
      visibility: "private",
      created_at: new Date().toISOString(),
    })
    .execute();
  await audit(db, {
    actorId: input.actorId,
    action: "knowledge-base.access-change",
    target: input.knowledgeBaseId,
    details: { owner: input.owner.username, via: input.via },
  });
}
