import { open, readdir, readFile, readlink, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import type { HearthConfig } from "../config/config-schema.js";
import { MANIFEST_FILE } from "./backup-manifest.js";
import { LOCKS_DIR } from "./data-dir-lock.js";

/** Folders a restore leaves inside a data directory that is a mount point; never backed up. */
export const PRE_RESTORE_PREFIX = ".pre-restore-";
export const RESTORING_PREFIX = ".restoring-";

const SQLITE_HEADER = Buffer.from("SQLite format 3\0", "latin1");
/** Model weights: GGUF files, whatever their name (the model registry keeps them as `sha256-<hex>` blobs). */
const GGUF_HEADER = Buffer.from("GGUF", "latin1");
/** Side files of a SQLite database; the online backup API folds their content into the copy. */
const SQLITE_SIDE_FILE = /-(wal|shm|journal)$/;

/** The web database's SQLite file, or undefined when it is on PostgreSQL (web.databaseUrl is set). */
export function webDatabaseFile(config: Pick<HearthConfig, "dataDir" | "web">): string | undefined {
  return config.web.databaseUrl === undefined ? join(config.dataDir, "web.sqlite") : undefined;
}

/** Whether `path` is `directory` or lies under it (both resolved first). */
export function isInside(path: string, directory: string): boolean {
  const absolute = resolve(path);
  const root = resolve(directory);
  return absolute === root || absolute.startsWith(root + sep);
}

export interface DataFile {
  absolute: string;
  /** Relative to the data directory, with forward slashes. */
  relative: string;
  sqlite: boolean;
}

/** A symbolic link inside the data directory to a file inside it (a model registry's `<name>.gguf`). */
export interface DataLink {
  /** Relative to the data directory, with forward slashes. */
  relative: string;
  /** The file it points to, relative to the link's own folder, with forward slashes. */
  target: string;
}

export interface DataFiles {
  files: DataFile[];
  links: DataLink[];
  /** Model weights not captured (relative paths): left out without `includeModelWeights`, or outside the data directory. */
  weightsLeftOut: string[];
}

export interface ListDataFilesOptions {
  /** Absolute directories that are never captured (the backups folder, the destination). */
  exclude: string[];
  /** Model weights are large and can be pulled again; they are skipped unless asked for. */
  includeModelWeights: boolean;
}

/**
 * Regular files and links under the data directory, depth first, in a stable order. Model weights
 * (`.gguf` files, GGUF blobs and links to them) are captured only with `includeModelWeights`.
 */
export async function listDataFiles(dataDir: string, options: ListDataFilesOptions): Promise<DataFiles> {
  const excluded = options.exclude.map((path) => resolve(path));
  const files: DataFile[] = [];
  const links: Array<DataLink & { absoluteTarget: string }> = [];
  const weightsLeftOut: string[] = [];
  const relativePath = (absolute: string) => relative(dataDir, absolute).split(sep).join("/");
  const walk = async (directory: string): Promise<void> => {
    // A folder or file removed while the services run (a knowledge base deleted, a temporary
    // upload moved into place) is not data any more: skipped, not an error.
    const entries = await readdir(directory, { withFileTypes: true }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT" && directory !== dataDir) return [];
        throw error;
      },
    );
    // A Hearth backup kept in the data directory (one made there before such destinations were
    // refused) is not data: capturing it would nest every backup in the next one.
    if (directory !== dataDir && entries.some((entry) => entry.isFile() && entry.name === MANIFEST_FILE)) {
      if (await isBackupManifest(join(directory, MANIFEST_FILE))) return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const absolute = join(directory, entry.name);
      if (excluded.some((path) => isInside(absolute, path))) continue;
      if (
        directory === dataDir &&
        (entry.name.startsWith(PRE_RESTORE_PREFIX) ||
          entry.name.startsWith(RESTORING_PREFIX) ||
          // Pid files of the running services: a restored one would name a process long gone.
          entry.name === LOCKS_DIR)
      )
        continue;
      if (entry.isDirectory()) {
        await walk(absolute);
        continue;
      }
      if (entry.isSymbolicLink()) {
        const target = resolve(directory, await readlink(absolute));
        const targetIsFile = await stat(target).then(
          (info) => info.isFile(),
          () => false,
        );
        if (!targetIsFile) continue;
        const weights = entry.name.endsWith(".gguf") || (await fileKind(target)) === "gguf";
        if (weights && (!options.includeModelWeights || !isInside(target, dataDir)))
          weightsLeftOut.push(relativePath(absolute));
        // Other links are kept only to a file the backup holds: one outside the data directory is not data here.
        else
          links.push({
            relative: relativePath(absolute),
            target: relative(directory, target).split(sep).join("/"),
            absoluteTarget: target,
          });
        continue;
      }
      // Sockets and the like are not data.
      if (!entry.isFile()) continue;
      const kind = await fileKind(absolute).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw error;
      });
      if (kind === undefined) continue;
      if (!options.includeModelWeights && (kind === "gguf" || entry.name.endsWith(".gguf"))) {
        // A registry blob is named by the link that serves it; a plain `.gguf` file by itself.
        if (entry.name.endsWith(".gguf")) weightsLeftOut.push(relativePath(absolute));
        continue;
      }
      files.push({ absolute, relative: relativePath(absolute), sqlite: kind === "sqlite" });
    }
  };
  await walk(dataDir);
  const databases = new Set(files.filter((file) => file.sqlite).map((file) => file.absolute));
  const captured = files.filter((file) => {
    const match = SQLITE_SIDE_FILE.exec(file.absolute);
    return !(match && databases.has(file.absolute.slice(0, match.index)));
  });
  const capturedPaths = new Set(captured.map((file) => file.absolute));
  return {
    files: captured,
    links: links
      .filter((link) => capturedPaths.has(link.absoluteTarget))
      .map(({ relative, target }) => ({ relative, target })),
    weightsLeftOut,
  };
}

/** Whether `path` is a Hearth backup's manifest (its format says so). */
async function isBackupManifest(path: string): Promise<boolean> {
  try {
    return (JSON.parse(await readFile(path, "utf8")) as { format?: unknown }).format === "hearth-backup";
  } catch {
    return false;
  }
}

export async function isSqliteFile(path: string): Promise<boolean> {
  return (await fileKind(path)) === "sqlite";
}

async function fileKind(path: string): Promise<"sqlite" | "gguf" | "other"> {
  const handle = await open(path, "r");
  try {
    const header = Buffer.alloc(SQLITE_HEADER.length);
    const { bytesRead } = await handle.read(header, 0, header.length, 0);
    if (bytesRead === header.length && header.equals(SQLITE_HEADER)) return "sqlite";
    return bytesRead >= GGUF_HEADER.length && header.subarray(0, GGUF_HEADER.length).equals(GGUF_HEADER)
      ? "gguf"
      : "other";
  } finally {
    await handle.close();
  }
}
