import { createHash, randomBytes } from "node:crypto";
import {
  copyFile,
  link,
  lstat,
  mkdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { normalizeModelName } from "@hearth/contracts";
import { HearthError, isInside, type PidFileLock, PRIVATE_DIR, withoutUrlSecrets } from "@hearth/core";
import { checkGgufFile } from "../discovery/gguf-validation.js";
import {
  isModelName,
  MODEL_NAME_RULE,
  modelNameFromFile,
  skippedModelFile,
} from "../discovery/model-name.js";
import { listModelFiles } from "../discovery/scan-models-dir.js";
import { downloadBlob, sha256File } from "./blob-download.js";
import {
  blobUrl,
  fetchManifest,
  modelLayer,
  ollamaManifestSchema,
  parseRegistryReference,
  type RegistryReference,
} from "./ollama-registry-client.js";
import { lockLost, type RegistryLockTiming, withRegistryLock } from "./registry-lock.js";
import { compareVersions, nextVersion, parseVersion } from "./semantic-version.js";
import { type SharedDownloadContext, sharedDownload } from "./shared-pull.js";

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

/** What a pull fetches (a GGUF file's plain http(s) URL, or a model of a registry) and the name it installs it as. */
export type PullReference = { name: string } & (
  | { url: string; fileName: string }
  | { registry: RegistryReference }
);

/**
 * What `reference` asks to pull, and the name it is installed as (`options.name` when given): what
 * `ModelRegistry.pull` takes. Refused when either is malformed (MODEL_REFERENCE_INVALID;
 * INVALID_REQUEST for a name that is no model name) before anything is fetched: the Ollama API
 * answers that with 400 before its stream of progress starts, as Ollama does.
 */
export function parsePullReference(
  reference: string,
  options: { name?: string; insecure?: boolean } = {},
): PullReference {
  if (/^https?:\/\/.+\.gguf(\?.*)?$/i.test(reference)) {
    if (!URL.canParse(reference))
      throw new HearthError("MODEL_REFERENCE_INVALID", `"${withoutUrlSecrets(reference)}" is not a URL`);
    const fileName = basename(new URL(reference).pathname);
    const name = normalizeModelName(options.name ?? modelNameFromFile(fileName));
    fileNameForModel(name);
    return { name, url: reference, fileName };
  }
  const registry = parseRegistryReference(reference, { insecure: options.insecure });
  const name = normalizeModelName(options.name ?? `${registry.model}:${registry.tag}`);
  fileNameForModel(name);
  return { name, registry };
}

export interface ModelVersion {
  version: string;
  /** `sha256:<hex>` of the GGUF file. */
  digest: string;
  sizeBytes: number;
  /**
   * Where the bytes are: a blob in the registry, in a local Ollama's store (imported, not copied), or
   * the user's own file that a link in the models dir leads to (`linkedFile`).
   */
  blob: string;
  /**
   * Set when `blob` is the user's own file, found through a link made in the models dir (`ln -s
   * ~/models/x.gguf`), by its real path: read where it is, never moved, renamed or deleted.
   */
  linkedFile?: true;
  /**
   * Where they came from: a registry reference or a URL (without its user info and query:
   * credentials are never stored), `ollama:…`, "models dir" (a file dropped in), or "models dir
   * link" (a link to a file of the user's).
   */
  source: string;
  changelog: string;
  createdAt: string;
  /**
   * The blob's mtime when its bytes were last hashed (recorded by this release onwards): a blob whose
   * size or mtime differ from the recorded ones is hashed again before its digest is reported.
   */
  blobMtimeMs?: number;
  /** When this version's bytes were lost (overwritten in place by other weights): it can no longer be served. */
  lostAt?: string;
}

/** What `remove` did: the link it removed and the weights it deleted or kept. */
export interface RemovedModel {
  name: string;
  /** The path removed from the models dir (a link: removing it never deletes weights by itself). */
  removed?: string;
  /** A file under the name that is not the registry's (not registered yet): left where it is. */
  keptFile?: string;
  /** Blobs deleted because no other model uses them: the last copy of those weights in the registry. */
  deletedWeights: Array<{ digest: string; sizeBytes: number }>;
  /**
   * Weights kept: used by another model (named), or outside the registry (their path): a local
   * Ollama's blob, or the user's file the removed link led to. Those are never deleted.
   */
  keptWeights: Array<{ digest: string; usedBy?: string[]; outside?: string }>;
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
  /** On `success` (beside Ollama's fields): the model installed and the version it became. */
  name?: string;
  version?: string;
  /** On `success`: true when the model already served these weights (a pull of the same bytes again). */
  unchanged?: boolean;
}

/** A registered model with every version (the registry's HTTP routes and `hearth models list` read this). */
export interface RegistryModel {
  name: string;
  /** The semantic version served now. */
  current: ModelVersion;
  /** Every version, oldest first (by semantic version). */
  versions: ModelVersion[];
}

/**
 * A model whose file is still being registered: hashed in the background (the model service's
 * registry never waits for it), so it has no version or digest yet. Its recorded versions, when it
 * has any, are kept; which of them is served is known once the hash is done.
 */
export interface RegisteringModel {
  name: string;
  /** The size of the file being hashed. */
  sizeBytes: number;
  /** Bytes of the file hashed so far, of `total`. */
  registering: HashProgress;
  /** The versions recorded before, oldest first (none for a file new to the registry). */
  versions: ModelVersion[];
}

/** What a listing holds: registered models, and (in the background mode) models being registered. */
export type RegistryEntry = RegistryModel | RegisteringModel;

export function isRegistering(entry: RegistryEntry): entry is RegisteringModel {
  return "registering" in entry;
}

/** How far the hash of a file is: `completed` bytes of `total`. */
export interface HashProgress {
  completed: number;
  total: number;
}

export interface ModelRegistryOptions {
  /**
   * No operation but `adopt` waits for a file to be hashed (the model service's registry): a file
   * whose hash is not done is hashed in the background; a listing (`listing`) shows its model as
   * registering, with the bytes hashed so far, and `remove`, `copy`, `rollback`, `model` and a pull
   * installing under its name refuse it with MODEL_REGISTERING. Unset (the CLI's registry), an
   * operation hashes what it needs before it answers.
   */
  hashInBackground?: boolean;
  /** Bytes read at a time when a file is hashed (64 KiB unless set); tests lower it to hash slowly. */
  hashChunkBytes?: number;
  /**
   * How long a change waits for the registry's lock held by another process, and when a lock of
   * another host (the registry's, or a pull's) is stale; tests lower them.
   */
  lock?: RegistryLockTiming;
}

/**
 * How many times at most, unless the hashing is in the background, an operation waits for the
 * hashes it needs and runs again (each time finding new files to hash); then what is not hashed is
 * left out, registered by a later operation.
 */
const HASH_ROUNDS = 3;

/**
 * The hash of one file (by path), under way or done, shared by every registration that needs it: a
 * file is never hashed twice at once, and a finished hash is used again while the file is unchanged.
 */
interface FileHash extends HashProgress {
  /** `ino:size:mtime` of the file hashed: another stamp is another file, or the same one changed. */
  stamp: string;
  /** The digest once hashed. */
  digest?: string;
  /**
   * The digest; undefined when the file changed while it was hashed (still being copied in) or
   * another hash of its path replaced this one; rejected when it could not be read.
   */
  done: Promise<string | undefined>;
  stop: AbortController;
}

/** What tells one file from another for a hash: its inode, size and mtime. */
function stampOf(stats: { ino: number; size: number; mtimeMs: number }): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}

/** MODEL_REGISTERING's message: the model, and how much of its file is hashed. */
function registeringMessage(name: string, progress: HashProgress): string {
  const percent = progress.total > 0 ? Math.floor((progress.completed * 100) / progress.total) : 0;
  return `model "${name}" is still being registered: ${percent}% of its file hashed (${progress.completed} of ${progress.total} bytes); try again shortly`;
}

/** A model still being registered, refused (MODEL_REGISTERING) with how far its hash is. */
function stillRegistering(name: string, progress: HashProgress): HearthError {
  return new HearthError("MODEL_REGISTERING", registeringMessage(name, progress), {
    details: { completed: progress.completed, total: progress.total },
  });
}

