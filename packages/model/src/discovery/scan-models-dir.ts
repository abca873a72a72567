import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { checkGgufFile } from "./gguf-validation.js";
import { modelNameFromFile } from "./model-name.js";

export interface ScannedModel {
  /** `name:tag`, from the file name. */
  name: string;
  path: string;
  sizeBytes: number;
  valid: boolean;
  error?: string;
}

/** For `hearth doctor`: every *.gguf in the dir with whether it is a valid, complete GGUF. */
export async function scanModelsDir(modelsDir: string): Promise<ScannedModel[]> {
  const entries = await readdir(modelsDir, { withFileTypes: true });
  const files = entries
    .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && /\.gguf$/i.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  const result: ScannedModel[] = [];
  for (const file of files) {
    const path = join(modelsDir, file);
    const check = await checkGgufFile(path);
    result.push({
      name: modelNameFromFile(file),
      path,
      sizeBytes: check.sizeBytes,
      valid: check.valid,
      ...(check.error ? { error: check.error } : {}),
    });
  }
  return result;
}
