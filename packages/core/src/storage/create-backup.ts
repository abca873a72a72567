import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import Database from "better-sqlite3";
import type { Logger } from "pino";
import { HearthError } from "../errors/hearth-error.js";
import { type BackupEntry, type BackupManifest, MANIFEST_FILE, sha256File } from "./backup-manifest.js";
import { lockPidFile, type PidFileLock } from "./data-dir-lock.js";
import { type DataFile, type DataFiles, isInside, isSqliteFile, listDataFiles } from "./data-files.js";
import { explainFsError, makeDirectory } from "./fs-error.js";
import { PRIVATE_DIR } from "./private-dir.js";

export interface CreateBackupOptions {
  /** The data directory (HEARTH_DATA_DIR). */
  dataDir: string;
  /** Directory to create for the backup; it must not exist yet. */
  destination: string;
  /** The configuration file in use, copied under `config/`. Never logged: it may hold secrets. */
  configFile?: string;
  /**
   * Copy model weights too: `.gguf` files and the registry's blobs, its links kept as links (default
   * false: they are large and can be pulled again; the manifest names what was left out).
   */
  includeModelWeights?: boolean;
  /**
   * The model registry's directory (`model.registryDir`, else `<modelsDir>/.hearth`). When it lies
   * outside the data directory (the image's /models volume), its `registry.json` (tags, versions,
   * rollback history) is captured under `model-registry/`; weights there are never copied.
   */
  modelRegistryDir?: string;
  /** Only these files (absolute or relative to the data directory): a partial backup. */
  only?: string[];
  /** Why the backup was taken (recorded in the manifest), e.g. "before migration 3 of web.db". */
  reason?: string;
  /** Data kept outside the data directory that this backup does not hold (recorded in the manifest). */
  notInBackup?: string[];
  logger?: Logger;
  /**
   * The files that the data in a data directory names but that are not in it (each document's
   * upload, which knowledge.db names): asked of the backup's copy, whose every such file must be
   * there, and of the data directory itself. Not asked for a partial backup.
   */
  missingFiles?: (dataDir: string) => MissingFile[] | Promise<MissingFile[]>;
  /** Told what the backup did on the way that a person should know (a leftover staging folder removed). */
  onNote?: (note: string) => void;
  /** Told how far the backup is, at each phase's start, after each file, and within large files. */
  onProgress?: (progress: BackupProgress) => void;
  /**
   * Cancels the backup (Ctrl-C): its staging folder is removed, nothing is written, and the
   * promise rejects with the signal's reason.
   */
  signal?: AbortSignal;
  /** Pages of a database copied per step of SQLite's online backup (tests make it small). */
  databasePagesPerStep?: number;
}

/**
 * Pages copied per step of a database's copy (4 MiB at SQLite's default 4 KiB page): between two
 * steps progress is reported and a cancel is honoured.
 */
const DATABASE_PAGES_PER_STEP = 1024;
/** Restarts of a database's copy (another connection wrote) before the rest is copied in one step. */
const DATABASE_COPY_RESTARTS = 3;

/**
 * How far a backup is: files and bytes done of those of the phase it is in. A database counts its
 * pages as a reader sees them, those still in its -wal file included; `totalBytes` follows a file
 * that turns out larger than it was when the phase started, so `bytes` never passes it, and equals
 * it once every file of the phase is done.
 */
export interface BackupProgress {
  /** `databases`: SQLite copies; `files`: the other files; `checking`: every document's file looked for. */
  phase: "databases" | "files" | "checking";
  done: number;
  total: number;
  bytes: number;
  totalBytes: number;
}

/** A file that data names (a document's upload) but that is not there. */
export interface MissingFile {
  /** Relative to the data directory, with forward slashes. */
  path: string;
  /** Whose file it is, in words (`the file of "a.pdf" in the knowledge base "Docs"`). */
  what: string;
}

export type BackupResult = BackupManifest & {
  destination: string;
  /**
   * Files the data directory's own databases name but that are missing from it as well (damage
   * found on the way, which the backup cannot hold; `hearth doctor` reports it too).
   */
  missingInData: MissingFile[];
};

/** How often the databases are copied again when a file they name is removed while a backup runs. */
const SNAPSHOT_ATTEMPTS = 3;

