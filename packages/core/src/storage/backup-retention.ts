import { lstat, readdir, readFile, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { HearthError } from "../errors/hearth-error.js";
import { backupManifestSchema, MANIFEST_FILE } from "./backup-manifest.js";
import { explainFsError } from "./fs-error.js";

/**
 * The names `hearth backup` gives the backups it names itself: `hearth-` and the time in UTC, ISO 8601
 * with `-` for `:` and `.` (`hearth-2026-05-01T03-00-00-000Z`; the milliseconds may be left out).
 * Retention counts only folders named so: never `pre-migration-*`, a `.partial` staging folder or a
 * `.pre-restore-*` folder.
 */
const BACKUP_FOLDER_NAME = /^hearth-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:-\d{3})?Z$/;

/** The folder name of a backup taken at `time`: `hearth-2026-05-01T03-00-00-000Z`. */
export function backupFolderName(time: Date): string {
  return `hearth-${time.toISOString().replace(/[:.]/g, "-")}`;
}

/** Whether a folder name is one `hearth backup` gives its backups (`hearth-<time>`). */
export function isBackupFolderName(name: string): boolean {
  return BACKUP_FOLDER_NAME.test(name);
}

export interface PruneBackupsOptions {
  /** The backup just written: always kept, and counted among `keep`. The others are beside it. */
  latest: string;
  /** How many backups remain, the latest included (1 or more). */
  keep: number;
  /** Told of each backup deleted, as it is. */
  onDeleted?: (path: string) => void;
}

export interface PruneBackupsResult {
  /** The backups that remain, newest first: the latest, then the newest of the others. */
  kept: string[];
  /** The backups deleted, newest first. */
  deleted: string[];
}

/**
 * Deletes the oldest backups beside `latest` so that `keep` remain. It counts only complete backups
 * of a whole data directory that `hearth backup` names itself: a real folder named `hearth-<time>`
 * holding a valid `manifest.json` of scope `full`, ordered by the manifest's `createdAt` (the time
 * the backup finished). Anything else in the folder is left as it is. Each backup's manifest is
 * deleted first, so one that cannot be deleted entirely no longer reads as a backup. Throws
 * BACKUP_FAILED, after trying every one, when one could not be deleted.
 */
export async function pruneBackups(options: PruneBackupsOptions): Promise<PruneBackupsResult> {
  const latest = resolve(options.latest);
  const parent = dirname(latest);
  const others: Array<{ path: string; createdAt: number }> = [];
  for (const name of await readdir(parent)) {
    const path = join(parent, name);
    if (path === latest || !isBackupFolderName(name)) continue;
    const createdAt = await completeBackupTime(path);
    if (createdAt !== undefined) others.push({ path, createdAt });
  }
  others.sort((a, b) => b.createdAt - a.createdAt || (a.path < b.path ? 1 : a.path > b.path ? -1 : 0));
  const oldest = others.slice(options.keep - 1);
  const deleted: string[] = [];
  const failed: string[] = [];
  for (const { path } of oldest) {
    try {
      await rm(join(path, MANIFEST_FILE), { force: true });
      await rm(path, { recursive: true, force: true });
      deleted.push(path);
      options.onDeleted?.(path);
    } catch (error) {
      failed.push(explainFsError(error));
    }
  }
  if (failed.length > 0)
    throw new HearthError(
      "BACKUP_FAILED",
      `The backup ${latest} was written, but ${failed.length} older backup(s) could not be deleted: ${failed.join("; ")}`,
      { details: { destination: latest } },
    );
  return { kept: [latest, ...others.slice(0, options.keep - 1).map((backup) => backup.path)], deleted };
}

/** When the backup in `path` finished, if it is a complete backup of a whole data directory. */
async function completeBackupTime(path: string): Promise<number | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isDirectory()) return undefined;
  try {
    const manifest = backupManifestSchema.parse(
      JSON.parse(await readFile(join(path, MANIFEST_FILE), "utf8")),
    );
    const time = Date.parse(manifest.createdAt);
    return manifest.scope === "full" && !Number.isNaN(time) ? time : undefined;
  } catch {
    return undefined;
  }
}
