import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import {
  foldName,
  type KnowledgeClient,
  type LoadedModel as LoadedModelInPs,
  loadedModelsOf,
  type ModelRegistryClient,
  providerOutcomeSchema,
  type SearchClient,
  SearchClientError,
  type SearchResponse,
  searchRequestSchema,
} from "@hearth/contracts";
import {
  type HearthConfig,
  HearthError,
  isErrorCode,
  PROCESS_INSTANCE,
  relayBody,
  UpstreamCallError,
} from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { credentials } from "../accounts/account-routes.js";
import {
  activeAdminCount,
  changingAdmins,
  createUser,
  listApiKeys,
  revokeApiKey,
  setPassword,
} from "../accounts/account-store.js";
import { histogramQuantile } from "../alerts/alert-rules.js";
import { ALERT_METRICS } from "../alerts/alert-thresholds.js";
import { audit } from "../audit/audit-log.js";
import { ssoAccounts } from "../auth/oidc-accounts.js";
import { oidcSettings } from "../auth/oidc-provider.js";
import { currentUser } from "../auth/route-access.js";
import type { ContentFilter } from "../chat/content-filter.js";
import { deleteConversationRows } from "../conversations/conversation-store.js";
import { transferKnowledgeBases } from "../knowledge/knowledge-owner.js";
import { type ModelClient, modelServiceError } from "../model/model-client.js";
import type { ModelAccess } from "../models/model-access.js";
import { skippedModelFiles } from "../models/skipped-model-files.js";
import {
  type Settings,
  type SettingsStore,
  settingsChanges,
  settingsSchema,
} from "../settings/settings-store.js";
import type { WebDatabase } from "../storage/open-database.js";
import type { UsageMeter } from "../usage/usage-meter.js";
import { keepNamesForUsage, readUsageReport } from "../usage/usage-report.js";
import { sendCsv } from "./csv.js";
import { type PullOutcome, watchPull } from "./model-pull-outcome.js";
import { registerModelRegistryRoutes } from "./model-registry-routes.js";
import { periodStart, reportQuerySchema } from "./report-query.js";

interface Deps {
  db: WebDatabase;
  config: HearthConfig;
  settings: SettingsStore;
  /** The sensitive-word filter, whose config file lists the settings show. */
  contentFilter: Pick<ContentFilter, "wordListFiles">;
  models: ModelClient;
  modelRegistry: ModelRegistryClient;
  modelAccess: ModelAccess;
  usage: UsageMeter;
  /** The knowledge service, whose bases' names a deleted account's bases keep apart from their new owner's. */
  knowledge: Pick<KnowledgeClient, "listKnowledgeBases" | "updateKnowledgeBase">;
  /** A knowledge base's name, for the audit entry of a group delete (undefined when it cannot be read). */
  knowledgeBaseName?: (id: string) => Promise<string | undefined>;
  /** Deletes the deleted chats' files on the knowledge service (ConversationFiles.purge). */
  purgeFiles?: () => Promise<void>;
}

const admin = { config: { access: "admin" as const } };

/** The usage CSV's groups cells for records written before groups were recorded. */
const GROUPS_NOT_RECORDED = "(not recorded)";

