import { mkdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** What a file system error code means, in words a person acts on. */
const MEANINGS: Record<string, string> = {
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "the operation is not permitted",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is used up",
  ENOTDIR: "a part of the path is a file, not a folder",
  ENOENT: "no such file or folder",
  EEXIST: "it already exists",
  EISDIR: "it is a folder, not a file",
  EMFILE: "too many open files",
  EIO: "an input/output error (a failing disk or a lost network mount?)",
  EBUSY: "it is busy",
};

/**
 * A file system (or SQLite) error as one line: what it means, its code, and the path it carries,
 * e.g. `the file system is read-only (EROFS): /mnt/backups/nightly`.
 */
export function explainFsError(error: unknown): string {
  const { code, path, message } = error as NodeJS.ErrnoException;
  if (!code) return (error as Error)?.message ?? String(error);
  const meaning = MEANINGS[code];
  // An SQLite error names no path; its message says what went wrong.
  const what = meaning ? `${meaning} (${code})` : code.startsWith("SQLITE_") ? `${code}: ${message}` : code;
  return path ? `${what}: ${path}` : what;
}

/**
 * Makes `directory` and the folders above it that are missing, one at a time and private (0700), so
 * a failure reports its real cause and the folder it concerns. (Node's recursive mkdir reports a
 * read-only file system, EROFS, as ENOENT.)
 */
export async function makeDirectory(directory: string): Promise<void> {
  const missing: string[] = [];
  let current = directory;
  for (;;) {
    const info = await stat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    if (info) {
      if (!info.isDirectory())
        throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${current}'`), {
          code: "ENOTDIR",
          path: current,
        });
      break;
    }
    missing.unshift(basename(current));
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const name of missing) {
    current = join(current, name);
    try {
      await mkdir(current, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}
