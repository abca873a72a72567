import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import Database from "better-sqlite3";
import type { Logger } from "pino";
import { HearthError } from "../errors/hearth-error.js";
import { createBackup, defaultBackupsDir } from "./create-backup.js";

/** One step of a database's schema history. Versions start at 1 and only ever grow. */
export interface Migration {
  version: number;
  /** Short and stable, e.g. "add-conversation-titles"; recorded in the database. */
  name: string;
  /** SQL run as one script, or a function given the open database; either runs in a transaction. */
  up: string | ((database: Database.Database) => void);
}

export interface RunMigrationsOptions {
  /** The SQLite file; it must lie inside `dataDir` so that its backup can be restored. */
  databasePath: string;
  dataDir: string;
  migrations: readonly Migration[];
  /** Where the automatic backup goes (default `<dataDir>/backups`). */
  backupsDir?: string;
  logger?: Logger;
}

export interface MigrationResult {
  from: number;
  to: number;
  applied: { version: number; name: string }[];
  /** The automatic backup taken before the first pending migration, when there was data to keep. */
  backup: string | undefined;
}

/**
 * Brings a SQLite database up to the latest schema. Before any pending migration runs on an
 * existing database, a backup of it is taken (SQLite's online backup API, with a manifest that
 * `hearth restore` accepts). Each migration runs in its own transaction together with the version
 * bump, so a failure leaves the database at the last good version. A database newer than the code
 * is refused rather than opened by code that does not know its schema.
 */
export async function runMigrations(options: RunMigrationsOptions): Promise<MigrationResult> {
  const migrations = checkedHistory(options.migrations);
  const databasePath = resolve(options.databasePath);
  const existed = existsSync(databasePath);
  const { applied: from, latest } = existed
    ? inspectSchema(databasePath, migrations)
    : { applied: 0, latest: migrations.at(-1)?.version ?? 0 };
  const pending = migrations.filter((migration) => migration.version > from);
  if (pending.length === 0) return { from, to: from, applied: [], backup: undefined };

  const backup = existed
    ? await backupBeforeMigration({
        databasePath,
        dataDir: options.dataDir,
        from,
        to: latest,
        ...(options.backupsDir ? { backupsDir: options.backupsDir } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      })
    : undefined;

  const database = new Database(databasePath);
  const applied: MigrationResult["applied"] = [];
  try {
    database.exec(
      "CREATE TABLE IF NOT EXISTS hearth_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    );
    const record = database.prepare(
      "INSERT INTO hearth_migrations (version, name, applied_at) VALUES (?, ?, ?)",
    );
    for (const migration of pending) {
      try {
        database.transaction(() => {
          if (typeof migration.up === "string") database.exec(migration.up);
          else migration.up(database);
          record.run(migration.version, migration.name, new Date().toISOString());
          database.pragma(`user_version = ${migration.version}`);
        })();
      } catch (error) {
        const kept = backup ? `; the backup taken before migrating is ${backup}` : "";
        throw new HearthError(
          "MIGRATION_FAILED",
          `Migration ${migration.version} (${migration.name}) of ${databasePath} failed and was rolled back: ${(error as Error).message}${kept}`,
          { cause: error, details: { version: migration.version, backup } },
        );
      }
      applied.push({ version: migration.version, name: migration.name });
      options.logger?.info(
        { database: basename(databasePath), version: migration.version, name: migration.name },
        "migration applied",
      );
    }
  } finally {
    database.close();
  }
  return { from, to: latest, applied, backup };
}

/**
 * The details of SCHEMA_TOO_NEW: the database a newer Hearth wrote, what it holds (its schema
 * version, or the names of the steps this Hearth does not know) and the latest this Hearth knows.
 */
export interface SchemaTooNewDetails {
  database: string;
  applied: number | string[];
  latest: number | string;
}

/**
 * Where an existing database's schema stands against its history, read without changing anything
 * (as `hearth doctor` asks): the step it is at and the latest this Hearth knows. A database a newer
 * Hearth migrated is refused with SCHEMA_TOO_NEW rather than opened by code that does not know its schema.
 */
export function inspectSchema(
  databasePath: string,
  migrations: readonly Migration[],
): { applied: number; latest: number } {
  const latest = migrations.at(-1)?.version ?? 0;
  const reader = new Database(databasePath, { readonly: true, fileMustExist: true });
  let applied: number;
  try {
    applied = Number(reader.pragma("user_version", { simple: true }));
  } finally {
    reader.close();
  }
  if (applied > latest) {
    throw new HearthError(
      "SCHEMA_TOO_NEW",
      `${databasePath} has schema version ${applied}, newer than this Hearth knows (${latest}); upgrade Hearth or restore a backup taken before the upgrade`,
      { details: { database: databasePath, applied, latest } satisfies SchemaTooNewDetails },
    );
  }
  return { applied, latest };
}

export interface BackupBeforeMigrationOptions {
  /** The SQLite file about to be migrated; it must lie inside `dataDir`. */
  databasePath: string;
  dataDir: string;
  /** The schema step the database is at, and the one the migration brings it to. */
  from: number;
  to: number;
  /** Where the backup goes (default `<dataDir>/backups`). */
  backupsDir?: string;
  logger?: Logger;
}

/**
 * The automatic backup taken before a schema migration touches an existing SQLite database: a
 * partial backup of that one file (SQLite's online backup API, so it is safe while the database is
 * open) under `<backupsDir>/pre-migration-<file>-v<from>-to-v<to>-<time>`, with a manifest that
 * `hearth restore` accepts. Every migration runner in Hearth calls this; returns the backup directory.
 */
export async function backupBeforeMigration(options: BackupBeforeMigrationOptions): Promise<string> {
  const databasePath = resolve(options.databasePath);
  const name = basename(databasePath);
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const destination = join(
    options.backupsDir ?? defaultBackupsDir(resolve(options.dataDir)),
    `pre-migration-${name}-v${options.from}-to-v${options.to}-${stamp}`,
  );
  const backup = await createBackup({
    dataDir: options.dataDir,
    destination,
    only: [databasePath],
    reason: `before migrating ${name} from schema ${options.from} to ${options.to}`,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  options.logger?.info(
    { database: name, from: options.from, to: options.to, backup: backup.destination },
    "backup taken before migrating",
  );
  return backup.destination;
}

function checkedHistory(migrations: readonly Migration[]): Migration[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((migration, index) => {
    if (!Number.isInteger(migration.version) || migration.version !== index + 1) {
      throw new HearthError(
        "MIGRATION_FAILED",
        `The migration history must number its steps 1, 2, 3, ... without gaps or repeats; found ${migration.version} at position ${index + 1}`,
      );
    }
  });
  return sorted;
}