/**
 * Thrown where a registration needs a hash not done yet (never waited for under the registry's
 * lock): with those hashes, to wait for outside it. The message is the first one's.
 */
class HashPending extends HearthError {
  constructor(
    name: string,
    readonly hashes: [FileHash, ...FileHash[]],
  ) {
    super("MODEL_REGISTERING", registeringMessage(name, hashes[0]), {
      details: { completed: hashes[0].completed, total: hashes[0].total },
    });
  }
}

export interface InstalledModel {
  name: string;
  version: string;
  digest: string;
  sizeBytes: number;
  source: string;
  changelog: string;
  versions: string[];
  /** Versions whose weights were lost (overwritten in place): listed, never served. */
  lostVersions: string[];
}

/** The model registry's directory: `registryDir` when set, else `.hearth` under the models directory. */
export function registryDirFor(modelsDir: string, registryDir?: string): string {
  return registryDir ? resolve(registryDir) : join(modelsDir, ".hearth");
}

/** The file name of a registry blob: `sha256-<hex>` of its bytes. */
const BLOB_NAME = /^sha256-[0-9a-f]{64}$/;

interface FoundWeights {
  version: string;
  digest: string;
  blob: string;
  /** The file's size and time as found (its `createdAt`). */
  sizeBytes: number;
  mtimeMs: number;
  blobMtimeMs: number;
  changelog: string;
  /** The user's own file, found through a link: registered where it is. */
  linkedFile?: boolean;
}

/** The source of a version that is the user's file a link in the models dir leads to. */
const LINKED_FILE_SOURCE = "models dir link";

/**
 * A version of weights found in the models dir (dropped in, copied back, overwritten in place, or a
 * link to a file of the user's).
 */
function foundVersion(found: FoundWeights): ModelVersion {
  return {
    version: found.version,
    digest: found.digest,
    sizeBytes: found.sizeBytes,
    blob: found.blob,
    ...(found.linkedFile ? { linkedFile: true as const } : {}),
    source: found.linkedFile ? LINKED_FILE_SOURCE : "models dir",
    changelog: found.changelog,
    createdAt: new Date(found.mtimeMs).toISOString(),
    blobMtimeMs: found.blobMtimeMs,
  };
}

/**
 * The changelog of weights found in the models dir under a name: what they replaced there, or
 * `first` when the name is new to the registry.
 */
function foundInPlaceOf(replaced: ModelVersion | undefined, first: string): string {
  return replaced ? `found in the models dir in place of ${replaced.version}` : first;
}

/**
 * A recorded version's bytes found at `blob` (again): its weights are there, not lost. `linkedFile`
 * says whether that is the user's own file (a link's) or a blob of the registry's or a local Ollama's.
 */
function relocate(
  version: ModelVersion,
  found: { blob: string; blobMtimeMs?: number; linkedFile?: boolean },
): void {
  version.blob = found.blob;
  if (found.blobMtimeMs === undefined) delete version.blobMtimeMs;
  else version.blobMtimeMs = found.blobMtimeMs;
  delete version.lostAt;
  if (found.linkedFile) version.linkedFile = true;
  else delete version.linkedFile;
}

/** A model's record holding one version, its first (1.0.0) and current. */
function firstRecord(name: string, version: ModelVersion): ModelRecord {
  return { name, current: "1.0.0", versions: [{ ...version, version: "1.0.0" }] };
}
/**
 * Installed models with versions. Each model is served from `<modelsDir>/<name>.gguf`; for a
 * registered model that is a symbolic link to the blob of its current version, so switching
 * versions (a pull of new weights, a rollback) is one link swap and old versions stay on disk. A
 * link the user made to a file of theirs is registered as it is: that file is the version's blob,
 * read where it is and never moved, copied, renamed or deleted.
 */
export class ModelRegistry {
  readonly #modelsDir: string;
  readonly #registryDir: string;
  readonly #options: ModelRegistryOptions;
  #chain: Promise<unknown> = Promise.resolve();
  /** The operation running now (one at a time): the registry's lock it holds, and whether it is its last round. */
  #running: { lock: PidFileLock; lastRound: boolean } | undefined;
  /** The hashes of files under way or done, by path. */
  readonly #hashes = new Map<string, FileHash>();
  #hashingStopped = false;

  constructor(
    modelsDir: string,
    private readonly hooks: {
      onChange?: (name: string) => Promise<void>;
      /** Weights found changed in place (a version lost): said once, when it is found. */
      onWarning?: (message: string) => void;
      /** A file being hashed to be registered: told as each further hundredth of it is hashed. */
      onHashProgress?: (progress: HashProgress & { file: string }) => void;
    } = {},
    registryDir?: string,
    options: ModelRegistryOptions = {},
  ) {
    this.#modelsDir = resolve(modelsDir);
    this.#registryDir = resolve(registryDirFor(modelsDir, registryDir));
    this.#options = options;
  }

  get blobsDir(): string {
    return join(this.#registryDir, "blobs");
  }

  /**
   * Registry operations run one at a time, each reading registry.json afresh and rewriting it: in
   * this process in the order they were asked, and among the processes sharing the models dir
   * (replicas on one volume, `hearth models` beside the service) under the registry's lock. No file
   * is hashed under it: unless the hashing is in the background (where only `adopt` waits, by
   * itself), an operation that needs a hash not done yet waits for it outside the lock and runs
   * again. Once a hash it waited for failed, or found its file changed while it was hashed (still
   * being copied in), it runs a last time, hashing nothing more: the files hashed are registered,
   * those left out are registered by a later operation, and the failure is told.
   */
  async #serial<T>(task: () => Promise<T>): Promise<T> {
    let lastRound = false;
    for (let round = 1; ; round++) {
      try {
        return await this.#queued(task, lastRound || round > HASH_ROUNDS);
      } catch (error) {
        if (this.#options.hashInBackground || !(error instanceof HashPending)) throw error;
        const outcomes = await Promise.allSettled(error.hashes.map((hash) => hash.done));
        const failed = outcomes.find((outcome) => outcome.status === "rejected");
        if (failed) {
          await this.#queued(task, true).catch(() => undefined);
          throw failed.reason;
        }
        lastRound = outcomes.some((outcome) => outcome.status === "fulfilled" && outcome.value === undefined);
      }
    }
  }

  #queued<T>(task: () => Promise<T>, lastRound: boolean): Promise<T> {
    const locked = () =>
      withRegistryLock(
        this.#registryDir,
        async (lock) => {
          this.#running = { lock, lastRound };
          try {
            return await task();
          } finally {
            this.#running = undefined;
          }
        },
        this.#options.lock,
      );
    const run = this.#chain.then(locked, locked);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #read(): Promise<RegistryFile> {
    const path = join(this.#registryDir, "registry.json");
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { models: {} };
      throw new HearthError(
        "INTERNAL_ERROR",
        `the model registry file ${path} is unreadable: ${(error as Error).message}`,
        { cause: error },
      );
    }
    let file: RegistryFile;
    try {
      file = JSON.parse(text) as RegistryFile;
      if (typeof file?.models !== "object" || file.models === null || Array.isArray(file.models))
        throw new Error("it has no models object");
      for (const record of Object.values(file.models))
        if (!Array.isArray(record?.versions) || record.versions.length === 0)
          throw new Error(`the model "${record?.name}" has no versions`);
    } catch (error) {
      throw new HearthError(
        "MODEL_REGISTRY_CORRUPT",
        `the model registry file ${path} is corrupt (${(error as Error).message}): restore it from a backup (hearth restore), or move it aside (mv ${path} ${path}.corrupt) so that the model files found in ${this.#modelsDir} are registered again (their version history is lost)`,
        { cause: error },
      );
    }
    for (const version of Object.values(file.models).flatMap((record) => record.versions)) {
      // A URL's credentials recorded by an earlier release: never shown, and gone at the next write.
      if (typeof version.source === "string") version.source = withoutUrlSecrets(version.source);
      if (typeof version.changelog === "string") version.changelog = withoutUrlSecrets(version.changelog);
      // Blobs are recorded by absolute path; restored into another data dir, they are in this blobs
      // dir (not a file of the user's: it is where the user keeps it, or gone).
      const here = join(this.blobsDir, basename(version.blob));
      if (
        !version.linkedFile &&
        version.blob !== here &&
        !(await lstat(version.blob).catch(() => undefined)) &&
        (await lstat(here).catch(() => undefined))
      )
        version.blob = here;
    }
    // A blob path the registry did not write (registry.json edited, or restored from elsewhere) is
    // never followed: not hashed, linked to, renamed or deleted. Its weights count as missing. (The
    // user's file a link led to is recorded by its absolute path, and never renamed or deleted.)
    for (const record of Object.values(file.models))
      for (const version of record.versions) {
        if (this.#isBlobPath(version) || this.#isOllamaBlobPath(version) || this.#isLinkedFilePath(version))
          continue;
        const blob = /^sha256:[0-9a-f]{64}$/.test(String(version.digest))
          ? this.#blobFor(version.digest)
          : join(this.blobsDir, "missing");
        this.hooks.onWarning?.(
          `model "${record.name}" ${version.version}: its recorded weights ${JSON.stringify(version.blob)} are not a blob of this registry (${this.blobsDir}) nor of a local Ollama; not followed, looked for at ${blob} instead`,
        );
        version.blob = blob;
      }
    return file;
  }

  /**
   * The digest of the file at `path` as `stats` found it, for the registration of `name`: one hash
   * per file, joined by every registration that needs it while it runs, and used again once done
   * while the file is unchanged. A hash not done is never waited for here (under the registry's
   * lock): HashPending (MODEL_REGISTERING) is thrown, and the hash goes on. Undefined when the file
   * kept changing while it was hashed (still being copied in: registered once it is complete).
   */
  async #digestOf(
    name: string,
    path: string,
    stats: { ino: number; size: number; mtimeMs: number },
  ): Promise<string | undefined> {
    if (!this.#options.hashInBackground && this.#running?.lastRound) {
      // Hashing nothing more: only a hash done already is used.
      const known = this.#hashes.get(path);
      return known?.stamp === stampOf(stats) ? known.digest : undefined;
    }
    const hash = this.#hashOf(path, stats);
    if (hash.digest !== undefined) return hash.digest;
    throw new HashPending(name, [hash]);
  }

