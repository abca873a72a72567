import {
  KNOWLEDGE_BASE_NAME_MAX_CHARS,
  type KnowledgeClient,
  KnowledgeClientError,
  knowledgeBaseNameKey,
} from "@hearth/contracts";
import { type HearthConfig, HearthError } from "@hearth/core";
import { findUserByName } from "../accounts/account-store.js";
import { audit } from "../audit/audit-log.js";
import { openDatabase, type WebDatabase } from "../storage/open-database.js";
import { knowledgeFailure } from "./knowledge-failure.js";

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
    /** The base's name, which its audit entry keeps (the command line does not read it). */
    name?: string;
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
    targetName: input.name ?? null,
    details: { owner: input.owner.username, via: input.via },
  });
}

/** A deleted account's knowledge bases as they passed to an administrator. */
export interface KnowledgeBaseTransfer {
  /** Every base that passed. */
  knowledgeBases: string[];
  /** Those renamed on the way, as the new owner had a base of that name already. */
  renamed: Array<{ id: string; from: string; to: string }>;
}

/**
 * Passes a deleted account's knowledge bases (not its chats' files: they go with the chats) to the
 * administrator `to`, inside the deletion's transaction `trx`. A base's name is unique among its
 * owner's (as knowledgeBaseNameKey compares), so a base whose name `to` already has ("docs kb" beside
 * their "Docs KB") is renamed after the account it came from, "docs kb (hank)", else "docs kb (hank 2)"
 * and so on, never taking a name another of the account's bases keeps. The names are the knowledge
 * service's: it renames them before the ownership moves, and a rename it cannot make (it is down) fails
 * the deletion, whose transaction then moves nothing; a base renamed by then keeps its new name.
 */
export async function transferKnowledgeBases(
  trx: WebDatabase,
  knowledge: Pick<KnowledgeClient, "listKnowledgeBases" | "updateKnowledgeBase">,
  input: { from: { id: string; username: string }; to: string },
): Promise<KnowledgeBaseTransfer> {
  const { from, to } = input;
  const passing = await trx
    .selectFrom("knowledge_bases")
    .select("id")
    .where("owner_id", "=", from.id)
    .where("conversation_id", "is", null)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  if (passing.length === 0) return { knowledgeBases: [], renamed: [] };
  const kept = await trx.selectFrom("knowledge_bases").select("id").where("owner_id", "=", to).execute();
  const listed = await knowledge.listKnowledgeBases().catch((error: unknown) => {
    throw knowledgeFailure(error, "/v1/knowledge-bases");
  });
  const names = new Map(listed.map((base) => [base.id, base.name]));
  const keysOf = (rows: ReadonlyArray<{ id: string }>) =>
    rows.flatMap(({ id }) => {
      const name = names.get(id);
      return name === undefined ? [] : [knowledgeBaseNameKey(name)];
    });
  const taken = new Set(keysOf(kept));
  const accountsOwn = new Set(keysOf(passing));
  const renamed: KnowledgeBaseTransfer["renamed"] = [];
  for (const { id } of passing) {
    const name = names.get(id);
    if (name === undefined) continue; // gone from the knowledge service: no name to keep apart
    if (!taken.has(knowledgeBaseNameKey(name))) {
      taken.add(knowledgeBaseNameKey(name));
      continue;
    }
    for (let attempt = 1; ; attempt++) {
      const candidate = transferredName(name, from.username, attempt);
      const key = knowledgeBaseNameKey(candidate);
      if (taken.has(key) || accountsOwn.has(key)) continue;
      taken.add(key);
      try {
        await knowledge.updateKnowledgeBase(id, { name: candidate });
      } catch (error) {
        // A base of the knowledge service's own that the web service does not list has it.
        if (error instanceof KnowledgeClientError && error.code === "KNOWLEDGE_BASE_NAME_TAKEN") continue;
        throw knowledgeFailure(error, "/v1/knowledge-bases/{id}");
      }
      renamed.push({ id, from: name, to: candidate });
      break;
    }
  }
  await trx
    .updateTable("knowledge_bases")
    .set({ owner_id: to })
    .where("owner_id", "=", from.id)
    .where("conversation_id", "is", null)
    .execute();
  return { knowledgeBases: passing.map((base) => base.id), renamed };
}

/**
 * `name (username)`, or `name (username 2)` from the second attempt on, within the longest name
 * a base may have: the name is shortened (whole characters) to leave room for the suffix.
 */
function transferredName(name: string, username: string, attempt: number): string {
  const suffix = attempt === 1 ? ` (${username})` : ` (${username} ${attempt})`;
  let shortened = "";
  for (const character of name) {
    if (shortened.length + character.length + suffix.length > KNOWLEDGE_BASE_NAME_MAX_CHARS) break;
    shortened += character;
  }
  return `${shortened.trimEnd()}${suffix}`;
}
