import { copyFile, mkdir, readdir, readFile, realpath, rename, rm, stat, symlink } from "node:fs/promises";
import { basename, dirname, join, posix, resolve } from "node:path";
import Database from "better-sqlite3";
import type { Logger } from "pino";
import { HearthError } from "../errors/hearth-error.js";
import { type BackupManifest, backupManifestSchema, MANIFEST_FILE, sha256File } from "./backup-manifest.js";
import { defaultBackupsDir } from "./create-backup.js";
import { listDataFiles, PRE_RESTORE_PREFIX, RESTORING_PREFIX } from "./data-files.js";
import { PRIVATE_DIR } from "./private-dir.js";
import type { SchemaTooNewDetails } from "./run-migrations.js";

export interface RestoreBackupOptions {
  /** The backup directory (the one holding manifest.json). */
  source: string;
  /** The data directory to bring back. Stop the services first. */
  dataDir: string;
  /** Where the backed-up configuration file goes back to; when unset it is left in the backup. */
  configFile?: string;
  /**
   * The model registry's directory outside the data directory: a backed-up `model-registry/`
   * manifest goes back there (the one it replaces is kept beside it). When unset it is left in the backup.
   */
  modelRegistryDir?: string;
  /**
   * Restore inside the data directory instead of swapping it with a sibling. Chosen automatically
   * when the data directory is a mount point (a container volume).
   */
  inPlace?: boolean;
  /**
   * Checks the backup's databases (its `data/` folder, given) against the schemas this Hearth
   * knows, before anything is changed: SCHEMA_TOO_NEW from it (with SchemaTooNewDetails) refuses the
   * restore as BACKUP_TOO_NEW, quoting the database's schema and the latest this Hearth knows.
   */
  checkSchemas?: (backupDataDir: string) => Promise<void>;
  logger?: Logger;
}

export interface RestoreResult {
  manifest: BackupManifest;
  restoredFiles: number;
  /**
   * Where the data that was there before now lies (nothing is deleted by a restore): the folder a
   * full backup's restore moved it to, or each database file a partial backup's (a pre-migration
   * one) replaced; undefined when there was none.
   */
  previousData: string | undefined;
  configRestoredTo: string | undefined;
  /** Why the configuration file was not put back (its location is read-only); the data was restored. */
  configNotRestored?: string;
  /**
   * The backed-up configuration file, in the backup, when it was not put back, and why: this
   * Hearth runs without a configuration file (no `configFile`; the operator copies it where
   * wanted), or the one in use already matches it.
   */
  configLeftInBackup?: { file: string; reason: string };
  /** Where the model registry's manifest was restored to (a registry outside the data dir). */
  modelRegistryRestoredTo: string | undefined;
  /** Model weights the backup left out (relative to the data directory): pull, import or copy them back. */
  weightsLeftOut: string[];
}

const SAFE_PATH = /^(data|config|model-registry)\/(?!.*(^|\/)\.\.?(\/|$))[^\0\\]+$/;

/**
 * Reads a backup's manifest and checks every file against it (size, SHA-256, and SQLite's own
 * check for databases) without touching anything. Throws BACKUP_INVALID or BACKUP_CORRUPT.
 */
