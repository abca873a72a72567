import { accessSync, constants, readdirSync, realpathSync, statSync } from "node:fs";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { HearthError } from "@hearth/core";

export interface ScannedFile {
  /** Path relative to the watched folder, with "/" separators: the document's stable key. */
  relativePath: string;
  absolutePath: string;
  sizeBytes: number;
}

export interface ScanProblem {
  relativePath: string;
  code: "FOLDER_UNREADABLE" | "WATCH_FOLDER_IN_DATA_DIR";
  message: string;
}

const MAX_DEPTH = 32;

/**
 * Lists the files under a watched folder. Symbolic links are followed, but a directory already on
 * the walk (a symlink loop) or too deep is reported as a problem for that entry and skipped, so one
 * bad entry never stops the sync. Hidden files and folders (".git") are skipped, and so is a link
 * that leads into `dataDir` (anyone who can write into a watched folder could otherwise have
 * Hearth's databases and users' files indexed).
 */
export async function scanFolder(
  root: string,
  dataDir?: string,
): Promise<{ files: ScannedFile[]; problems: ScanProblem[] }> {
  const data = dataDir === undefined ? undefined : realOrResolved(dataDir);
  let rootReal: string;
  try {
    rootReal = await realpath(root);
    if (!(await stat(rootReal)).isDirectory()) throw new Error("not a directory");
  } catch (error) {
    throw new HearthError(
      "FOLDER_UNREADABLE",
      `The watched folder ${root} cannot be read: ${(error as Error).message}`,
    );
  }
  const files: ScannedFile[] = [];
  const problems: ScanProblem[] = [];
  const walk = async (directory: string, ancestors: Set<string>, depth: number): Promise<void> => {
    let entries: string[];
    try {
      entries = (await readdir(directory)).sort();
    } catch (error) {
      problems.push({
        relativePath: relativeOf(root, directory),
        code: "FOLDER_UNREADABLE",
        message: `Cannot list the folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      });
      return;
    }
    for (const name of entries) {
      if (name.startsWith(".")) continue;
      const path = join(directory, name);
      const relativePath = relativeOf(root, path);
      try {
        const link = await lstat(path);
        const linkTarget = link.isSymbolicLink() ? await realpath(path) : undefined;
        if (linkTarget !== undefined && data !== undefined && isWithin(linkTarget, data)) {
          problems.push({
            relativePath,
            code: "WATCH_FOLDER_IN_DATA_DIR",
            message: "A symbolic link leads into Hearth's data directory; skipped",
          });
          continue;
        }
        const info = linkTarget !== undefined ? await stat(path) : link;
        if (info.isDirectory()) {
          const real = linkTarget ?? (await realpath(path));
          if (ancestors.has(real)) {
            problems.push({
              relativePath,
              code: "FOLDER_UNREADABLE",
              message: "A symbolic link loops back to a folder above it; skipped",
            });
            continue;
          }
          if (depth >= MAX_DEPTH) {
            problems.push({
              relativePath,
              code: "FOLDER_UNREADABLE",
              message: `Folders nest deeper than ${MAX_DEPTH} levels; skipped`,
            });
            continue;
          }
          await walk(path, new Set([...ancestors, real]), depth + 1);
        } else if (info.isFile()) {
          files.push({ relativePath, absolutePath: path, sizeBytes: info.size });
        }
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const reason =
          code === "ELOOP"
            ? "A symbolic link loops (ELOOP); skipped"
            : `Cannot read the entry: ${code ?? (error as Error).message}`;
        problems.push({ relativePath, code: "FOLDER_UNREADABLE", message: reason });
      }
    }
  };
  await walk(root, new Set([rootReal]), 0);
  return { files, problems };
}

function relativeOf(root: string, path: string): string {
  return relative(root, path).split("\\").join("/") || ".";
}

/**
 * Refuses a watched folder that is the data directory, lies inside it or holds it: a sync would
 * index Hearth's own databases and every user's stored files, and serve them to the base's readers.
 * Links are resolved, so a link to the data directory is refused too.
 */
export function assertWatchableFolder(folder: string, dataDir: string): void {
  // A relative path would be read from wherever the service happens to run (and one of spaces
  // is no folder at all): a folder on the server is named in full.
  if (!folder.trim() || folder !== folder.trim() || !isAbsolute(folder))
    throw new HearthError(
      "INVALID_REQUEST",
      `watchFolder ${JSON.stringify(folder)} is not an absolute path of a folder on the knowledge service's machine`,
      { details: { issues: [{ path: "watchFolder", code: "custom", message: "an absolute path" }] } },
    );
  const watched = realOrResolved(folder);
  const data = realOrResolved(dataDir);
  if (isWithin(watched, data) || isWithin(data, watched))
    throw new HearthError(
      "WATCH_FOLDER_IN_DATA_DIR",
      `The folder ${folder} is, holds or lies inside Hearth's data directory, which may not be watched`,
    );
}

/**
 * Refuses, when a base's watched folder is set, one that cannot be mirrored: it does not exist, is
 * not a directory, or cannot be read by the knowledge service (FOLDER_UNREADABLE, 422, with
 * `details.reason` `missing`, `not-a-directory` or `unreadable`), rather than taking it silently
 * and failing each sync. A folder that goes away later fails its syncs with the same code.
 */
export function assertReadableFolder(folder: string): void {
  const refuse = (reason: "missing" | "not-a-directory" | "unreadable", why: string) => {
    throw new HearthError("FOLDER_UNREADABLE", `The folder ${folder} ${why}`, {
      details: { reason, issues: [{ path: "watchFolder", code: "custom", message: why }] },
    });
  };
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR")
      refuse("missing", "does not exist on the knowledge service's machine");
    refuse("unreadable", `cannot be read by the knowledge service (${code ?? "error"})`);
  }
  if (!stats!.isDirectory()) refuse("not-a-directory", "is not a directory");
  try {
    accessSync(folder, constants.R_OK | constants.X_OK);
    readdirSync(folder);
  } catch (error) {
    refuse(
      "unreadable",
      `cannot be read by the knowledge service (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

/** A folder's real path; its resolved path when it does not exist (yet). */
function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

function isWithin(path: string, folder: string): boolean {
  const rest = relative(folder, path);
  return rest === "" || (rest !== ".." && !rest.startsWith(`..${sep}`) && !isAbsolute(rest));
}