/** Users, groups, settings, model access and pulls, usage and the audit log: administrators only. */
export function registerAdminRoutes(app: FastifyInstance, deps: Deps) {
  const { db } = deps;
  registerModelRegistryRoutes(app, { db, client: deps.modelRegistry });

  app.get("/api/admin/users", admin, async () => {
    const users = await db
      .selectFrom("users")
      .select(["id", "username", "role", "status", "created_at"])
      .orderBy("created_at")
      .execute();
    const members = await db.selectFrom("group_members").selectAll().execute();
    const sso = await ssoAccounts(db);
    return {
      users: users.map((u) => ({
        id: u.id,
        username: u.username,
        role: u.role,
        status: u.status,
        createdAt: u.created_at,
        /** Signs in with single sign-on (an identity of the OIDC provider is tied to it). */
        sso: sso.has(u.id),
        groupIds: members.filter((m) => m.user_id === u.id).map((m) => m.group_id),
      })),
      /**
       * What single sign-on sets at each SSO account's sign-in (web.oidc.syncGroups, adminGroups):
       * its groups, its role; null without SSO.
       */
      ssoSync: oidcSettings(deps.config.web.oidc)
        ? {
            groups: deps.config.web.oidc.syncGroups,
            roles: deps.config.web.oidc.adminGroups.length > 0,
          }
        : null,
    };
  });

  /**
   * An administrator adds an account: active at once with the role given, whatever the sign-up
   * mode, by sign-up's rules for the name and the password (one place owns them: createUser).
   * Audited as `user.create` (never the password).
   */
  app.post("/api/admin/users", admin, async (request, reply) => {
    const body = credentials
      .extend({
        role: z.enum(["admin", "user"]).default("user"),
        groupIds: z.array(z.string()).max(1000).optional(),
      })
      .parse(request.body);
    const created = await createUser(db, {
      username: body.username,
      password: body.password,
      signup: "closed",
      role: body.role,
      ...(body.groupIds ? { groupIds: body.groupIds } : {}),
      actorId: currentUser(request).id,
    });
    return reply.code(201).send({
      id: created.id,
      username: created.username,
      role: created.role,
      status: created.status,
      groupIds: created.groupIds,
    });
  });

  /**
   * An administrator sets a user's password (a forgotten one): sign-up's rule, every session of
   * the account ends, its API keys stay (revoked one by one under Keys). Not one's own: that is
   * Settings' password change, which asks for the current password, so an administrator cannot
   * sign themselves out nor a stolen session take the account over. Audited as
   * `user.password-reset` (never the password).
   */
  app.post("/api/admin/users/:id/password", admin, async (request, reply) => {
    const actor = currentUser(request);
    const { id } = request.params as { id: string };
    const { password } = z.strictObject({ password: z.string() }).parse(request.body);
    if (id === actor.id)
      throw new HearthError(
        "FORBIDDEN",
        "Change your own password in Settings (it asks for the current one); another administrator can reset it",
      );
    await setPassword(db, {
      userId: id,
      password,
      audit: { actorId: actor.id, action: "user.password-reset" },
    });
    return reply.code(204).send();
  });

  /** The user's role and status, read inside changingAdmins; USER_NOT_FOUND when there is none. */
  const roleAndStatus = async (trx: WebDatabase, userId: string) => {
    const target = await trx
      .selectFrom("users")
      .select(["role", "status", "username"])
      .where("id", "=", userId)
      .executeTakeFirst();
    if (!target) throw new HearthError("USER_NOT_FOUND", "No such user");
    return target;
  };

  /** LAST_ADMIN when the user (as read inside changingAdmins) is the last active administrator. */
  const assertNotLastAdmin = async (trx: WebDatabase, target: { role: string; status: string }) => {
    if (target.role !== "admin" || target.status !== "active") return;
    if ((await activeAdminCount(trx)) <= 1)
      throw new HearthError("LAST_ADMIN", "This is the last administrator");
  };

  app.patch("/api/admin/users/:id", admin, async (request) => {
    const actor = currentUser(request);
    const { id } = request.params as { id: string };
    const body = z
      .strictObject({
        role: z.enum(["admin", "user"]).optional(),
        status: z.enum(["active", "pending", "disabled"]).optional(),
      })
      .parse(request.body);
    // An empty change would be an UPDATE with no SET: say so rather than fail in SQL.
    if (body.role === undefined && body.status === undefined)
      throw new HearthError("INVALID_REQUEST", "Nothing to change: give role or status");
    await changingAdmins(db, async (trx) => {
      const target = await roleAndStatus(trx, id);
      if ((body.role && body.role !== "admin") || (body.status && body.status !== "active"))
        await assertNotLastAdmin(trx, target);
      await trx.updateTable("users").set(body).where("id", "=", id).execute();
      if (body.status && body.status !== "active")
        await trx.deleteFrom("sessions").where("user_id", "=", id).execute();
      for (const field of ["role", "status"] as const) {
        if (body[field] && body[field] !== target[field])
          await audit(trx, {
            actorId: actor.id,
            action: `user.${field}-change`,
            target: id,
            details: { from: target[field], to: body[field] },
          });
      }
    });
    return { id, ...body };
  });

  /**
   * Deletes an account with its conversations, sessions, API keys and group memberships. Its
   * knowledge bases are not lost: they pass to the administrator who deleted it (sharing as it
   * was), one whose name the administrator has already renamed after the account
   * (transferKnowledgeBases; the audit entry lists them). Usage rows stay for the totals, under the
   * account's and its keys' names (keepNamesForUsage), as the audit log keeps the name. An
   * administrator cannot delete their own account (another one can), nor the last administrator.
   */
  app.delete("/api/admin/users/:id", admin, async (request, reply) => {
    const { id } = request.params as { id: string };
    const actor = currentUser(request);
    if (id === actor.id)
      throw new HearthError("FORBIDDEN", "You cannot delete your own account; another administrator can");
    await changingAdmins(db, async (trx) => {
      const target = await roleAndStatus(trx, id);
      await assertNotLastAdmin(trx, target);
      // The files attached to its chats go with the chats (deleteConversationRows), not to the admin.
      const transfer = await transferKnowledgeBases(trx, deps.knowledge, {
        from: { id, username: target.username },
        to: actor.id,
      });
      // Audited before the account goes, while it still has its name to record.
      await audit(trx, {
        actorId: actor.id,
        action: "user.delete",
        target: id,
        ...(transfer.knowledgeBases.length
          ? {
              details: {
                knowledgeBasesTo: actor.id,
                knowledgeBases: transfer.knowledgeBases,
                ...(transfer.renamed.length ? { renamedKnowledgeBases: transfer.renamed } : {}),
              },
            }
          : {}),
      });
      const conversations = await trx
        .selectFrom("conversations")
        .select("id")
        .where("user_id", "=", id)
        .execute();
      await deleteConversationRows(
        trx,
        conversations.map((c) => c.id),
      );
      await keepNamesForUsage(trx, { id, username: target.username });
      for (const table of [
        "folders",
        "sessions",
        "api_keys",
        "group_members",
        "user_preferences",
        "memories",
        "prompts",
        "external_identities",
        "banner_dismissals",
      ] as const)
        await trx.deleteFrom(table).where("user_id", "=", id).execute();
      await trx.deleteFrom("users").where("id", "=", id).execute();
    });
    await deps.purgeFiles?.();
    return reply.code(204).send();
  });

  app.get("/api/admin/groups", admin, async () => {
    const groups = await db.selectFrom("groups").selectAll().orderBy("name").execute();
    const members = await db.selectFrom("group_members").selectAll().execute();
    return {
      groups: groups.map((g) => ({
        id: g.id,
        name: g.name,
        userIds: members.filter((m) => m.group_id === g.id).map((m) => m.user_id),
      })),
    };
  });

  /** A user's API keys (never the secret), so an admin can see and revoke a leaked one. */
  app.get("/api/admin/users/:id/api-keys", admin, async (request) => {
    const { id } = request.params as { id: string };
    const user = await db.selectFrom("users").select("id").where("id", "=", id).executeTakeFirst();
    if (!user) throw new HearthError("USER_NOT_FOUND", "No such user");
    return { keys: await listApiKeys(db, id) };
  });

  /** Revokes a user's key; refused from the next request on (the auth cache clears on any admin change). */
  app.delete("/api/admin/users/:id/api-keys/:keyId", admin, async (request, reply) => {
    const { id, keyId } = request.params as { id: string; keyId: string };
    await revokeApiKey(db, { userId: id, keyId, actorId: currentUser(request).id });
    return reply.code(204).send();
  });

  /** Group names are unique without regard to case or width, as user names are (one fold). */
  const assertGroupNameFree = async (folded: string, except?: string) => {
    let query = db.selectFrom("groups").select("id").where("name_folded", "=", folded);
    if (except) query = query.where("id", "!=", except);
    if (await query.executeTakeFirst())
      throw new HearthError("GROUP_NAME_TAKEN", "Another group already has that name", { status: 409 });
  };
  const groupName = z.strictObject({ name: z.string().trim().min(1).max(100) });

  app.post("/api/admin/groups", admin, async (request, reply) => {
    const { name } = groupName.parse(request.body);
    const folded = foldName(name);
    await assertGroupNameFree(folded);
    const group = { id: randomUUID(), name, name_folded: folded, created_at: new Date().toISOString() };
    await db.insertInto("groups").values(group).execute();
    await audit(db, {
      actorId: currentUser(request).id,
      action: "group.create",
      target: group.id,
      details: { name },
    });
    return reply.code(201).send({ id: group.id, name, userIds: [] });
  });

  app.patch("/api/admin/groups/:id", admin, async (request) => {
    const { id } = request.params as { id: string };
    const { name } = groupName.parse(request.body);
    const group = await db.selectFrom("groups").select("name").where("id", "=", id).executeTakeFirst();
    if (!group) throw new HearthError("GROUP_NOT_FOUND", "No such group");
    const folded = foldName(name);
    await assertGroupNameFree(folded, id);
    await db.updateTable("groups").set({ name, name_folded: folded }).where("id", "=", id).execute();
    await audit(db, {
      actorId: currentUser(request).id,
      action: "group.rename",
      target: id,
      details: { from: group.name, to: name },
    });
    const members = await db
      .selectFrom("group_members")
      .select("user_id")
      .where("group_id", "=", id)
      .execute();
    return { id, name, userIds: members.map((m) => m.user_id) };
  });

  /**
   * Deleting a group never widens access. A group that limits models or has knowledge bases shared
   * with it is refused (GROUP_IN_USE, listing them) unless `?force=true`; then a model the group
   * alone was allowed for becomes admin-only (not open to everyone), a model also allowed for other
   * groups keeps those, and a base shared only with the group becomes private. The audit entry
   * names what was removed.
   */
  app.delete("/api/admin/groups/:id", admin, async (request, reply) => {
    const { id } = request.params as { id: string };
    const { force } = z
      .object({ force: z.enum(["true", "false"]).default("false") })
      .parse(request.query ?? {});
    const group = await db.selectFrom("groups").select("name").where("id", "=", id).executeTakeFirst();
    if (!group) throw new HearthError("GROUP_NOT_FOUND", "No such group");
    const rules = await db.selectFrom("model_access").selectAll().execute();
    const models = [...new Set(rules.filter((r) => r.group_id === id).map((r) => r.model))]
      .sort()
      .map((model) => ({
        model,
        // Admin-only after the delete: no other group is allowed the model (under any spelling).
        adminOnly: !rules.some(
          (r) => r.group_id !== id && deps.modelAccess.key(r.model) === deps.modelAccess.key(model),
        ),
      }));
    const shareRows = await db
      .selectFrom("knowledge_shares")
      .innerJoin("knowledge_bases", "knowledge_bases.id", "knowledge_shares.knowledge_base_id")
      .select(["knowledge_shares.knowledge_base_id as id", "knowledge_bases.visibility"])
      .where("knowledge_shares.group_id", "=", id)
      .execute();
    const knowledgeBases: Array<{ id: string; name: string | null; madePrivate: boolean }> = [];
    for (const row of shareRows) {
      const others = await db
        .selectFrom("knowledge_shares")
        .select("group_id")
        .where("knowledge_base_id", "=", row.id)
        .where("group_id", "!=", id)
        .executeTakeFirst();
      knowledgeBases.push({
        id: row.id,
        name: (await deps.knowledgeBaseName?.(row.id).catch(() => undefined)) ?? null,
        // A base shared only with this group: private after the delete, as it is in effect.
        madePrivate: row.visibility === "shared" && !others,
      });
    }
    if ((models.length > 0 || knowledgeBases.length > 0) && force !== "true")
      throw new HearthError(
        "GROUP_IN_USE",
        `The group "${group.name}" limits ${models.length} model(s) and has ${knowledgeBases.length} knowledge base(s) shared with it; delete with ?force=true to go on (a model it alone was allowed for becomes admin-only)`,
        { status: 409, details: { models, knowledgeBases } },
      );
    // Assistants shared only with this group: private after the delete, as they are in effect
    // (never opened wider), without holding the delete up: no one gains any use by it.
    const assistantRows = await db
      .selectFrom("assistant_shares")
      .innerJoin("assistants", "assistants.id", "assistant_shares.assistant_id")
      .select(["assistants.id", "assistants.name"])
      .where("assistant_shares.group_id", "=", id)
      .where("assistants.visibility", "=", "shared")
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom("assistant_shares as other")
              .select("other.group_id")
              .whereRef("other.assistant_id", "=", "assistants.id")
              .where("other.group_id", "!=", id),
          ),
        ),
      )
      .execute();
    await db.transaction().execute(async (trx) => {
      // Audited first, while the group still has its name to record.
      await audit(trx, {
        actorId: currentUser(request).id,
        action: "group.delete",
        target: id,
        details: {
          name: group.name,
          models,
          knowledgeBases,
          ...(assistantRows.length > 0
            ? { assistantsMadePrivate: assistantRows.map((row) => ({ id: row.id, name: row.name })) }
            : {}),
        },
      });
      for (const assistant of assistantRows)
        await trx
          .updateTable("assistants")
          .set({ visibility: "private" })
          .where("id", "=", assistant.id)
          .execute();
      for (const model of models.filter((m) => m.adminOnly)) {
        const key = deps.modelAccess.key(model.model);
        const held = await trx
          .selectFrom("model_admin_only")
          .select("model")
          .where("model", "=", key)
          .executeTakeFirst();
        if (!held) await trx.insertInto("model_admin_only").values({ model: key }).execute();
      }
      for (const base of knowledgeBases.filter((b) => b.madePrivate))
        await trx
          .updateTable("knowledge_bases")
          .set({ visibility: "private" })
          .where("id", "=", base.id)
          .execute();
      for (const table of ["group_members", "model_access", "knowledge_shares", "assistant_shares"] as const)
        await trx.deleteFrom(table).where("group_id", "=", id).execute();
      const result = await trx.deleteFrom("groups").where("id", "=", id).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw new HearthError("GROUP_NOT_FOUND", "No such group");
    });
    return reply.code(204).send();
  });

  app.put("/api/admin/groups/:id/members", admin, async (request) => {
    const { id } = request.params as { id: string };
    const { userIds } = z.strictObject({ userIds: z.array(z.string()).max(10_000) }).parse(request.body);
    const group = await db.selectFrom("groups").select("id").where("id", "=", id).executeTakeFirst();
    if (!group) throw new HearthError("GROUP_NOT_FOUND", "No such group");
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom("group_members").where("group_id", "=", id).execute();
      for (const userId of new Set(userIds)) {
        const user = await trx.selectFrom("users").select("id").where("id", "=", userId).executeTakeFirst();
        if (!user) throw new HearthError("USER_NOT_FOUND", `No user ${userId}`);
        await trx.insertInto("group_members").values({ group_id: id, user_id: userId }).execute();
      }
    });
    await audit(db, {
      actorId: currentUser(request).id,
      action: "group.members-change",
      target: id,
      details: nameIds({ userIds }, await idNames({ userIds, groupIds: [] })),
    });
    return { id, userIds };
  });

  /**
   * The run-time settings, and beside them, read-only, the word lists of the config file
   * (`wordListFiles`: changed there, not here), so that administrators see every list in force.
   */
  const settingsAnswer = (settings: Settings) => ({
    ...settings,
    wordListFiles: deps.contentFilter.wordListFiles(),
  });
  app.get("/api/admin/settings", admin, async () => settingsAnswer(await deps.settings.get()));
  app.patch("/api/admin/settings", admin, async (request) => {
    const change = settingsSchema.partial().parse(withoutReadOnly(request.body));
    const before = await deps.settings.get();
    const next = await deps.settings.update(change);
    const groups = await db.selectFrom("groups").select(["id", "name"]).execute();
    const changes = settingsChanges(before, next, new Map(groups.map((g) => [g.id, g.name])));
    // A save that changed nothing is no event for the log.
    if (Object.keys(changes).length > 0)
      await audit(db, {
        actorId: currentUser(request).id,
        action: "settings.change",
        details: { keys: Object.keys(changes), changes },
      });
    return settingsAnswer(next);
  });

  /**
   * The audit log, newest first, a page at a time: `before` is the `next` of the previous page (an
   * entry id); `action` and `actor` (a user id or user name) narrow it. Unknown parameters are
   * refused: a misspelt filter would otherwise show the whole log as if it were the filtered one.
   */
  app.get("/api/admin/audit", admin, async (request) => {
    const query = z
      .strictObject({
        limit: z.coerce.number().int().min(1).max(1000).default(200),
        before: z.coerce.number().int().min(1).optional(),
        action: z.string().trim().min(1).max(100).optional(),
        actor: z.string().trim().min(1).max(200).optional(),
      })
      .parse(request.query);
    let select = db
      .selectFrom("audit_log")
      .leftJoin("users", "users.id", "audit_log.actor_id")
      // A target that is an account or a group is named (other targets are names already, or ids).
      .leftJoin("users as target_users", "target_users.id", "audit_log.target")
      .leftJoin("groups", "groups.id", "audit_log.target")
      .selectAll("audit_log")
      .select([
        "users.username as actor_now",
        "target_users.username as target_user",
        "groups.name as target_group",
      ]);
    if (query.before !== undefined) select = select.where("audit_log.id", "<", query.before);
    if (query.action !== undefined) select = select.where("audit_log.action", "=", query.action);
    if (query.actor !== undefined) {
      const actor = query.actor;
      select = select.where((eb) =>
        eb.or([
          eb("audit_log.actor_id", "=", actor),
          eb("users.username", "=", actor),
          eb("audit_log.actor_name", "=", actor),
        ]),
      );
    }
    // One more than asked says whether there is a next page.
    const rows = await select
      .orderBy("audit_log.id", "desc")
      .limit(query.limit + 1)
      .execute();
    const page = rows.slice(0, query.limit);
    const names = await idNames(listedIds(page.map((r) => r.details)));
    const bases = await unnamedBaseNames(page);
    return {
      entries: page.map((r) => ({
        id: Number(r.id),
        actorId: r.actor_id,
        // The name now, else the one stored with the entry (the account or group is gone).
        actorName: r.actor_now ?? r.actor_name,
        targetName: r.target_user ?? r.target_group ?? r.target_name ?? bases.get(r.target ?? "") ?? null,
        action: r.action,
        target: r.target,
        details: r.details ? nameIds(JSON.parse(r.details), names) : null,
        createdAt: r.created_at,
      })),
      next: rows.length > query.limit ? Number(page.at(-1)?.id) : null,
    };
  });

  /**
   * The names of the knowledge bases targeted by entries that keep none (written by the command
   * line, or before entries kept them), as the knowledge service names them now: a base deleted
   * since, or all of them when the knowledge service does not answer, stays an id.
   */
  const unnamedBaseNames = async (
    rows: ReadonlyArray<{ action: string; target: string | null; target_name: string | null }>,
  ): Promise<Map<string, string>> => {
    const unnamed = rows.some(
      (r) => r.action.startsWith("knowledge-base.") && r.target !== null && r.target_name === null,
    );
    if (!unnamed) return new Map();
    const bases = await deps.knowledge.listKnowledgeBases().catch(() => []);
    return new Map(bases.map((base) => [base.id, base.name]));
  };

  /** Names of users and groups by id. */
  const idNames = async (ids: { userIds: Iterable<string>; groupIds: Iterable<string> }) => {
    const userIds = [...new Set(ids.userIds)];
    const groupIds = [...new Set(ids.groupIds)];
    const users = userIds.length
      ? await db.selectFrom("users").select(["id", "username"]).where("id", "in", userIds).execute()
      : [];
    const groups = groupIds.length
      ? await db.selectFrom("groups").select(["id", "name"]).where("id", "in", groupIds).execute()
      : [];
    return {
      users: new Map(users.map((u) => [u.id, u.username])),
      groups: new Map(groups.map((g) => [g.id, g.name])),
    };
  };
  /** The users and groups that entries' details list by id (`userIds`, `groupIds`). */
  const listedIds = (details: Array<string | null>) => {
    const ids = { userIds: [] as string[], groupIds: [] as string[] };
    for (const text of details) {
      if (!text) continue;
      const parsed = JSON.parse(text) as { userIds?: unknown; groupIds?: unknown };
      for (const id of Array.isArray(parsed.userIds) ? parsed.userIds : []) ids.userIds.push(String(id));
      for (const id of Array.isArray(parsed.groupIds) ? parsed.groupIds : []) ids.groupIds.push(String(id));
    }
    return ids;
  };
  /**
   * Adds `users` / `groups` (names, or null for one since deleted) beside the ids in details. An
   * entry is written with them (so it names them after they are deleted); an older one gets them
   * when it is read.
   */
  const nameIds = (
    details: Record<string, unknown>,
    names: { users: Map<string, string>; groups: Map<string, string> },
  ) => {
    const out: Record<string, unknown> = { ...details };
    if (Array.isArray(details.userIds) && !("users" in details))
      out.users = details.userIds.map((id) => names.users.get(String(id)) ?? null);
    if (Array.isArray(details.groupIds) && !("groups" in details))
      out.groups = details.groupIds.map((id) => names.groups.get(String(id)) ?? null);
    return out;
  };

  /** The models served, who may use each, and the models dir's files the model service skips (and why). */
  app.get("/api/admin/models", admin, async () => {
    const skipped = skippedModelFiles(deps.modelRegistry);
    const rules = await deps.modelAccess.rules();
    let models: Array<{ id: string; ownedBy: string }> = [];
    let reachable = true;
    try {
      models = await deps.models.listModels();
    } catch {
      reachable = false;
    }
    return {
      reachable,
      models: models.map((m) => ({
        ...m,
        groupIds: deps.modelAccess.groupIdsOf(rules, m.id),
        // Limited to administrators: set so (adminOnly), or the groups it was allowed for were deleted.
        adminOnly: deps.modelAccess.adminOnlyOf(rules, m.id),
      })),
      skippedFiles: await skipped,
    };
  });

  /** A model's size, parameter count, quantization, family and context length, for its row's details. */
  app.get("/api/admin/models/:model/details", admin, async (request) => {
    const { model } = request.params as { model: string };
    return deps.models.modelDetails(model).catch((error: unknown) => {
      // A model the model service has not: said as one, not as its answer's failure.
      if (error instanceof UpstreamCallError && error.upstreamStatus === 404)
        throw new HearthError("MODEL_NOT_FOUND", `The model service has no model ${model}`);
      throw error;
    });
  });

  app.put("/api/admin/models/:model/access", admin, async (request) => {
    // Kept under the model service's spelling: a rule set on `name` holds for `name:latest` too.
    const model = deps.modelAccess.key((request.params as { model: string }).model);
    const { groupIds, adminOnly } = z
      .strictObject({ groupIds: z.array(z.string()).max(1000), adminOnly: z.boolean().optional() })
      .parse(request.body);
    await db.transaction().execute(async (trx) => {
      // The new rules replace those stored under any spelling of the same model.
      const stored = await trx.selectFrom("model_access").select("model").distinct().execute();
      const spellings = stored.map((row) => row.model).filter((name) => deps.modelAccess.key(name) === model);
      if (spellings.length > 0)
        await trx.deleteFrom("model_access").where("model", "in", spellings).execute();
      // An admin-only mark is replaced too: the groups given (or, with none, everyone) now apply.
      await trx.deleteFrom("model_admin_only").where("model", "=", model).execute();
      if (adminOnly && groupIds.length === 0)
        await trx.insertInto("model_admin_only").values({ model }).execute();
      for (const groupId of new Set(groupIds)) {
        const group = await trx
          .selectFrom("groups")
          .select("id")
          .where("id", "=", groupId)
          .executeTakeFirst();
        if (!group) throw new HearthError("GROUP_NOT_FOUND", `No group ${groupId}`);
        await trx.insertInto("model_access").values({ model, group_id: groupId }).execute();
      }
    });
    await audit(db, {
      actorId: currentUser(request).id,
      action: "model.access-change",
      target: model,
      details: nameIds(
        { groupIds, ...(adminOnly !== undefined ? { adminOnly } : {}) },
        await idNames({ userIds: [], groupIds }),
      ),
    });
    return { model, groupIds, ...(adminOnly && groupIds.length === 0 ? { adminOnly: true } : {}) };
  });

  const modelService = deps.config.services.modelUrl.replace(/\/$/, "");
  const modelHeaders = {
    "content-type": "application/json",
    ...(deps.config.services.token ? { "x-hearth-service-token": deps.config.services.token } : {}),
  };

  /**
   * Pulls a model through the model service's Ollama API; the NDJSON progress streams through. The
   * audit entry is written when the pull ends, with what it came to: `model.pull` (the model, version
   * and digest) or `model.pull-failed` (the error's code, or cancelled: the administrator cancelled or
   * went away).
   */
  app.post("/api/admin/models/pull", admin, async (request, reply) => {
    const { model } = z.strictObject({ model: z.string().min(1).max(300) }).parse(request.body);
    const actorId = currentUser(request).id;
    const audited = ({ pulled, details }: PullOutcome) =>
      audit(db, { actorId, action: pulled ? "model.pull" : "model.pull-failed", target: model, details });
    const controller = new AbortController();
    // Closed before the whole answer was sent (Cancel pull, or the page left): the request to the
    // model service is closed too, which stops the download unless another pull of it waits.
    reply.raw.on("close", () => {
      if (!reply.raw.writableFinished) controller.abort();
    });
    let response: Response;
    try {
      response = await fetch(`${modelService}/api/pull`, {
        method: "POST",
        headers: modelHeaders,
        body: JSON.stringify({ model, stream: true }),
        signal: controller.signal,
      });
    } catch (error) {
      const failure = UpstreamCallError.noAnswer({ url: "/api/pull", service: "model", cause: error });
      await audited({ pulled: false, details: { code: failure.code } });
      throw failure;
    }
    if (!response.ok || !response.body) {
      const failure = await modelServiceError("/api/pull", response);
      await audited({ pulled: false, details: { code: failure.code } });
      throw failure;
    }
    const body = Readable.fromWeb(response.body as never) as AsyncIterable<Uint8Array>;
    return relayBody(reply, watchPull(body, controller.signal, audited), {
      "content-type": "application/x-ndjson",
      "x-accel-buffering": "no",
    });
  });

  app.get("/api/admin/usage", admin, async (request, reply) => {
    const query = reportQuerySchema.parse(request.query);
    await deps.usage.flush();
    const since = periodStart(query.days);
    const { usage, groupTotals } = await readUsageReport(db, since);
    if (query.format === "csv") {
      return sendCsv(
        reply,
        "hearth-usage.csv",
        "user,groups,model,api_key,api_key_name,requests,prompt_tokens,completion_tokens,cost_units,group_ids,user_deleted",
        usage.map((u) => [
          u.username ?? "",
          u.groups?.join(" ") ?? GROUPS_NOT_RECORDED,
          u.model,
          u.apiKeyId ?? "",
          u.apiKeyName ?? "",
          u.requests,
          u.promptTokens,
          u.completionTokens,
          u.costUnits,
          u.groupIds?.join(" ") ?? GROUPS_NOT_RECORDED,
          u.userDeleted ? "yes" : "",
        ]),
      );
    }
    return { since, usage, groupTotals };
  });
}

