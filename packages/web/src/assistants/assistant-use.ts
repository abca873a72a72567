import type { CurrentUser } from "../accounts/account-store.js";
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
 * unless it is theirs, shared with one of their groups or public; only the knowledge bases they may
 * read are searched. Its base model is the request's model then, held to the user's model access as
 * any request's is (the caller's check).
 */
export async function useAssistant(
  deps: { assistants: AssistantStore },
  user: CurrentUser,
  assistantId: string,
): Promise<AssistantUse> {
  const settings = await deps.assistants.settingsFor(user, assistantId);
  const { readable, unreadable } = await deps.assistants.splitReadable(user, settings.knowledgeBaseIds);
  return { ...settings, knowledgeBaseIds: readable, unreadableKnowledgeBaseIds: unreadable };
}