  /** The hash of the file at `path` with `stats`: the one under way or done, else a new one (stopping one of the file as it was before). */
  #hashOf(path: string, stats: { ino: number; size: number; mtimeMs: number }): FileHash {
    const stamp = stampOf(stats);
    const known = this.#hashes.get(path);
    if (known?.stamp === stamp) return known;
    if (this.#hashingStopped)
      throw new HearthError("SERVICE_NOT_READY", "the model service is stopping: it hashes no model file");
    known?.stop.abort();
    const stop = new AbortController();
    const hash: FileHash = { stamp, completed: 0, total: stats.size, stop, done: Promise.resolve(undefined) };
    let told = -1;
    const hashed = async (): Promise<string | undefined> => {
      let digest: string;
      try {
        digest = await sha256File(path, {
          chunkBytes: this.#options.hashChunkBytes,
          signal: stop.signal,
          onProgress: (completed) => {
            hash.completed = completed;
            const hundredths = Math.floor((completed * 100) / Math.max(hash.total, 1));
            if (hundredths > told) {
              told = hundredths;
              this.hooks.onHashProgress?.({ file: path, completed, total: hash.total });
            }
          },
        });
      } catch (error) {
        if (stop.signal.aborted) return undefined;
        throw error;
      }
      const after = await stat(path).catch(() => undefined);
      return after && stampOf(after) === stamp ? digest : undefined;
    };
    hash.done = hashed().then(
      (digest) => {
        if (digest === undefined) this.#forgetHash(path, hash);
        else hash.digest = digest;
        return digest;
      },
      (error: unknown) => {
        this.#forgetHash(path, hash);
        throw error;
      },
    );
    // Its failure is told to whoever waits for it, or found by the next registration (hashing again).
    hash.done.catch(() => undefined);
    this.#hashes.set(path, hash);
    return hash;
  }

  #forgetHash(path: string, hash: FileHash): void {
    if (this.#hashes.get(path) === hash) this.#hashes.delete(path);
  }

  /**
   * Stops the hashes under way, and starts none (the model service is stopping): their files are
   * registered after its next start.
   */
  stopHashing(): void {
    this.#hashingStopped = true;
    for (const hash of this.#hashes.values()) hash.stop.abort();
  }

  /** Whether a version's blob path names a blob of this registry: `sha256-<hex>` directly in the blobs dir. */
  #isBlobPath(version: ModelVersion): boolean {
    return (
      typeof version.blob === "string" &&
      dirname(version.blob) === this.blobsDir &&
      BLOB_NAME.test(basename(version.blob))
    );
  }

