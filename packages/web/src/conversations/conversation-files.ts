import { type KnowledgeClient, KnowledgeClientError } from "@hearth/contracts";
import { HearthError, type Logger, pathSegment, UpstreamCallError } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { currentUser } from "../auth/route-access.js";
import { knowledgeFailure } from "../knowledge/knowledge-failure.js";
import { knowledgeForwarder } from "../knowledge/knowledge-routes.js";
import type { ServiceProxy } from "../knowledge/service-proxy.js";
import type { WebDatabase } from "../storage/open-database.js";
import type { ConversationStore } from "./conversation-store.js";

/** How often the bases of deleted chats are tried again on the knowledge service while it fails. */
export const PURGE_INTERVAL_MS = 60_000;

/**
 * The files attached to a chat: a knowledge base of the conversation's own, made on its first
 * attachment, private to the conversation's owner (KnowledgeAccess: no one else, an administrator
 * neither), listed nowhere but with its chat, searched on every turn of it beside the bases chosen,
 * and deleted with it (deleteConversationRows marks it; `purge` deletes it on the knowledge service).
 */
export class ConversationFiles {
  constructor(
    readonly db: WebDatabase,
    /** Forwards the chat's files' requests (uploads, lists, removals) and deletes its base. */
    readonly knowledge: ServiceProxy,
    /** Makes the chat's base, and finds one another replica made. */
    readonly knowledgeClient: Pick<KnowledgeClient, "createKnowledgeBase" | "listKnowledgeBases">,
    readonly logger: Logger,
  ) {}

  /** The conversation's base, if a file was ever attached to it. */
  async baseOf(conversationId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom("knowledge_bases")
      .select("id")
      .where("conversation_id", "=", conversationId)
      .executeTakeFirst();
    return row?.id;
  }

  /** The bases being made in this process, by conversation: one at a time for each chat. */
  readonly #making = new Map<string, Promise<string>>();

  /**
   * The conversation's base, made now (on the knowledge service, then recorded here) when it has
   * none. Files chosen together arrive as first attachments at once and all go to one base: in this
   * process they wait for the one being made; one made by another replica is found by its name,
   * which the knowledge service refuses to give twice (see `#make`).
   */
  async ensureBase(ownerId: string, conversationId: string): Promise<string> {
    const known = await this.baseOf(conversationId);
    if (known) return known;
    const making = this.#making.get(conversationId);
    if (making) return making;
    const made = this.#make(ownerId, conversationId).finally(() => this.#making.delete(conversationId));
    this.#making.set(conversationId, made);
    return made;
  }

  /**
   * Makes the conversation's base on the knowledge service and records it here. When the knowledge
   * service answers that the name is taken, another replica made it: that base is recorded instead
   * (or found recorded). When two bases are made all the same, the one recorded second is deleted.
   */
  async #make(ownerId: string, conversationId: string): Promise<string> {
    // Names are unique per owner on the knowledge service: the conversation's id keeps it so.
    const name = `Chat files ${conversationId}`;
    const id = await this.knowledgeClient.createKnowledgeBase({ name, owner: ownerId }).then(
      (created) => created.id,
      async (error: unknown) => {
        const taken = error instanceof KnowledgeClientError && error.code === "KNOWLEDGE_BASE_NAME_TAKEN";
        const madeElsewhere = taken ? await this.#madeElsewhere(name) : undefined;
        if (madeElsewhere) return madeElsewhere;
        throw knowledgeFailure(error, "/v1/knowledge-bases");
      },
    );
    const recorded = await this.db
      .transaction()
      .execute(async (trx) => {
        const conversation = await trx
          .selectFrom("conversations")
          .select("id")
          .where("id", "=", conversationId)
          .executeTakeFirst();
        const other = await trx
          .selectFrom("knowledge_bases")
          .select("id")
          .where("conversation_id", "=", conversationId)
          .executeTakeFirst();
        if (!conversation || other) return other?.id ?? null;
        await trx
          .insertInto("knowledge_bases")
          .values({
            id,
            owner_id: ownerId,
            visibility: "private",
            created_at: new Date().toISOString(),
            conversation_id: conversationId,
          })
          .execute();
        return id;
      })
      .catch(async (error: unknown) => (await this.baseOf(conversationId)) ?? Promise.reject(error));
    if (recorded === id) return id;
    // Another attachment made the base first, or the conversation was deleted meanwhile.
    await this.db
      .insertInto("knowledge_base_deletions")
      .values({ knowledge_base_id: id, requested_at: new Date().toISOString() })
      .onConflict((oc) => oc.column("knowledge_base_id").doNothing())
      .execute();
    await this.purge();
    if (recorded) return recorded;
    throw new HearthError("CONVERSATION_NOT_FOUND", "No such conversation");
  }

  /**
   * The chat's base that the knowledge service holds under this name, made by another replica:
   * one recorded here already for another purpose is no chat's (its owner chose the name), so it is
   * passed over. Undefined when there is none, or the knowledge service does not list its bases.
   */
  async #madeElsewhere(name: string): Promise<string | undefined> {
    const knowledgeBases = await this.knowledgeClient.listKnowledgeBases().catch(() => []);
    const named = knowledgeBases.filter((base) => base.name === name).map((base) => base.id);
    if (named.length === 0) return undefined;
    const others = await this.db
      .selectFrom("knowledge_bases")
      .select("id")
      .where("id", "in", named)
      .where("conversation_id", "is", null)
      .execute();
    return named.find((id) => !others.some((other) => other.id === id));
  }

  /**
   * Deletes on the knowledge service the bases of deleted chats; those it cannot delete now (it is
   * down) stay listed, tried again on the next purge. Never throws: the chats are deleted already.
   */
  async purge(): Promise<void> {
    try {
      const pending = await this.db
        .selectFrom("knowledge_base_deletions")
        .select("knowledge_base_id")
        .orderBy("requested_at")
        .limit(100)
        .execute();
      for (const { knowledge_base_id: id } of pending) {
        const response = await this.knowledge.request("DELETE", `/v1/knowledge-bases/${pathSegment(id)}`);
        await response.body?.cancel();
        if (!response.ok && response.status !== 404) {
          this.logger.warn(
            { knowledgeBaseId: id, status: response.status },
            "could not delete a deleted chat's files on the knowledge service; tried again later",
          );
          continue;
        }
        await this.db.deleteFrom("knowledge_base_deletions").where("knowledge_base_id", "=", id).execute();
      }
    } catch (error) {
      this.logger.warn(
        { reason: (error as { code?: string }).code ?? (error as Error).message },
        "could not delete deleted chats' files on the knowledge service; tried again later",
      );
    }
  }
}