/**
 * A settings change without what the settings answer holds read-only (`wordListFiles`): the
 * settings read and sent back whole, as a client edits them, change the rest.
 */
function withoutReadOnly(body: unknown): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
  const { wordListFiles: _readOnly, ...change } = body as Record<string, unknown>;
  return change;
}

/** Reads one value from Prometheus text: a sample's value, summed over its label sets. */
export function sumMetric(text: string, name: string, labels: RegExp = /.*/): number | null {
  let sum: number | null = null;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([-+\d.eE]+|NaN)/.exec(line);
    if (!match || match[1] !== name || !labels.test(match[2] ?? "")) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

/**
 * p99 from a Prometheus histogram's cumulative buckets, in milliseconds, as Prometheus's
 * histogram_quantile gives it: interpolated inside the bucket that holds the rank.
 */
export function histogramP99(text: string, name: string, labels: RegExp = /.*/): number | null {
  const buckets = new Map<number, number>();
  for (const line of text.split("\n")) {
    const match = new RegExp(`^${name}_bucket\\{([^}]*)\\}\\s+([\\d.eE+-]+)`).exec(line);
    if (!match || !labels.test(match[1] ?? "")) continue;
    const le = /le="([^"]+)"/.exec(match[1] ?? "")?.[1];
    if (!le) continue;
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(match[2]));
  }
  const sorted = [...buckets.entries()].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
  const p99 = histogramQuantile(0.99, sorted);
  return p99 === undefined ? null : Math.round(p99 * 1000);
}