export async function verifyBackup(source: string): Promise<BackupManifest> {
  const root = resolve(source);
  let text: string;
  try {
    text = await readFile(join(root, MANIFEST_FILE), "utf8");
  } catch {
    throw new HearthError(
      "BACKUP_INVALID",
      `${root} is not a Hearth backup: ${MANIFEST_FILE} is missing or unreadable`,
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new HearthError("BACKUP_INVALID", `${join(root, MANIFEST_FILE)} is not valid JSON`);
  }
  const version = (document as { format?: unknown; version?: unknown } | null)?.version;
  if (
    (document as { format?: unknown } | null)?.format === "hearth-backup" &&
    typeof version === "number" &&
    version > 1
  ) {
    throw backupTooNew(`${root} is in backup format version ${version}, and this Hearth reads version 1`);
  }
  const parsed = backupManifestSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HearthError(
      "BACKUP_INVALID",
      `${join(root, MANIFEST_FILE)}: ${issue.path.join(".") || "(top level)"}: ${issue.message}`,
    );
  }
  const manifest = parsed.data;
  for (const entry of manifest.entries) {
    if (!SAFE_PATH.test(entry.path)) {
      throw new HearthError(
        "BACKUP_INVALID",
        `The manifest names an unsafe path: ${JSON.stringify(entry.path)}`,
      );
    }
    const file = join(root, ...entry.path.split("/"));
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile())
      throw new HearthError(
        "BACKUP_CORRUPT",
        `${entry.path} is listed in the manifest but missing from the backup`,
      );
    if (info.size !== entry.size || (await sha256File(file)) !== entry.sha256) {
      throw new HearthError(
        "BACKUP_CORRUPT",
        `${entry.path} does not match its checksum in the manifest; the backup is damaged`,
      );
    }
    if (entry.kind === "sqlite") checkDatabase(file, entry.path);
  }
  const paths = new Set(manifest.entries.map((entry) => entry.path));
  for (const link of manifest.links ?? []) {
    if (!SAFE_PATH.test(link.path) || !paths.has(posix.join(posix.dirname(link.path), link.target))) {
      throw new HearthError(
        "BACKUP_INVALID",
        `The manifest links ${JSON.stringify(link.path)} to a file not in the backup: ${JSON.stringify(link.target)}`,
      );
    }
  }
  return manifest;
}

/**
 * BACKUP_TOO_NEW: the backup holds what only a newer Hearth reads; `found` quotes it beside what
 * this Hearth knows ("<backup> is in backup format version 2, and this Hearth reads version 1").
 */
function backupTooNew(found: string, cause?: unknown): HearthError {
  return new HearthError(
    "BACKUP_TOO_NEW",
    `This backup was made by a newer Hearth: ${found}; restore it with the Hearth release that wrote it, or a newer one; nothing was changed`,
    { cause },
  );
}

/**
 * Verifies a backup, then brings it back. A full backup replaces the data directory as a whole
 * (built beside it, then swapped in); a partial one replaces only its files. What was there
 * before is moved aside, never deleted, and nothing is changed when verification fails.
 */