/**
 * A chat's files: listed (`GET`), attached (`POST`, a multipart upload as the Knowledge page's,
 * answered by the knowledge service's 202 {job, documents}: its progress and status are followed as
 * a knowledge upload's), removed (`DELETE .../files/:documentId`). The conversation's owner only:
 * anyone else's attempt, an administrator's too, is 404 CONVERSATION_NOT_FOUND. A file opens (its
 * passages, its file) by the knowledge-base routes its citations link to, held to the same rule.
 */
export function registerConversationFileRoutes(
  app: FastifyInstance,
  deps: { conversations: ConversationStore; files: ConversationFiles },
) {
  const { conversations, files } = deps;
  const access = { config: { access: "user" as const } };
  const forward = knowledgeForwarder(files.db, files.knowledge);
  const documents = (knowledgeBaseId: string) =>
    `/v1/knowledge-bases/${pathSegment(knowledgeBaseId)}/documents`;
  /** The conversation, the caller's own (else 404 CONVERSATION_NOT_FOUND, whatever the request holds). */
  const ownConversation = async (request: import("fastify").FastifyRequest) => {
    const { id } = request.params as { id: string };
    await conversations.get(currentUser(request).id, id);
    return id;
  };

  app.get("/api/conversations/:id/files", access, async (request) => {
    const id = await ownConversation(request);
    const knowledgeBaseId = (await files.baseOf(id)) ?? null;
    if (!knowledgeBaseId) return { knowledgeBaseId, documents: [] };
    const response = await files.knowledge.request("GET", documents(knowledgeBaseId));
    // A base the knowledge service lost holds nothing any more.
    if (response.status === 404) return { knowledgeBaseId, documents: [] };
    const text = await response.text();
    if (!response.ok)
      throw new UpstreamCallError({
        url: documents(knowledgeBaseId),
        status: response.status,
        body: text,
        message: "the knowledge service failed",
      });
    const answer = JSON.parse(text) as { documents?: unknown[] };
    return { knowledgeBaseId, documents: answer.documents ?? [] };
  });

  app.post("/api/conversations/:id/files", access, async (request, reply) => {
    const id = await ownConversation(request);
    if (!String(request.headers["content-type"] ?? "").startsWith("multipart/form-data"))
      throw new HearthError("INVALID_REQUEST", "Attach files as multipart/form-data `file` parts");
    const knowledgeBaseId = await files.ensureBase(currentUser(request).id, id);
    try {
      return await forward(request, reply, "POST", documents(knowledgeBaseId), { knowledgeBaseId });
    } catch (error) {
      // The chat was deleted, and its files with it, while the knowledge service took the upload.
      if (error instanceof HearthError && error.code === "KNOWLEDGE_BASE_NOT_FOUND")
        throw new HearthError("CONVERSATION_NOT_FOUND", "No such conversation");
      throw error;
    }
  });

  app.delete("/api/conversations/:id/files/:documentId", access, async (request, reply) => {
    const id = await ownConversation(request);
    const knowledgeBaseId = await files.baseOf(id);
    if (!knowledgeBaseId)
      throw new HearthError("DOCUMENT_NOT_FOUND", "No document with that id is attached to this chat");
    const { documentId } = request.params as { documentId: string };
    return forward(request, reply, "DELETE", `${documents(knowledgeBaseId)}/${pathSegment(documentId)}`);
  });
}
