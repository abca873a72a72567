import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type HearthConfig, HearthError, PRIVATE_DIR } from "@hearth/core";
import { MESSAGES, type Messages, messages } from "./messages/index.js";

/**
 * The data dir must be writable; a default models dir is created, an explicitly named one must
 * exist. Returns what it changed for the operator to read: a data dir made by an earlier version
 * (or by hand) that other local users could open is closed to them (0700), as a new one is made.
 * Its errors are in the command's language; the changes in `changesIn`'s, English for the services'
 * logs unless told (`hearth doctor` shows them in the command's).
 */
export function prepareStorage(config: HearthConfig, changesIn: Messages = MESSAGES.en): string[] {
  const m = messages();
  const changes: string[] = [];
  try {
    mkdirSync(config.dataDir, PRIVATE_DIR);
    closeToOthers(config.dataDir, changes, changesIn);
    const probe = join(config.dataDir, `.write-probe-${process.pid}`);
    writeFileSync(probe, "");
    rmSync(probe);
  } catch (error) {
    throw new HearthError(
      "DATA_DIR_NOT_WRITABLE",
      m.dataDirNotWritable(config.dataDir, (error as NodeJS.ErrnoException).code ?? "error"),
    );
  }
  const defaultModelsDir = join(config.dataDir, "models");
  if (config.model.modelsDir === defaultModelsDir) {
    mkdirSync(defaultModelsDir, PRIVATE_DIR);
    closeToOthers(defaultModelsDir, changes, changesIn);
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
    throw new HearthError("MODELS_DIR_MISSING", m.modelsDirMissing(config.model.modelsDir));
  }
  return changes;
}

/** Takes group and other access off a directory this user owns; one it does not own is left alone. */
function closeToOthers(dir: string, changes: string[], m: Messages): void {
  const { mode, uid } = statSync(dir);
  if ((mode & 0o077) === 0 || uid !== process.getuid?.()) return;
  chmodSync(dir, mode & 0o700);
  changes.push(m.closedToOthers(dir, (mode & 0o777).toString(8), (mode & 0o700).toString(8)));
}
