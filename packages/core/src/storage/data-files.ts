import { open, readdir } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";

/** Folders a restore leaves inside a data directory that is a mount point; never backed up. */
export const PRE_RESTORE_PREFIX = ".pre-restore-";
export const RESTORING_PREFIX = ".restoring-";

const SQLITE_HEADER = Buffer.from("SQLite format 3\0", "latin1");
/** Side files of a SQLite database; the online backup API folds their content into the copy. */
const SQLITE_SIDE_FILE = /-(wal|shm|journal)$/;

export interface DataFile {
  absolute: string;
  /** Relative to the data directory, with forward slashes. */
  relative: string;
  sqlite: boolean;
}

export interface ListDataFilesOptions {
  /** Absolute directories that are never captured (the backups folder, the destination). */
  exclude: string[];
  /** Model weights are large and can be pulled again; they are skipped unless asked for. */
  includeModelWeights: boolean;
}

/** Regular files under the data directory, depth first, in a stable order. */
export async function listDataFiles(dataDir: string, options: ListDataFilesOptions): Promise<DataFile[]> {
  const excluded = options.exclude.map((path) => resolve(path));
  const files: DataFile[] = [];
  const walk = async (directory: string): Promise<void> => {
    const entries = await readdir(directory, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const absolute = join(directory, entry.name);
      if (excluded.some((path) => absolute === path || absolute.startsWith(path + sep))) continue;
      if (
        directory === dataDir &&
        (entry.name.startsWith(PRE_RESTORE_PREFIX) || entry.name.startsWith(RESTORING_PREFIX))
      )
        continue;
      if (entry.isDirectory()) {
        await walk(absolute);
        continue;
      }
      // Symlinks, sockets and the like are not data: a link could point outside the data directory.
      if (!entry.isFile()) continue;
      if (!options.includeModelWeights && entry.name.endsWith(".gguf")) continue;
      files.push({
        absolute,
        relative: relative(dataDir, absolute).split(sep).join("/"),
        sqlite: await isSqliteFile(absolute),
      });
    }
  };
  await walk(dataDir);
  const databases = new Set(files.filter((file) => file.sqlite).map((file) => file.absolute));
  return files.filter((file) => {
    const match = SQLITE_SIDE_FILE.exec(file.absolute);
    return !(match && databases.has(file.absolute.slice(0, match.index)));
  });
}

export async function isSqliteFile(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const header = Buffer.alloc(SQLITE_HEADER.length);
    const { bytesRead } = await handle.read(header, 0, header.length, 0);
    return bytesRead === header.length && header.equals(SQLITE_HEADER);
  } finally {
    await handle.close();
  }
}
