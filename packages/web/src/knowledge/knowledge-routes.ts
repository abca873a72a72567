import { Readable } from "node:stream";
import {
  createKnowledgeBaseRequestSchema,
  knowledgeBaseNameKey,
  queryRequestSchema,
  RETRIEVAL_TEST_TOP_K,
  updateDocumentRequestSchema,
  updateKnowledgeBaseRequestSchema,
} from "@hearth/contracts";
import { HearthError, pathSegment, relayBody, UpstreamCallError } from "@hearth/core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { audit } from "../audit/audit-log.js";
import { currentUser } from "../auth/route-access.js";
import type { ContentFilter } from "../chat/content-filter.js";
import type { ModelAccess } from "../models/model-access.js";
import { preflight } from "../public-api/cors.js";
import type { WebDatabase } from "../storage/open-database.js";
import type { KnowledgeAccess, KnowledgePermission } from "./knowledge-access.js";
import { recordKnowledgeBaseOwner } from "./knowledge-owner.js";
import type { ServiceProxy } from "./service-proxy.js";

interface Deps {
  db: WebDatabase;
  knowledge: ServiceProxy;
  knowledgeAccess: KnowledgeAccess;
  modelAccess: ModelAccess;
  /** The input filter a base's name and description are held to: group members or everyone see them. */
  contentFilter: Pick<ContentFilter, "checkFields">;
}

const accessBody = z.strictObject({
  visibility: z.enum(["private", "shared", "public"]),
  shares: z
    .array(z.strictObject({ groupId: z.string().min(1), permission: z.enum(["read", "write"]) }))
    .max(200)
    .default([]),
});

/** The policy a document's file is served under: no script, no request, a unique origin. */
const FILE_SANDBOX = "default-src 'none'; sandbox";

/** A new base: the knowledge service's documented fields (nothing else is forwarded) and its visibility. */
const createBody = createKnowledgeBaseRequestSchema.omit({ owner: true }).extend({
  visibility: z.enum(["private", "shared", "public"]).default("private"),
});

/**
 * A retrieval test's question: the knowledge service's query (its query length, modes and filters)
 * with at most RETRIEVAL_TEST_TOP_K.max passages, as many as a person reads through.
 */
const retrievalTestBody = queryRequestSchema.extend({
  topK: z.number().int().min(1).max(RETRIEVAL_TEST_TOP_K.max).default(RETRIEVAL_TEST_TOP_K.default),
});

/** The code of a service's error answer (`{error: {code}}`), if it is one. */
const errorAnswer = z.object({ error: z.object({ code: z.string() }) });
function errorCodeOf(text: string): string | undefined {
  try {
    return errorAnswer.safeParse(JSON.parse(text)).data?.error.code;
  } catch {
    return undefined; // not JSON: no code of its own
  }
}

/**
 * A watched folder is read by the knowledge service with its own rights, and its files are then
 * served to whoever may read the base: only an administrator may choose one (or change it).
 */
function assertMayWatch(request: FastifyRequest, body: { watchFolder?: string | null | undefined }) {
  if (body.watchFolder !== undefined && currentUser(request).role !== "admin")
    throw new HearthError(
      "FORBIDDEN",
      "Only administrators may set or change a knowledge base's watchFolder (a folder on the server)",
    );
}

/**
 * A base's embedding model runs for whoever uploads to or queries the base, and its rerank model
 * for whoever queries it: choosing one the user may not use would let them run it all the same.
 */
async function assertMayUseModelsOf(
  modelAccess: ModelAccess,
  request: FastifyRequest,
  body: { embeddingModel?: string | null | undefined; rerankModel?: string | null | undefined },
) {
  for (const model of [body.embeddingModel, body.rerankModel])
    if (model) await modelAccess.assertAllowed(currentUser(request), model);
}

/**
 * Records which base a job the knowledge service started is for. A base deleted here while the
 * knowledge service accepted the job (its deletion there follows) is KNOWLEDGE_BASE_NOT_FOUND, as
 * if the request had come a moment later: nothing is recorded for it.
 */
