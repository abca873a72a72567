/**
 * A memory: a fact a user asked the assistant to remember about them ("I work in Go", "answer in
 * Chinese"), added to the system prompt of their chats in the web UI while they have memory on. As
 * the web service gives it and the web UI shows it, with its limits, shared by the web service
 * (which refuses more) and the web UI (whose form holds no more). Free of other imports, so the UI
 * bundles it alone (`@hearth/contracts/memory`).
 */

/** The longest memory, in characters (UTF-16 code units, as every Hearth text limit counts). */
export const MEMORY_MAX_CHARS = 1000;
/** The most memories a user keeps. */
export const MEMORY_MAX_COUNT = 100;

/** A memory as `GET /api/memories` lists it (newest first). */
export interface Memory {
  id: string;
  /** One line: line breaks written in it are kept as spaces. */
  content: string;
  createdAt: string;
  updatedAt: string;
}
