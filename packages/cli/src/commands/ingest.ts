import { constants, openAsBlob } from "node:fs";
import { access, readdir, stat } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { type IngestionJob, KnowledgeClient, KnowledgeClientError } from "@hearth/contracts";
import { HearthError, loadConfig, UpstreamCallError } from "@hearth/core";
import { assignKnowledgeBaseOwner, findKnowledgeBaseOwner } from "@hearth/web";
import { Command } from "commander";
import { type Messages, messages } from "../messages/index.js";
import { columnsOf } from "../text-width.js";

export interface IngestOptions {
  knowledgeBase: string;
  paths: string[];
  baseUrl: string;
  token?: string;
  create?: boolean;
  embeddingModel?: string;
  /** The web account the base belongs to: a base created is made its (for per-owner names). */
  ownerId?: string;
  /** Called with the knowledge base found or created, before anything is uploaded. */
  onKnowledgeBase?: (id: string) => Promise<void>;
  /** Where the progress bar and the report go (stderr by default). */
  output?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Aborting it (Ctrl-C) stops uploading and cancels the jobs still running on the service. */
  signal?: AbortSignal;
}

export interface IngestReport {
  knowledgeBaseId: string;
  jobs: IngestionJob[];
  indexed: number;
  skipped: number;
  /** Documents that failed, and entries of the folders given that could not be read (FOLDER_UNREADABLE). */
  failed: IngestFailure[];
  /**
   * Jobs whose event stream ended before they finished: the knowledge service stopped mid-run.
   * They are kept on the service and resume when it starts again.
   */
  unfinished: string[];
  /** Files not uploaded because an upload failed mid-run (the service went away): run again for them. */
  notUploaded: number;
}

const BATCH_FILES = 50;
const BATCH_BYTES = 64 * 1024 * 1024;

/** `hearth ingest <kb> <paths…>`: uploads files and folders to a knowledge base with a progress bar. */
export function ingestCommand(): Command {
  const m = messages();
  return new Command("ingest")
    .description(m.ingestDescription)
    .argument("<kb>", m.ingestKbArgument)
    .argument("<paths...>", m.ingestPathsArgument)
    .option("--create", m.ingestCreateOption)
    .option("--embedding-model <name>", m.ingestEmbeddingModelOption)
    .option("--owner <username>", m.ingestOwnerOption)
    .option("--url <url>", m.ingestUrlOption)
    .action(
      async (
        knowledgeBase: string,
        paths: string[],
        options: { create?: boolean; embeddingModel?: string; owner?: string; url?: string },
      ) => {
        const config = loadConfig();
        // A mistyped account name must not leave a base no one sees: checked before anything is made.
        const owner = options.owner ? await findKnowledgeBaseOwner(config, options.owner) : undefined;
        // The first Ctrl-C cancels the upload's jobs on the service; a second one quits at once.
        const controller = new AbortController();
        const onSignal = () => {
          if (controller.signal.aborted) process.exit(130);
          process.stderr.write(`\n${m.ingestCancelling}\n`);
          controller.abort();
        };
        process.on("SIGINT", onSignal);
        try {
          const report = await runIngest({
            knowledgeBase,
            paths,
            baseUrl: options.url ?? config.services.knowledgeUrl,
            ...(config.services.token ? { token: config.services.token } : {}),
            ...(options.create ? { create: true } : {}),
            ...(options.embeddingModel ? { embeddingModel: options.embeddingModel } : {}),
            ...(owner
              ? {
                  ownerId: owner.id,
                  onKnowledgeBase: (id: string) =>
                    assignKnowledgeBaseOwner(config, { knowledgeBaseId: id, owner }),
                }
              : {}),
            signal: controller.signal,
          });
          if (controller.signal.aborted) process.exitCode = 130;
          else if (report.failed.length > 0 || report.unfinished.length > 0 || report.notUploaded > 0)
            process.exitCode = 1;
        } finally {
          process.off("SIGINT", onSignal);
        }
      },
    );
}

/** A file or folder entry that did not become a document, with its code and reason. */
export interface IngestFailure {
  name: string;
  code: string;
  message: string;
}

/**
 * Lists the files to upload: files as given, folders walked in name order. Every file gets its own
 * document name: the service keeps one document per name, so two files sharing one would be
 * uploaded as one document and the other silently lost. A path given that cannot be read refuses
 * the run (FOLDER_UNREADABLE); an entry inside a folder that cannot be (a link that leads nowhere,
 * no permission) is listed in `unreadable` and the rest of the folder is taken.
 */