/** A model the model service holds in memory (its `/api/ps`), as the Status tab lists it. */
export interface LoadedModel extends Omit<LoadedModelInPs, "sizeBytes"> {
  sizeBytes: number;
}

/**
 * The models loaded in the model service now (its `/api/ps`, as `ollama ps` reads it); null when it
 * did not say (unreachable, or an answer of another shape).
 */
async function loadedModels(
  url: string,
  headers: Record<string, string> | undefined,
): Promise<LoadedModel[] | null> {
  try {
    const response = await fetch(`${url}/api/ps`, { headers, signal: AbortSignal.timeout(2000) });
    if (!response.ok) return null;
    const loaded = loadedModelsOf(await response.json());
    return loaded?.map((model) => ({ ...model, sizeBytes: model.sizeBytes ?? 0 })) ?? null;
  } catch {
    return null;
  }
}

/** GET /api/admin/status: readiness of every service, the figures operators watch, the models loaded. */
export function registerStatusRoute(
  app: FastifyInstance,
  deps: { db: WebDatabase; config: HearthConfig; usage: UsageMeter },
) {
  app.get("/api/admin/status", admin, async () => {
    const token = deps.config.services.token;
    const headers = token ? { "x-hearth-service-token": token } : undefined;
    const targets = [
      ["model", deps.config.services.modelUrl],
      ["search", deps.config.services.searchUrl],
      ["knowledge", deps.config.services.knowledgeUrl],
    ] as const;
    const metrics: Record<string, string> = {};
    /** The services that answered from this very process (`hearth up`). */
    const inThisProcess = new Set<string>();
    // Asked with the rest: a model service that does not answer costs one timeout, not two.
    const loaded = loadedModels(deps.config.services.modelUrl.replace(/\/$/, ""), headers);
    const services = await Promise.all(
      targets.map(async ([service, base]) => {
        const url = base.replace(/\/$/, "");
        // Asked together: a slow service costs one timeout, not two.
        const text = fetch(`${url}/metrics`, { headers, signal: AbortSignal.timeout(2000) }).then(
          (r) => (r.ok ? r.text() : ""),
          () => "",
        );
        try {
          const ready = await fetch(`${url}/readyz`, { headers, signal: AbortSignal.timeout(2000) });
          const body = (await ready.json().catch(() => ({}))) as { reason?: string; instance?: string };
          if (body.instance === PROCESS_INSTANCE) inThisProcess.add(service);
          metrics[service] = await text;
          return { service, ready: ready.ok, ...(body.reason ? { reason: body.reason } : {}) };
        } catch {
          return { service, ready: false, reason: "unreachable" };
        }
      }),
    );
    const model = metrics.model ?? "";
    const search = metrics.search ?? "";
    const knowledge = metrics.knowledge ?? "";
    // A search its client left (499: the chat was stopped) is neither a success nor a failure.
    const searchTotal = sumMetric(
      search,
      "hearth_http_requests_total",
      /^(?!.*status="499").*route="\/v1\/search"/,
    );
    const searchOk = sumMetric(
      search,
      "hearth_http_requests_total",
      /route="\/v1\/search".*status="2\d\d"|status="2\d\d".*route="\/v1\/search"/,
    );
    const webMemoryMb = Math.round(process.memoryUsage().rss / 2 ** 20);
    await deps.usage.flush();
    const day = new Date(Date.now() - 86_400_000).toISOString();
    const usage = await deps.db
      .selectFrom("usage")
      .select((eb) => [
        eb.fn.sum<number>("requests").as("requests"),
        eb.fn.sum<number>("completion_tokens").as("tokens"),
      ])
      .where("created_at", ">", day)
      .executeTakeFirst();
    return {
      services: [{ service: "web", ready: true }, ...services],
      loadedModels: await loaded,
      // Stable keys (null: not known yet); the UI labels them in the reader's language.
      figures: {
        inferenceP99Ms: histogramP99(
          model,
          "hearth_http_request_duration_seconds",
          /route="\/v1\/chat\/completions"|route="\/api\/chat"/,
        ),
        // The queue's gauge has a series per model once one was asked for: none is no one waiting.
        modelQueueDepth: model ? (sumMetric(model, ALERT_METRICS.queueDepth) ?? 0) : null,
        // One process running both (hearth up) has one memory figure: shown once, as theirs together.
        ...(inThisProcess.has("model")
          ? { sharedProcessMemoryMb: webMemoryMb }
          : {
              modelMemoryMb: ((v) => (v === null ? null : Math.round(v / 2 ** 20)))(
                sumMetric(model, ALERT_METRICS.residentMemory),
              ),
              webMemoryMb,
            }),
        searchSuccessPercent: searchTotal ? Math.round(((searchOk ?? 0) / searchTotal) * 1000) / 10 : null,
        // Counted by the knowledge service's process: since it started (`since`), none before.
        knowledgeBaseUpdates: knowledge
          ? (sumMetric(
              knowledge,
              "hearth_http_requests_total",
              /route="\/v1\/knowledge-bases\/:id\/(documents|sync)".*method="POST"|method="POST".*route="\/v1\/knowledge-bases\/:id\/(documents|sync)"/,
            ) ?? 0)
          : null,
        chatRequests24h: Number(usage?.requests ?? 0),
        tokensOut24h: Number(usage?.tokens ?? 0),
      },
      // When a figure counted by a service's process starts from (the process's start, ISO time).
      since: {
        knowledgeBaseUpdates: ((started) =>
          started === null ? null : new Date(started * 1000).toISOString())(
          sumMetric(knowledge, "hearth_process_start_time_seconds"),
        ),
      },
    };
  });
}

