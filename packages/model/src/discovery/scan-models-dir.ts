import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { checkGgufFile } from "./gguf-validation.js";
import { isModelName, MODEL_NAME_RULE, modelNameFromFile } from "./model-name.js";

export interface ScannedModel {
  /** `name:tag`, from the file name. */
  name: string;
  path: string;
  sizeBytes: number;
  valid: boolean;
  error?: string;
}

export interface ModelFile {
  /** `name:tag`, from the file name; check it with isModelName before serving it. */
  name: string;
  path: string;
  /** A link (to a registry blob or a local Ollama's) rather than a file of its own. */
  symbolicLink: boolean;
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
    .map((entry) => ({
      name: modelNameFromFile(entry.name),
      path: join(modelsDir, entry.name),
      symbolicLink: entry.isSymbolicLink(),
    }));
}

/** For `hearth doctor` and `hearth models list`: every *.gguf in the dir with whether it is served (a model name, a valid, complete GGUF). */
export async function scanModelsDir(modelsDir: string): Promise<ScannedModel[]> {
  const result: ScannedModel[] = [];
  for (const { name, path } of await listModelFiles(modelsDir)) {
    if (!isModelName(name)) {
      const error = `"${name}" is not a model name (${MODEL_NAME_RULE}): rename the file; it is not served`;
      result.push({ name, path, sizeBytes: 0, valid: false, error });
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