export async function restoreBackup(options: RestoreBackupOptions): Promise<RestoreResult> {
  const source = resolve(options.source);
  // A data directory that is a symbolic link is restored into its target, and the link stays: the
  // swap happens beside the real directory, never replacing the link with a directory of its own.
  const dataDir = await realpath(resolve(options.dataDir)).catch(() => resolve(options.dataDir));
  const manifest = await verifyBackup(source);
  await options.checkSchemas?.(join(source, "data")).catch((error: unknown) => {
    if ((error as { code?: unknown })?.code !== "SCHEMA_TOO_NEW") throw error;
    const { database, applied, latest } = (error as HearthError).details as unknown as SchemaTooNewDetails;
    const schema = Array.isArray(applied) ? `migration ${applied.join(", ")}` : `schema version ${applied}`;
    throw backupTooNew(`${database} has ${schema}, and this Hearth knows up to ${latest}`, error);
  });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const dataEntries = manifest.entries.filter((entry) => isDataEntry(entry.kind));
  let previousData: string | undefined;

  try {
    if (manifest.scope === "full") {
      previousData =
        !options.inPlace && (await canSwapBeside(dataDir, stamp))
          ? await restoreBeside(source, dataDir, manifest, stamp)
          : await restoreInside(source, dataDir, manifest, stamp);
    } else {
      // Only the databases listed are replaced: each one there is kept beside itself.
      const kept: string[] = [];
      for (const entry of dataEntries) {
        const target = join(dataDir, ...entry.path.split("/").slice(1));
        await mkdir(dirname(target), PRIVATE_DIR);
        const incoming = `${target}.restoring-${stamp}`;
        await copyFile(join(source, ...entry.path.split("/")), incoming);
        // A WAL or journal left from the replaced database would be replayed into the restored one.
        if (await exists(target)) kept.push(`${target}.pre-restore-${stamp}`);
        for (const suffix of ["", "-wal", "-shm", "-journal"]) {
          if (await exists(target + suffix))
            await rename(target + suffix, `${target}${suffix}.pre-restore-${stamp}`);
        }
        await rename(incoming, target);
      }
      previousData = kept.length > 0 ? kept.join(", ") : undefined;
    }
  } catch (error) {
    if (error instanceof HearthError) throw error;
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new HearthError("RESTORE_FAILED", `Restoring ${source} into ${dataDir} failed: ${reason}`, {
      cause: error,
    });
  }

  let configRestoredTo: string | undefined;
  let configNotRestored: string | undefined;
  const config = manifest.entries.find((entry) => entry.kind === "config");
  let configLeftInBackup: RestoreResult["configLeftInBackup"];
  if (config && !options.configFile)
    configLeftInBackup = {
      file: join(source, ...config.path.split("/")),
      reason: "this Hearth runs without a configuration file; copy it where HEARTH_CONFIG points to use it",
    };
  if (config && options.configFile) {
    const target = resolve(options.configFile);
    // Unchanged (the usual case in a container, whose file is a read-only mount): nothing to write.
    const unchanged = (await exists(target)) && (await sha256File(target)) === config.sha256;
    if (unchanged)
      configLeftInBackup = {
        file: join(source, ...config.path.split("/")),
        reason: `${target} already matches it`,
      };
    else {
      try {
        await mkdir(dirname(target), { recursive: true });
        if (await exists(target)) await rename(target, `${target}.pre-restore-${stamp}`);
        await copyFile(join(source, ...config.path.split("/")), target);
        configRestoredTo = target;
      } catch (error) {
        // The data is back already; a read-only configuration mount must not make the restore fail.
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        configNotRestored = `${target} could not be written (${reason}); the backed-up file is ${join(source, ...config.path.split("/"))}`;
      }
    }
  }
  let modelRegistryRestoredTo: string | undefined;
  const registry = manifest.entries.find((entry) => entry.kind === "registry");
  if (registry && options.modelRegistryDir) {
    modelRegistryRestoredTo = join(resolve(options.modelRegistryDir), basename(registry.path));
    await mkdir(dirname(modelRegistryRestoredTo), PRIVATE_DIR);
    if (await exists(modelRegistryRestoredTo))
      await rename(modelRegistryRestoredTo, `${modelRegistryRestoredTo}.pre-restore-${stamp}`);
    await copyFile(join(source, ...registry.path.split("/")), modelRegistryRestoredTo);
  }
  options.logger?.info(
    { source, dataDir, files: dataEntries.length, scope: manifest.scope },
    "backup restored",
  );
  return {
    manifest,
    restoredFiles: dataEntries.length,
    previousData,
    configRestoredTo,
    ...(configNotRestored ? { configNotRestored } : {}),
    ...(configLeftInBackup ? { configLeftInBackup } : {}),
    modelRegistryRestoredTo,
    weightsLeftOut: (manifest.weightsLeftOut ?? []).map((path) => path.replace(/^data\//, "")),
  };
}

/** Entries under `data/` (not the configuration file, not a registry kept outside the data dir). */
const isDataEntry = (kind: BackupManifest["entries"][number]["kind"]) => kind === "sqlite" || kind === "file";

/** Copies a full backup's data files into `target`, and makes its links again (relative, so they follow the data). */
async function copyEntries(source: string, target: string, manifest: BackupManifest): Promise<void> {
  for (const entry of manifest.entries.filter((candidate) => isDataEntry(candidate.kind))) {
    const file = join(target, ...entry.path.split("/").slice(1));
    await mkdir(dirname(file), PRIVATE_DIR);
    await copyFile(join(source, ...entry.path.split("/")), file);
  }
  for (const link of manifest.links ?? []) {
    const file = join(target, ...link.path.split("/").slice(1));
    await mkdir(dirname(file), PRIVATE_DIR);
    await symlink(link.target, file);
  }
  await mkdir(target, PRIVATE_DIR);
}

/**
 * Whether the data directory can be swapped with a sibling: not when it is a mount point (a
 * container volume at /data, whose parent is read-only or another filesystem).
 */
async function canSwapBeside(dataDir: string, stamp: string): Promise<boolean> {
  const probe = `${dataDir}.restoring-${stamp}`;
  try {
    await mkdir(probe, { mode: PRIVATE_DIR.mode });
  } catch {
    return false;
  }
  const [parent, self] = await Promise.all([stat(dirname(dataDir)), stat(dataDir).catch(() => undefined)]);
  const sameDevice = !self || self.dev === parent.dev;
  if (!sameDevice) await rm(probe, { recursive: true, force: true });
  return sameDevice;
}

/** Builds the restored directory beside the data directory, then swaps the two. */
async function restoreBeside(
  source: string,
  dataDir: string,
  manifest: BackupManifest,
  stamp: string,
): Promise<string | undefined> {
  const staging = `${dataDir}.restoring-${stamp}`;
  await copyEntries(source, staging, manifest);
  let previous: string | undefined;
  if (await exists(dataDir)) {
    previous = `${dataDir}.pre-restore-${stamp}`;
    await rename(dataDir, previous);
    // Earlier backups stay where operators look for them.
    const backups = defaultBackupsDir(previous);
    if (await exists(backups)) await rename(backups, defaultBackupsDir(staging));
  }
  await rename(staging, dataDir);
  return previous;
}

/**
 * For a data directory that is a mount point: the restored files are built in a hidden folder
 * inside it, what was there moves into `.pre-restore-<time>` inside it, then the restored files
 * move up. Every rename stays on the volume.
 */
async function restoreInside(
  source: string,
  dataDir: string,
  manifest: BackupManifest,
  stamp: string,
): Promise<string> {
  const staging = join(dataDir, `${RESTORING_PREFIX}${stamp}`);
  const previous = join(dataDir, `${PRE_RESTORE_PREFIX}${stamp}`);
  await copyEntries(source, staging, manifest);
  await mkdir(previous, { mode: PRIVATE_DIR.mode });
  const keep = new Set(["backups", basename(staging), basename(previous)]);
  for (const name of await readdir(dataDir)) {
    if (keep.has(name) || name.startsWith(PRE_RESTORE_PREFIX)) continue;
    await rename(join(dataDir, name), join(previous, name));
  }
  for (const name of await readdir(staging)) await rename(join(staging, name), join(dataDir, name));
  await rm(staging, { recursive: true, force: true });
  return previous;
}

/**
 * The SQLite databases of the data directory that a process holds open now (relative paths): a
 * Hearth service running on them, whatever port or address it listens on. The services open their
 * databases in WAL mode, where every open connection keeps a shared lock; taking the database
 * exclusively fails while one does. Locks are seen on this machine only (not through a network
 * file system shared with another machine), and a web database on PostgreSQL has no file here.
 */
export async function databasesInUse(dataDir: string): Promise<string[]> {
  const root = await realpath(resolve(dataDir)).catch(() => undefined);
  if (!root) return [];
  const { files } = await listDataFiles(root, {
    exclude: [defaultBackupsDir(root)],
    includeModelWeights: false,
  }).catch(() => ({ files: [] }));
  const inUse: string[] = [];
  for (const file of files.filter((candidate) => candidate.sqlite)) {
    let database: Database.Database | undefined;
    try {
      database = new Database(file.absolute, { fileMustExist: true, timeout: 0 });
      database.pragma("locking_mode = EXCLUSIVE");
      database.exec("BEGIN EXCLUSIVE");
      database.exec("ROLLBACK");
    } catch (error) {
      const code = (error as { code?: string }).code ?? "";
      if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) inUse.push(file.relative);
    } finally {
      database?.close();
    }
  }
  return inUse;
}

function checkDatabase(file: string, name: string): void {
  let result: unknown;
  try {
    const database = new Database(file, { readonly: true, fileMustExist: true });
    try {
      result = database.pragma("quick_check", { simple: true });
    } finally {
      database.close();
    }
  } catch (error) {
    throw new HearthError(
      "BACKUP_CORRUPT",
      `${name} is not a readable SQLite database: ${(error as Error).message}`,
    );
  }
  if (result !== "ok")
    throw new HearthError("BACKUP_CORRUPT", `${name} fails SQLite's check: ${String(result)}`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
