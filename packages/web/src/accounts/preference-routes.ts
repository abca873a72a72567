import { type HearthConfig, HearthError } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { currentUser } from "../auth/route-access.js";
import type { ContentFilter } from "../chat/content-filter.js";
import type { SearchAvailability } from "../chat/search-availability.js";
import { systemPromptMaxChars } from "../conversations/conversation-store.js";
import type { ModelClient } from "../model/model-client.js";
import type { ModelAccess } from "../models/model-access.js";
import type { WebDatabase } from "../storage/open-database.js";
import { limitedText } from "../text/limited-text.js";
import type { CurrentUser } from "./account-store.js";
import {
  LANGUAGES,
  readPreferences,
  THEMES,
  type UserPreferences,
  WEB_SEARCH_MODES,
  writePreferences,
} from "./preferences-store.js";

interface Deps {
  db: WebDatabase;
  config: HearthConfig;
  contentFilter: ContentFilter;
  modelAccess: ModelAccess;
  models: Pick<ModelClient, "listModels">;
  searchAvailability?: SearchAvailability;
}

/**
 * A preference refused: INVALID_REQUEST naming the field as a request's schema does
 * (`details.issues`, code invalid_value), so the settings form shows the field's rule beside it.
 */
function invalidValue(path: string, message: string): HearthError {
  return new HearthError("INVALID_REQUEST", `${path}: ${message}`, {
    details: { issues: [{ path, message, code: "invalid_value" }] },
  });
}

/**
 * The user's default model while they may still use it (an administrator may have limited it to
 * other groups since it was chosen); otherwise undefined, and a new chat takes the usual model.
 */
export async function usableDefaultModel(
  modelAccess: ModelAccess,
  user: CurrentUser,
  model: string | null,
): Promise<string | undefined> {
  if (!model) return undefined;
  return modelAccess.allowedWith(await modelAccess.rules(), user, model) ? model : undefined;
}

/**
 * The signed-in user's chat defaults and display choices (`GET`/`PUT /api/account/preferences`):
 * personal instructions (the system prompt a new conversation starts with), a default model and
 * web search mode, the language and the theme, and whether their memories go into their chats
 * (memory, off by default; the memories are memory-routes.ts's). A browser session's only: an API
 * key opens neither route (the public /v1 API does not use them, and instructions may be private).
 */
export function registerPreferenceRoutes(app: FastifyInstance, deps: Deps) {
  const access = { config: { access: "user" as const } };
  const instructionsMaxChars = systemPromptMaxChars(deps.config.web.maxMessageChars);
  // With the limits the page holds what is typed to: the instructions', and a chat message's.
  const answer = (preferences: UserPreferences) => ({
    ...preferences,
    instructionsMaxChars,
    messageMaxChars: deps.config.web.maxMessageChars,
  });

  app.get("/api/account/preferences", access, async (request) =>
    answer(await readPreferences(deps.db, currentUser(request).id)),
  );

  /** Saves the fields given (null clears one); the others stay as they were. */
  app.put("/api/account/preferences", access, async (request) => {
    const user = currentUser(request);
    const body = z
      .strictObject({
        // The length rule of a conversation's system prompt, which the instructions become, counted
        // as it is (isTooLong: UTF-16 code units, as the Settings counter and its maxlength count).
        instructions: limitedText(instructionsMaxChars).nullable().optional(),
        defaultModel: z.string().max(200).nullable().optional(),
        webSearch: z.enum(WEB_SEARCH_MODES).nullable().optional(),
        language: z.enum(LANGUAGES).nullable().optional(),
        theme: z.enum(THEMES).nullable().optional(),
        memory: z.boolean().optional(),
      })
      .parse(request.body ?? {});
    // Refused as a system prompt is: a word the input filter blocks (422 CONTENT_BLOCKED).
    if (body.instructions?.trim()) await deps.contentFilter.checkInputs([body.instructions]);
    const stored = await readPreferences(deps.db, user.id);
    if (body.defaultModel && body.defaultModel !== stored.defaultModel)
      body.defaultModel = await offeredModel(user, body.defaultModel);
    if (body.webSearch && body.webSearch !== "off" && (await deps.searchAvailability?.configured()) === false)
      throw invalidValue("webSearch", "no web search engine is configured: web search can only be off");
    return answer(await writePreferences(deps.db, user.id, body));
  });

  /**
   * A model the user may use and the model service offers, under the model service's spelling
   * (the one the model picker lists); else INVALID_REQUEST on defaultModel. The model service
   * not answering is said as such (UPSTREAM_UNAVAILABLE), not taken for a wrong name.
   */
  const offeredModel = async (user: CurrentUser, model: string): Promise<string> => {
    const notUsable = () => invalidValue("defaultModel", `"${model}" is not a model you may use`);
    if (!(await usableDefaultModel(deps.modelAccess, user, model))) throw notUsable();
    const key = deps.modelAccess.key(model);
    const offered = (await deps.models.listModels()).find(
      (entry) => !entry.purpose && deps.modelAccess.key(entry.id) === key,
    );
    if (!offered) throw notUsable();
    return offered.id;
  };
}