/**
 * A failed call to the search service as the web service's own error: no answer at all is
 * UpstreamCallError.noAnswer; a refusal keeps its code where it names the search service's own
 * condition (SEARCH_NO_PROVIDERS: the page says so in the reader's language, where a bare
 * UPSTREAM_ERROR says only that something failed); anything else is the upstream's failure.
 */
function searchServiceError(url: string, error: unknown): HearthError {
  if (!(error instanceof SearchClientError))
    return UpstreamCallError.noAnswer({ url, service: "search", cause: error });
  if (isErrorCode(error.code) && error.code.startsWith("SEARCH_"))
    return new HearthError(error.code, error.message, { status: error.status, details: error.details });
  return new UpstreamCallError({ url, status: error.status, message: error.message, cause: error });
}

/**
 * The search engines for Admin → Search providers: GET /api/admin/search/providers lists them, those
 * with `enabled: false` too (the search service owns them and their settings); POST
 * /api/admin/search/test runs a query through the search service and reports each provider's status,
 * result count and latency. A test names the providers it asks, when it asks for some: a disabled
 * one is asked too, so that an engine is checked before it is enabled (only administrators reach
 * this; chat never names a provider). It bypasses the result cache: a cached answer would hide a
 * provider that has just started failing.
 */
export function registerSearchAdminRoute(app: FastifyInstance, deps: { search: SearchClient }) {
  app.get("/api/admin/search/providers", admin, async () => {
    try {
      return await deps.search.providers({ signal: AbortSignal.timeout(5_000) });
    } catch (error) {
      throw searchServiceError(deps.search.providersUrl, error);
    }
  });

  app.post("/api/admin/search/test", admin, async (request) => {
    const { query, providers } = z
      .strictObject({
        query: z.string().trim().min(1).max(500),
        providers: searchRequestSchema.shape.providers,
      })
      .parse(request.body);
    let answer: Pick<SearchResponse, "providers" | "results">;
    try {
      answer = await deps.search.search(
        { query, limit: 5, cache: false, ...(providers ? { providers } : {}) },
        { signal: AbortSignal.timeout(20_000) },
      );
    } catch (error) {
      // Every provider failing is what this check is for: each one's status and error is the answer.
      const failed =
        error instanceof SearchClientError
          ? z.array(providerOutcomeSchema).safeParse(error.details?.providers)
          : undefined;
      if (!failed?.success) throw searchServiceError(deps.search.searchUrl, error);
      answer = { providers: failed.data, results: [] };
    }
    return {
      // An absent error stays absent: the reply is serialised by JSON.stringify.
      // `results`: how many the engine answered with; an engine that answers none for a query it
      // should find is often a wrong `response.results` path (docs/search.md, Custom JSON API).
      // `warning`: an engine that answered while some it asks in turn did not (a SearXNG's own engines).
      providers: answer.providers.map(({ id, status, latencyMs, results, error, warning }) => ({
        id,
        status,
        latencyMs,
        results,
        error,
        warning,
      })),
      resultCount: answer.results.length,
    };
  });
}
