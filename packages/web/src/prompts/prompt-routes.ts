import {
  PROMPT_COMMAND_MAX_CHARS,
  PROMPT_COMMAND_PATTERN,
  PROMPT_TITLE_MAX_CHARS,
  type Prompt,
} from "@hearth/contracts";
import type { HearthConfig } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { audit } from "../audit/audit-log.js";
import { currentUser } from "../auth/route-access.js";
import type { ContentFilter } from "../chat/content-filter.js";
import { limitedText } from "../text/limited-text.js";
import type { PromptStore } from "./prompt-store.js";

/**
 * The prompt library (`GET`/`POST /api/prompts`, `PATCH`/`DELETE /api/prompts/{id}`): the caller's
 * own prompts and those administrators share with everyone, each called by its command after "/"
 * in the message box. A browser session's only, as the chat defaults are: no API key opens them
 * (the public /v1 API does not use them, and a user's prompts may be private). The changes of a
 * shared prompt are audited (prompt.shared-create, -change, -delete). A prompt's title and content
 * are held to the sensitive-word filter on user input when saved (422 CONTENT_BLOCKED), as a system
 * prompt is: a shared prompt is shown to everyone, and its content is sent as a message.
 */
export function registerPromptRoutes(
  app: FastifyInstance,
  deps: { prompts: PromptStore; config: HearthConfig; contentFilter: ContentFilter },
) {
  const { prompts, contentFilter } = deps;
  const access = { config: { access: "user" as const } };
  const maxContent = deps.config.web.maxMessageChars;
  const command = z
    .string()
    .trim()
    .transform((text) => text.replace(/^\//, ""))
    .pipe(
      z
        .string()
        .min(1)
        .max(PROMPT_COMMAND_MAX_CHARS)
        .regex(PROMPT_COMMAND_PATTERN, 'letters, digits, "-" and "_" only'),
    );
  const title = z.string().trim().min(1).max(PROMPT_TITLE_MAX_CHARS);
  // Counted as every Hearth text limit is (UTF-16 code units: limitedText), as the form's maxlength.
  const content = limitedText(
    maxContent,
    z.string().refine((text) => text.trim().length > 0, "the content is empty"),
  );
  const fields = { command, title, content, shared: z.boolean() };
  const created = z.strictObject({ ...fields, shared: fields.shared.optional() });
  const changed = z.strictObject(fields).partial();

  const audited = async (actorId: string, action: "create" | "change" | "delete", prompt: Prompt) =>
    audit(prompts.db, {
      actorId,
      action: `prompt.shared-${action}`,
      target: prompt.id,
      details: { command: prompt.command, title: prompt.title, shared: prompt.shared },
    });

  app.get("/api/prompts", access, async (request) => ({
    prompts: await prompts.list(currentUser(request)),
    contentMaxChars: maxContent,
  }));

  app.post("/api/prompts", access, async (request, reply) => {
    const user = currentUser(request);
    const body = created.parse(request.body ?? {});
    await contentFilter.checkInputs([body.title, body.content]);
    const prompt = await prompts.create(user, { ...body, shared: body.shared ?? false });
    if (prompt.shared) await audited(user.id, "create", prompt);
    return reply.code(201).send(prompt);
  });

  app.patch("/api/prompts/:id", access, async (request) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    // Who may change it before what the body holds: another user's prompt is a 404 whatever it says.
    const before = await prompts.editable(user, id);
    const body = changed.parse(request.body ?? {});
    await contentFilter.checkInputs([body.title ?? "", body.content ?? ""]);
    const after = await prompts.update(user, id, body);
    // Shared before or after (shared, changed, or taken back as the administrator's own).
    if (before.shared || after.shared) await audited(user.id, "change", after);
    return after;
  });

  app.delete("/api/prompts/:id", access, async (request, reply) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    const prompt = await prompts.delete(user, id);
    if (prompt.shared) await audited(user.id, "delete", prompt);
    return reply.code(204).send();
  });
}
