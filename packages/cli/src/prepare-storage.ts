import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type HearthConfig, HearthError, PRIVATE_DIR } from "@hearth/core";

/** The data dir must be writable; a default models dir is created, an explicitly named one must exist. */
export function prepareStorage(config: HearthConfig): void {
  try {
    mkdirSync(config.dataDir, PRIVATE_DIR);
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
    return;
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
}
