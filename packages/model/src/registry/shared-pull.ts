import { readFile, stat } from "node:fs/promises";
import { HearthError, type PidFileLock, readPidFile, whenAborted } from "@hearth/core";
import { holderText, waitForLock } from "./models-dir-lock.js";

/** A step of a pull, as `ModelRegistry.pull` reports it (Ollama's progress shape). */
export interface SharedProgress {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

/** How often a pull waiting for another process's download of the same file looks at it again. */
export const PULL_LOCK_POLL_MS = 500;

export interface SharedDownloadContext {
  /** Aborted when every pull that shares the download has left it (disconnected, interrupted). */
  signal: AbortSignal;
  /** Told to every pull sharing the download. */
  progress(progress: SharedProgress): void;
  /** The file lock held (exclusive among the processes that share the models dir). */
  lock: PidFileLock;
  /** The `nonce` of each lock of another process this download waited for, oldest first. */
  waitedFor: ReadonlySet<string>;
  /** Throws MODEL_PULL_IN_PROGRESS when the lock is no longer this download's: called before a file takes its final name. */
  assertHeld(): void;
}

export interface SharedDownload<T> {
  /** The lock file: one per file downloaded (`<registryDir>/pulls/<blob or staging name>.lock`). */
  lockFile: string;
  /** The partial file of the download, whose size a pull waiting for another process reports. */
  partialFile: string;
  /** The file's size when known beforehand (a registry blob's). */
  total?: number;
  /** What the lock record says this process does (`pull <url>`). */
  command: string;
  /** How often a waiting pull looks at the lock again (PULL_LOCK_POLL_MS). */
  pollMs?: number;
  /** When the lock of a pull on another host sharing the models volume counts as stale (MODELS_DIR_LOCK_STALE_MS). */
  staleAfterMs?: number;
  run(context: SharedDownloadContext): Promise<T>;
}

interface Job {
  promise: Promise<unknown>;
  controller: AbortController;
  listeners: Set<(progress: SharedProgress) => void>;
  /** The last step said, told at once to a pull that joins. */
  last: SharedProgress | undefined;
  /** Pulls waiting for the outcome. */
  members: number;
}

/** Downloads under way in this process, by lock file: a second pull of the same file joins the first. */
const jobs = new Map<string, Job>();

/**
 * Runs a download once for every pull of the same file. In this process, a pull of a file already
 * being downloaded joins that download: it is told the step reached, then every step, and gets the
 * same outcome. Across processes sharing the models dir (`hearth models pull` beside the running
 * service, replicas on other hosts mounting the same volume), a lock file (`waitForLock`: created
 * exclusively, holding the pid; one whose process is gone is taken over, another host's once it
 * goes unrefreshed) lets one download at a time: the others wait, reporting the size of its partial
 * file as its progress, then run `run` themselves, which finds the file there. The download is
 * aborted when every pull waiting for it has left.
 */
export async function sharedDownload<T>(
  task: SharedDownload<T>,
  subscriber: { signal?: AbortSignal; onProgress?: (progress: SharedProgress) => void },
): Promise<T> {
  subscriber.signal?.throwIfAborted();
  let job = jobs.get(task.lockFile);
  if (!job) {
    const controller = new AbortController();
    const created: Job = {
      promise: Promise.resolve(),
      controller,
      listeners: new Set(),
      last: undefined,
      members: 0,
    };
    const progress = (step: SharedProgress) => {
      created.last = step;
      for (const listener of created.listeners) listener(step);
    };
    created.promise = runLocked(task, controller.signal, progress).finally(() => {
      if (jobs.get(task.lockFile) === created) jobs.delete(task.lockFile);
    });
    // Settled by its members; an outcome nobody waits for any more is not an unhandled rejection.
    created.promise.catch(() => undefined);
    jobs.set(task.lockFile, created);
    job = created;
  } else if (job.last) subscriber.onProgress?.(job.last);
  const joined = job;
  const listener = (step: SharedProgress) => subscriber.onProgress?.(step);
  joined.listeners.add(listener);
  joined.members++;
  const left = subscriber.signal && whenAborted(subscriber.signal);
  try {
    return (await Promise.race(left ? [joined.promise, left.promise] : [joined.promise])) as T;
  } catch (error) {
    if (subscriber.signal?.aborted && joined.members === 1) {
      // The last pull waiting for it left: the download stops (its bytes kept, to resume), and this
      // pull answers once its lock is released, so that a pull started next finds the file free.
      if (jobs.get(task.lockFile) === joined) jobs.delete(task.lockFile);
      joined.controller.abort(subscriber.signal.reason);
      await joined.promise.catch(() => undefined);
    }
    throw error;
  } finally {
    joined.members--;
    joined.listeners.delete(listener);
    left?.dispose();
  }
}

/** What a waiting pull reports: how far the other process's partial file has come. */
async function othersProgress(task: SharedDownload<unknown>): Promise<{ completed: number; total?: number }> {
  const completed = (await stat(task.partialFile).catch(() => undefined))?.size ?? 0;
  if (task.total !== undefined) return { completed, total: task.total };
  try {
    const record = JSON.parse(await readFile(`${task.partialFile}.json`, "utf8")) as { total?: unknown };
    if (typeof record.total === "number") return { completed, total: record.total };
  } catch {
    // no length known (yet)
  }
  return { completed };
}

async function runLocked<T>(
  task: SharedDownload<T>,
  signal: AbortSignal,
  progress: (step: SharedProgress) => void,
): Promise<T> {
  const waitedFor = new Set<string>();
  let said = "";
  const lock = await waitForLock(task.lockFile, {
    command: task.command,
    pollMs: task.pollMs ?? PULL_LOCK_POLL_MS,
    staleAfterMs: task.staleAfterMs,
    signal,
    onHeld: async ({ holder, unreadable }) => {
      if (unreadable)
        throw new HearthError(
          "MODEL_PULL_IN_PROGRESS",
          `the lock of this download (${task.lockFile}) holds no record, so whether another pull of the same file runs is unknown; if none does, delete that file and pull again`,
          { details: { file: task.lockFile } },
        );
      if (!holder) return;
      if (holder.nonce) waitedFor.add(holder.nonce);
      const step = {
        status: `waiting for another pull of the same file (${holderText(holder)})`,
        ...(await othersProgress(task)),
      };
      const text = JSON.stringify(step);
      if (text !== said) progress(step);
      said = text;
    },
  });
  try {
    return await task.run({
      signal,
      progress,
      lock,
      waitedFor,
      assertHeld: () => {
        if (lock.stillHeld()) return;
        const holder = readPidFile(task.lockFile);
        throw new HearthError(
          "MODEL_PULL_IN_PROGRESS",
          `the download's lock (${task.lockFile}) was taken from this pull${holder ? ` by ${holderText(holder)}` : ""}, which now downloads the same file; this pull installed nothing: wait for that one, or pull again`,
          { details: { file: task.lockFile, ...(holder ? { pid: holder.pid } : {}) } },
        );
      },
    });
  } finally {
    lock.release();
  }
}
