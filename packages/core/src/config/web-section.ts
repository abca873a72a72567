import { z } from "zod";
import { host, port, postgresUrl } from "./fields.js";
import { sensitiveWordsSection } from "./sensitive-words-section.js";

export const webSection = z.strictObject({
  host: host.default("0.0.0.0"),
  port: port.default(8080),
  /** Largest request body the web service accepts, in bytes. */
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  /**
   * Largest conversation import (POST /api/conversations/import, a file's JSON or ChatGPT's ZIP),
   * in bytes, and the most a ZIP's conversations.json may unpack to: exports of a whole history are
   * larger than a chat request.
   */
  importLimitBytes: z
    .number()
    .int()
    .positive()
    .default(50 * 1024 * 1024),
  /** postgres://… to keep users and conversations in PostgreSQL; unset: SQLite at <dataDir>/web.sqlite. */
  databaseUrl: postgresUrl.optional(),
  /** Who may create an account (the first account always may, and becomes admin); admins can change it. */
  signup: z.enum(["open", "approval", "closed"]).default("open"),
  /**
   * Who may open a conversation's share link (/s/{id}): "signed-in", any signed-in user of the
   * instance; "off", nobody (no new links; existing ones answer 404 until turned on again). The
   * default of the run-time setting administrators change (settings.shareLinks).
   */
  shareLinks: z.enum(["off", "signed-in"]).default("signed-in"),
  /** Secure cookies: "auto" sets them when the request came over TLS (X-Forwarded-Proto from a trusted proxy). */
  secureCookies: z.enum(["auto", "always", "never"]).default("auto"),
  /** Trust X-Forwarded-* from a reverse proxy (nginx in deploy/). */
  trustProxy: z.boolean().default(false),
  /** How long a sign-in lasts, in hours. */
  sessionHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(24 * 7),
  /** Processes serving the web port (node:cluster); 1 serves from the calling process. */
  workers: z.number().int().min(1).max(64).default(1),
  /**
   * How long a temporary chat (kept out of the list and its search) outlives its last
   * message when its user did not leave it in the app (a tab closed), in hours; leaving it deletes it.
   */
  temporaryChatHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24),
  /** Longest chat message accepted, in characters. */
  maxMessageChars: z.number().int().min(1).max(10_000_000).default(100_000),
  /**
   * Sensitive-word lists for chat input and model output, besides the words administrators edit at
   * run time (settings.filter); the same shape as search.filter (docs/sensitive-words.md).
   */
  filter: sensitiveWordsSection.prefault({}),
});
