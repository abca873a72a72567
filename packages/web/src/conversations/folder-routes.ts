import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { audit } from "../audit/audit-log.js";
import { currentUser } from "../auth/route-access.js";
import type { ContentFilter } from "../chat/content-filter.js";
import type { RunningTurns } from "../chat/running-turns.js";
import { FOLDER_NAME_MAX_CHARS, type FolderStore } from "./folder-store.js";

/**
 * A user's folders of conversations: list (with how many conversations each holds), create,
 * rename, delete. A conversation goes into one with PATCH /api/conversations/{id} `folderId`, and
 * the list shows one folder's with GET /api/conversations?folderId= (conversation-routes.ts). A
 * folder's name is held to the input filter as a message is (422 CONTENT_BLOCKED, `details.field`
 * "name"): a conversation exported or shared from it carries it.
 */
export function registerFolderRoutes(
  app: FastifyInstance,
  deps: {
    folders: FolderStore;
    turns: RunningTurns;
    contentFilter: Pick<ContentFilter, "checkFields">;
    /** Deletes the deleted chats' files on the knowledge service (ConversationFiles.purge). */
    purgeFiles?: () => Promise<void>;
  },
) {
  const { folders } = deps;
  const access = { config: { access: "user" as const } };
  const folderName = z.strictObject({ name: z.string().trim().min(1).max(FOLDER_NAME_MAX_CHARS) });

  app.get("/api/folders", access, async (request) => ({
    folders: await folders.list(currentUser(request).id),
  }));

  app.post("/api/folders", access, async (request, reply) => {
    const { name } = folderName.parse(request.body ?? {});
    await deps.contentFilter.checkFields({ name });
    return reply.code(201).send(await folders.create(currentUser(request).id, name));
  });

  app.patch("/api/folders/:id", access, async (request) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    // Ownership before validation: another user's folder is a 404 whatever the body.
    await folders.get(user.id, id);
    const { name } = folderName.parse(request.body ?? {});
    await deps.contentFilter.checkFields({ name });
    return folders.rename(user.id, id, name);
  });

  /**
   * Deletes a folder: its conversations go back to the list's main part, or, with
   * `?withConversations=true`, are deleted with it (each audited as a conversation's deletion is).
   */
  app.delete("/api/folders/:id", access, async (request, reply) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    await folders.get(user.id, id);
    const { withConversations } = z
      .object({ withConversations: z.enum(["true", "false"]).optional() })
      .parse(request.query);
    const deleted = await folders.delete(user.id, id, { withConversations: withConversations === "true" });
    for (const conversation of deleted) {
      deps.turns.stop(conversation.id, "deleted");
      if (conversation.messages > 0)
        await audit(folders.db, { actorId: user.id, action: "conversation.delete", target: conversation.id });
    }
    if (deleted.length > 0) await deps.purgeFiles?.();
    return reply.code(204).send();
  });
}
