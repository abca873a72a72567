import { existsSync } from "node:fs";
import { type HearthConfig, webDatabaseFile } from "@hearth/core";
import BetterSqlite3 from "better-sqlite3";

/** The configuration keys an administrator's choice in Admin → Settings overrides, by settings key. */
export const ADMIN_SETTING_KEYS = { signup: "web.signup", shareLinks: "web.shareLinks" } as const;

export type StoredOverrides =
  /** Read: the values stored by Admin → Settings, by configuration key (none: the defaults stand). */
  | {
      read: true;
      values: Partial<Record<(typeof ADMIN_SETTING_KEYS)[keyof typeof ADMIN_SETTING_KEYS], string>>;
    }
  /** Not read (PostgreSQL, or a database that could not be read): why. */
  | { read: false; reason: string };

/**
 * The values Admin → Settings stored over the configuration's defaults (`hearth config`), read
 * from the web service's SQLite database without writing it (no migration, nothing created); a
 * PostgreSQL database is not read (`hearth config` connects to nothing).
 */
export function readStoredOverrides(config: HearthConfig): StoredOverrides {
  const file = webDatabaseFile(config);
  if (!file)
    return {
      read: false,
      reason: "the web database is on PostgreSQL, which hearth config does not connect to",
    };
  if (!existsSync(file)) return { read: true, values: {} };
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
    const rows = db.prepare("SELECT key, value FROM settings").all() as Array<{ key: string; value: string }>;
    const values: Partial<Record<string, string>> = {};
    for (const row of rows) {
      const key = ADMIN_SETTING_KEYS[row.key as keyof typeof ADMIN_SETTING_KEYS];
      const value: unknown = JSON.parse(row.value);
      if (key && typeof value === "string") values[key] = value;
    }
    return { read: true, values };
  } catch (error) {
    return { read: false, reason: `${file} could not be read: ${(error as Error).message}` };
  } finally {
    db?.close();
  }
}