/** Beside a backup's staging folder `<destination>.partial`: the pid file of the backup writing it. */
export const STAGING_LOCK_SUFFIX = ".lock";

/** Where a backup keeps the model registry's manifest when the registry is outside the data dir. */
export const MODEL_REGISTRY_PREFIX = "model-registry";
const REGISTRY_FILE = "registry.json";

/** The default place for backups: `<dataDir>/backups`, never captured by a backup itself. */
export function defaultBackupsDir(dataDir: string): string {
  return join(dataDir, "backups");
}

/**
 * Takes a consistent snapshot of the data directory while the services keep running: each SQLite
 * database through SQLite's online backup API (a copy of one point in time, WAL included), then the
 * other files, listed after those copies so that every file a database names is among them (checked
 * with `missingFiles`), and a manifest with the size and SHA-256 of every file. The backup is
 * written beside its destination and renamed into place at the end, so a failed backup never looks
 * complete.
 */
export async function createBackup(options: CreateBackupOptions): Promise<BackupResult> {
  const dataDir = resolve(options.dataDir);
  const destination = resolve(options.destination);
  const { signal } = options;
  signal?.throwIfAborted();
  if (!(await isDirectory(dataDir))) {
    throw new HearthError(
      "BACKUP_FAILED",
      `The data directory ${dataDir} does not exist or is not a directory`,
    );
  }
  // A backup elsewhere in the data directory would be copied into every later backup, each one
  // holding all those before it. Only the backups folder is left out of them. (Compared on real
  // paths: a data directory reached through a symbolic link is the same directory.)
  const realData = await realpath(dataDir);
  const realDestination = await realPathOf(destination);
  if (isInside(realDestination, realData) && !isInside(realDestination, defaultBackupsDir(realData))) {
    throw new HearthError(
      "BACKUP_FAILED",
      `The backup destination ${destination} is inside the data directory ${dataDir}, so every later backup would copy it; choose a directory outside it, or under ${defaultBackupsDir(dataDir)}`,
    );
  }
  const selected = options.only ? await selectFiles(dataDir, options.only) : undefined;
  const list = async (): Promise<DataFiles> =>
    selected
      ? { files: selected, links: [], weightsLeftOut: [] }
      : listDataFiles(dataDir, {
          exclude: [
            defaultBackupsDir(dataDir),
            destination,
            `${destination}.partial`,
            `${destination}.partial${STAGING_LOCK_SUFFIX}`,
          ],
          includeModelWeights: options.includeModelWeights ?? false,
        });

  const staging = `${destination}.partial`;
  let lock: PidFileLock | undefined;
  let created = false;
  try {
    // The staging folder is this backup's alone: a second backup to the same destination is refused
    // while this one runs, and a folder left by one that is gone is removed before it is reused.
    await makeDirectory(dirname(destination));
    await removeLeftovers(defaultBackupsDir(dataDir), staging, options);
    lock = await lockStaging(staging, destination);
    if (await exists(destination)) {
      throw new HearthError(
        "BACKUP_FAILED",
        `The backup destination ${destination} already exists; choose a new directory`,
      );
    }
    if (await exists(staging)) {
      await rm(staging, { recursive: true, force: true });
      const by = lock.tookOver ? ` (pid ${lock.tookOver.pid})` : "";
      options.logger?.info({ staging }, "removed the staging folder of a backup that did not finish");
      options.onNote?.(`removed ${staging}, left by a backup that did not finish${by}`);
    }
    signal?.throwIfAborted();
    // Hashes of passwords and API keys, conversations, provider keys: the backup's own user only.
    // Each folder is made 0700 and each file 0600 as it is written.
    await mkdir(staging, { mode: 0o700 });
    created = true;
    const entries = new Map<string, BackupEntry>();
    const targetOf = (path: string) => join(staging, ...path.split("/"));
    const progress = phaseProgress(options.onProgress);
    const snapshot = async (file: DataFile) => {
      const path = `data/${file.relative}`;
      const target = targetOf(path);
      await mkdir(dirname(target), PRIVATE_DIR);
      // SQLite would create the copy with the umask's mode (usually 0644): it is made here, empty
      // (an empty database to SQLite) and private, for SQLite to write into. A copy left by an
      // earlier attempt is emptied.
      await writeFile(target, "", { mode: 0o600 });
      // SQLite's errors name no file: this one is named.
      await backupDatabase(file.absolute, target, {
        pagesPerStep: options.databasePagesPerStep ?? DATABASE_PAGES_PER_STEP,
        onPages: progress.step,
        ...(signal ? { signal } : {}),
      }).catch((error: unknown) => {
        if (signal?.aborted) throw error;
        throw error instanceof Error && !("path" in error)
          ? Object.assign(error, { path: file.absolute })
          : error;
      });
      signal?.throwIfAborted();
      const entry = await describe(target, path, "sqlite");
      entries.set(path, entry);
      progress.fileDone(entry.size);
    };
    // False when the file is gone since it was listed (a temporary upload, a replaced version).
    const copy = async (file: DataFile): Promise<boolean> => {
      const path = `data/${file.relative}`;
      const target = targetOf(path);
      await mkdir(dirname(target), PRIVATE_DIR);
      let entry: BackupEntry;
      try {
        entry = { path, kind: "file", ...(await copyHashed(file.absolute, target, signal, progress.bytes)) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT" && !(await exists(file.absolute))) {
          await rm(target, { force: true });
          progress.fileDone(0);
          return false;
        }
        throw error;
      }
      entries.set(path, entry);
      progress.fileDone(entry.size);
      return true;
    };
    let listing: DataFiles;
    let missingInData: MissingFile[] = [];
    for (let attempt = 1; ; attempt++) {
      // The databases first, each at one point in time; then the other files, listed after them, so
      // that every file a database names (a document's upload) is there to copy. Files added since
      // are copied too, unneeded; a file it names that is removed meanwhile is found below.
      const databases = (await list()).files.filter((file) => file.sqlite);
      await progress.start("databases", databases);
      for (const file of databases) await snapshot(file);
      listing = await list();
      const rest = listing.files.filter((file) => !entries.has(`data/${file.relative}`));
      await progress.start("files", rest);
      for (const file of rest) {
        if (file.sqlite) await snapshot(file);
        else await copy(file);
      }
      if (!options.missingFiles || selected) break;
      // Every file the copied databases name is in the backup, or is copied now.
      await progress.start("checking", []);
      const gone: MissingFile[] = [];
      for (const missing of await options.missingFiles(join(staging, "data"))) {
        const file = {
          absolute: join(dataDir, ...missing.path.split("/")),
          relative: missing.path,
          sqlite: false,
        };
        if (!(await copy(file))) gone.push(missing);
      }
      if (gone.length === 0) break;
      // Missing from the data directory too, whose database still names it: damage that a backup
      // can only report. Any other was removed after the snapshot (its document re-uploaded or
      // deleted): the databases are copied again, now without it.
      const inData = new Set((await options.missingFiles(dataDir)).map((missing) => missing.path));
      missingInData = gone.filter((missing) => inData.has(missing.path));
      const removed = gone.filter((missing) => !inData.has(missing.path));
      if (removed.length === 0) break;
      if (attempt === SNAPSHOT_ATTEMPTS)
        throw new HearthError(
          "BACKUP_FAILED",
          `The backup to ${destination} failed: ${removed[0]!.what} (${join(dataDir, ...removed[0]!.path.split("/"))}) was removed while the backup copied it, ${SNAPSHOT_ATTEMPTS} times (documents are being re-uploaded or deleted); run the backup again, at a quieter moment if this repeats`,
          { details: { file: removed[0]!.path } },
        );
      options.logger?.info(
        { file: removed[0]!.path, attempt },
        "a file the databases name was removed while the backup ran; copying the databases again",
      );
    }
    const { links, weightsLeftOut } = listing;
    const registryDir = options.modelRegistryDir ? resolve(options.modelRegistryDir) : undefined;
    if (
      !options.only &&
      registryDir &&
      !isInside(registryDir, dataDir) &&
      (await exists(join(registryDir, REGISTRY_FILE)))
    ) {
      const path = `${MODEL_REGISTRY_PREFIX}/${REGISTRY_FILE}`;
      const target = join(staging, MODEL_REGISTRY_PREFIX, REGISTRY_FILE);
      await mkdir(dirname(target), PRIVATE_DIR);
      entries.set(path, {
        path,
        kind: "registry",
        ...(await copyHashed(join(registryDir, REGISTRY_FILE), target, signal)),
      });
    }
    if (options.configFile) {
      const path = `config/${basename(options.configFile)}`;
      const target = join(staging, "config", basename(options.configFile));
      await mkdir(dirname(target), PRIVATE_DIR);
      entries.set(path, { path, kind: "config", ...(await copyHashed(options.configFile, target, signal)) });
    }
    const manifest: BackupManifest = {
      format: "hearth-backup",
      version: 1,
      createdAt: new Date().toISOString(),
      scope: options.only ? "partial" : "full",
      ...(options.reason ? { reason: options.reason } : {}),
      entries: [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
      ...(links.length > 0
        ? { links: links.map((link) => ({ path: `data/${link.relative}`, target: link.target })) }
        : {}),
      ...(weightsLeftOut.length > 0 ? { weightsLeftOut: weightsLeftOut.map((path) => `data/${path}`) } : {}),
      ...(options.notInBackup?.length ? { notInBackup: options.notInBackup } : {}),
    };
    await writeFile(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    signal?.throwIfAborted();
    await rename(staging, destination);
    options.logger?.info({ destination, files: entries.size, scope: manifest.scope }, "backup written");
    return { ...manifest, destination, missingInData };
  } catch (error) {
    // Only the staging folder this backup made is removed: never another backup's.
    if (created) await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    if (signal?.aborted) throw signal.reason;
    if (error instanceof HearthError) throw error;
    throw new HearthError("BACKUP_FAILED", `The backup to ${destination} failed: ${explainFsError(error)}`, {
      cause: error,
    });
  } finally {
    lock?.release();
  }
}

/**
 * Takes the staging folder `<destination>.partial` for this backup: a pid file beside it,
 * `<destination>.partial.lock`, created exclusively. A running backup's is refused with
 * BACKUP_IN_PROGRESS; one left by a process that is gone is taken over.
 */
async function lockStaging(staging: string, destination: string): Promise<PidFileLock> {
  const file = `${staging}${STAGING_LOCK_SUFFIX}`;
  try {
    return await takeStagingLock(file, destination);
  } catch (error) {
    // A lock that cannot be written (a read-only disk) is named, not the temporary file it starts as.
    if (error instanceof HearthError || !(error instanceof Error)) throw error;
    throw Object.assign(error, { path: file });
  }
}

function takeStagingLock(file: string, destination: string): Promise<PidFileLock> {
  return lockPidFile(file, "hearth backup", {
    held: (holder) =>
      new HearthError(
        "BACKUP_IN_PROGRESS",
        `a backup to ${destination} is in progress (pid ${holder.pid}${holder.startedAt ? `, since ${holder.startedAt}` : ""}${holder.hostname ? ` on ${holder.hostname}` : ""}); wait for it to finish, or choose another destination`,
        { details: { pid: holder.pid, destination } },
      ),
    unreadable: () =>
      new HearthError(
        "BACKUP_IN_PROGRESS",
        `the lock of a backup to ${destination} (${file}) holds no record, so whether a backup to it runs is unknown; if none does, delete that file`,
        { details: { destination, file } },
      ),
    busy: () =>
      new HearthError(
        "BACKUP_IN_PROGRESS",
        `another backup to ${destination} is starting; wait for it to finish, or choose another destination`,
        { details: { destination, file } },
      ),
  });
}

/**
 * Removes the staging folders that backups into the backups folder left when they were killed
 * (`<name>.partial`, and its lock), each only after taking its lock: a running backup's is left
 * alone. Default destinations are named by time, so nothing else would ever reuse them.
 */
async function removeLeftovers(
  backupsDir: string,
  ownStaging: string,
  options: Pick<CreateBackupOptions, "logger" | "onNote">,
): Promise<void> {
  const names = await readdir(backupsDir).catch(() => [] as string[]);
  const stagings = new Set(
    names
      .map((name) => (name.endsWith(STAGING_LOCK_SUFFIX) ? name.slice(0, -STAGING_LOCK_SUFFIX.length) : name))
      .filter((name) => name.endsWith(".partial"))
      .map((name) => join(backupsDir, name)),
  );
  for (const staging of stagings) {
    if (staging === ownStaging) continue;
    let lock: PidFileLock;
    try {
      lock = await lockStaging(staging, staging.slice(0, -".partial".length));
    } catch {
      continue; // a backup runs there (or its lock holds no record): not ours to touch
    }
    try {
      if (await exists(staging)) {
        await rm(staging, { recursive: true, force: true });
        const by = lock.tookOver ? ` (pid ${lock.tookOver.pid})` : "";
        options.logger?.info({ staging }, "removed the staging folder of a backup that did not finish");
        options.onNote?.(`removed ${staging}, left by a backup that did not finish${by}`);
      }
    } finally {
      lock.release();
    }
  }
}

/**
 * Reports a backup's progress: files and bytes of each phase, within large files at most every
 * 200 ms, after each step of a database's copy. The phase's total is what its files are expected
 * to hold when it starts (expectedBytes), then follows each file as it is copied: one that holds
 * more than expected raises it, and a finished file counts what it really held, so the bytes never
 * pass the total and reach it with the phase's last file.
 */
function phaseProgress(onProgress: CreateBackupOptions["onProgress"]) {
  let state: BackupProgress = { phase: "databases", done: 0, total: 0, bytes: 0, totalBytes: 0 };
  /** What each file of the phase is expected to hold, in the order they are copied. */
  let expected: number[] = [];
  /** The files finished so far: the bytes they held. */
  let finished = 0;
  /** The file being copied: bytes copied of it, and what it is now known to hold. */
  let current = { bytes: 0, size: 0 };
  /** What the files after it are expected to hold. */
  let later = 0;
  let reportedAt = 0;
  const report = () => {
    reportedAt = Date.now();
    onProgress?.({ ...state });
  };
  /** The current file's bytes copied so far and its size as now known, never less than them. */
  const follow = (bytes: number, size: number) => {
    current = { bytes, size: Math.max(size, bytes) };
    state.bytes = finished + current.bytes;
    state.totalBytes = finished + current.size + later;
  };
  const startFile = () => {
    const size = expected[state.done] ?? 0;
    later -= size;
    follow(0, size);
  };
  return {
    async start(phase: BackupProgress["phase"], files: DataFile[]) {
      expected = [];
      for (const file of files) expected.push(onProgress ? await expectedBytes(file) : 0);
      finished = 0;
      later = expected.reduce((sum, size) => sum + size, 0);
      state = { phase, done: 0, total: files.length, bytes: 0, totalBytes: 0 };
      startFile();
      report();
    },
    /** More bytes of a file copied as it is read. */
    bytes(count: number) {
      follow(current.bytes + count, current.size);
      if (Date.now() - reportedAt >= 200) report();
    },
    /** A step of a database's copy (DATABASE_PAGES_PER_STEP pages): the bytes copied of those it has now. */
    step(copied: number, size: number) {
      follow(copied, size);
      report();
    },
    /** The current file is done, holding `size` bytes (0: it was gone). */
    fileDone(size: number) {
      finished += size;
      state.done++;
      // Files found on the way (the missing ones the checking phase copies) add to the phase's count.
      state.total = Math.max(state.total, state.done);
      startFile();
      report();
    },
  };
}

/**
 * What copying `file` is expected to count: a database's pages as a reader sees them, those in its
 * -wal file included (which its main file's size leaves out), else the file's size.
 */
async function expectedBytes(file: DataFile): Promise<number> {
  if (file.sqlite) {
    try {
      const reader = new Database(file.absolute, { readonly: true, fileMustExist: true });
      try {
        return (
          Number(reader.pragma("page_count", { simple: true })) *
          Number(reader.pragma("page_size", { simple: true }))
        );
      } finally {
        reader.close();
      }
    } catch {
      // Not readable now: its copy will say why; its size stands in meanwhile.
    }
  }
  return (await stat(file.absolute).catch(() => undefined))?.size ?? 0;
}

/**
 * Copies `source` to `target`, hashing it on the way (one read of each file), cancelled by
 * `signal`; answers the copy's size and SHA-256.
 */
async function copyHashed(
  source: string,
  target: string,
  signal?: AbortSignal,
  onBytes?: (count: number) => void,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  await pipeline(
    createReadStream(source, { highWaterMark: 1 << 20 }),
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        onBytes?.(chunk.length);
        callback(null, chunk);
      },
    }),
    createWriteStream(target, { mode: 0o600 }),
    ...(signal ? [{ signal }] : []),
  );
  return { size, sha256: hash.digest("hex") };
}

