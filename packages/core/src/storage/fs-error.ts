import { mkdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

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
