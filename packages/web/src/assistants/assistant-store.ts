import { randomUUID } from "node:crypto";
import {
  ASSISTANT_MODEL_PREFIX,
  type Assistant,
  type AssistantVisibility,
  foldName,
} from "@hearth/contracts";
import { HearthError } from "@hearth/core";
import type { CurrentUser } from "../accounts/account-store.js";
import type { KnowledgeAccess } from "../knowledge/knowledge-access.js";
import type { AssistantsTable } from "../storage/database-schema.js";
import type { WebDatabase } from "../storage/open-database.js";
import { isUniqueViolation } from "../storage/unique-violation.js";

/** What an assistant is written with (as the route took it: trimmed and within the limits). */
export interface AssistantInput {
  name: string;
  description: string;
  model: string;
  systemPrompt: string | null;
  knowledgeBaseIds: string[];
  webSearch: "off" | "auto" | "on";
  temperature: number | null;
  visibility: AssistantVisibility;
  /** The groups it is shared with; only with visibility "shared". */
  groupIds: string[];
}

/** What a chat or an API call started with an assistant takes from it, all its knowledge bases included. */
export interface AssistantSettings {
  id: string;
  name: string;
  model: string;
  systemPrompt: string | null;
  knowledgeBaseIds: string[];
  webSearch: "off" | "auto" | "on";
  temperature: number | null;
}

function assistantNotFound(): HearthError {
  return new HearthError("ASSISTANT_NOT_FOUND", "No such assistant");
}

function nameTaken(): HearthError {
  return new HearthError("ASSISTANT_NAME_TAKEN", "You already have an assistant with that name", {
    details: { field: "name" },
  });
}

/** A stored id list, read tolerantly: anything but an array of strings is none. */
function idsOf(json: string | null): string[] {
  if (!json) return [];
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === "string") : [];
  } catch {
    return []; // never written so: the column is written by this store only
  }
}

/**
 * Checks the sharing an assistant is written with, new or changed: shared with at least one group,
 * and groups named (`given`) only when shared. INVALID_REQUEST on groupIds otherwise, as the
 * request schema names a field.
 */
function assertSharing(
  visibility: AssistantVisibility,
  groupIds: string[],
  given: string[] | undefined,
): void {
  const refuse = (message: string) =>
    new HearthError("INVALID_REQUEST", `groupIds: ${message}`, {
      details: { issues: [{ path: "groupIds", message, code: "custom" }] },
    });
  if (visibility === "shared" && groupIds.length === 0)
    throw refuse("an assistant shared with groups needs at least one group");
  if (visibility !== "shared" && (given?.length ?? 0) > 0)
    throw refuse('groups are given only with visibility "shared"');
}

/**
 * Assistants: saved model presets, each its owner's. Shared as knowledge bases are: private (the
 * owner's alone), shared with groups, or public (every signed-in user). A user lists and uses their
 * own, those shared with one of their groups and the public ones; the owner and administrators
 * change and delete them. Any other is ASSISTANT_NOT_FOUND, as if it never was. Using one never
 * gives more than the user's own rights: the routes that use it check the base model against the
 * model access rules, and search only the knowledge bases the user may read.
 */
export class AssistantStore {
  constructor(
    readonly db: WebDatabase,
    readonly knowledgeAccess: KnowledgeAccess,
  ) {}

  /** Whether the reader may use the assistant (see it, start a chat with it). */
  private async visibleTo(reader: CurrentUser, row: AssistantsTable): Promise<boolean> {
    if (row.owner_id === reader.id || row.visibility === "public") return true;
    if (row.visibility !== "shared" || reader.groupIds.length === 0) return false;
    const share = await this.db
      .selectFrom("assistant_shares")
      .select("group_id")
      .where("assistant_id", "=", row.id)
      .where("group_id", "in", reader.groupIds)
      .executeTakeFirst();
    return share !== undefined;
  }

