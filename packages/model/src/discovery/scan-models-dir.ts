import { readdir, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { checkGgufFile } from "./gguf-validation.js";
import {
  danglingModelLink,
  modelNameFromFile,
  type SkippedModelFile,
  skippedModelFile,
} from "./model-name.js";

export interface ScannedModel {
  /** `name:tag`, from the file name. */
  name: string;
  path: string;
  sizeBytes: number;
  valid: boolean;
  error?: string;
  /** Set when the file is skipped for its name (not read at all). */
  skipped?: SkippedModelFile;
}

export interface ModelFile {
  /** `name:tag`, from the file name. */
  name: string;
  path: string;
  /**
   * A link rather than a file of its own: the registry's (to its blob, or a local Ollama's), or one
   * made by hand to a file elsewhere (which the registry registers where it is).
   */
  symbolicLink: boolean;
  /** Why the file is not served (its name is not a model name, or it is a link to no file); absent for a file that is. */
  skipped?: SkippedModelFile;
}

/**
 * Every *.gguf file or link in the models dir, by file name; none when the dir does not exist. A
 * link to a directory is no model file (left out); a link that leads to no file is skipped, saying so.
 */
export async function listModelFiles(modelsDir: string): Promise<ModelFile[]> {
  const entries = await readdir(modelsDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  const files: ModelFile[] = [];
  for (const entry of entries
    .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && /\.gguf$/i.test(entry.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(modelsDir, entry.name);
    let skipped = skippedModelFile(entry.name);
    if (entry.isSymbolicLink()) {
      const target = await stat(path).catch(() => undefined);
      if (target && !target.isFile()) continue;
      if (!target && !skipped) {
        // Gone meanwhile (removed between the listing and the stat): not a file of the dir any more.
        const written = await readlink(path).catch(() => undefined);
        if (written === undefined) continue;
        skipped = danglingModelLink(entry.name, written);
      }
    }
    files.push({
      name: modelNameFromFile(entry.name),
      path,
      symbolicLink: entry.isSymbolicLink(),
      ...(skipped ? { skipped } : {}),
    });
  }
  return files;
}

/** The *.gguf files of the models dir skipped for their names, each with why and the fix. */
export async function skippedModelFiles(modelsDir: string): Promise<SkippedModelFile[]> {
  return (await listModelFiles(modelsDir)).flatMap((file) => (file.skipped ? [file.skipped] : []));
}

/** For `hearth doctor`: every *.gguf in the dir with whether it is served (a model name, a valid, complete GGUF). */
export async function scanModelsDir(modelsDir: string): Promise<ScannedModel[]> {
  const result: ScannedModel[] = [];
  for (const { name, path, skipped } of await listModelFiles(modelsDir)) {
    if (skipped) {
      result.push({ name, path, sizeBytes: 0, valid: false, error: skipped.why, skipped });
      continue;
    }
    const check = await checkGgufFile(path);
    result.push({
      name,
      path,
      sizeBytes: check.sizeBytes,
      valid: check.valid,
      ...(check.error ? { error: check.error } : {}),
    });
  }
  return result;
}
