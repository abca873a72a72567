import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { checkGgufFile } from "./gguf-validation.js";
import { modelNameFromFile, type SkippedModelFile, skippedModelFile } from "./model-name.js";

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
  /** A link (to a registry blob or a local Ollama's) rather than a file of its own. */
  symbolicLink: boolean;
  /** Why the file is not served (its name is not a model name); absent for a file that is. */
  skipped?: SkippedModelFile;
}

/** Every *.gguf file or link in the models dir, by file name; none when the dir does not exist. */
export async function listModelFiles(modelsDir: string): Promise<ModelFile[]> {
  const entries = await readdir(modelsDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  return entries
    .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && /\.gguf$/i.test(entry.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((entry) => {
      const skipped = skippedModelFile(entry.name);
      return {
        name: modelNameFromFile(entry.name),
        path: join(modelsDir, entry.name),
        symbolicLink: entry.isSymbolicLink(),
        ...(skipped ? { skipped } : {}),
      };
    });
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
