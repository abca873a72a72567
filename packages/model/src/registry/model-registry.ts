import { createHash } from "node:crypto";
import {
  copyFile,
  link,
  lstat,
  mkdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { normalizeModelName } from "@hearth/contracts";
import { HearthError, PRIVATE_DIR } from "@hearth/core";
import { checkGgufFile } from "../discovery/gguf-validation.js";
import { isModelName, MODEL_NAME_RULE, modelNameFromFile } from "../discovery/model-name.js";
import { listModelFiles } from "../discovery/scan-models-dir.js";
import { downloadBlob, sha256File } from "./blob-download.js";
import {
  blobUrl,
  fetchManifest,
  modelLayer,
  ollamaManifestSchema,
  parseRegistryReference,
} from "./ollama-registry-client.js";
import { compareVersions, nextVersion } from "./semantic-version.js";

/** The file name a `name:tag` model is served under: `name.gguf` for `latest`, else `name@tag.gguf`. */
export function fileNameForModel(name: string): string {
  const normalized = normalizeModelName(name);
  if (!isModelName(normalized))
    throw new HearthError("INVALID_REQUEST", `"${name}" is not a valid model name (${MODEL_NAME_RULE})`);
  const colon = normalized.lastIndexOf(":");
  const base = normalized.slice(0, colon);
  const tag = normalized.slice(colon + 1);
  return tag === "latest" ? `${base}.gguf` : `${base}@${tag}.gguf`;
}

export interface ModelVersion {
  version: string;
  /** `sha256:<hex>` of the GGUF file. */
  digest: string;
  sizeBytes: number;
  /** Where the bytes are: a blob in the registry, or in a local Ollama's store (imported, not copied). */
  blob: string;
  source: string;
  changelog: string;
  createdAt: string;
}

export interface ModelRecord {
  name: string;
  current: string;
  versions: ModelVersion[];
}

interface RegistryFile {
  models: Record<string, ModelRecord>;
}

export interface PullProgress {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

/** A registered model with every version (the registry's HTTP routes and `hearth models list` read this). */
export interface RegistryModel {
  name: string;
  /** The semantic version served now. */
  current: ModelVersion;
  /** Every version, oldest first (by semantic version). */
  versions: ModelVersion[];
}

export interface InstalledModel {
  name: string;
  version: string;
  digest: string;
  sizeBytes: number;
  source: string;
  changelog: string;
  versions: string[];
}

/** The model registry's directory: `registryDir` when set, else `.hearth` under the models directory. */
export function registryDirFor(modelsDir: string, registryDir?: string): string {
  return registryDir ? resolve(registryDir) : join(modelsDir, ".hearth");
}

/**
 * Installed models with versions. Each model is served from `<modelsDir>/<name>.gguf`; for a
 * registered model that is a symbolic link to the blob of its current version, so switching
 * versions (a pull of new weights, a rollback) is one link swap and old versions stay on disk.
 */
export class ModelRegistry {
  readonly #modelsDir: string;
  readonly #registryDir: string;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(
    modelsDir: string,
    private readonly hooks: { onChange?: (name: string) => Promise<void> } = {},
    registryDir?: string,
  ) {
    this.#modelsDir = resolve(modelsDir);
    this.#registryDir = resolve(registryDirFor(modelsDir, registryDir));
  }

  get blobsDir(): string {
    return join(this.#registryDir, "blobs");
  }

  /** Registry operations run one at a time: each reads and rewrites registry.json. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(task, task);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #read(): Promise<RegistryFile> {
    try {
      const file = JSON.parse(
        await readFile(join(this.#registryDir, "registry.json"), "utf8"),
      ) as RegistryFile;
      // Blobs are recorded by absolute path; restored into another data dir, they are in this blobs dir.
      for (const version of Object.values(file.models).flatMap((record) => record.versions)) {
        const here = join(this.blobsDir, basename(version.blob));
        if (
          version.blob !== here &&
          !(await lstat(version.blob).catch(() => undefined)) &&
          (await lstat(here).catch(() => undefined))
        )
          version.blob = here;
      }
      return file;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { models: {} };
      throw new HearthError(
        "INTERNAL_ERROR",
        `the model registry file is unreadable: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  async #write(file: RegistryFile): Promise<void> {
    await mkdir(this.#registryDir, PRIVATE_DIR);
    const path = join(this.#registryDir, "registry.json");
    // Write then rename, so a crash never leaves a half-written registry.
    await writeFile(`${path}.tmp`, `${JSON.stringify(file, null, 2)}\n`);
    await rename(`${path}.tmp`, path);
  }

  #current(record: ModelRecord): ModelVersion {
    return record.versions.find((version) => version.version === record.current) ?? record.versions.at(-1)!;
  }

  async #link(name: string, blob: string): Promise<void> {
    const path = join(this.#modelsDir, fileNameForModel(name));
    await rm(path, { force: true });
    await symlink(blob, path);
    await this.hooks.onChange?.(name);
  }

  /**
   * A regular file already served under `name` becomes the model's first version (moved, not
   * copied). False when there is no such file, or when it changed while it was hashed (still being
   * copied in): a later listing registers it once it is complete.
   */
  async #adoptFile(file: RegistryFile, name: string): Promise<boolean> {
    if (file.models[name]) return true;
    const path = join(this.#modelsDir, fileNameForModel(name));
    const stats = await lstat(path).catch(() => undefined);
    if (!stats?.isFile()) return false;
    const digest = await sha256File(path);
    const after = await lstat(path).catch(() => undefined);
    if (
      !after?.isFile() ||
      after.ino !== stats.ino ||
      after.size !== stats.size ||
      after.mtimeMs !== stats.mtimeMs
    )
      return false;
    await mkdir(this.blobsDir, PRIVATE_DIR);
    const blob = join(this.blobsDir, digest.replace(":", "-"));
    // Another name holds these bytes already (a copy, a hard link): the blob serves both. Else the
    // file becomes the blob: hard-linked there, so that the name keeps serving it until the link
    // below replaces it; where hard links are refused, moved.
    let moved = false;
    if (!(await lstat(blob).catch(() => undefined))) {
      try {
        await link(path, blob);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EMLINK") throw error;
        await rename(path, blob);
        moved = true;
      }
    }
    // The file is replaced by the link in one rename: the model is never missing from the models dir
    // (a request for it meanwhile would answer MODEL_NOT_FOUND), and a model loaded from the file
    // keeps its bytes (the blob is the same file; mapped memory outlives a name).
    const temporary = join(this.#modelsDir, `.${basename(path)}.${process.pid}.link`);
    await rm(temporary, { force: true });
    await symlink(blob, temporary);
    try {
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      if (moved) await rename(blob, path).catch(() => undefined);
      throw error;
    }
    file.models[name] = {
      name,
      current: "1.0.0",
      versions: [
        {
          version: "1.0.0",
          digest,
          sizeBytes: stats.size,
          blob,
          source: "models dir",
          changelog: "found in the models dir",
          createdAt: new Date(stats.mtimeMs).toISOString(),
        },
      ],
    };
    return true;
  }

  /** Records a version (a new one only when the digest is new) and makes it current. */
  async #install(name: string, entry: Omit<ModelVersion, "version" | "createdAt">): Promise<ModelVersion> {
    const file = await this.#read();
    await this.#adoptFile(file, name);
    const record = file.models[name] ?? { name, current: "", versions: [] };
    let version = record.versions.find((candidate) => candidate.digest === entry.digest);
    if (!version) {
      version = {
        ...entry,
        version: nextVersion(record.versions.map((candidate) => candidate.version)),
        createdAt: new Date().toISOString(),
      };
      record.versions.push(version);
    }
    record.current = version.version;
    file.models[name] = record;
    await this.#write(file);
    await this.#link(name, version.blob);
    return version;
  }

  /**
   * Every model in the models dir with all its versions; files dropped in by hand are registered
   * (hashed once), each recorded as soon as it is moved. A file whose name is not a model name is
   * skipped, and so is a recorded model whose file or blob is gone.
   */
  models(): Promise<RegistryModel[]> {
    return this.#serial(async () => {
      const file = await this.#read();
      for (const { name, symbolicLink } of await listModelFiles(this.#modelsDir)) {
        if (file.models[name] || !isModelName(name) || symbolicLink) continue;
        if (await this.#adoptFile(file, name)) await this.#write(file);
      }
      // A model whose weights are gone (restored from a backup without them) is not served: not listed.
      const served: ModelRecord[] = [];
      for (const record of Object.values(file.models))
        if (await stat(join(this.#modelsDir, fileNameForModel(record.name))).catch(() => undefined))
          served.push(record);
      return served.sort((a, b) => a.name.localeCompare(b.name)).map((record) => this.#describe(record));
    });
  }

  /** One model with all its versions; MODEL_NOT_FOUND when it has none recorded. */
  async model(nameInput: string): Promise<RegistryModel> {
    const name = normalizeModelName(nameInput);
    const found = (await this.models()).find((model) => model.name === name);
    if (!found) throw new HearthError("MODEL_NOT_FOUND", `model "${nameInput}" has no recorded versions`);
    return found;
  }

  #describe(record: ModelRecord): RegistryModel {
    return {
      name: record.name,
      current: this.#current(record),
      versions: [...record.versions].sort((a, b) => compareVersions(a.version, b.version)),
    };
  }

  /** Every model in the models dir with its current version (the CLI's table). */
  async list(): Promise<InstalledModel[]> {
    return (await this.models()).map(({ name, current, versions }) => ({
      name,
      version: current.version,
      digest: current.digest,
      sizeBytes: current.sizeBytes,
      source: current.source,
      changelog: current.changelog,
      versions: versions.map((version) => version.version),
    }));
  }

  /**
   * Registers one file dropped into the models dir, as listing the models would (the embedded
   * runtime asks, in the background, when its scan first finds one): hashed, made a blob, linked
   * back. Answers its digest; undefined when there is no file of its own under that name (a link),
   * or when it changed while it was hashed (still being copied in). Serialised with every other
   * registry operation, so two scans never register a file twice.
   */
  adopt(nameInput: string): Promise<string | undefined> {
    return this.#serial(async () => {
      const name = normalizeModelName(nameInput);
      const file = await this.#read();
      if (!file.models[name]) {
        if (!isModelName(name) || !(await this.#adoptFile(file, name))) return undefined;
        await this.#write(file);
      }
      return this.#current(file.models[name]!).digest;
    });
  }

  /** Content digests of registered models by name (no hashing: files not registered yet are absent). */
  async digests(): Promise<Map<string, string>> {
    const file = await this.#read();
    return new Map(Object.values(file.models).map((record) => [record.name, this.#current(record).digest]));
  }

  /** The content digest of a registered model (undefined for files not registered yet). */
  async digestOf(name: string): Promise<string | undefined> {
    const record = (await this.#read()).models[normalizeModelName(name)];
    return record ? this.#current(record).digest : undefined;
  }

  /**
   * Pulls a model: from the Ollama registry protocol (manifest, then the model blob), or from a
   * plain http(s) URL of a GGUF file. Resumes interrupted downloads; checks the digest.
   */
  pull(
    reference: string,
    options: {
      name?: string;
      insecure?: boolean;
      signal?: AbortSignal;
      onProgress?: (progress: PullProgress) => void;
    } = {},
  ): Promise<ModelVersion & { name: string }> {
    return this.#serial(async () => {
      const progress = options.onProgress ?? (() => {});
      await mkdir(this.blobsDir, PRIVATE_DIR);
      if (/^https?:\/\/.+\.gguf(\?.*)?$/i.test(reference)) {
        const fileName = basename(new URL(reference).pathname);
        const name = normalizeModelName(options.name ?? modelNameFromFile(fileName));
        fileNameForModel(name);
        progress({ status: `downloading ${fileName}` });
        const staging = join(
          this.blobsDir,
          `url-${createHash("sha256").update(reference).digest("hex").slice(0, 16)}`,
        );
        const result = await downloadBlob({
          url: reference,
          destination: staging,
          requireGguf: true,
          signal: options.signal,
          onProgress: ({ completed, total }) => progress({ status: `pulling ${fileName}`, completed, total }),
        });
        progress({ status: "verifying sha256 digest", digest: result.digest });
        const blob = join(this.blobsDir, result.digest.replace(":", "-"));
        await rename(staging, blob);
        await this.#checkGguf(blob, reference);
        progress({ status: "writing manifest" });
        const version = await this.#install(name, {
          digest: result.digest,
          sizeBytes: result.size,
          blob,
          source: reference,
          changelog: `pulled from ${reference}`,
        });
        progress({ status: "success" });
        return { ...version, name };
      }

      const parsed = parseRegistryReference(reference, { insecure: options.insecure });
      const name = normalizeModelName(options.name ?? `${parsed.model}:${parsed.tag}`);
      fileNameForModel(name);
      progress({ status: "pulling manifest" });
      const manifest = await fetchManifest(parsed, options.signal);
      const layer = modelLayer(manifest);
      const blob = join(this.blobsDir, layer.digest.replace(":", "-"));
      const have = await stat(blob).catch(() => undefined);
      if (have?.size !== layer.size) {
        const result = await downloadBlob({
          url: blobUrl(parsed, layer.digest),
          destination: blob,
          expectedDigest: layer.digest,
          signal: options.signal,
          onProgress: ({ completed }) =>
            progress({
              status: `pulling ${layer.digest.slice(7, 19)}`,
              digest: layer.digest,
              total: layer.size,
              completed,
            }),
        });
        progress({ status: "verifying sha256 digest", digest: result.digest });
      } else {
        progress({
          status: `pulling ${layer.digest.slice(7, 19)}`,
          digest: layer.digest,
          total: layer.size,
          completed: layer.size,
        });
      }
      await this.#checkGguf(blob, reference);
      progress({ status: "writing manifest" });
      const source = `${parsed.baseUrl}/${parsed.namespace}/${parsed.model}:${parsed.tag}`;
      const version = await this.#install(name, {
        digest: layer.digest,
        sizeBytes: layer.size,
        blob,
        source,
        changelog: `pulled from ${source}`,
      });
      progress({ status: "success" });
      return { ...version, name };
    });
  }

  async #checkGguf(blob: string, reference: string): Promise<void> {
    const check = await checkGgufFile(blob);
    if (!check.valid) {
      await rm(blob, { force: true });
      throw new HearthError("MODEL_FILE_INVALID", `${reference} is not a usable GGUF: ${check.error}`);
    }
  }

  /**
   * Imports a model a local Ollama already pulled: reads its manifest and links the model blob in
   * Ollama's store (no gigabytes copied). `ollamaDir` is Ollama's models dir (manifests/ and blobs/).
   */
  importFromOllama(
    reference: string,
    ollamaDir: string,
    options: { name?: string } = {},
  ): Promise<ModelVersion & { name: string }> {
    return this.#serial(async () => {
      const parsed = parseRegistryReference(reference);
      const host = new URL(parsed.baseUrl).host;
      const manifestPath = join(ollamaDir, "manifests", host, parsed.namespace, parsed.model, parsed.tag);
      let text: string;
      try {
        text = await readFile(manifestPath, "utf8");
      } catch {
        throw new HearthError(
          "MODEL_NOT_FOUND",
          `Ollama has no ${parsed.model}:${parsed.tag} in ${ollamaDir} (no ${manifestPath})`,
        );
      }
      const manifest = ollamaManifestSchema.safeParse(JSON.parse(text));
      if (!manifest.success)
        throw new HearthError("MODEL_FILE_INVALID", `${manifestPath} is not an Ollama manifest`);
      const layer = modelLayer(manifest.data);
      const blob = resolve(ollamaDir, "blobs", layer.digest.replace(":", "-"));
      const check = await checkGgufFile(blob);
      if (!check.valid)
        throw new HearthError(
          "MODEL_FILE_INVALID",
          `the Ollama blob ${blob} is not a usable GGUF: ${check.error}`,
        );
      const name = normalizeModelName(options.name ?? `${parsed.model}:${parsed.tag}`);
      fileNameForModel(name);
      const version = await this.#install(name, {
        digest: layer.digest,
        sizeBytes: check.sizeBytes,
        blob,
        source: `ollama:${parsed.namespace}/${parsed.model}:${parsed.tag}`,
        changelog: `imported from the local Ollama (${ollamaDir})`,
      });
      return { ...version, name };
    });
  }

  /**
   * Switches a model back to an earlier version: the one named, or the one before the current.
   * Answers the version served before (`from`) and the model as it is now.
   */
  rollback(nameInput: string, to?: string): Promise<{ from: string; model: RegistryModel }> {
    return this.#serial(async () => {
      const name = normalizeModelName(nameInput);
      const file = await this.#read();
      const record = file.models[name];
      if (!record) throw new HearthError("MODEL_NOT_FOUND", `model "${nameInput}" has no recorded versions`);
      const ordered = [...record.versions].sort((a, b) => compareVersions(a.version, b.version));
      const target = to
        ? ordered.find((version) => version.version === to.replace(/^v/, ""))
        : ordered.filter((version) => compareVersions(version.version, record.current) < 0).at(-1);
      if (!target) {
        throw new HearthError(
          "MODEL_VERSION_NOT_FOUND",
          to
            ? `model "${name}" has no version ${to}`
            : `model "${name}" has no version before ${record.current}`,
        );
      }
      const from = this.#current(record).version;
      record.current = target.version;
      await this.#write(file);
      await this.#link(name, target.blob);
      return { from, model: this.#describe(record) };
    });
  }

  /** Removes a model from the models dir; registry blobs no other model uses are deleted too. */
  remove(nameInput: string): Promise<void> {
    return this.#serial(async () => {
      const name = normalizeModelName(nameInput);
      const file = await this.#read();
      const path = join(this.#modelsDir, fileNameForModel(name));
      const record = file.models[name];
      const exists = await lstat(path).catch(() => undefined);
      if (!record && !exists)
        throw new HearthError("MODEL_NOT_FOUND", `model "${nameInput}" is not installed`);
      await this.hooks.onChange?.(name);
      await unlink(path).catch(() => undefined);
      await this.hooks.onChange?.(name);
      if (record) {
        delete file.models[name];
        await this.#write(file);
        const used = new Set(
          Object.values(file.models).flatMap((other) => other.versions.map((version) => version.blob)),
        );
        for (const version of record.versions) {
          if (!used.has(version.blob) && dirname(version.blob) === this.blobsDir)
            await rm(version.blob, { force: true });
        }
      }
    });
  }

  /** Serves a model under another name too (Ollama's copy): a link, no bytes copied. */
  copy(sourceInput: string, destinationInput: string): Promise<void> {
    return this.#serial(async () => {
      const source = normalizeModelName(sourceInput);
      const destination = normalizeModelName(destinationInput);
      const to = join(this.#modelsDir, fileNameForModel(destination));
      if (await lstat(to).catch(() => undefined))
        throw new HearthError("INVALID_REQUEST", `model "${destinationInput}" already exists`);
      const file = await this.#read();
      const record = file.models[source];
      if (record) {
        const current = this.#current(record);
        file.models[destination] = {
          name: destination,
          current: "1.0.0",
          versions: [
            {
              ...current,
              version: "1.0.0",
              changelog: `copied from ${source} ${current.version}`,
              createdAt: new Date().toISOString(),
            },
          ],
        };
        await this.#write(file);
        await this.#link(destination, current.blob);
        return;
      }
      const from = join(this.#modelsDir, fileNameForModel(source));
      const stats = await lstat(from).catch(() => undefined);
      if (!stats)
        throw new HearthError("MODEL_NOT_FOUND", `model "${sourceInput}" is not installed in the models dir`);
      if (stats.isSymbolicLink()) {
        await symlink(await readlink(from), to);
        await this.hooks.onChange?.(destination);
        return;
      }
      try {
        await link(from, to);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EXDEV" || code === "EPERM") await copyFile(from, to);
        else throw error;
      }
      await this.hooks.onChange?.(destination);
    });
  }
}
