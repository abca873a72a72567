import { MEMORY_MAX_CHARS, MEMORY_MAX_COUNT } from "@hearth/contracts";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { currentUser } from "../auth/route-access.js";
import type { ContentFilter } from "../chat/content-filter.js";
import { limitedText } from "../text/limited-text.js";
import type { MemoryStore } from "./memory-store.js";

/**
 * Memory (`GET`/`POST`/`DELETE /api/memories`, `PATCH`/`DELETE /api/memories/{id}`): the facts the
 * signed-in user asked the assistant to remember about them, added to their chats in the web UI
 * while their preference `memory` is on (chat-turn.ts). Their own alone: another user's memory is
 * a 404 (MEMORY_NOT_FOUND), to an administrator too. A browser session's only, as the chat defaults
 * are: no API key opens them (the public /v1 API does not use them, and they are private). A
 * memory is held to the sensitive-word filter on user input when saved (422 CONTENT_BLOCKED), as a
 * system prompt is: it is sent to the model with every chat.
 */
export function registerMemoryRoutes(
  app: FastifyInstance,
  deps: { memories: MemoryStore; contentFilter: ContentFilter },
) {
  const { memories, contentFilter } = deps;
  const access = { config: { access: "user" as const } };
  // Counted as every Hearth text limit is (UTF-16 code units: limitedText), as the form's maxlength.
  const memoryBody = z.strictObject({
    content: limitedText(MEMORY_MAX_CHARS, z.string().trim().min(1, "the memory is empty")),
  });

  app.get("/api/memories", access, async (request) => ({
    memories: await memories.list(currentUser(request).id),
    maxChars: MEMORY_MAX_CHARS,
    maxCount: MEMORY_MAX_COUNT,
  }));

  app.post("/api/memories", access, async (request, reply) => {
    const user = currentUser(request);
    const { content } = memoryBody.parse(request.body ?? {});
    await contentFilter.checkInputs([content]);
    return reply.code(201).send(await memories.create(user.id, content));
  });

  app.patch("/api/memories/:id", access, async (request) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    // Whose it is before what the body holds: another user's memory is a 404 whatever it says.
    await memories.get(user.id, id);
    const { content } = memoryBody.parse(request.body ?? {});
    await contentFilter.checkInputs([content]);
    return memories.update(user.id, id, content);
  });

  app.delete("/api/memories/:id", access, async (request, reply) => {
    const { id } = request.params as { id: string };
    await memories.delete(currentUser(request).id, id);
    return reply.code(204).send();
  });

  /** "Clear all": every memory of the caller's; says how many went. */
  app.delete("/api/memories", access, async (request) => ({
    deleted: await memories.clear(currentUser(request).id),
  }));
}