async function recordJob(db: WebDatabase, jobId: string, knowledgeBaseId: string) {
  try {
    await db
      .insertInto("knowledge_jobs")
      .values({ id: jobId, knowledge_base_id: knowledgeBaseId, created_at: new Date().toISOString() })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
  } catch (error) {
    const base = await db
      .selectFrom("knowledge_bases")
      .select("id")
      .where("id", "=", knowledgeBaseId)
      .executeTakeFirst();
    if (base) throw error;
    throw new HearthError("KNOWLEDGE_BASE_NOT_FOUND", "No such knowledge base");
  }
}

/**
 * Forwards a request to the knowledge service as it came (a multipart upload streamed through, not
 * buffered), and its answer back; a job it starts for `knowledgeBaseId` is recorded so that whoever
 * may write that base may follow it (/api/jobs). A failure of the knowledge service is a 502, but
 * for an error whose code is in `passOn` (another service's failure it reports, by its own code).
 * `settle` runs once the knowledge service has answered and before the answer is relayed (what the
 * web service records of a change, such as an audit entry), so that a client that has the answer
 * finds it recorded.
 */
export function knowledgeForwarder(db: WebDatabase, knowledge: ServiceProxy) {
  return async function forward(
    request: FastifyRequest,
    reply: FastifyReply,
    method: string,
    path: string,
    options: {
      knowledgeBaseId?: string;
      body?: unknown;
      passOn?: readonly string[];
      settle?: (status: number) => Promise<void>;
    } = {},
  ) {
    const { knowledgeBaseId } = options;
    const body = options.body ?? request.body;
    const isMultipart = String(request.headers["content-type"] ?? "").startsWith("multipart/form-data");
    const response = await knowledge.request(method, path, {
      ...(isMultipart
        ? {
            rawBody: Readable.toWeb(request.body as Readable) as unknown as ReadableStream,
            headers: { "content-type": String(request.headers["content-type"]) },
            timeoutMs: 10 * 60_000,
          }
        : body !== undefined && method !== "GET" && method !== "DELETE"
          ? { body }
          : {}),
    });
    await options.settle?.(response.status);
    const type = response.headers.get("content-type") ?? "application/json";
    if (type.includes("application/json")) {
      const text = await response.text();
      if ((response.status === 202 || response.status === 200) && knowledgeBaseId) {
        let jobId: string | undefined;
        try {
          // A job answer, or a PATCH of model/chunking naming the re-index job it started.
          const answer = JSON.parse(text) as { job?: { id?: string }; reindexJobId?: string };
          jobId = response.status === 202 ? answer.job?.id : answer.reindexJobId;
        } catch {
          jobId = undefined; // not a job answer
        }
        if (jobId) await recordJob(db, jobId, knowledgeBaseId);
      }
      if (response.status >= 500 && !options.passOn?.includes(errorCodeOf(text) ?? ""))
        throw new UpstreamCallError({
          url: path,
          status: response.status,
          body: text,
          message: "the knowledge service failed",
        });
      return reply.code(response.status).type(type).send(text);
    }
    reply.code(response.status).type(type);
    for (const header of [
      "content-disposition",
      "content-length",
      "cache-control",
      "x-content-type-options",
      "content-security-policy",
    ]) {
      const value = response.headers.get(header);
      if (value) reply.header(header, value);
    }
    return relayBody(reply, response.body);
  };
}

/**
 * The knowledge service's routes behind the web service's access control: each call is checked
 * against the base's owner, visibility and group shares, then forwarded as is. A base the user may
 * not see is a 404. Jobs are reachable by whoever may write the base they work on, one the knowledge
 * service started itself (a watched folder's scan) too.
 */
