import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type HearthConfig, HearthError, PRIVATE_DIR } from "@hearth/core";

/**
 * The data dir must be writable; a default models dir is created, an explicitly named one must
 * exist. Returns what it changed for the operator to read: a data dir made by an earlier version
 * (or by hand) that other local users could open is closed to them (0700), as a new one is made.
 */
export function prepareStorage(config: HearthConfig): string[] {
  const changes: string[] = [];
  try {
    mkdirSync(config.dataDir, PRIVATE_DIR);
    closeToOthers(config.dataDir, changes);
    const probe = join(config.dataDir, `.write-probe-${process.pid}`);
    writeFileSync(probe, "");
    rmSync(probe);
  } catch (error) {
    throw new HearthError(
      "DATA_DIR_NOT_WRITABLE",
      `cannot write to the data dir ${config.dataDir} (${(error as NodeJS.ErrnoException).code ?? "error"}); fix its permissions or set HEARTH_DATA_DIR`,
    );
  }
  const defaultModelsDir = join(config.dataDir, "models");
  if (config.model.modelsDir === defaultModelsDir) {
    mkdirSync(defaultModelsDir, PRIVATE_DIR);
    closeToOthers(defaultModelsDir, changes);
    return changes;
  }
  const isDirectory = (() => {
    try {
      return statSync(config.model.modelsDir).isDirectory();
    } catch {
      return false;
    }
  })();
  if (!isDirectory) {
    throw new HearthError(
      "MODELS_DIR_MISSING",
      `the models dir ${config.model.modelsDir} (HEARTH_MODELS_DIR) does not exist; create it or fix the path`,
    );
  }
  return changes;
}

/** Takes group and other access off a directory this user owns; one it does not own is left alone. */
function closeToOthers(dir: string, changes: string[]): void {
  const { mode, uid } = statSync(dir);
  if ((mode & 0o077) === 0 || uid !== process.getuid?.()) return;
  chmodSync(dir, mode & 0o700);
  changes.push(
    `closed ${dir} to other local users (mode ${(mode & 0o777).toString(8)} -> ${(mode & 0o700).toString(8)})`,
  );
}
