/**
 * An assistant (a saved model preset a team shares: a base model, a system prompt, knowledge bases,
 * a web search mode and a temperature) as the web service gives it and the web UI shows it, and its
 * limits, shared by the web service (which refuses more) and the web UI (whose form holds no more).
 * Free of other imports, so the UI bundles it alone (`@hearth/contracts/assistant`).
 */

/** The longest name, in characters. */
export const ASSISTANT_NAME_MAX_CHARS = 100;
/** The longest description, in characters. */
export const ASSISTANT_DESCRIPTION_MAX_CHARS = 500;
/** The most knowledge bases an assistant searches (as many as a chat turn takes). */
export const ASSISTANT_MAX_KNOWLEDGE_BASES = 20;
/**
 * How the public OpenAI-compatible API names an assistant among the models: `assistant:<id>`
 * (`/v1/models` lists them, `/v1/chat/completions` takes them as `model`).
 */
export const ASSISTANT_MODEL_PREFIX = "assistant:";

/** The assistant's id in a public-API model name, if the name is one (`assistant:<id>`). */
export function assistantIdOfModel(model: string): string | undefined {
  return model.startsWith(ASSISTANT_MODEL_PREFIX) ? model.slice(ASSISTANT_MODEL_PREFIX.length) : undefined;
}

/** Who may use an assistant besides its owner (and administrators, who may use and change any). */
export type AssistantVisibility = "private" | "shared" | "public";

/** An assistant as `GET /api/assistants` gives it. */
export interface Assistant {
  id: string;
  name: string;
  description: string;
  /** The base model, as the model service lists it. */
  model: string;
  /** Sent first on every turn of a chat started with it; null for none. */
  systemPrompt: string | null;
  /**
   * The knowledge bases it searches, those the reader may read: the others (the owner's, not shared
   * with the reader) are counted in `unavailableKnowledgeBases`, never named.
   */
  knowledgeBaseIds: string[];
  /** Its knowledge bases the reader may not read: left out of the reader's answers, which say so. */
  unavailableKnowledgeBases: number;
  webSearch: "off" | "auto" | "on";
  /** The model's sampling temperature (0-2); null: the model's own. */
  temperature: number | null;
  visibility: AssistantVisibility;
  /** The groups it is shared with (visibility "shared"): ids and names. */
  groups: Array<{ id: string; name: string }>;
  owner: { id: string; username: string };
  /** Whether the reader may change and delete it: its owner, or an administrator. */
  editable: boolean;
  /** Its name in the public API's model list (`assistant:<id>`). */
  apiModel: string;
  createdAt: string;
  updatedAt: string;
}