export function registerKnowledgeRoutes(app: FastifyInstance, deps: Deps) {
  const { db, knowledge, knowledgeAccess, modelAccess, contentFilter } = deps;
  const user = { config: { access: "user" as const } };
  const admin = { config: { access: "admin" as const } };
  // Routes that read a base, which the public API points its clients to (the list, a citation's
  // file) or scripts use (the retrieval test): an API key opens them too, its user held to the same
  // permissions as in the UI, from a browser page as it calls /v1/ (CORS for key requests,
  // registerPublicCors).
  const userOrKey = { config: { access: "user" as const, apiKey: true } };

  // Uploads stream through to the knowledge service without being buffered here.
  app.addContentTypeParser("multipart/form-data", (_request, payload, done) => done(null, payload));

  const forward = knowledgeForwarder(db, knowledge);

  const guard = async (request: FastifyRequest, needed: KnowledgePermission) => {
    const { id } = request.params as { id: string };
    await knowledgeAccess.assert(currentUser(request), id, needed);
    return id;
  };

  /** Those of the bases that are deleted chats', which the knowledge service has still to delete. */
  const pendingDeletions = async (ids: readonly string[]): Promise<Set<string>> =>
    ids.length === 0
      ? new Set()
      : new Set(
          (
            await db
              .selectFrom("knowledge_base_deletions")
              .select("knowledge_base_id")
              .where("knowledge_base_id", "in", ids)
              .execute()
          ).map((row) => row.knowledge_base_id),
        );

  // The bases a caller may read, whose ids /v1/chat/completions takes in `knowledge_base_ids`.
  app.options("/api/knowledge-bases", { config: { access: "public" } }, preflight("GET, OPTIONS"));
  app.get("/api/knowledge-bases", userOrKey, async (request) => {
    const me = currentUser(request);
    const response = await knowledge.request("GET", "/v1/knowledge-bases");
    if (!response.ok)
      throw new UpstreamCallError({
        url: "/v1/knowledge-bases",
        status: response.status,
        message: "the knowledge service failed",
      });
    const body = (await response.json()) as
      | { knowledgeBases?: Array<{ id: string }>; maxUploadBytes?: unknown }
      | Array<{ id: string }>;
    const list = Array.isArray(body) ? body : (body.knowledgeBases ?? []);
    // The largest file the knowledge service takes, for a page to refuse a larger one before sending it.
    const maxUploadBytes =
      !Array.isArray(body) && typeof body.maxUploadBytes === "number" ? body.maxUploadBytes : undefined;
    const ids = list.map((base) => base.id);
    const rows =
      ids.length === 0
        ? []
        : await db
            .selectFrom("knowledge_bases")
            .leftJoin("users", "users.id", "knowledge_bases.owner_id")
            .select([
              "knowledge_bases.id",
              "knowledge_bases.visibility",
              "knowledge_bases.owner_id",
              "knowledge_bases.conversation_id",
              "users.username as owner_name",
            ])
            .where("knowledge_bases.id", "in", ids)
            .execute();
    const permissions = await knowledgeAccess.permissionsOfBases(me, rows);
    const rowOf = new Map(rows.map((row) => [row.id, row]));
    const deleted = await pendingDeletions(ids.filter((id) => !rowOf.has(id)));
    const out = [];
    for (const base of list) {
      const row = rowOf.get(base.id);
      // The files attached to a chat are listed with their chat (conversation-files.ts), nowhere
      // else; those of a deleted chat, still to be deleted on the knowledge service, nowhere.
      if (row?.conversation_id || deleted.has(base.id)) continue;
      // A base made on the knowledge service directly has no owner here: admins see it, to adopt it.
      if (!row) {
        if (me.role === "admin") out.push({ ...base, permission: "manage", owned: false, unowned: true });
        continue;
      }
      const permission = permissions.get(base.id);
      if (!permission) continue;
      const owned = row.owner_id === me.id;
      // Another user's base (one shared, or any private one an administrator sees) names its owner:
      // a chat's picker tells it from the caller's own of the same name.
      out.push({
        ...base,
        permission,
        visibility: row.visibility,
        owned,
        ...(!owned && row.owner_name ? { ownerName: row.owner_name } : {}),
      });
    }
    return { knowledgeBases: out, ...(maxUploadBytes !== undefined ? { maxUploadBytes } : {}) };
  });

  /**
   * An admin takes a base without an owner (made on the knowledge service directly, or by
   * `hearth ingest` without `--owner`) as their own, private: then it is managed, shared and used
   * in chats as any other. A base that already has an owner keeps it (FORBIDDEN).
   */
  app.post("/api/knowledge-bases/:id/adopt", admin, async (request, reply) => {
    const { id } = request.params as { id: string };
    const me = currentUser(request);
    if ((await pendingDeletions([id])).has(id))
      throw new HearthError("KNOWLEDGE_BASE_NOT_FOUND", "No such knowledge base");
    const response = await knowledge.request("GET", `/v1/knowledge-bases/${pathSegment(id)}`);
    if (response.status === 404) throw new HearthError("KNOWLEDGE_BASE_NOT_FOUND", "No such knowledge base");
    if (!response.ok)
      throw new UpstreamCallError({
        url: `/v1/knowledge-bases/${id}`,
        status: response.status,
        message: "the knowledge service failed",
      });
    const { name } = (await response.json()) as { name: string };
    const owned = await db
      .selectFrom("knowledge_bases")
      .select("owner_id")
      .where("id", "=", id)
      .executeTakeFirst();
    if (!owned) await assertNameFree(me.id, name);
    await recordKnowledgeBaseOwner(db, { knowledgeBaseId: id, name, owner: me, actorId: me.id, via: "web" });
    return reply.send({ id, name, visibility: "private", permission: "manage", owned: true });
  });

  /**
   * Names are unique per owner only: another user's base never blocks a name (a 409 naming it
   * would reveal a private base). The knowledge service enforces this for bases created with an
   * owner; bases from before owners existed are checked here against the web's own ownership.
   * A base's own name (`exceptId`'s, as names compare) is never taken: a change that sends it back
   * leaves the name as it was, even beside an older base of the owner's it compares equal to.
   */
  async function assertNameFree(ownerId: string, name: string, exceptId?: string) {
    const owned = await db
      .selectFrom("knowledge_bases")
      .select("id")
      .where("owner_id", "=", ownerId)
      .execute();
    if (owned.length === 0) return;
    const ids = new Set(owned.map((row) => row.id));
    const response = await knowledge.request("GET", "/v1/knowledge-bases");
    if (!response.ok)
      throw new UpstreamCallError({
        url: "/v1/knowledge-bases",
        status: response.status,
        message: "the knowledge service failed",
      });
    const body = (await response.json()) as { knowledgeBases?: Array<{ id: string; name: string }> };
    const key = knowledgeBaseNameKey(name);
    const bases = body.knowledgeBases ?? [];
    const own = bases.find((base) => base.id === exceptId);
    if (own && knowledgeBaseNameKey(own.name) === key) return;
    const taken = bases.some(
      (base) => ids.has(base.id) && base.id !== exceptId && knowledgeBaseNameKey(base.name) === key,
    );
    if (taken)
      throw new HearthError("KNOWLEDGE_BASE_NAME_TAKEN", `You already have a knowledge base named "${name}"`);
  }

  app.post("/api/knowledge-bases", user, async (request, reply) => {
    const me = currentUser(request);
    const body = createBody.parse(request.body);
    await contentFilter.checkFields({ name: body.name, description: body.description });
    assertMayWatch(request, body);
    await assertMayUseModelsOf(modelAccess, request, body);
    const { visibility, ...fields } = body;
    await assertNameFree(me.id, fields.name);
    const forwarded = { ...fields, owner: me.id };
    const response = await knowledge.request("POST", "/v1/knowledge-bases", { body: forwarded });
    const text = await response.text();
    if (response.status >= 500)
      throw new UpstreamCallError({
        url: "/v1/knowledge-bases",
        status: response.status,
        body: text,
        message: "the knowledge service failed",
      });
    if (!response.ok) return reply.code(response.status).type("application/json").send(text);
    const created = JSON.parse(text) as { id?: string; knowledgeBase?: { id?: string } };
    const id = created.id ?? created.knowledgeBase?.id;
    if (!id)
      throw new UpstreamCallError({
        url: "/v1/knowledge-bases",
        status: 502,
        body: text,
        message: "the knowledge service sent no id",
      });
    await db
      .insertInto("knowledge_bases")
      .values({ id, owner_id: me.id, visibility, created_at: new Date().toISOString() })
      .execute();
    return reply
      .code(201)
      .type("application/json")
      .send({ ...created, visibility, permission: "manage" });
  });

  app.get("/api/knowledge-bases/:id", user, async (request, reply) =>
    forward(request, reply, "GET", `/v1/knowledge-bases/${pathSegment(await guard(request, "read"))}`),
  );
  // Settings are the manager's, as sharing and re-indexing are: a change of model or chunking
  // re-indexes every document. Write access is for the documents.
  app.patch("/api/knowledge-bases/:id", user, async (request, reply) => {
    const id = await guard(request, "manage");
    const body = updateKnowledgeBaseRequestSchema.parse(request.body);
    await contentFilter.checkFields({ name: body.name, description: body.description });
    assertMayWatch(request, body);
    await assertMayUseModelsOf(modelAccess, request, body);
    if (body.name !== undefined) {
      const row = await db
        .selectFrom("knowledge_bases")
        .select("owner_id")
        .where("id", "=", id)
        .executeTakeFirst();
      if (row) await assertNameFree(row.owner_id, body.name, id);
    }
    return forward(request, reply, "PATCH", `/v1/knowledge-bases/${pathSegment(id)}`, {
      body,
      knowledgeBaseId: id,
      settle: async (status) => {
        if (status < 300)
          await audit(db, {
            actorId: currentUser(request).id,
            action: "knowledge-base.settings-change",
            target: id,
            targetName: body.name ?? (await baseName(id)),
            details: body,
          });
      },
    });
  });
  /**
   * A knowledge base or a document as the knowledge service answers it (its name; a document's
   * `enabled`), for the audit log; null when the knowledge service cannot say.
   */
  const knowledgeRecord = async (path: string): Promise<{ name?: string; enabled?: boolean } | null> => {
    const response = await knowledge.request("GET", path);
    if (!response.ok) return null;
    return (await response.json()) as { name?: string; enabled?: boolean };
  };
  /**
   * A base's name now, which its audit entries keep as their target's (the web database has no
   * names of bases); null when the knowledge service cannot say: the change is made already.
   */
  const baseName = async (id: string): Promise<string | null> =>
    (await knowledgeRecord(`/v1/knowledge-bases/${pathSegment(id)}`).catch(() => null))?.name ?? null;
  app.delete("/api/knowledge-bases/:id", user, async (request, reply) => {
    const id = await guard(request, "manage");
    const path = `/v1/knowledge-bases/${pathSegment(id)}`;
    // Read before deleting: afterwards the knowledge service no longer knows the base's name.
    const name = (await knowledgeRecord(path))?.name ?? null;
    return forward(request, reply, "DELETE", path, {
      settle: async (status) => {
        if (status >= 300 && status !== 404) return;
        await db.deleteFrom("knowledge_bases").where("id", "=", id).execute();
        await audit(db, {
          actorId: currentUser(request).id,
          action: "knowledge-base.delete",
          target: id,
          targetName: name,
          details: { name },
        });
      },
    });
  });

  /** Who may use a base, and the groups its manager may share it with (names and ids). */
  app.get("/api/knowledge-bases/:id/access", user, async (request) => {
    const id = await guard(request, "manage");
    const [base, shares, groups] = await Promise.all([
      db.selectFrom("knowledge_bases").select("visibility").where("id", "=", id).executeTakeFirst(),
      db
        .selectFrom("knowledge_shares")
        .select(["group_id", "permission"])
        .where("knowledge_base_id", "=", id)
        .execute(),
      db.selectFrom("groups").select(["id", "name"]).orderBy("name").execute(),
    ]);
    return {
      visibility: base?.visibility ?? "private",
      shares: shares.map((share) => ({ groupId: share.group_id, permission: share.permission })),
      groups,
    };
  });

  app.put("/api/knowledge-bases/:id/access", user, async (request) => {
    const id = await guard(request, "manage");
    const body = accessBody.parse(request.body);
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable("knowledge_bases")
        .set({ visibility: body.visibility })
        .where("id", "=", id)
        .execute();
      await trx.deleteFrom("knowledge_shares").where("knowledge_base_id", "=", id).execute();
      for (const share of body.shares) {
        const group = await trx
          .selectFrom("groups")
          .select("id")
          .where("id", "=", share.groupId)
          .executeTakeFirst();
        if (!group) throw new HearthError("GROUP_NOT_FOUND", `No group ${share.groupId}`);
        await trx
          .insertInto("knowledge_shares")
          .values({ knowledge_base_id: id, group_id: share.groupId, permission: share.permission })
          .execute();
      }
    });
    // The groups are named in the entry, which still names them after they are deleted.
    const groupIds = body.shares.map((share) => share.groupId);
    const groups = groupIds.length
      ? await db.selectFrom("groups").select(["id", "name"]).where("id", "in", groupIds).execute()
      : [];
    await audit(db, {
      actorId: currentUser(request).id,
      action: "knowledge-base.access-change",
      target: id,
      targetName: await baseName(id),
      details: {
        ...body,
        shares: body.shares.map((share) => ({
          ...share,
          group: groups.find((group) => group.id === share.groupId)?.name ?? null,
        })),
      },
    });
    return { id, ...body };
  });

  const documents = (id: string) => `/v1/knowledge-bases/${pathSegment(id)}/documents`;
  app.get("/api/knowledge-bases/:id/documents", user, async (request, reply) =>
    forward(request, reply, "GET", documents(await guard(request, "read"))),
  );
  app.post("/api/knowledge-bases/:id/documents", user, async (request, reply) => {
    const id = await guard(request, "write");
    return forward(request, reply, "POST", documents(id), { knowledgeBaseId: id });
  });
  app.post("/api/knowledge-bases/:id/documents/from-url", user, async (request, reply) => {
    const id = await guard(request, "write");
    return forward(request, reply, "POST", `${documents(id)}/from-url`, { knowledgeBaseId: id });
  });
  const documentPath = (request: FastifyRequest, id: string) =>
    `${documents(id)}/${pathSegment((request.params as { documentId: string }).documentId)}`;
  app.get("/api/knowledge-bases/:id/documents/:documentId", user, async (request, reply) => {
    const id = await guard(request, "read");
    return forward(request, reply, "GET", documentPath(request, id));
  });
  // A document's passages as indexed: a citation shows the passage it quotes in its place (the UI).
  app.get("/api/knowledge-bases/:id/documents/:documentId/passages", user, async (request, reply) => {
    const id = await guard(request, "read");
    return forward(request, reply, "GET", `${documentPath(request, id)}/passages`);
  });
  /**
   * A retrieval test (the knowledge page's, and a script's with an API key): the passages the base
   * gives a chat for a question, ranked, with the knowledge service's warnings (a base searched on
   * full text only, its rerank model failing) and the rerank model that ordered them (`rerank: false`
   * asks for them unreranked). With vectors only, a query the embedding model could not embed is its
   * EMBEDDING_FAILED, not a 502 of ours.
   */
  const retrievalTest = "/api/knowledge-bases/:id/query";
  app.options(retrievalTest, { config: { access: "public" } }, preflight("POST, OPTIONS"));
  app.post(retrievalTest, userOrKey, async (request, reply) => {
    const id = await guard(request, "read");
    const body = retrievalTestBody.parse(request.body);
    return forward(request, reply, "POST", `/v1/knowledge-bases/${pathSegment(id)}/query`, {
      body,
      passOn: ["EMBEDDING_FAILED"],
    });
  });
  app.delete("/api/knowledge-bases/:id/documents/:documentId", user, async (request, reply) => {
    const id = await guard(request, "write");
    const path = documentPath(request, id);
    // Read before deleting: afterwards the knowledge service no longer knows the document's name.
    const name = (await knowledgeRecord(path))?.name ?? null;
    return forward(request, reply, "DELETE", path, {
      settle: async (status) => {
        if (status < 300)
          await audit(db, {
            actorId: currentUser(request).id,
            action: "knowledge-base.document-delete",
            target: id,
            targetName: await baseName(id),
            details: { documentId: (request.params as { documentId: string }).documentId, name },
          });
      },
    });
  });
  /**
   * Switches a document off for answers (chats, the API, the retrieval test), or on again: a change
   * of the documents, for whoever may write the base, audited when it changes the document's state.
   * Only `enabled` is taken and forwarded.
   */
  app.patch("/api/knowledge-bases/:id/documents/:documentId", user, async (request, reply) => {
    const id = await guard(request, "write");
    const body = updateDocumentRequestSchema.parse(request.body);
    const path = documentPath(request, id);
    const before = await knowledgeRecord(path);
    return forward(request, reply, "PATCH", path, {
      body,
      settle: async (status) => {
        if (status < 300 && before?.enabled !== body.enabled)
          await audit(db, {
            actorId: currentUser(request).id,
            action: body.enabled ? "knowledge-base.document-enable" : "knowledge-base.document-disable",
            target: id,
            targetName: await baseName(id),
            details: {
              documentId: (request.params as { documentId: string }).documentId,
              name: before?.name ?? null,
            },
          });
      },
    });
  });
  // A /v1/ answer's knowledge citations link here: an API key's client may open them too.
  const documentFile = "/api/knowledge-bases/:id/documents/:documentId/file";
  app.options(documentFile, { config: { access: "public" } }, preflight("GET, OPTIONS"));
  app.get(documentFile, userOrKey, async (request, reply) => {
    const id = await guard(request, "read");
    // An uploaded file is served on the app's own origin: an HTML page must never run there, so the
    // sandbox holds even when the knowledge service did not send it (its own headers replace these).
    reply.header("x-content-type-options", "nosniff").header("content-security-policy", FILE_SANDBOX);
    return forward(request, reply, "GET", `${documentPath(request, id)}/file`);
  });
  app.post("/api/knowledge-bases/:id/sync", user, async (request, reply) => {
    const id = await guard(request, "write");
    return forward(request, reply, "POST", `/v1/knowledge-bases/${pathSegment(id)}/sync`, {
      knowledgeBaseId: id,
    });
  });

  /** Re-indexes the base's stale documents (`?all=true`: every document); a manager's decision. */
  app.post("/api/knowledge-bases/:id/reindex", user, async (request, reply) => {
    const id = await guard(request, "manage");
    const all = (request.query as { all?: unknown }).all === "true" ? "?all=true" : "";
    return forward(request, reply, "POST", `/v1/knowledge-bases/${pathSegment(id)}/reindex${all}`, {
      knowledgeBaseId: id,
    });
  });

  /**
   * The base a job works on: as recorded when the job was started here, else as the knowledge
   * service says (a job it started itself: a watched folder's scan, `hearth ingest`, which a
   * document list names as its `jobId`); undefined for a job neither knows.
   */
  const baseOfJob = async (jobId: string): Promise<string | undefined> => {
    const recorded = await db
      .selectFrom("knowledge_jobs")
      .select("knowledge_base_id")
      .where("id", "=", jobId)
      .executeTakeFirst();
    if (recorded) return recorded.knowledge_base_id;
    const response = await knowledge.request("GET", `/v1/jobs/${pathSegment(jobId)}`);
    // A 404 (JOB_NOT_FOUND) above all: no such job, as for one recorded here of another base.
    if (response.status < 500 && !response.ok) return undefined;
    if (!response.ok)
      throw new UpstreamCallError({
        url: "/v1/jobs/{id}",
        status: response.status,
        body: await response.text(),
        message: "the knowledge service failed",
      });
    const { knowledgeBaseId } = (await response.json()) as { knowledgeBaseId?: unknown };
    return typeof knowledgeBaseId === "string" && knowledgeBaseId !== "" ? knowledgeBaseId : undefined;
  };
  const jobGuard = async (request: FastifyRequest) => {
    const { jobId } = request.params as { jobId: string };
    const knowledgeBaseId = await baseOfJob(jobId);
    // A job of a base the user may not change answers as an unknown one: the id reveals nothing.
    const permission = knowledgeBaseId
      ? await knowledgeAccess.permissionOf(currentUser(request), knowledgeBaseId)
      : undefined;
    if (permission !== "write" && permission !== "manage")
      throw new HearthError("JOB_NOT_FOUND", "No ingestion job with that id that you may follow");
    return pathSegment(jobId);
  };
  app.get("/api/jobs/:jobId", user, async (request, reply) =>
    forward(request, reply, "GET", `/v1/jobs/${await jobGuard(request)}`),
  );
  app.post("/api/jobs/:jobId/cancel", user, async (request, reply) =>
    forward(request, reply, "POST", `/v1/jobs/${await jobGuard(request)}/cancel`),
  );
  app.get("/api/jobs/:jobId/events", user, async (request, reply) => {
    const path = `/v1/jobs/${await jobGuard(request)}/events`;
    const controller = new AbortController();
    // Closed before the whole answer was sent: the user went away, and so does the upstream call.
    reply.raw.on("close", () => {
      if (!reply.raw.writableFinished) controller.abort();
    });
    const response = await knowledge.request("GET", path, {
      signal: controller.signal,
      headers: { accept: "text/event-stream" },
    });
    if (!response.ok || !response.body)
      return reply
        .code(response.status)
        .type("application/json")
        .send(await response.text());
    return relayBody(reply, response.body, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    });
  });
}
