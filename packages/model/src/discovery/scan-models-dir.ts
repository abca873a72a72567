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

/** For `hearth doctor` and `hearth models list`: every *.gguf in the dir with whether it is served (a model name, a valid, complete GGUF). */
export async function scanModelsDir(modelsDir: string): Promise<ScannedModel[]> {
  const entries = await readdir(modelsDir, { withFileTypes: true });
  const files = entries
    .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && /\.gguf$/i.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  const result: ScannedModel[] = [];
  for (const file of files) {
    const path = join(modelsDir, file);
    const name = modelNameFromFile(file);
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