  /**
   * Whether a version's blob path is the one `models import` records: a blob in a local Ollama's
   * store (`<ollamaDir>/blobs/sha256-<hex>`, named by its digest). Read only: never deleted or renamed.
   */
  #isOllamaBlobPath(version: ModelVersion): boolean {
    return (
      typeof version.blob === "string" &&
      typeof version.source === "string" &&
      version.source.startsWith("ollama:") &&
      isAbsolute(version.blob) &&
      basename(dirname(version.blob)) === "blobs" &&
      basename(version.blob) === String(version.digest).replace(":", "-") &&
      BLOB_NAME.test(basename(version.blob))
    );
  }

  /** Whether a version's blob is the user's own file that a link led to, recorded by its absolute path. */
  #isLinkedFilePath(version: ModelVersion): boolean {
    return version.linkedFile === true && typeof version.blob === "string" && isAbsolute(version.blob);
  }

  /**
   * Whether `blob` is this registry's own to rename or delete: a regular file (not a link) named
   * `sha256-<hex>` directly in the blobs dir, which is itself a directory (not a link), by its real
   * path too.
   */
  async #isOwnBlob(blob: string): Promise<boolean> {
    if (dirname(blob) !== this.blobsDir || !BLOB_NAME.test(basename(blob))) return false;
    const dir = await lstat(this.blobsDir).catch(() => undefined);
    if (!dir?.isDirectory()) return false;
    const stats = await lstat(blob).catch(() => undefined);
    if (!stats?.isFile()) return false;
    const [real, realDir] = await Promise.all([
      realpath(dirname(blob)).catch(() => undefined),
      realpath(this.blobsDir).catch(() => undefined),
    ]);
    return real !== undefined && real === realDir;
  }

  /** Writes registry.json, under the registry's lock (an operation whose lock was taken over as stale writes nothing). */
  async #write(file: RegistryFile): Promise<void> {
    const lock = this.#running?.lock;
    if (!lock?.stillHeld())
      throw lock ? lockLost(lock) : new Error("registry.json is written only under the registry's lock");
    await mkdir(this.#registryDir, PRIVATE_DIR);
    const path = join(this.#registryDir, "registry.json");
    // Write then rename, so a crash never leaves a half-written registry; a name of its own, so that
    // two registries (the service's and the CLI's) writing at once never rename each other's file.
    const temporary = `${path}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
    await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`);
    await rename(temporary, path);
  }

  #current(record: ModelRecord): ModelVersion {
    return record.versions.find((version) => version.version === record.current) ?? record.versions.at(-1)!;
  }

  #blobFor(digest: string): string {
    return join(this.blobsDir, digest.replace(":", "-"));
  }

  /**
   * What a link to `blob` holds: relative to the models dir when the blob lies inside it (the
   * registry's own blobs), so that the links follow the data dir when it is moved, restored or kept
   * as `<dataDir>.pre-restore-*`; absolute for a blob elsewhere (a local Ollama's).
   */
  #linkTarget(blob: string): string {
    const path = relative(this.#modelsDir, blob);
    return path && !path.startsWith(`..${sep}`) && path !== ".." && !isAbsolute(path) ? path : blob;
  }

  /**
   * Makes `<name>.gguf` what `make` writes at a temporary path beside it (a name of its own, so that
   * two registries placing the same name never rename each other's), renamed over what was there:
   * the name is never missing meanwhile.
   */
  async #place(name: string, make: (temporary: string) => Promise<void>): Promise<void> {
    const path = join(this.#modelsDir, fileNameForModel(name));
    const temporary = join(
      this.#modelsDir,
      `.${basename(path)}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`,
    );
    try {
      await make(temporary);
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  /** Makes `<name>.gguf` a link to `blob`, replacing what was there in one rename (never missing). */
  async #placeLink(name: string, blob: string): Promise<void> {
    await this.#place(name, (temporary) => symlink(this.#linkTarget(blob), temporary));
  }

  /** Serves `name` from `blob`: its link made to lead there (unless it does already: a link the user made is kept), and the runtime told. */
  async #link(name: string, blob: string): Promise<void> {
    if (!(await this.#leadsTo(name, blob))) await this.#placeLink(name, blob);
    await this.hooks.onChange?.(name);
  }

  /** Whether the name's link leads (through any chain of links) to the file at `blob`. */
  async #leadsTo(name: string, blob: string): Promise<boolean> {
    const [served, file] = await Promise.all([
      realpath(join(this.#modelsDir, fileNameForModel(name))).catch(() => undefined),
      realpath(blob).catch(() => undefined),
    ]);
    return served !== undefined && served === file;
  }

  /**
   * A link of a recorded model whose absolute target is gone (the data dir was moved, or restored
   * over and kept as `<dataDir>.pre-restore-*`), or that points into this registry's blobs by an
   * absolute path (written by an earlier release), is made relative to the blob of its current
   * version, when that blob is here. True when it changed.
   */
  async #repairLink(record: ModelRecord): Promise<boolean> {
    const path = join(this.#modelsDir, fileNameForModel(record.name));
    const target = await readlink(path).catch(() => undefined);
    if (target === undefined || !isAbsolute(target)) return false;
    const current = this.#current(record);
    // The user's own link to their file: left as they made it.
    if (current.linkedFile) return false;
    let blob: string;
    if (await stat(target).catch(() => undefined)) {
      // A live link: made relative when it is to this registry's blob, else left alone (Ollama's).
      if (target !== current.blob || this.#linkTarget(current.blob) === current.blob) return false;
      blob = current.blob;
    } else {
      blob = join(this.blobsDir, basename(target));
      if (!(await stat(blob).catch(() => undefined))) return false;
    }
    await this.#placeLink(record.name, blob);
    return true;
  }

  /**
   * Checks the blob a recorded model serves against its record: a stat, and a hash only when its size
   * or mtime changed. Bytes overwritten in place (`cp new.gguf models/x.gguf` as root writes through
   * the link) become a new version under their own digest; the versions that held the old bytes are
   * marked lost. True when the record changed.
   */
  async #verify(file: RegistryFile, record: ModelRecord): Promise<boolean> {
    const version = this.#current(record);
    const stats = await stat(version.blob).catch(() => undefined);
    if (!stats?.isFile()) return false;
    if (stats.size === version.sizeBytes) {
      if (version.blobMtimeMs === stats.mtimeMs) return false;
      // Recorded by an earlier release without an mtime: taken as it is.
      if (version.blobMtimeMs === undefined) {
        version.blobMtimeMs = stats.mtimeMs;
        return true;
      }
    }
    const digest = await this.#digestOf(record.name, version.blob, stats);
    if (digest === undefined) return false;
    const after = await stat(version.blob).catch(() => undefined);
    // Still being written: checked again on the next listing.
    if (!after || after.size !== stats.size || after.mtimeMs !== stats.mtimeMs || after.ino !== stats.ino)
      return false;
    if (digest === version.digest) {
      version.blobMtimeMs = after.mtimeMs;
      return true;
    }
    const overwritten = version.blob;
    const ownBlob = await this.#isOwnBlob(overwritten);
    const linkedFile = this.#isLinkedFilePath(version);
    // Neither the registry's own blob, nor a local Ollama's, nor the user's file a link leads to: not touched.
    if (!ownBlob && !this.#isOllamaBlobPath(version) && !linkedFile) return false;
    let blob = overwritten;
    if (ownBlob) {
      blob = this.#blobFor(digest);
      if (await lstat(blob).catch(() => undefined)) await rm(overwritten, { force: true });
      else await rename(overwritten, blob);
    }
    const now = new Date().toISOString();
    const relink: string[] = [];
    for (const [key, other] of Object.entries(file.models)) {
      const lost = other.versions.filter((candidate) => candidate.blob === overwritten);
      if (lost.length === 0) continue;
      const served = this.#current(other);
      for (const candidate of lost) {
        candidate.lostAt = now;
        if (ownBlob) candidate.blob = this.#blobFor(candidate.digest);
      }
      if (!lost.includes(served)) continue;
      const found = {
        digest,
        blob,
        sizeBytes: after.size,
        mtimeMs: after.mtimeMs,
        blobMtimeMs: after.mtimeMs,
        linkedFile,
      };
      const changelog = `the weights of ${served.version} (${served.digest}) were overwritten in place by other bytes`;
      const replacement = this.#recordFound(file, key, found, (version) =>
        foundVersion({ ...found, version, changelog }),
      );
      relink.push(other.name);
      this.hooks.onWarning?.(
        `model "${other.name}": the weights of version ${served.version} (${served.digest}) were overwritten in place; the bytes found are ${digest}, recorded as version ${replacement.version}; ${served.version} is lost`,
      );
    }
    await this.#write(file);
    for (const name of relink) await this.#link(name, blob);
    return true;
  }

  /**
   * A regular file served under `name` is registered (moved into the blobs, not copied): the first
   * version of a new model; for a recorded model (weights copied back after a restore without them,
   * or a file put in place of its link), the recorded version with the same digest (its blob filled
   * again when it was missing), else a new version. False when there is no such file, or when it
   * changed while it was hashed (still being copied in): a later listing registers it once complete.
   */
  async #adoptFile(file: RegistryFile, name: string): Promise<boolean> {
    const path = join(this.#modelsDir, fileNameForModel(name));
    const stats = await lstat(path).catch(() => undefined);
    if (!stats?.isFile()) return false;
    const digest = await this.#digestOf(name, path, stats);
    if (digest === undefined) return false;
    const after = await lstat(path).catch(() => undefined);
    if (
      !after?.isFile() ||
      after.ino !== stats.ino ||
      after.size !== stats.size ||
      after.mtimeMs !== stats.mtimeMs
    )
      return false;
    const record = file.models[name];
    const known = record?.versions.find((version) => version.digest === digest);
    await mkdir(this.blobsDir, PRIVATE_DIR);
    const blob =
      known && (await stat(known.blob).catch(() => undefined)) ? known.blob : this.#blobFor(digest);
    // Another name holds these bytes already (a copy, a hard link): the blob serves both. Else the
    // file becomes the blob: hard-linked there, so that the name keeps serving it until the link
    // below replaces it; where hard links are refused, moved.
    let moved = false;
    if (!(await lstat(blob).catch(() => undefined))) {
      try {
        await link(path, blob);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Another registry (the service's, the CLI's) registered the same file meanwhile.
        if (code !== "EEXIST") {
          if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EMLINK") throw error;
          await rename(path, blob);
          moved = true;
        }
      }
    }
    // The file is replaced by the link in one rename: the model is never missing from the models dir
    // (a request for it meanwhile would answer MODEL_NOT_FOUND), and a model loaded from the file
    // keeps its bytes (the blob is the same file; mapped memory outlives a name).
    try {
      await this.#placeLink(name, blob);
    } catch (error) {
      if (moved) await rename(blob, path).catch(() => undefined);
      throw error;
    }
    const found = {
      digest,
      blob,
      sizeBytes: stats.size,
      mtimeMs: stats.mtimeMs,
      blobMtimeMs: (await stat(blob)).mtimeMs,
    };
    this.#recordFound(file, name, found, (version, replaced) =>
      foundVersion({ ...found, version, changelog: foundInPlaceOf(replaced, "found in the models dir") }),
    );
    return true;
  }

  /**
   * Brings the record of a name served by a link up to what the link leads to (through any chain of
   * links): what is served is what the link leads to, so the record follows the link. Nothing changes
   * when it leads to the current version's weights, to no file (a dangling link: skipped, and said
   * so by `listModelFiles`), or to what is not a file (a directory). True when the record changed;
   * false too when the file changed while it was hashed (still being copied: registered later).
   *
   * - To another model of the models dir (`ln -s b.gguf a.gguf`): that one is registered first, then
   *   its current weights are this name's too, linked to directly as `hearth models tag` does, so that
   *   removing the other model never leaves this one a link to nothing.
   * - To a blob of this registry (registry.json moved aside or lost; another process's rollback
   *   switching the link meanwhile): the version of that digest (a blob is named by it), else a new
   *   one, the blob hashed to check its name; the name is linked to the blob directly.
   * - To any other file (the user's own: `ln -s ~/models/x.gguf`, anywhere but in the registry's
   *   dir): registered where it is, by its real path: hashed, never moved, copied, renamed or deleted,
   *   and the link kept as the user made it. Bytes the registry holds already (a recorded version's
   *   blob) are served from that blob instead; the user's file is left alone.
   */
  async #adoptLink(file: RegistryFile, name: string): Promise<boolean> {
    const path = join(this.#modelsDir, fileNameForModel(name));
    const written = await readlink(path).catch(() => undefined);
    if (written === undefined) return false;
    let real = await realpath(path).catch(() => undefined);
    // Only a link that leads to a file is another model's alias (links that loop lead nowhere).
    const other = real === undefined ? undefined : await this.#aliasOf(path, written);
    if (other !== undefined) return this.#adoptAlias(file, name, other);
    if (real === undefined) {
      // An absolute link into where this blobs dir was before the data dir moved (with no record to
      // repair it by): its blob here.
      const here = join(this.blobsDir, basename(written));
      if (!isAbsolute(written) || !BLOB_NAME.test(basename(written))) return false;
      real = await realpath(here).catch(() => undefined);
      if (real === undefined) return false;
    }
    const stats = await stat(real).catch(() => undefined);
    if (!stats?.isFile()) return false;
    const record = file.models[name];
    if (record && real === (await realpath(this.#current(record).blob).catch(() => undefined))) return false;
    const [realBlobsDir, realRegistryDir] = await Promise.all([
      realpath(this.blobsDir).catch(() => undefined),
      realpath(this.#registryDir).catch(() => undefined),
    ]);
    if (dirname(real) === realBlobsDir) return this.#adoptBlobLink(file, name, basename(real), stats);
    // Anything else of the registry's (a partial download, registry.json) is no weights.
    if (realRegistryDir !== undefined && isInside(real, realRegistryDir)) return false;
    return this.#adoptLinkedFile(file, name, real, stats);
  }

  /**
   * The other model a link names directly (`b.gguf` for `a.gguf -> b.gguf`): a `*.gguf` of the models
   * dir under a model name, not the link itself. Undefined for a link to anything else.
   */
  async #aliasOf(path: string, written: string): Promise<string | undefined> {
    const target = resolve(dirname(path), written);
    if (target === path || !/\.gguf$/i.test(target) || skippedModelFile(basename(target))) return undefined;
    const [dir, modelsDir] = await Promise.all([
      realpath(dirname(target)).catch(() => undefined),
      realpath(this.#modelsDir).catch(() => undefined),
    ]);
    return dir !== undefined && dir === modelsDir ? modelNameFromFile(basename(target)) : undefined;
  }

  /**
   * `name` a link to the model `other`: `other` registered first (a file dropped in becomes a blob),
   * then its current weights recorded for `name` too and linked to directly. False while `other` has
   * no registered weights that its link leads to (still being copied in, or a link to no file).
   */
  async #adoptAlias(file: RegistryFile, name: string, other: string): Promise<boolean> {
    await this.#reconcile(file, other);
    const source = file.models[other];
    if (!source) return false;
    const weights = this.#current(source);
    if (weights.lostAt || !(await this.#leadsTo(other, weights.blob))) return false;
    const record = file.models[name];
    const changelog = `copied from ${other} ${weights.version}`;
    const known = record?.versions.find((version) => version.digest === weights.digest);
    const recorded = record !== undefined && known === this.#current(record) && known.blob === weights.blob;
    if (recorded) {
      // Recorded already: only its link made direct.
      await this.#placeLink(name, weights.blob);
      return false;
    }
    this.#recordFound(file, name, weights, (version) => ({
      ...weights,
      version,
      changelog,
      createdAt: new Date().toISOString(),
    }));
    await this.#placeLink(name, weights.blob);
    return true;
  }

  /**
   * `name` a link to the registry's blob `blobName`: the version of its digest, else (the blob hashed
   * to check that it holds what its name says) a new one; the name linked to the blob directly.
   */
  async #adoptBlobLink(
    file: RegistryFile,
    name: string,
    blobName: string,
    stats: { ino: number; size: number; mtimeMs: number },
  ): Promise<boolean> {
    if (!BLOB_NAME.test(blobName)) return false;
    const blob = join(this.blobsDir, blobName);
    const digest = blobName.replace("-", ":");
    const record = file.models[name];
    const known = record?.versions.find((version) => version.digest === digest);
    if (!known || known.lostAt) {
      if ((await this.#digestOf(name, blob, stats)) !== digest) return false;
    }
    // Recorded before (and not lost): its size and mtime as recorded, so that a change since is still noticed.
    const blobMtimeMs = known && !known.lostAt ? (known.blobMtimeMs ?? stats.mtimeMs) : stats.mtimeMs;
    const found = { digest, blob, sizeBytes: stats.size, mtimeMs: stats.mtimeMs, blobMtimeMs };
    this.#recordFound(file, name, found, (version, replaced) =>
      foundVersion({
        ...found,
        version,
        changelog: foundInPlaceOf(replaced, "found in the models dir (registered again from its blob)"),
      }),
    );
    const path = join(this.#modelsDir, fileNameForModel(name));
    if ((await readlink(path).catch(() => undefined)) !== this.#linkTarget(blob))
      await this.#placeLink(name, blob);
    return true;
  }

  /**
   * `name` a link to `real`, a file of the user's: hashed where it is and recorded by its real path
   * (the version of that digest, else a new one), never moved, copied, renamed or deleted. Bytes a
   * recorded version holds in a blob of the registry's (or a local Ollama's) are served from there:
   * the name is linked to that blob, and the user's file is left alone. False when the file changed
   * while it was hashed, or the link was pointed elsewhere meanwhile.
   */
  async #adoptLinkedFile(
    file: RegistryFile,
    name: string,
    real: string,
    stats: { size: number; mtimeMs: number; ino: number },
  ): Promise<boolean> {
    const path = join(this.#modelsDir, fileNameForModel(name));
    const digest = await this.#digestOf(name, real, stats);
    if (digest === undefined) return false;
    const after = await stat(real).catch(() => undefined);
    if (
      !after?.isFile() ||
      after.ino !== stats.ino ||
      after.size !== stats.size ||
      after.mtimeMs !== stats.mtimeMs ||
      (await realpath(path).catch(() => undefined)) !== real
    )
      return false;
    const record = file.models[name];
    const known = record?.versions.find((version) => version.digest === digest);
    if (known && !known.linkedFile && (await this.#unchanged(known))) {
      record!.current = known.version;
      await this.#placeLink(name, known.blob);
      return true;
    }
    const found = {
      digest,
      blob: real,
      sizeBytes: stats.size,
      mtimeMs: stats.mtimeMs,
      blobMtimeMs: stats.mtimeMs,
      linkedFile: true,
    };
    this.#recordFound(file, name, found, (version) =>
      foundVersion({ ...found, version, changelog: `linked to ${real}` }),
    );
    return true;
  }

  /**
   * Registers what the models dir holds under `name`, as a listing would: a plain file (`#adoptFile`)
   * or a link (`#adoptLink`). True when the record changed.
   */
  async #adoptName(file: RegistryFile, name: string): Promise<boolean> {
    const stats = await lstat(join(this.#modelsDir, fileNameForModel(name))).catch(() => undefined);
    if (stats?.isFile()) return this.#adoptFile(file, name);
    if (stats?.isSymbolicLink()) return this.#adoptLink(file, name);
    return false;
  }

  /**
   * Brings one name of the models dir up to date with its record: a plain file is registered, a
   * link repaired, and registered when it leads to weights other than the record's current ones, and
   * the served blob checked (a stat; a hash only when it changed). Writes the registry when the
   * record changed.
   */
  async #reconcile(file: RegistryFile, name: string): Promise<void> {
    const record = file.models[name];
    if (record) await this.#repairLink(record);
    if (await this.#adoptName(file, name)) await this.#write(file);
    const recorded = file.models[name];
    if (recorded && (await this.#verify(file, recorded))) await this.#write(file);
  }

  /**
   * Makes weights found for `name` the version it serves: the version recorded with their digest,
   * its bytes found again at `found.blob`, else a new version that `create` makes under the number
   * it is given (1.0.0 for a model the registry did not know, else the next after its highest;
   * `replaced` is the version served until now). Answers the version served now.
   */
  #recordFound(
    file: RegistryFile,
    name: string,
    found: { digest: string; blob: string; blobMtimeMs?: number; linkedFile?: boolean },
    create: (version: string, replaced: ModelVersion | undefined) => ModelVersion,
  ): ModelVersion {
    const record = file.models[name];
    if (!record) {
      const first = firstRecord(name, create("1.0.0", undefined));
      file.models[name] = first;
      return this.#current(first);
    }
    let version = record.versions.find((candidate) => candidate.digest === found.digest);
    if (version) relocate(version, found);
    else {
      version = create(
        nextVersion(record.versions.map((candidate) => candidate.version)),
        this.#current(record),
      );
      record.versions.push(version);
    }
    record.current = version.version;
    return version;
  }

  /** Records a version (a new one only when the digest is new) and makes it current. */
  async #install(name: string, entry: Omit<ModelVersion, "version" | "createdAt">): Promise<ModelVersion> {
    const file = await this.#read();
    await this.#adoptName(file, name);
    const blobMtimeMs = (await stat(entry.blob)).mtimeMs;
    // The same weights again (pulled back after a restore without them, or after they were lost):
    // their recorded version, current again.
    const version = this.#recordFound(file, name, { ...entry, blobMtimeMs }, (next) => ({
      ...entry,
      version: next,
      createdAt: new Date().toISOString(),
      blobMtimeMs,
    }));
    await this.#write(file);
    await this.#link(name, version.blob);
    return version;
  }

  /**
   * Every model in the models dir with all its versions; files dropped in by hand are registered
   * (hashed once), each recorded as soon as it is moved, and so are links made by hand (to a file of
   * the user's: registered where it is; to another model: its weights). Links left absolute by an
   * earlier release, or dangling after the data dir moved, are repaired; a served blob whose size or
   * mtime changed is hashed again. A file whose name is not a model name is skipped, and so is a
   * recorded model whose file or blob is gone, and a link that leads to no file. In the background
   * mode nothing waits for a hash: a model whose file is being hashed is listed as registering (with
   * the bytes hashed so far), and as registered by the first listing once its hash is done.
   */
  listing(): Promise<RegistryEntry[]> {
    return this.#serial(async () => {
      const file = await this.#read();
      const names = new Set(Object.keys(file.models));
      for (const { name, skipped } of await listModelFiles(this.#modelsDir)) if (!skipped) names.add(name);
      const registering = new Map<string, RegisteringModel>();
      let pending: HashPending | undefined;
      for (const name of names) {
        try {
          await this.#reconcile(file, name);
        } catch (error) {
          if (!(error instanceof HashPending)) throw error;
          if (!this.#options.hashInBackground) {
            // Waited for once every file's hash has started, outside the lock; then listed again.
            if (pending) pending.hashes.push(...error.hashes);
            else pending = error;
            continue;
          }
          const { completed, total } = error.hashes[0];
          const recorded = file.models[name]?.versions ?? [];
          registering.set(name, {
            name,
            sizeBytes: total,
            registering: { completed, total },
            versions: [...recorded].sort((a, b) => compareVersions(a.version, b.version)),
          });
        }
      }
      if (pending) throw pending;
      // A model whose weights are gone (restored from a backup without them) is not served: not listed.
      const entries: RegistryEntry[] = [...registering.values()];
      for (const record of Object.values(file.models))
        if (
          !registering.has(record.name) &&
          (await stat(join(this.#modelsDir, fileNameForModel(record.name))).catch(() => undefined))
        )
          entries.push(this.#describe(record));
      return entries.sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  /** The registered models of `listing` (in the background mode, those being registered are left out). */
  async models(): Promise<RegistryModel[]> {
    return (await this.listing()).filter((entry): entry is RegistryModel => !isRegistering(entry));
  }

  /**
   * Repairs the links of recorded models (made relative to the models dir; an absolute one left by an
   * earlier release, or dangling since the data dir moved, pointed at its blob here). The model
   * service runs it once at start: no hashing, a readlink per model.
   */
  repairLinks(): Promise<number> {
    return this.#serial(async () => {
      let repaired = 0;
      for (const record of Object.values((await this.#read()).models))
        if (await this.#repairLink(record)) repaired++;
      return repaired;
    });
  }

  /**
   * One model with all its versions; MODEL_NOT_FOUND when it has none recorded, MODEL_REGISTERING
   * while its file is being hashed (background mode).
   */
  async model(nameInput: string): Promise<RegistryModel> {
    const name = normalizeModelName(nameInput);
    const found = (await this.listing()).find((model) => model.name === name);
    if (!found) throw new HearthError("MODEL_NOT_FOUND", `model "${nameInput}" has no recorded versions`);
    if (isRegistering(found)) throw stillRegistering(name, found.registering);
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
      lostVersions: versions.filter((version) => version.lostAt).map((version) => version.version),
    }));
  }

  /**
   * Registers one file dropped into the models dir, as listing the models would (the embedded
   * runtime asks, in the background, when its scan finds a file without a digest): hashed, made a
   * blob, linked back; a link made by hand to a file of the user's is hashed where it is; a link is
   * repaired, and a blob changed in place is hashed again. Answers the
   * digest served; undefined when the name has none (a link to no file, gone weights), or when the
   * file changed while it was hashed (still being copied in). Recording is serialised with every
   * other registry operation, so two scans never register a file twice; in the background mode the
   * hash is waited for outside them (other operations and listings go on meanwhile), joined by
   * every other registration of the file.
   */
  async adopt(nameInput: string): Promise<string | undefined> {
    const name = normalizeModelName(nameInput);
    if (!isModelName(name)) return undefined;
    const register = () =>
      this.#serial(async () => {
        const file = await this.#read();
        await this.#reconcile(file, name);
        const record = file.models[name];
        return record ? this.#servedDigest(record) : undefined;
      });
    // Unless the hashing is in the background, #serial waits for the hashes itself.
    if (!this.#options.hashInBackground) return register();
    // The model service's registry (hashing in the background): #serial never waits for a hash, so
    // that listings and other operations answer at once. This registration alone (the runtime's scan
    // asks it of a file found without a digest) waits for the hashes it needs, outside the registry's
    // lock, and runs once more: recorded then, unless the file changed meanwhile (registered later).
    try {
      return await register();
    } catch (error) {
      if (!(error instanceof HashPending)) throw error;
      await Promise.all(error.hashes.map((hash) => hash.done));
    }
    return register().catch((error: unknown) => {
      if (error instanceof HashPending) return undefined;
      throw error;
    });
  }

  /** Whether a version's blob is there with the size and mtime it was hashed with (a stat, no hashing). */
  async #unchanged(version: ModelVersion): Promise<boolean> {
    const stats = await stat(version.blob).catch(() => undefined);
    if (!stats?.isFile() || version.lostAt || stats.size !== version.sizeBytes) return false;
    return version.blobMtimeMs === undefined || version.blobMtimeMs === stats.mtimeMs;
  }

  /**
   * Content digests of registered models by name (no hashing: files not registered yet are absent,
   * and so is a model whose blob changed since it was hashed, until `adopt` hashes it again).
   */
  async digests(): Promise<Map<string, string>> {
    const file = await this.#read();
    const digests = new Map<string, string>();
    for (const record of Object.values(file.models)) {
      const digest = await this.#servedDigest(record);
      if (digest) digests.set(record.name, digest);
    }
    return digests;
  }

  /** The content digest of a registered model (undefined for files not registered yet). */
  async digestOf(name: string): Promise<string | undefined> {
    const record = (await this.#read()).models[normalizeModelName(name)];
    return record ? this.#servedDigest(record) : undefined;
  }

  /**
   * The current version's digest when its name is a link that leads to its blob (not a file put in
   * its place, nor a link pointed elsewhere since) and that blob is unchanged.
   */
  async #servedDigest(record: ModelRecord): Promise<string | undefined> {
    const path = join(this.#modelsDir, fileNameForModel(record.name));
    if (!(await lstat(path).catch(() => undefined))?.isSymbolicLink()) return undefined;
    const current = this.#current(record);
    if (!(await this.#leadsTo(record.name, current.blob))) return undefined;
    return (await this.#unchanged(current)) ? current.digest : undefined;
  }

  /** Where the locks of downloads under way are kept (`<name>.lock`), and a URL's last download outcome. */
  get #pullsDir(): string {
    return join(this.#registryDir, "pulls");
  }

  /**
   * Pulls a model: from the Ollama registry protocol (manifest, then the model blob), or from a
   * plain http(s) URL of a GGUF file. Resumes interrupted downloads; checks the digest. Two pulls of
   * the same file share its download (sharedDownload): in this process the second joins the first,
   * and a pull in another process sharing the models dir waits for it. The download runs beside
   * other registry operations (a listing is never held up by it); recording the version is one of them.
   * `pulled` is what `parsePullReference` made of the words asked for.
   */
  async pull(
    pulled: PullReference,
    options: {
      signal?: AbortSignal;
      onProgress?: (progress: PullProgress) => void;
      /** How long a download may receive nothing before it is resumed (DOWNLOAD_STALL_MS); tests lower it. */
      stallMs?: number;
      /** How often a pull waiting for another process's download of the file looks again (PULL_LOCK_POLL_MS). */
      lockPollMs?: number;
    } = {},
  ): Promise<ModelVersion & { name: string }> {
    const progress = options.onProgress ?? (() => {});
    const { name } = pulled;
    await mkdir(this.blobsDir, PRIVATE_DIR);
    await mkdir(this.#pullsDir, PRIVATE_DIR);
    let fetched: { digest: string; size: number; blob: string };
    let source: string;
    if ("url" in pulled) {
      progress({ status: `downloading ${pulled.fileName}` });
      const key = `url-${createHash("sha256").update(pulled.url).digest("hex").slice(0, 16)}`;
      const staging = join(this.blobsDir, key);
      source = withoutUrlSecrets(pulled.url);
      fetched = await sharedDownload(
        {
          lockFile: join(this.#pullsDir, `${key}.lock`),
          partialFile: `${staging}.partial`,
          command: `pull ${source}`,
          pollMs: options.lockPollMs,
          staleAfterMs: this.#options.lock?.staleAfterMs,
          run: (context) =>
            this.#downloadUrl(pulled, staging, join(this.#pullsDir, `${key}.done.json`), context, options),
        },
        options,
      );
    } else {
      const parsed = pulled.registry;
      progress({ status: "pulling manifest" });
      const manifest = await fetchManifest(parsed, options.signal);
      const layer = modelLayer(manifest);
      const blob = this.#blobFor(layer.digest);
      source = withoutUrlSecrets(`${parsed.baseUrl}/${parsed.namespace}/${parsed.model}:${parsed.tag}`);
      fetched = await sharedDownload(
        {
          lockFile: join(this.#pullsDir, `${basename(blob)}.lock`),
          partialFile: `${blob}.partial`,
          total: layer.size,
          command: `pull ${source}`,
          pollMs: options.lockPollMs,
          staleAfterMs: this.#options.lock?.staleAfterMs,
          run: (context) => this.#downloadLayer(parsed, layer, blob, source, context, options),
        },
        options,
      );
    }
    progress({ status: "writing manifest" });
    let unchanged = false;
    const version = await this.#serial(async () => {
      // Cancelled once the bytes were in (or while another registry operation held this one up):
      // nothing is recorded, as a Cancel says; the blob stays for the next pull to install.
      options.signal?.throwIfAborted();
      // Removed meanwhile with the model that held these bytes (`hearth models rm`): nothing to link to.
      if (!(await stat(fetched.blob).catch(() => undefined)))
        throw new HearthError(
          "MODEL_PULL_FAILED",
          `the weights pulled from ${source} (${fetched.digest}) were removed while the pull finished; pull again`,
          { details: { reason: "conflict" } },
        );
      // The weights the model serves already (pulled again with nothing new): said so on success.
      const record = (await this.#read()).models[name];
      unchanged = record !== undefined && this.#current(record).digest === fetched.digest;
      return this.#install(name, {
        digest: fetched.digest,
        sizeBytes: fetched.size,
        blob: fetched.blob,
        source,
        changelog: `pulled from ${source}`,
      });
    });
    progress({
      status: "success",
      name,
      version: version.version,
      digest: version.digest,
      ...(unchanged ? { unchanged } : {}),
    });
    return { ...version, name };
  }

  /**
   * A plain URL's download, under its lock: to `staging`, then under its digest's blob name (the
   * blob the store holds already kept untouched). Its outcome (the lock's nonce, the digest and
   * size) is kept in `doneFile` for the pulls of other processes that waited for it: they use the
   * blob instead of downloading the file again. Another pull trusts it only when it waited for that
   * lock; it is replaced by the next download of the URL.
   */
  async #downloadUrl(
    { url, fileName }: { url: string; fileName: string },
    staging: string,
    doneFile: string,
    context: SharedDownloadContext,
    options: { stallMs?: number },
  ): Promise<{ digest: string; size: number; blob: string }> {
    const done = await readFile(doneFile, "utf8")
      .then((text) => JSON.parse(text) as { by?: unknown; digest?: unknown; size?: unknown })
      .catch(() => undefined);
    if (
      typeof done?.by === "string" &&
      context.waitedFor.has(done.by) &&
      typeof done.digest === "string" &&
      /^sha256:[0-9a-f]{64}$/.test(done.digest) &&
      typeof done.size === "number"
    ) {
      // Downloaded by the pull this one waited for: the same outcome, without downloading it again.
      const blob = this.#blobFor(done.digest);
      if (await this.#holds(blob, done.digest, done.size)) {
        context.progress({ status: `pulling ${fileName}`, completed: done.size, total: done.size });
        context.progress({ status: "verifying sha256 digest", digest: done.digest });
        return { digest: done.digest, size: done.size, blob };
      }
    }
    // An outcome of another download (of a pull long ago: the file at the URL may have changed since).
    await rm(doneFile, { force: true });
    const result = await downloadBlob({
      url,
      destination: staging,
      requireGguf: true,
      signal: context.signal,
      stallMs: options.stallMs,
      onRetry: (status) => context.progress({ status }),
      onProgress: ({ completed, total }) =>
        context.progress({ status: `pulling ${fileName}`, completed, total }),
      beforeCommit: context.assertHeld,
    });
    context.progress({ status: "verifying sha256 digest", digest: result.digest });
    const blob = this.#blobFor(result.digest);
    // Bytes the store holds already (another model's, or this one pulled again) keep their blob
    // untouched: renamed over, it would take the pull's mtime, which is the other model's
    // `created` and what says its blob changed since it was hashed.
    if (await this.#holds(blob, result.digest, result.size)) await rm(staging, { force: true });
    else await rename(staging, blob);
    await this.#checkGguf(blob, withoutUrlSecrets(url));
    await writeFile(
      doneFile,
      `${JSON.stringify({ by: context.lock.record.nonce, digest: result.digest, size: result.size })}\n`,
    );
    return { ...result, blob };
  }

  /** A registry model blob's download, under its lock; none when the blob is here already. */
  async #downloadLayer(
    parsed: RegistryReference,
    layer: { digest: string; size: number },
    blob: string,
    source: string,
    context: SharedDownloadContext,
    options: { stallMs?: number },
  ): Promise<{ digest: string; size: number; blob: string }> {
    const status = `pulling ${layer.digest.slice(7, 19)}`;
    const have = await stat(blob).catch(() => undefined);
    if (have?.size !== layer.size) {
      const result = await downloadBlob({
        url: blobUrl(parsed, layer.digest),
        destination: blob,
        expectedDigest: layer.digest,
        signal: context.signal,
        stallMs: options.stallMs,
        onRetry: (message) => context.progress({ status: message }),
        onProgress: ({ completed }) =>
          context.progress({ status, digest: layer.digest, total: layer.size, completed }),
        beforeCommit: context.assertHeld,
      });
      context.progress({ status: "verifying sha256 digest", digest: result.digest });
    } else {
      context.progress({ status, digest: layer.digest, total: layer.size, completed: layer.size });
    }
    await this.#checkGguf(blob, source);
    return { digest: layer.digest, size: layer.size, blob };
  }

  /**
   * Whether `blob` holds content of `digest` already: a recorded version of it, unchanged since it
   * was hashed (a stat), or else the file hashed again.
   */
  async #holds(blob: string, digest: string, size: number): Promise<boolean> {
    const stats = await stat(blob).catch(() => undefined);
    if (!stats?.isFile() || stats.size !== size) return false;
    for (const record of Object.values((await this.#read()).models))
      for (const version of record.versions)
        if (version.blob === blob && version.digest === digest && (await this.#unchanged(version)))
          return true;
    return (await sha256File(blob).catch(() => undefined)) === digest;
  }

  /** Deletes a pulled blob that is no usable GGUF (MODEL_FILE_INVALID, naming `source`, where it came from). */
  async #checkGguf(blob: string, source: string): Promise<void> {
    const check = await checkGgufFile(blob);
    if (!check.valid) {
      await rm(blob, { force: true });
      throw new HearthError("MODEL_FILE_INVALID", `${source} is not a usable GGUF: ${check.error}`);
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
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new HearthError(
          "MODEL_FILE_INVALID",
          `${manifestPath} is not an Ollama manifest (not valid JSON: ${(error as Error).message}); pull the model again with Ollama`,
          { details: { file: manifestPath } },
        );
      }
      const manifest = ollamaManifestSchema.safeParse(json);
      if (!manifest.success)
        throw new HearthError("MODEL_FILE_INVALID", `${manifestPath} is not an Ollama manifest`, {
          details: { file: manifestPath },
        });
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
      // Not a version at all is a malformed request (as the registry API's schema answers it); a
      // version the model lacks is MODEL_VERSION_NOT_FOUND.
      if (to !== undefined && !parseVersion(to))
        throw new HearthError(
          "INVALID_REQUEST",
          `"${to}" is not a version: give a semantic version such as 1.0.0`,
        );
      const name = normalizeModelName(nameInput);
      const file = await this.#read();
      // What the models dir holds under the name is registered first: a file dropped in place of its
      // link is its newest version, never replaced by the switch unrecorded.
      if (await this.#adoptName(file, name)) await this.#write(file);
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
      if (target.lostAt || !(await stat(target.blob).catch(() => undefined)))
        throw new HearthError(
          "MODEL_WEIGHTS_MISSING",
          `model "${name}" cannot be switched to ${target.version}: its weights (${target.digest}) are not on disk${target.lostAt ? ` (overwritten in place at ${target.lostAt})` : ""}; pull, import or copy them back first`,
        );
      const from = this.#current(record).version;
      record.current = target.version;
      await this.#write(file);
      await this.#link(name, target.blob);
      return { from, model: this.#describe(record) };
    });
  }

  /**
   * Removes a model from the models dir: its link, and the registry's blobs no other model uses.
   * Only what is the registry's own is deleted: a file or link under the name is registered first (so
   * weights copied back by hand, or linked in, are accounted for); a file that cannot be (still being
   * written) is left where it is. Weights outside the registry are never deleted: a local Ollama's
   * blob, or the user's file a link made by hand led to (the link is removed, the file kept). Answers
   * what was removed, deleted and kept.
   */
  remove(nameInput: string): Promise<RemovedModel> {
    return this.#serial(async () => {
      const name = normalizeModelName(nameInput);
      const file = await this.#read();
      const path = join(this.#modelsDir, fileNameForModel(name));
      if (await this.#adoptName(file, name)) await this.#write(file);
      const record = file.models[name];
      const exists = await lstat(path).catch(() => undefined);
      if (!record && !exists)
        throw new HearthError("MODEL_NOT_FOUND", `model "${nameInput}" is not installed`);
      const result: RemovedModel = { name, deletedWeights: [], keptWeights: [] };
      if (exists?.isSymbolicLink()) {
        await this.hooks.onChange?.(name);
        await unlink(path).catch(() => undefined);
        await this.hooks.onChange?.(name);
        result.removed = path;
      } else if (exists) result.keptFile = path;
      if (record) {
        delete file.models[name];
        await this.#write(file);
        const users = new Map<string, string[]>();
        for (const other of Object.values(file.models))
          for (const version of other.versions)
            if (!version.lostAt) users.set(version.blob, [...(users.get(version.blob) ?? []), other.name]);
        const seen = new Set<string>();
        for (const version of record.versions) {
          if (seen.has(version.blob) || version.lostAt) continue;
          seen.add(version.blob);
          const usedBy = users.get(version.blob);
          if (usedBy) result.keptWeights.push({ digest: version.digest, usedBy: [...new Set(usedBy)] });
          else if (version.linkedFile || dirname(version.blob) !== this.blobsDir)
            result.keptWeights.push({ digest: version.digest, outside: version.blob });
          else if (await this.#isOwnBlob(version.blob)) {
            await rm(version.blob, { force: true });
            result.deletedWeights.push({ digest: version.digest, sizeBytes: version.sizeBytes });
          }
        }
      }
      return result;
    });
  }

  /**
   * Serves a model under another name too (Ollama's copy): a link, no bytes copied. A name that
   * exists already is re-pointed, as Ollama's copy overwrites its destination (`ollama cp x:v2
   * x:latest`): what it served is registered first and stays a version of it, so a rollback returns
   * to it; the source's weights become its current version (a new one unless it had them before).
   */
  copy(sourceInput: string, destinationInput: string): Promise<void> {
    return this.#serial(async () => {
      const source = normalizeModelName(sourceInput);
      const destination = normalizeModelName(destinationInput);
      // A destination that is no model name is refused (INVALID_REQUEST) before anything is registered.
      fileNameForModel(destination);
      const file = await this.#read();
      // A file dropped in, or weights copied back (or linked) under the source's name by hand, are registered first.
      if (await this.#adoptName(file, source)) await this.#write(file);
      const record = file.models[source];
      if (record) {
        const current = this.#current(record);
        if (current.lostAt || !(await stat(current.blob).catch(() => undefined)))
          throw new HearthError(
            "MODEL_WEIGHTS_MISSING",
            `model "${source}" cannot be tagged: the weights of its version ${current.version} (${current.digest}) are not on disk; pull, import or copy them back first (copy the file itself, not a link to it)`,
          );
        if (destination === source) return;
        await this.#install(destination, {
          digest: current.digest,
          sizeBytes: current.sizeBytes,
          blob: current.blob,
          ...(current.linkedFile ? { linkedFile: true as const } : {}),
          source: current.source,
          changelog: `copied from ${source} ${current.version}`,
        });
        return;
      }
      const from = join(this.#modelsDir, fileNameForModel(source));
      const stats = await lstat(from).catch(() => undefined);
      if (!stats)
        throw new HearthError("MODEL_NOT_FOUND", `model "${sourceInput}" is not installed in the models dir`);
      if (!(await stat(from).catch(() => undefined)))
        throw new HearthError(
          "MODEL_WEIGHTS_MISSING",
          `model "${source}" cannot be tagged: ${from} is a link to weights that are not there`,
        );
      if (destination === source) return;
      // What the destination served is registered before it is replaced, as above.
      if (await this.#adoptName(file, destination)) await this.#write(file);
      await this.#place(destination, async (temporary) => {
        if (stats.isSymbolicLink()) await symlink(await readlink(from), temporary);
        else
          await link(from, temporary).catch(async (error: NodeJS.ErrnoException) => {
            if (error.code === "EXDEV" || error.code === "EPERM") await copyFile(from, temporary);
            else throw error;
          });
      });
      await this.hooks.onChange?.(destination);
    });
  }
}