async function selectFiles(dataDir: string, only: string[]): Promise<DataFile[]> {
  const files: DataFile[] = [];
  for (const path of only) {
    const absolute = isAbsolute(path) ? resolve(path) : resolve(dataDir, path);
    if (!absolute.startsWith(dataDir + sep)) {
      throw new HearthError("BACKUP_FAILED", `${absolute} is outside the data directory ${dataDir}`);
    }
    if (!(await exists(absolute))) throw new HearthError("BACKUP_FAILED", `${absolute} does not exist`);
    files.push({
      absolute,
      relative: relative(dataDir, absolute).split(sep).join("/"),
      sqlite: await isSqliteFile(absolute),
    });
  }
  return files;
}

/**
 * Copies one database with the online backup API from a separate read-only connection, so writers
 * in the services go on; then switches the copy to a rollback journal so it is one self-contained
 * file, and checks it before it counts as backed up.
 */
async function backupDatabase(
  source: string,
  target: string,
  options: {
    pagesPerStep: number;
    signal?: AbortSignal;
    /** After a step that copied more pages than any before: their bytes, of those the database has now. */
    onPages?: (copied: number, total: number) => void;
  },
): Promise<void> {
  const reader = new Database(source, { readonly: true, fileMustExist: true });
  try {
    const pageSize = Number(reader.pragma("page_size", { simple: true }));
    let copied = 0;
    let restarts = 0;
    let remaining = Number.POSITIVE_INFINITY;
    // Copied in steps of pagesPerStep pages, reporting the bytes copied and honouring a cancel
    // (thrown here, the copy is closed and the staging folder removed) between two steps. A write
    // by another connection restarts the copy (more pages remain than before); after a few, the
    // rest goes in one step, inside one read transaction, so a busy service cannot keep the backup
    // from finishing (in WAL mode one read transaction does not block the writers).
    const result = await reader.backup(target, {
      progress: ({ totalPages, remainingPages }) => {
        options.signal?.throwIfAborted();
        if (remainingPages > remaining) restarts++;
        remaining = remainingPages;
        // A copy that restarted is not counted twice: reported again once it passes where it was.
        const done = totalPages - remainingPages;
        if (done > copied) options.onPages?.(done * pageSize, totalPages * pageSize);
        copied = Math.max(copied, done);
        return restarts >= DATABASE_COPY_RESTARTS ? 0x7fffffff : options.pagesPerStep;
      },
    });
    // The last step, which SQLite reports to no callback.
    if (result.totalPages > copied)
      options.onPages?.(result.totalPages * pageSize, result.totalPages * pageSize);
    options.signal?.throwIfAborted();
  } finally {
    reader.close();
  }
  const copy = new Database(target, { fileMustExist: true });
  try {
    copy.pragma("journal_mode = DELETE");
    const check = copy.pragma("quick_check", { simple: true });
    if (check !== "ok")
      throw new HearthError("BACKUP_FAILED", `The copy of ${source} failed SQLite's check: ${String(check)}`);
  } finally {
    copy.close();
  }
}

async function describe(file: string, path: string, kind: BackupEntry["kind"]): Promise<BackupEntry> {
  return { path, kind, size: (await stat(file)).size, sha256: await sha256File(file) };
}

/** The real path of `path`, which may not exist yet: its nearest existing ancestor resolved, the rest appended. */
async function realPathOf(path: string): Promise<string> {
  const rest: string[] = [];
  let current = path;
  for (;;) {
    try {
      return join(await realpath(current), ...rest);
    } catch {
      const parent = dirname(current);
      if (parent === current) return path;
      rest.unshift(basename(current));
      current = parent;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
