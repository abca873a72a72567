import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HearthError } from "../errors/hearth-error.js";
import { restoreBackup, verifyBackup } from "./restore-backup.js";
import { type Migration, runMigrations } from "./run-migrations.js";

/** The schema history of a small conversations store, as a service would ship it. */
const v1: Migration = {
  version: 1,
  name: "create-conversations",
  up: "CREATE TABLE conversations (id INTEGER PRIMARY KEY, user TEXT NOT NULL, body TEXT NOT NULL)",
};
const v2: Migration = {
  version: 2,
  name: "add-titles",
  up: (database) => {
    database.exec("ALTER TABLE conversations ADD COLUMN title TEXT NOT NULL DEFAULT ''");
    database.exec("UPDATE conversations SET title = substr(body, 1, 12)");
  },
};
const v3: Migration = {
  version: 3,
  name: "users-table",
  up: `CREATE TABLE users (name TEXT PRIMARY KEY);
       INSERT INTO users (name) SELECT DISTINCT user FROM conversations;
       CREATE INDEX conversations_by_user ON conversations (user);`,
};

let dataDir: string;
let databasePath: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "hearth-migrate-"));
  mkdirSync(join(dataDir, "web"));
  databasePath = join(dataDir, "web", "web.db");
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

async function previousRelease(): Promise<void> {
  await runMigrations({ databasePath, dataDir, migrations: [v1] });
  const database = new Database(databasePath);
  database.pragma("journal_mode = WAL");
  const insert = database.prepare("INSERT INTO conversations (user, body) VALUES (?, ?)");
  for (let i = 0; i < 50; i++) insert.run(i % 2 ? "alice" : "王芳", `对话 ${i}: how do I deploy Hearth?`);
  database.close();
}

function rows(sql: string): unknown[] {
  const database = new Database(databasePath, { readonly: true });
  try {
    return database.prepare(sql).all();
  } finally {
    database.close();
  }
}

describe("runMigrations", () => {
  it("creates a new database without a backup (there is nothing to lose)", async () => {
    const result = await runMigrations({ databasePath, dataDir, migrations: [v1, v2, v3] });
    expect(result).toMatchObject({ from: 0, to: 3, backup: undefined });
    expect(existsSync(join(dataDir, "backups"))).toBe(false);
  });

  it("migrates forward from the previous schema with its data, after an automatic backup", async () => {
    await previousRelease();
    const result = await runMigrations({ databasePath, dataDir, migrations: [v1, v2, v3] });
    expect(result.from).toBe(1);
    expect(result.to).toBe(3);
    expect(result.applied.map((step) => step.name)).toEqual(["add-titles", "users-table"]);

    expect(rows("SELECT count(*) AS n FROM conversations")).toEqual([{ n: 50 }]);
    expect(rows("SELECT title FROM conversations WHERE id = 1")).toEqual([{ title: "对话 0: how do" }]);
    expect(rows("SELECT name FROM users ORDER BY name")).toEqual([{ name: "alice" }, { name: "王芳" }]);
    expect(
      rows("SELECT version, name FROM hearth_migrations ORDER BY version").map(
        (row) => (row as { name: string }).name,
      ),
    ).toEqual(["create-conversations", "add-titles", "users-table"]);

    // The backup holds the old schema and every row, and restores over the migrated database.
    expect(result.backup).toMatch(/backups\/pre-migration-web\.db-v1-to-v3-/);
    const manifest = await verifyBackup(result.backup!);
    expect(manifest).toMatchObject({
      scope: "partial",
      entries: [{ path: "data/web/web.db", kind: "sqlite" }],
    });
    await restoreBackup({ source: result.backup!, dataDir });
    expect(rows("PRAGMA user_version")).toEqual([{ user_version: 1 }]);
    expect(rows("SELECT count(*) AS n FROM conversations")).toEqual([{ n: 50 }]);

    // Running again after the restore applies the same steps again.
    const again = await runMigrations({ databasePath, dataDir, migrations: [v1, v2, v3] });
    expect(again.applied).toHaveLength(2);
    expect(await runMigrations({ databasePath, dataDir, migrations: [v1, v2, v3] })).toMatchObject({
      applied: [],
      backup: undefined,
    });
  });

  it("rolls a failing migration back, keeps the data and names the backup", async () => {
    await previousRelease();
    const broken: Migration = {
      version: 2,
      name: "broken",
      up: "ALTER TABLE conversations ADD COLUMN title TEXT; UPDATE no_such_table SET x = 1;",
    };
    const error = await runMigrations({ databasePath, dataDir, migrations: [v1, broken] }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(HearthError);
    expect((error as HearthError).code).toBe("MIGRATION_FAILED");
    expect((error as HearthError).message).toContain("pre-migration-web.db-v1-to-v2");
    expect(rows("PRAGMA user_version")).toEqual([{ user_version: 1 }]);
    expect(
      rows("SELECT name FROM pragma_table_info('conversations')").map(
        (row) => (row as { name: string }).name,
      ),
    ).toEqual(["id", "user", "body"]);
    expect(rows("SELECT count(*) AS n FROM conversations")).toEqual([{ n: 50 }]);
  });

  it("refuses a database written by a newer release, and a history with gaps", async () => {
    await runMigrations({ databasePath, dataDir, migrations: [v1, v2, v3] });
    await expect(runMigrations({ databasePath, dataDir, migrations: [v1, v2] })).rejects.toMatchObject({
      code: "SCHEMA_TOO_NEW",
    });
    await expect(runMigrations({ databasePath, dataDir, migrations: [v1, v3] })).rejects.toMatchObject({
      code: "MIGRATION_FAILED",
    });
  });
});
