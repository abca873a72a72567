import { copyFile, link, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { HearthError } from "@hearth/core";
import { modelNameFromFile, normalizeModelName } from "../discovery/model-name.js";
import type { EmbeddedRuntime } from "../runtime/embedded/embedded-runtime.js";

/** The file name a `name:tag` model is stored under: `name.gguf` for `latest`, else `name@tag.gguf`. */
export function fileNameForModel(name: string): string {
  const normalized = normalizeModelName(name);
  const colon = normalized.lastIndexOf(":");
  const base = normalized.slice(0, colon);
  const tag = normalized.slice(colon + 1);
  if (!/^[\w.-]+$/.test(base) || !/^[\w.-]+$/.test(tag)) {
    throw new HearthError(
      "INVALID_REQUEST",
      `"${name}" is not a valid model name (letters, digits, '.', '_', '-', and one ':tag')`,
    );
  }
  return tag === "latest" ? `${base}.gguf` : `${base}@${tag}.gguf`;
}

/** Installed models as files in the models dir: delete and copy (a hard link: no gigabytes copied). */
export class ModelRegistry {
  constructor(
    private readonly modelsDir: string,
    private readonly embedded: EmbeddedRuntime,
  ) {}

  async #fileOf(name: string): Promise<string> {
    const wanted = normalizeModelName(name);
    let entries: string[] = [];
    try {
      entries = await readdir(this.modelsDir);
    } catch {
      entries = [];
    }
    const file = entries.find((entry) => /\.gguf$/i.test(entry) && modelNameFromFile(entry) === wanted);
    if (!file) throw new HearthError("MODEL_NOT_FOUND", `model "${name}" is not installed in the models dir`);
    return join(this.modelsDir, file);
  }

  async remove(name: string): Promise<void> {
    const path = await this.#fileOf(name);
    await this.embedded.unload(normalizeModelName(name));
    await unlink(path);
  }

  async copy(source: string, destination: string): Promise<void> {
    const from = await this.#fileOf(source);
    const to = join(this.modelsDir, fileNameForModel(destination));
    try {
      await link(from, to);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST")
        throw new HearthError("INVALID_REQUEST", `model "${destination}" already exists`);
      if (code === "EXDEV" || code === "EPERM") await copyFile(from, to);
      else throw error;
    }
  }
}