  private async row(id: string): Promise<AssistantsTable | undefined> {
    return this.db.selectFrom("assistants").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /**
   * The assistant as the reader sees it: only the knowledge bases they may read are named (by id);
   * the others are counted. `bases`: the row's bases split so already (by update, which knows).
   */
  private async toAssistant(
    row: AssistantsTable,
    reader: CurrentUser,
    bases?: { readable: string[]; unreadable: string[] },
  ): Promise<Assistant> {
    const [owner, groups] = await Promise.all([
      this.db
        .selectFrom("users")
        .select(["id", "username"])
        .where("id", "=", row.owner_id)
        .executeTakeFirst(),
      this.db
        .selectFrom("assistant_shares")
        .innerJoin("groups", "groups.id", "assistant_shares.group_id")
        .select(["groups.id", "groups.name"])
        .where("assistant_shares.assistant_id", "=", row.id)
        .orderBy("groups.name")
        .execute(),
    ]);
    const { readable, unreadable } =
      bases ?? (await this.splitReadable(reader, idsOf(row.knowledge_base_ids)));
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      model: row.model,
      systemPrompt: row.system_prompt,
      knowledgeBaseIds: readable,
      unavailableKnowledgeBases: unreadable.length,
      webSearch: row.web_search,
      temperature: row.temperature === null ? null : Number(row.temperature),
      visibility: row.visibility,
      groups,
      owner: { id: row.owner_id, username: owner?.username ?? "" },
      editable: reader.role === "admin" || row.owner_id === reader.id,
      apiModel: `${ASSISTANT_MODEL_PREFIX}${row.id}`,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  /**
   * The bases of `ids` the user may read (their chats' file bases aside: those belong to one chat)
   * and the others, each in the order given.
   */
  async splitReadable(
    user: CurrentUser,
    ids: string[],
  ): Promise<{ readable: string[]; unreadable: string[] }> {
    const readable: string[] = [];
    const unreadable: string[] = [];
    if (ids.length === 0) return { readable, unreadable };
    const bases = await this.db
      .selectFrom("knowledge_bases")
      .select(["id", "owner_id", "visibility", "conversation_id"])
      .where("id", "in", ids)
      .execute();
    // A chat's file base is never an assistant's, whoever may write to it.
    const permissions = await this.knowledgeAccess.permissionsOfBases(
      user,
      bases.filter((base) => !base.conversation_id),
    );
    for (const id of ids) {
      if (permissions.has(id)) readable.push(id);
      else unreadable.push(id);
    }
    return { readable, unreadable };
  }

  /**
   * The assistants the reader may use, by name: their own, those shared with one of their groups,
   * and the public ones. `all` (administrators only: the route checks): every user's.
   */
  async list(reader: CurrentUser, options: { all?: boolean } = {}): Promise<Assistant[]> {
    const rows = await this.usable(reader, options.all)
      .selectAll()
      .orderBy("name_folded")
      .orderBy("id")
      .execute();
    return Promise.all(rows.map((row) => this.toAssistant(row, reader)));
  }

  /**
   * The assistants the reader may use as models of the public API (`assistant:<id>`), with their
   * base model, owner's name and creation time: one query, none of what `list` builds for a page.
   */
  async asModels(reader: CurrentUser) {
    const rows = await this.usable(reader)
      .innerJoin("users", "users.id", "assistants.owner_id")
      .select(["assistants.id", "assistants.model", "assistants.created_at", "users.username"])
      .orderBy("assistants.name_folded")
      .orderBy("assistants.id")
      .execute();
    return rows.map((row) => ({
      apiModel: `${ASSISTANT_MODEL_PREFIX}${row.id}`,
      model: row.model,
      owner: row.username,
      createdAt: row.created_at,
    }));
  }

  /** The assistants the reader may use (see list), or with `all` every one. */
  private usable(reader: CurrentUser, all = false) {
    const query = this.db.selectFrom("assistants");
    if (all) return query;
    return query.where((eb) =>
      eb.or([
        eb("assistants.owner_id", "=", reader.id),
        eb("assistants.visibility", "=", "public"),
        ...(reader.groupIds.length > 0
          ? [
              eb.and([
                eb("assistants.visibility", "=", "shared"),
                eb(
                  "assistants.id",
                  "in",
                  eb
                    .selectFrom("assistant_shares")
                    .select("assistant_id")
                    .where("group_id", "in", reader.groupIds),
                ),
              ]),
            ]
          : []),
      ]),
    );
  }

  /**
   * An assistant the reader may use, or (an administrator) any; ASSISTANT_NOT_FOUND for another
   * user's that is not shared with them.
   */
  async get(reader: CurrentUser, id: string): Promise<Assistant> {
    const row = await this.row(id);
    if (!row || (reader.role !== "admin" && !(await this.visibleTo(reader, row)))) throw assistantNotFound();
    return this.toAssistant(row, reader);
  }

  /**
   * What using the assistant takes from it, every knowledge base included (the route that uses it
   * leaves out those the user may not read): ASSISTANT_NOT_FOUND unless the user may use it. An
   * administrator uses only those shared with them, as anyone: another user's private assistant is
   * theirs to change, not to chat with.
   */
  async settingsFor(user: CurrentUser, id: string): Promise<AssistantSettings> {
    const row = await this.row(id);
    if (!row || !(await this.visibleTo(user, row))) throw assistantNotFound();
    return {
      id: row.id,
      name: row.name,
      model: row.model,
      systemPrompt: row.system_prompt,
      knowledgeBaseIds: idsOf(row.knowledge_base_ids),
      webSearch: row.web_search,
      temperature: row.temperature === null ? null : Number(row.temperature),
    };
  }

  /** The assistant the reader may change (its owner, an administrator); ASSISTANT_NOT_FOUND otherwise. */
  private async editableRow(reader: CurrentUser, id: string): Promise<AssistantsTable> {
    const row = await this.row(id);
    if (!row) throw assistantNotFound();
    if (reader.role === "admin" || row.owner_id === reader.id) return row;
    // Someone it is shared with may use it, not change it: said so. Anyone else: as if it never was.
    if (await this.visibleTo(reader, row))
      throw new HearthError("FORBIDDEN", "Only the assistant's owner or an administrator may change it");
    throw assistantNotFound();
  }

  /** Checks what the editor names exists and is theirs to give: the groups, and the knowledge bases. */
  private async assertUsable(editor: CurrentUser, input: Partial<AssistantInput>): Promise<void> {
    if (input.knowledgeBaseIds) {
      const { unreadable } = await this.splitReadable(editor, input.knowledgeBaseIds);
      if (unreadable.length > 0)
        throw new HearthError("KNOWLEDGE_BASE_NOT_FOUND", "No such knowledge base", {
          details: { field: "knowledgeBaseIds", knowledgeBaseIds: unreadable },
        });
    }
    for (const groupId of input.groupIds ?? []) {
      const group = await this.db
        .selectFrom("groups")
        .select("id")
        .where("id", "=", groupId)
        .executeTakeFirst();
      if (!group) throw new HearthError("GROUP_NOT_FOUND", `No group ${groupId}`);
    }
  }

  private async writeShares(
    db: WebDatabase,
    id: string,
    visibility: AssistantVisibility,
    groupIds: string[],
  ) {
    await db.deleteFrom("assistant_shares").where("assistant_id", "=", id).execute();
    if (visibility !== "shared") return;
    for (const groupId of new Set(groupIds))
      await db.insertInto("assistant_shares").values({ assistant_id: id, group_id: groupId }).execute();
  }

  /** A new assistant of the reader's. */
  async create(reader: CurrentUser, input: AssistantInput): Promise<Assistant> {
    assertSharing(input.visibility, input.groupIds, input.groupIds);
    await this.assertUsable(reader, input);
    const now = new Date().toISOString();
    const row: AssistantsTable = {
      id: randomUUID(),
      owner_id: reader.id,
      name: input.name,
      name_folded: foldName(input.name),
      description: input.description,
      model: input.model,
      system_prompt: input.systemPrompt?.trim() || null,
      knowledge_base_ids: JSON.stringify([...new Set(input.knowledgeBaseIds)]),
      web_search: input.webSearch,
      temperature: input.temperature,
      visibility: input.visibility,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx.insertInto("assistants").values(row).execute();
        await this.writeShares(trx, row.id, input.visibility, input.groupIds);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken();
      throw error;
    }
    return this.toAssistant(row, reader);
  }

  /**
   * Changes the fields given. Knowledge bases given replace those the editor may read; those they
   * may not (the owner's, not shared with an administrator who edits it: never shown to them) stay.
   */
  async update(reader: CurrentUser, id: string, changes: Partial<AssistantInput>): Promise<Assistant> {
    const before = await this.editableRow(reader, id);
    const { visibility, groupIds } = await this.sharingAfter(before, changes);
    await this.assertUsable(reader, changes);
    // Those the editor may not read are kept, unless deleted since: then no one can. Those given are
    // all readable (assertUsable), so they are what the editor sees, in the order given.
    const bases = changes.knowledgeBaseIds
      ? {
          readable: [...new Set(changes.knowledgeBaseIds)],
          unreadable: await this.existing(
            (await this.splitReadable(reader, idsOf(before.knowledge_base_ids))).unreadable,
          ),
        }
      : undefined;
    const written: Partial<AssistantsTable> = {
      ...(changes.name !== undefined ? { name: changes.name, name_folded: foldName(changes.name) } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.model !== undefined ? { model: changes.model } : {}),
      ...(changes.systemPrompt !== undefined ? { system_prompt: changes.systemPrompt?.trim() || null } : {}),
      ...(bases ? { knowledge_base_ids: JSON.stringify([...bases.readable, ...bases.unreadable]) } : {}),
      ...(changes.webSearch !== undefined ? { web_search: changes.webSearch } : {}),
      ...(changes.temperature !== undefined ? { temperature: changes.temperature } : {}),
      visibility,
      updated_at: new Date().toISOString(),
    };
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx.updateTable("assistants").set(written).where("id", "=", id).execute();
        // The shares are written again when the sharing changes (a visibility or groups given).
        if (changes.visibility !== undefined || changes.groupIds !== undefined)
          await this.writeShares(trx, id, visibility, groupIds);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken();
      throw error;
    }
    return this.toAssistant({ ...before, ...written }, reader, bases);
  }

  /** The ids of `ids` whose knowledge base still exists (a deleted one's row is gone). */
  private async existing(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom("knowledge_bases").select("id").where("id", "in", ids).execute();
    const found = new Set(rows.map((row) => row.id));
    return ids.filter((id) => found.has(id));
  }

  /** The sharing an update leaves (see assertSharing): the visibility and groups given, else as they were. */
  private async sharingAfter(
    before: AssistantsTable,
    changes: Partial<AssistantInput>,
  ): Promise<{ visibility: AssistantVisibility; groupIds: string[] }> {
    const visibility = changes.visibility ?? before.visibility;
    const groupIds =
      changes.groupIds ??
      (
        await this.db
          .selectFrom("assistant_shares")
          .select("group_id")
          .where("assistant_id", "=", before.id)
          .execute()
      ).map((share) => share.group_id);
    assertSharing(visibility, groupIds, changes.groupIds);
    return { visibility, groupIds };
  }

  /** Deletes an assistant the reader may change; gives back what it was. Its conversations stay as they are. */
  async delete(reader: CurrentUser, id: string): Promise<Assistant> {
    const row = await this.editableRow(reader, id);
    const assistant = await this.toAssistant(row, reader);
    await this.db.deleteFrom("assistants").where("id", "=", id).execute();
    return assistant;
  }

  /** The assistant the reader may change, as they see it. */
  async editable(reader: CurrentUser, id: string): Promise<Assistant> {
    return this.toAssistant(await this.editableRow(reader, id), reader);
  }
}
