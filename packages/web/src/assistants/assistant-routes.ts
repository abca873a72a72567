import {
  ASSISTANT_DESCRIPTION_MAX_CHARS,
  ASSISTANT_MAX_KNOWLEDGE_BASES,
  ASSISTANT_NAME_MAX_CHARS,
  type Assistant,
} from "@hearth/contracts";
import { type HearthConfig, HearthError } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { audit } from "../audit/audit-log.js";
import { currentUser } from "../auth/route-access.js";
import type { ContentFilter } from "../chat/content-filter.js";
import { systemPromptMaxChars } from "../conversations/conversation-store.js";
import { distinctIds } from "../knowledge/distinct-ids.js";
import type { ModelAccess } from "../models/model-access.js";
import { limitedText } from "../text/limited-text.js";
import type { AssistantStore } from "./assistant-store.js";

/**
 * Assistants (`GET`/`POST /api/assistants`, `GET`/`PATCH`/`DELETE /api/assistants/{id}`): saved
 * model presets a team shares. Any signed-in user makes their own; the owner and administrators
 * change and delete them; a user lists and uses their own, those shared with one of their groups and
 * the public ones (`?all=true`: every user's, for administrators). A browser session's, as the
 * prompt library is (the public API uses them as `assistant:<id>` models). The base model must be
 * one the writer may use (403 MODEL_NOT_ALLOWED), the knowledge bases ones they may read (404
 * KNOWLEDGE_BASE_NOT_FOUND); the name, description and system prompt are held to the sensitive-word
 * filter on user input (422 CONTENT_BLOCKED), as a prompt's are. Every change is audited
 * (assistant.create, -change, -delete).
 */
export function registerAssistantRoutes(
  app: FastifyInstance,
  deps: {
    assistants: AssistantStore;
    config: HearthConfig;
    contentFilter: ContentFilter;
    modelAccess: ModelAccess;
  },
) {
  const { assistants, contentFilter, modelAccess } = deps;
  const access = { config: { access: "user" as const } };
  const fields = {
    name: z.string().trim().min(1).max(ASSISTANT_NAME_MAX_CHARS),
    description: z.string().trim().max(ASSISTANT_DESCRIPTION_MAX_CHARS),
    model: z.string().trim().min(1).max(200),
    // As long as a conversation's system prompt may be (it becomes one); null or blank: none.
    systemPrompt: limitedText(systemPromptMaxChars(deps.config.web.maxMessageChars)).nullable(),
    knowledgeBaseIds: distinctIds(z.array(z.string().min(1).max(200)).max(ASSISTANT_MAX_KNOWLEDGE_BASES)),
    webSearch: z.enum(["off", "auto", "on"]),
    temperature: z.number().min(0).max(2).nullable(),
    visibility: z.enum(["private", "shared", "public"]),
    groupIds: z.array(z.string().min(1).max(100)).max(200),
  };
  // The sharing (groups only when shared, some when it is) is the store's to check, new or changed.
  const created = z.strictObject({
    ...fields,
    description: fields.description.default(""),
    systemPrompt: fields.systemPrompt.default(null),
    knowledgeBaseIds: fields.knowledgeBaseIds.default([]),
    webSearch: fields.webSearch.default("off"),
    temperature: fields.temperature.default(null),
    visibility: fields.visibility.default("private"),
    groupIds: fields.groupIds.default([]),
  });
  const changed = z
    .strictObject(fields)
    .partial()
    .refine((body) => Object.values(body).some((value) => value !== undefined), {
      message: `Give at least one of ${Object.keys(fields).join(", ")}`,
    });

  const texts = (body: { name?: string; description?: string; systemPrompt?: string | null }) => [
    body.name ?? "",
    body.description ?? "",
    body.systemPrompt ?? "",
  ];
  const audited = (actorId: string, action: "create" | "change" | "delete", assistant: Assistant) =>
    audit(assistants.db, {
      actorId,
      action: `assistant.${action}`,
      target: assistant.id,
      details: {
        name: assistant.name,
        owner: assistant.owner.username,
        model: assistant.model,
        visibility: assistant.visibility,
        groups: assistant.groups.map((group) => group.name),
      },
    });

  app.get("/api/assistants", access, async (request) => {
    const user = currentUser(request);
    const { all } = z.object({ all: z.enum(["true", "false"]).optional() }).parse(request.query);
    if (all === "true" && user.role !== "admin")
      throw new HearthError("ADMIN_REQUIRED", "Only administrators may list every user's assistants");
    const groups = await assistants.db.selectFrom("groups").select(["id", "name"]).orderBy("name").execute();
    return {
      assistants: await assistants.list(user, { all: all === "true" }),
      // The groups an assistant may be shared with, for the sharing choice (as a knowledge base's).
      groups,
      systemPromptMaxChars: systemPromptMaxChars(deps.config.web.maxMessageChars),
    };
  });

  app.get("/api/assistants/:id", access, async (request) => {
    const { id } = request.params as { id: string };
    return assistants.get(currentUser(request), id);
  });

  app.post("/api/assistants", access, async (request, reply) => {
    const user = currentUser(request);
    const body = created.parse(request.body ?? {});
    await contentFilter.checkInputs(texts(body));
    await modelAccess.assertAllowed(user, body.model);
    const assistant = await assistants.create(user, body);
    await audited(user.id, "create", assistant);
    return reply.code(201).send(assistant);
  });

  app.patch("/api/assistants/:id", access, async (request) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    // Who may change it before what the body holds: another user's private one is a 404 whatever it says.
    await assistants.editable(user, id);
    const body = changed.parse(request.body ?? {});
    await contentFilter.checkInputs(texts(body));
    if (body.model !== undefined) await modelAccess.assertAllowed(user, body.model);
    const assistant = await assistants.update(user, id, body);
    await audited(user.id, "change", assistant);
    return assistant;
  });

  app.delete("/api/assistants/:id", access, async (request, reply) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    const assistant = await assistants.editable(user, id);
    // Audited before its row goes, as deletions are.
    await audited(user.id, "delete", assistant);
    await assistants.delete(user, id);
    return reply.code(204).send();
  });
}
