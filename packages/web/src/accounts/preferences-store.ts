import type { Selectable, Updateable } from "kysely";
import type { UserPreferencesTable } from "../storage/database-schema.js";
import type { WebDatabase } from "../storage/open-database.js";

export const WEB_SEARCH_MODES = ["off", "auto", "on"] as const;
export const LANGUAGES = ["en", "zh-CN"] as const;
export const THEMES = ["system", "light", "dark"] as const;

/**
 * A user's own chat defaults and display choices, kept on the server so that they follow the user
 * to every browser they sign in on. Null: never chosen (the UI keeps its own choice).
 */
export interface UserPreferences {
  /** Personal instructions: the system prompt a new conversation starts with. */
  instructions: string | null;
  /** The model a new chat starts with (as the model service lists it). */
  defaultModel: string | null;
  /** The web search mode a new chat in the UI starts with. */
  webSearch: (typeof WEB_SEARCH_MODES)[number] | null;
  language: (typeof LANGUAGES)[number] | null;
  theme: (typeof THEMES)[number] | null;
  /** Whether the user's memories go into their chats in the web UI (off until they turn it on). */
  memory: boolean;
  /** When they were last saved; null before the first save. */
  updatedAt: string | null;
}

/** What a save changes: only the fields given; null clears one. */
export type PreferenceChanges = Partial<Omit<UserPreferences, "updatedAt">>;

const NONE: UserPreferences = {
  instructions: null,
  defaultModel: null,
  webSearch: null,
  language: null,
  theme: null,
  memory: false,
  updatedAt: null,
};

function toPreferences(row: Selectable<UserPreferencesTable> | undefined): UserPreferences {
  if (!row) return { ...NONE };
  return {
    instructions: row.instructions ?? null,
    defaultModel: row.default_model ?? null,
    webSearch: row.web_search ?? null,
    language: row.language ?? null,
    theme: row.theme ?? null,
    memory: Number(row.memory) === 1,
    updatedAt: row.updated_at,
  };
}

/** The user's preferences (all null when they never saved any). */
export async function readPreferences(db: WebDatabase, userId: string): Promise<UserPreferences> {
  const row = await db
    .selectFrom("user_preferences")
    .selectAll()
    .where("user_id", "=", userId)
    .executeTakeFirst();
  return toPreferences(row);
}

/**
 * Saves the fields given (null or blank instructions clear them; the white space at their ends is
 * taken off), leaving the others as they were; gives back the preferences as stored.
 */
export async function writePreferences(
  db: WebDatabase,
  userId: string,
  changes: PreferenceChanges,
): Promise<UserPreferences> {
  const columns: Omit<Updateable<UserPreferencesTable>, "user_id"> = {};
  if (changes.instructions !== undefined) columns.instructions = changes.instructions?.trim() || null;
  if (changes.defaultModel !== undefined) columns.default_model = changes.defaultModel || null;
  if (changes.webSearch !== undefined) columns.web_search = changes.webSearch;
  if (changes.language !== undefined) columns.language = changes.language;
  if (changes.theme !== undefined) columns.theme = changes.theme;
  if (changes.memory !== undefined) columns.memory = changes.memory ? 1 : 0;
  const updatedAt = new Date().toISOString();
  await db
    .insertInto("user_preferences")
    .values({ user_id: userId, ...columns, updated_at: updatedAt })
    .onConflict((conflict) => conflict.column("user_id").doUpdateSet({ ...columns, updated_at: updatedAt }))
    .execute();
  return readPreferences(db, userId);
}