export async function collectFiles(paths: string[]): Promise<{
  files: Array<{ path: string; name: string; size: number }>;
  unreadable: IngestFailure[];
}> {
  const files: Array<{ path: string; name: string; size: number }> = [];
  const unreadable: IngestFailure[] = [];
  const visited = new Set<string>();
  const listed = new Set<string>();
  const folders = new Map<(typeof files)[number], string>(); // the folder a name is relative to
  const walk = async (path: string, root: string | undefined): Promise<void> => {
    let info: Awaited<ReturnType<typeof stat>>;
    let entries: string[] = [];
    try {
      info = await stat(path);
      if (info.isDirectory()) entries = (await readdir(path)).sort();
      else if (info.isFile()) await access(path, constants.R_OK);
    } catch (error) {
      if (root === undefined) throw new HearthError("FOLDER_UNREADABLE", `${path}: ${reasonOf(error)}`);
      unreadable.push(unreadableEntry(path, error));
      return;
    }
    if (info.isDirectory()) {
      const key = `${info.dev}:${info.ino}`;
      if (visited.has(key)) return; // a symbolic link loop
      visited.add(key);
      for (const entry of entries) {
        if (!entry.startsWith(".")) await walk(join(path, entry), root ?? path);
      }
    } else if (info.isFile() && !listed.has(path)) {
      listed.add(path); // given twice (a file and its folder): uploaded once
      // Uploads take plain names: a file in a folder is named by its path inside it, with "__" for "/".
      const name = root ? relative(root, path).split(/[/\\]/).join("__") : basename(path);
      const file = { path, name, size: info.size };
      files.push(file);
      folders.set(file, root ?? dirname(path));
    }
  };
  for (const path of paths) await walk(resolve(path), undefined);
  return { files: distinctNames(files, folders), unreadable };
}

/** An entry that cannot be read (a link that leads nowhere, no permission, gone), as the failure listed. */
function unreadableEntry(path: string, error: unknown): IngestFailure {
  return { name: path, code: "FOLDER_UNREADABLE", message: messages().cannotReadEntry(reasonOf(error)) };
}

/** A file system error's code (ENOENT, EACCES), or its message when it has none. */
function reasonOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/**
 * Renames files whose names clash (`d1/x.txt` and `d2/x.txt`, or two folders holding `a/x.txt`)
 * by prefixing as many of their parent folders as it takes: `d1__x.txt`, `d2__x.txt`. Files with a
 * name of their own keep it, so re-running the same command finds the same documents unchanged.
 */
function distinctNames<T extends { path: string; name: string }>(files: T[], folders: Map<T, string>): T[] {
  const original = new Map(files.map((file) => [file, file.name]));
  const parents = (file: T) => folders.get(file)!.split(sep).filter(Boolean);
  const deepest = Math.max(0, ...files.map((file) => parents(file).length));
  for (let depth = 1; depth <= deepest + 1; depth++) {
    const byName = new Map<string, T[]>();
    for (const file of files) byName.set(file.name, [...(byName.get(file.name) ?? []), file]);
    const clashing = [...byName.values()].filter((group) => group.length > 1).flat();
    if (clashing.length === 0) return files;
    for (const file of clashing) file.name = [...parents(file).slice(-depth), original.get(file)!].join("__");
  }
  const names = files.map((file) => file.name);
  const clash = names.find((name, index) => names.indexOf(name) !== index);
  throw new HearthError("INVALID_REQUEST", messages().twoFilesOneName(String(clash)));
}

