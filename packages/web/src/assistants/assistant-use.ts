import type { CurrentUser } from "../accounts/account-store.js";
import type { ModelAccess } from "../models/model-access.js";
import type { AssistantSettings, AssistantStore } from "./assistant-store.js";

/** What a turn takes from an assistant, under the rights of the user who uses it. */
export interface AssistantUse extends AssistantSettings {
  /** Its knowledge bases the user may read: the ones searched. */
  knowledgeBaseIds: string[];
  /**
   * Its knowledge bases the user may not read: not searched, and the answer says some were left out
   * (the knowledge-unavailable warning, by id: never their names or content).
   */
  unreadableKnowledgeBaseIds: string[];
}

/**
 * An assistant as `user` may use it, never with more than their own rights: ASSISTANT_NOT_FOUND
 * unless it is theirs, shared with one of their groups or public; MODEL_NOT_ALLOWED when its base
 * model is one their groups may not use; only the knowledge bases they may read are searched.
 */
export async function useAssistant(
  deps: { assistants: AssistantStore; modelAccess: ModelAccess },
  user: CurrentUser,
  assistantId: string,
): Promise<AssistantUse> {
  const settings = await deps.assistants.settingsFor(user, assistantId);
  await deps.modelAccess.assertAllowed(user, settings.model);
  const { readable, unreadable } = await deps.assistants.splitReadable(user, settings.knowledgeBaseIds);
  return { ...settings, knowledgeBaseIds: readable, unreadableKnowledgeBaseIds: unreadable };
}
