import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The shared data folder (../shared beside the checkout, or HEARTH_SHARED_DIR), or undefined on a
 * fresh clone without it: tests that need its larger real data skip then. CI always has it.
 */
export const sharedDir: string | undefined = (() => {
  const candidate = process.env.HEARTH_SHARED_DIR ?? resolve(repoRoot, "../shared");
  return existsSync(resolve(candidate, "models")) || existsSync(resolve(candidate, "datasets"))
    ? candidate
    : undefined;
})();

/** A file under the shared folder when it exists. */
export function sharedFile(...parts: string[]): string | undefined {
  if (!sharedDir) return undefined;
  const path = resolve(sharedDir, ...parts);
  return existsSync(path) ? path : undefined;
}
