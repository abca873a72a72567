import { HearthError } from "@hearth/core";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { audit } from "../audit/audit-log.js";
import { requestOrigin } from "../auth/request-origin.js";
import { currentUser } from "../auth/route-access.js";
import type { SettingsStore } from "../settings/settings-store.js";
import { storeConversation } from "./conversation-import.js";
import { type ConversationStore, isBeingWritten, temporaryChatError } from "./conversation-store.js";
import { type ShareStore, type ShareSummary, shareNotFound } from "./share-store.js";

interface Deps {
  conversations: ConversationStore;
  shares: ShareStore;
  settings: SettingsStore;
}

/** A share's link as an API client opens it: the UI's /s/{id} page, on the request's origin. */
function shareLink(request: FastifyRequest, share: ShareSummary) {
  return {
    id: share.id,
    url: `${requestOrigin(request)}/s/${share.id}`,
    createdAt: share.createdAt,
    messageCount: share.messageCount,
  };
}

/** Whether share links open now (settings.shareLinks, which administrators change at run time). */
async function linksOpen(settings: SettingsStore): Promise<boolean> {
  return (await settings.get()).shareLinks !== "off";
}

/**
 * The conversation's share for its owner (`GET /api/conversations/{id}`): its link, and `open`,
 * whether the link opens now (false while an administrator has share links off); null when none.
 */
export async function shareOf(deps: Deps, request: FastifyRequest, conversationId: string) {
  const share = await deps.shares.of(conversationId);
  return share ? { ...shareLink(request, share), open: await linksOpen(deps.settings) } : null;
}

/**
 * Share links: the owner of a conversation shares a read-only snapshot of it, which any signed-in
 * user of the instance reads and may continue as a conversation of their own. Never the
 * conversation's system prompt, nor anything else of the owner's than their user name. Cookie
 * sessions only (no API key opens them), with the CSRF token on writes, as every conversation route.
 */
export function registerShareRoutes(app: FastifyInstance, deps: Deps) {
  const access = { config: { access: "user" as const } };
  const { conversations, shares } = deps;

  /** A link that opens: links are on, and it names a share (else 404 SHARE_NOT_FOUND alike). */
  const openShare = async (shareId: string) => {
    if (!(await linksOpen(deps.settings))) throw shareNotFound();
    return shares.read(shareId);
  };

  /**
   * Shares the caller's conversation as it is now, or updates its link's snapshot (the link kept):
   * 201 for a new link, 200 for an update. Audited with the number of messages, never the content.
   */
  app.post("/api/conversations/:id/share", access, async (request, reply) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    const conversation = await conversations.get(user.id, id);
    if (conversation.temporary) throw temporaryChatError();
    if (!(await linksOpen(deps.settings)))
      throw new HearthError("SHARING_DISABLED", "An administrator has turned share links off");
    const messages = await conversations.messages(user.id, id);
    if (messages.some(isBeingWritten))
      throw new HearthError("ANSWER_IN_PROGRESS", "The conversation's answer is still being written");
    const share = await shares.save(id, { title: conversation.title, messages });
    await audit(conversations.db, {
      actorId: user.id,
      action: "conversation.share",
      target: id,
      details: { messageCount: share.messageCount, updated: !share.created },
    });
    return reply.code(share.created ? 201 : 200).send(shareLink(request, share));
  });

  /** Stops sharing the caller's conversation (204 whether or not it was shared); audited when it was. */
  app.delete("/api/conversations/:id/share", access, async (request, reply) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    await conversations.get(user.id, id);
    if (await shares.remove(id))
      await audit(conversations.db, { actorId: user.id, action: "conversation.share-revoke", target: id });
    return reply.code(204).send();
  });

  app.get("/api/shares/:shareId", access, async (request) => {
    const { shareId } = request.params as { shareId: string };
    return openShare(shareId);
  });

  /**
   * Continue in my chats: the snapshot becomes a new conversation of the caller's, stored as an
   * import stores one (its messages and their times; no system prompt, which a share never holds).
   */
  app.post("/api/shares/:shareId/copy", access, async (request, reply) => {
    const user = currentUser(request);
    const { shareId } = request.params as { shareId: string };
    const shared = await openShare(shareId);
    const copy = await storeConversation(conversations, user.id, {
      title: shared.title,
      model: null,
      systemPrompt: null,
      createdAt: null,
      messages: shared.messages,
    });
    return reply.code(201).send({ id: copy.id, title: copy.title });
  });
}