export async function runIngest(options: IngestOptions): Promise<IngestReport> {
  const m = messages();
  const output = options.output ?? process.stderr;
  const client = new KnowledgeClient({
    baseUrl: options.baseUrl,
    ...(options.token ? { token: options.token } : {}),
  });
  // Paths first: a mistyped path must not leave a new, empty knowledge base behind (--create).
  const { files, unreadable } = await collectFiles(options.paths);
  if (files.length === 0) {
    const first = unreadable[0];
    throw new HearthError(
      "INVALID_REQUEST",
      m.noFilesFound(unreadable.length, first && `${first.name}: ${first.message}`, unreadable.length > 1),
    );
  }
  const knowledgeBaseId = await findKnowledgeBase(client, options, m);
  await options.onKnowledgeBase?.(knowledgeBaseId);

  const progress = new ProgressBar(output, files.length, m);
  const jobs: IngestionJob[] = [];
  const started: string[] = [];
  const unfinished: string[] = [];
  /** Files that did not become documents on the service: entries that could not be read. */
  const notRead = [...unreadable];
  /** Each document's end (indexed, skipped, failed), of every job, as its events told it. */
  const ended = new Map<string, IngestionJob["documents"][number]>();
  const followers: Array<Promise<void>> = [];
  /**
   * Follows a job's events until its final one. It never throws: a stream that ends before it (the
   * service shut down) or breaks (the service was killed) leaves the job unfinished, kept on the
   * service, which resumes it when it starts again.
   */
  const follow = async (jobId: string) => {
    let finished = false;
    try {
      for await (const event of client.jobEvents(jobId, options.signal)) {
        const entries = event.type === "job" ? event.job.documents : [event.document];
        for (const document of entries) {
          if (
            ["indexed", "skipped", "failed", "deleted"].includes(document.status) &&
            !ended.has(document.documentId)
          ) {
            ended.set(document.documentId, document);
            progress.tick(document.name, document.status);
          }
        }
        if (event.type === "job" && ["completed", "failed", "cancelled"].includes(event.job.status)) {
          finished = true;
          jobs.push(event.job);
        }
      }
    } catch {
      // Ctrl-C, or the connection broke: told below, as a stream that ended.
    }
    if (!finished && !options.signal?.aborted) unfinished.push(jobId);
  };
  /** Files not sent because an upload failed mid-run, and why: the rest of the run is reported. */
  let notUploaded: { count: number; error: HearthError } | undefined;
  for (let i = 0; i < files.length && !options.signal?.aborted; ) {
    const batch: typeof files = [];
    let bytes = 0;
    while (
      i < files.length &&
      batch.length < BATCH_FILES &&
      (batch.length === 0 || bytes + files[i]!.size <= BATCH_BYTES)
    ) {
      bytes += files[i]!.size;
      batch.push(files[i++]!);
    }
    const documents: Array<{ name: string; data: Blob }> = [];
    for (const file of batch) {
      // A file listed at the start may be gone or locked by now: it fails alone.
      try {
        await access(file.path, constants.R_OK);
        documents.push({ name: file.name, data: await openAsBlob(file.path) });
      } catch (error) {
        notRead.push(unreadableEntry(file.path, error));
        progress.tick(file.name, "failed");
      }
    }
    if (documents.length === 0) continue;
    try {
      const upload = await client.uploadDocuments(knowledgeBaseId, documents);
      started.push(upload.job.id);
      followers.push(follow(upload.job.id));
    } catch (error) {
      // Nothing uploaded yet: the run fails as a whole. Otherwise what was uploaded is followed and
      // reported with its jobs, and the files left are named as not uploaded.
      if (started.length === 0) throw upstreamError(options.baseUrl, error, m);
      notUploaded = {
        count: files.length - i + documents.length,
        error: upstreamError(options.baseUrl, error, m),
      };
      break;
    }
  }
  await Promise.all(followers);
  progress.done();
  const interrupted = options.signal?.aborted ?? false;
  if (interrupted) await cancelUnfinished(client, started, jobs, output, m);

  const count = (status: string) =>
    [...ended.values()].filter((document) => document.status === status).length;
  const failed = [
    ...notRead,
    ...[...ended.values()]
      .filter((document) => document.status === "failed")
      .map((document) => ({
        name: document.name,
        code: document.error?.code ?? "INTERNAL_ERROR",
        message: document.error?.message ?? "",
      })),
  ];
  const report: IngestReport = {
    knowledgeBaseId,
    jobs,
    indexed: count("indexed"),
    skipped: count("skipped"),
    failed,
    unfinished,
    notUploaded: notUploaded?.count ?? 0,
  };
  if (interrupted) return report;
  if (unfinished.length > 0) {
    const others = [
      report.skipped > 0 ? m.ingestUnchanged(report.skipped) : "",
      failed.length > 0 ? m.ingestFailed(failed.length) : "",
    ].filter(Boolean);
    const jobsLeft =
      unfinished.length === 1 ? m.jobUnfinished(unfinished[0]!) : m.jobsUnfinished(unfinished.join(", "));
    output.write(`${m.ingestInterrupted(report.indexed, files.length, others.join(", "), jobsLeft)}\n`);
  } else {
    output.write(`${m.ingestSummary(report.indexed, report.skipped, failed.length)}\n`);
  }
  for (const failure of failed) output.write(`  ${failure.name}: ${failure.code}: ${failure.message}\n`);
  if (notUploaded) {
    output.write(`${m.notUploaded(notUploaded.count, files.length, notUploaded.error.toLine())}\n`);
  }
  return report;
}

