import { randomUUID } from "node:crypto";
import { foldName, type Prompt } from "@hearth/contracts";
import { HearthError } from "@hearth/core";
import { sql } from "kysely";
import type { PromptsTable } from "../storage/database-schema.js";
import type { WebDatabase } from "../storage/open-database.js";
import { isUniqueViolation } from "../storage/unique-violation.js";

/** The scope of the prompts an administrator shares with everyone. */
const SHARED = "shared";

/** What a prompt is written with (as the route took it: trimmed and within the limits). */
export interface PromptInput {
  command: string;
  title: string;
  content: string;
  shared: boolean;
}

function commandTaken(shared: boolean): HearthError {
  return new HearthError(
    "PROMPT_COMMAND_TAKEN",
    shared ? "A shared prompt already has that command" : "You already have a prompt with that command",
    { details: { field: "command" } },
  );
}

function notFound(): HearthError {
  return new HearthError("PROMPT_NOT_FOUND", "No such prompt");
}

/** Who is asking: their prompts are theirs; shared ones everyone reads and administrators write. */
export interface PromptReader {
  id: string;
  role: "admin" | "user" | string;
}

/**
 * The prompt library: a user's own prompts and the ones administrators share with everyone. A
 * command is unique among a user's own prompts, and among the shared ones, compared folded as user
 * and folder names are (case and width: "Sum", "SUM" and "ＳＵＭ" are one command); a user's own
 * may have a shared one's command, and is then the one "/" offers them. Another user's prompt is a
 * 404 (PROMPT_NOT_FOUND) as if it never was; a shared one changed by a non-administrator is 403
 * ADMIN_REQUIRED.
 */
export class PromptStore {
  constructor(readonly db: WebDatabase) {}

  private toPrompt(row: PromptsTable, reader: PromptReader): Prompt {
    const shared = row.user_id === null;
    return {
      id: row.id,
      command: row.command,
      title: row.title,
      content: row.content,
      shared,
      editable: shared ? reader.role === "admin" : row.user_id === reader.id,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  /** The reader's own prompts and the shared ones, by command (their own first on a tie). */
  async list(reader: PromptReader): Promise<Prompt[]> {
    const rows = await this.db
      .selectFrom("prompts")
      .selectAll()
      .where((eb) => eb.or([eb("user_id", "=", reader.id), eb("user_id", "is", null)]))
      // By command, then the reader's own before the shared one of the same command.
      .orderBy("command_folded")
      .orderBy(sql`user_id is null`)
      .orderBy("id")
      .execute();
    const own = new Map(
      rows.filter((row) => row.user_id !== null).map((row) => [row.command_folded, row.id] as const),
    );
    return rows.map((row) => {
      const prompt = this.toPrompt(row, reader);
      const mine = row.user_id === null ? own.get(row.command_folded) : undefined;
      return mine ? { ...prompt, shadowedBy: mine } : prompt;
    });
  }

  /** A prompt the reader sees (their own or a shared one); PROMPT_NOT_FOUND for another's. */
  async get(reader: PromptReader, id: string): Promise<Prompt> {
    return this.toPrompt(await this.row(reader, id), reader);
  }

  private async row(reader: PromptReader, id: string): Promise<PromptsTable> {
    const row = await this.db
      .selectFrom("prompts")
      .selectAll()
      .where("id", "=", id)
      .where((eb) => eb.or([eb("user_id", "=", reader.id), eb("user_id", "is", null)]))
      .executeTakeFirst();
    if (!row) throw notFound();
    return row;
  }

  /** The prompt the reader may change: ADMIN_REQUIRED for a shared one unless they are an administrator. */
  async editable(reader: PromptReader, id: string): Promise<Prompt> {
    const prompt = await this.get(reader, id);
    if (!prompt.editable)
      throw new HearthError("ADMIN_REQUIRED", "Only administrators may change a shared prompt");
    return prompt;
  }

  private async assertCommandFree(scope: string, folded: string, except?: string): Promise<void> {
    let query = this.db
      .selectFrom("prompts")
      .select("id")
      .where("scope", "=", scope)
      .where("command_folded", "=", folded);
    if (except) query = query.where("id", "!=", except);
    if (await query.executeTakeFirst()) throw commandTaken(scope === SHARED);
  }

  /** A new prompt: the reader's own, or shared (administrators only: ADMIN_REQUIRED). */
  async create(reader: PromptReader, input: PromptInput): Promise<Prompt> {
    if (input.shared && reader.role !== "admin")
      throw new HearthError("ADMIN_REQUIRED", "Only administrators may share a prompt with everyone");
    const scope = input.shared ? SHARED : reader.id;
    const folded = foldName(input.command);
    await this.assertCommandFree(scope, folded);
    const now = new Date().toISOString();
    const row: PromptsTable = {
      id: randomUUID(),
      user_id: input.shared ? null : reader.id,
      scope,
      command: input.command,
      command_folded: folded,
      title: input.title,
      content: input.content,
      created_by: reader.id,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.insertInto("prompts").values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw commandTaken(input.shared);
      throw error;
    }
    return this.toPrompt(row, reader);
  }

  /**
   * Changes the fields given. `shared` moves a prompt between the administrator's own and the
   * shared ones (administrators only); its command must be free where it goes.
   */
  async update(reader: PromptReader, id: string, changes: Partial<PromptInput>): Promise<Prompt> {
    const before = await this.editable(reader, id);
    if (changes.shared !== undefined && changes.shared !== before.shared && reader.role !== "admin")
      throw new HearthError("ADMIN_REQUIRED", "Only administrators may share a prompt with everyone");
    const shared = changes.shared ?? before.shared;
    const scope = shared ? SHARED : reader.id;
    const command = changes.command ?? before.command;
    const folded = foldName(command);
    await this.assertCommandFree(scope, folded, id);
    try {
      await this.db
        .updateTable("prompts")
        .set({
          user_id: shared ? null : reader.id,
          scope,
          command,
          command_folded: folded,
          ...(changes.title !== undefined ? { title: changes.title } : {}),
          ...(changes.content !== undefined ? { content: changes.content } : {}),
          updated_at: new Date().toISOString(),
        })
        .where("id", "=", id)
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw commandTaken(shared);
      throw error;
    }
    return this.get(reader, id);
  }

  /** Deletes a prompt the reader may change; gives back what it was. */
  async delete(reader: PromptReader, id: string): Promise<Prompt> {
    const prompt = await this.editable(reader, id);
    await this.db.deleteFrom("prompts").where("id", "=", id).execute();
    return prompt;
  }
}