/** After Ctrl-C: cancels the jobs that have not finished and says which. */
async function cancelUnfinished(
  client: KnowledgeClient,
  started: string[],
  finished: IngestionJob[],
  output: NodeJS.WritableStream,
  m: Messages,
): Promise<void> {
  for (const jobId of started.filter((id) => !finished.some((job) => job.id === id))) {
    try {
      const job = await client.cancelJob(jobId);
      output.write(`${m.jobCancelled(jobId, job.counts.indexed)}\n`);
    } catch (error) {
      output.write(`${m.jobNotCancelled(jobId, (error as Error).message)}\n`);
    }
  }
  if (started.length === 0) output.write(`${m.interruptedBeforeUpload}\n`);
}

/**
 * A failed call to the knowledge service as one line: its own error (UPSTREAM_ERROR), or that it did not
 * answer or went away mid-run (UPSTREAM_UNAVAILABLE) instead of fetch's "TypeError: terminated".
 */
function upstreamError(baseUrl: string, error: unknown, m: Messages): HearthError {
  if (error instanceof KnowledgeClientError)
    return new HearthError("UPSTREAM_ERROR", `${baseUrl}: ${error.code}: ${error.message}`);
  return UpstreamCallError.noAnswer({
    url: baseUrl,
    service: "knowledge",
    at: baseUrl,
    cause: error,
    hint: m.knowledgeServiceHint,
  });
}

async function findKnowledgeBase(
  client: KnowledgeClient,
  options: IngestOptions,
  m: Messages,
): Promise<string> {
  const all = await client.listKnowledgeBases().catch((error: unknown) => {
    throw upstreamError(options.baseUrl, error, m);
  });
  const byId = all.find((kb) => kb.id === options.knowledgeBase);
  if (byId) return byId.id;
  // Names are unique per owner only: bases of different web users may share one.
  const named = all.filter((kb) => kb.name === options.knowledgeBase);
  if (named.length > 1) {
    throw new HearthError(
      "INVALID_REQUEST",
      m.knowledgeBasesSameName(named.length, options.knowledgeBase, named.map((kb) => kb.id).join(", ")),
    );
  }
  if (named[0]) return named[0].id;
  if (!options.create) {
    throw new HearthError("KNOWLEDGE_BASE_NOT_FOUND", m.noKnowledgeBaseNamed(options.knowledgeBase));
  }
  const created = await client
    .createKnowledgeBase({
      name: options.knowledgeBase,
      ...(options.embeddingModel ? { embeddingModel: options.embeddingModel } : {}),
      ...(options.ownerId ? { owner: options.ownerId } : {}),
    })
    .catch((error: unknown) => {
      throw upstreamError(options.baseUrl, error, m);
    });
  return created.id;
}

/** A one-line progress bar on a terminal; one line per finished document elsewhere (logs, CI). */
class ProgressBar {
  #done = 0;
  #failed = 0;
  constructor(
    private readonly output: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly total: number,
    private readonly m: Messages,
  ) {
    this.#render("");
  }

  tick(name: string, status: string): void {
    this.#done++;
    if (status === "failed") this.#failed++;
    if (this.output.isTTY) this.#render(name);
    else this.output.write(`${this.m.ingestProgressLine(this.#done, this.total, status, name)}\n`);
  }

  done(): void {
    if (this.output.isTTY) this.output.write("\n");
  }

  #render(name: string): void {
    if (!this.output.isTTY) return;
    const width = 30;
    const filled = Math.round((this.#done / this.total) * width);
    const label = `${this.#done}/${this.total}${this.#failed ? this.m.ingestBarFailed(this.#failed) : ""}`;
    const room = Math.max(0, (this.output.columns ?? 80) - width - columnsOf(label) - 6);
    const shown = fitToColumns(name, room);
    this.output.write(
      `\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${label} ${shown}${" ".repeat(room - columnsOf(shown))}`,
    );
  }
}

/** The text cut to at most `columns` terminal columns, ending in "…" when cut. */
function fitToColumns(text: string, columns: number): string {
  if (columnsOf(text) <= columns) return text;
  let fitted = "";
  let used = 0;
  for (const char of text) {
    used += columnsOf(char);
    if (used > columns - 1) break;
    fitted += char;
  }
  return columns > 0 ? `${fitted}…` : "";
}
