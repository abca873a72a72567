import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { describeNetworkError, HearthError, urlCredentials, withoutUrlSecrets } from "@hearth/core";

export interface DownloadProgress {
  completed: number;
  total: number | undefined;
}

export interface DownloadOptions {
  /** User info in it (`http://user:password@host/...`) is sent as Basic credentials, to that origin only. */
  url: string;
  /**
   * Where the finished file goes; `<destination>.partial` holds an interrupted download to resume,
   * and `<destination>.partial.json` what identified the file then (its validator and length).
   */
  destination: string;
  /** `sha256:<hex>` the content must have; when unset the digest is computed and returned. */
  expectedDigest?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** Told when a stalled attempt is given up and the download resumes from the bytes received. */
  onRetry?: (message: string) => void;
  /** Check the first bytes are a GGUF file (plain URL pulls). */
  requireGguf?: boolean;
  /** How long an attempt may receive nothing before it is given up as stalled; DOWNLOAD_STALL_MS unless set (tests). */
  stallMs?: number;
  /**
   * Called once every byte is received and again just before the file takes its final name: throws
   * when the download is no longer this pull's to finish (its lock was taken), leaving the partial
   * file to whoever holds the lock now.
   */
  beforeCommit?: () => void | Promise<void>;
}

/** How long a download may receive nothing (no answer, no byte) before its attempt is given up as stalled, as Ollama's is. */
export const DOWNLOAD_STALL_MS = 30_000;

/** Attempts a download gets when each stalls, every one resuming from the bytes received, before the pull fails. */
export const DOWNLOAD_ATTEMPTS = 3;

/**
 * What identified the file when its download began, kept beside the partial file: a resumed
 * download asks for the rest only of that file (`If-Range`), and is started over when the server's
 * file is another (a new validator, or a new length).
 */
interface FirstAttempt {
  etag?: string;
  lastModified?: string;
  total?: number;
}

/**
 * The `sha256:<hex>` digest of a file, read in chunks (`chunkBytes`, 64 KiB unless set): the event
 * loop serves other requests between two chunks of a multi-gigabyte file. `onProgress` is told the
 * bytes hashed so far after each chunk; `signal` stops the reading.
 */
async function sha256File(
  path: string,
  options: { chunkBytes?: number; signal?: AbortSignal; onProgress?: (completed: number) => void } = {},
): Promise<string> {
  const hash = createHash("sha256");
  let completed = 0;
  for await (const chunk of createReadStream(path, {
    highWaterMark: options.chunkBytes,
    signal: options.signal,
  })) {
    hash.update(chunk as Buffer);
    completed += (chunk as Buffer).length;
    options.onProgress?.(completed);
  }
  return `sha256:${hash.digest("hex")}`;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function readFirstAttempt(path: string): Promise<FirstAttempt | undefined> {
  try {
    const record = JSON.parse(await readFile(path, "utf8")) as FirstAttempt;
    return typeof record === "object" && record !== null ? record : undefined;
  } catch {
    return undefined;
  }
}

/** The validator a Range request may be made conditional on: a strong ETag, else Last-Modified. */
function ifRangeOf(record: FirstAttempt): string | undefined {
  if (record.etag && !record.etag.startsWith("W/")) return record.etag;
  return record.lastModified;
}

/** A stalled attempt: given up, and resumed from the partial file while attempts remain. */
class Stalled extends Error {}

/**
 * Downloads a file, resuming an interrupted download with an HTTP Range request, and checks its
 * digest before it takes its final name: a file whose content does not match is deleted, never served.
 * A resumed download asks only for the rest of the file it began (`If-Range` with the ETag or
 * Last-Modified of its first answer), and starts over when the server's file changed meanwhile.
 * An attempt that receives nothing for `stallMs` is given up and resumed, up to DOWNLOAD_ATTEMPTS
 * attempts. Its messages name the URL without its user info and query.
 */
export async function downloadBlob(options: DownloadOptions): Promise<{ digest: string; size: number }> {
  const stallMs = options.stallMs ?? DOWNLOAD_STALL_MS;
  for (let attempt = 1; ; ) {
    try {
      const result = await downloadAttempt(options, stallMs);
      if (result !== "start over") return result;
    } catch (error) {
      if (!(error instanceof Stalled)) throw error;
      const message = `the download of ${withoutUrlSecrets(options.url)} stalled (nothing received for ${stallMs / 1000} s) after ${await sizeOf(`${options.destination}.partial`)} bytes`;
      if (attempt >= DOWNLOAD_ATTEMPTS)
        throw new HearthError("MODEL_PULL_FAILED", `${message}; pull again to resume`, {
          cause: error,
          details: { reason: "stalled", url: withoutUrlSecrets(options.url) },
        });
      attempt++;
      options.onRetry?.(`${message}; resuming (attempt ${attempt} of ${DOWNLOAD_ATTEMPTS})`);
    }
  }
}

/**
 * One attempt: the rest of the partial file, or the whole file. "start over" when the partial file
 * was discarded (complete already, or of another file than the server's now): the next attempt
 * downloads the whole file.
 */
async function downloadAttempt(
  options: DownloadOptions,
  stallMs: number,
): Promise<{ digest: string; size: number } | "start over"> {
  const partial = `${options.destination}.partial`;
  const recordPath = `${partial}.json`;
  const discard = () => Promise.all([rm(partial, { force: true }), rm(recordPath, { force: true })]);
  const { url, authorization } = urlCredentials(options.url);
  const shown = withoutUrlSecrets(options.url);
  let offset = await sizeOf(partial);
  // A partial file whose first answer was not recorded (an earlier release's) may be of another file.
  const remembered = offset > 0 ? await readFirstAttempt(recordPath) : undefined;
  if (offset > 0 && !remembered) {
    await discard();
    offset = 0;
  }
  const ifRange = remembered && ifRangeOf(remembered);

  // Given up when nothing comes for stallMs: no answer, or no byte of the body.
  const stall = new AbortController();
  const timer = setTimeout(() => stall.abort(new Stalled("stalled")), stallMs);
  const signal = options.signal ? AbortSignal.any([options.signal, stall.signal]) : stall.signal;
  try {
    let response: Response;
    try {
      response = await fetch(url, {
        headers: {
          ...options.headers,
          ...(authorization ? { authorization } : {}),
          ...(offset > 0 ? { range: `bytes=${offset}-`, ...(ifRange ? { "if-range": ifRange } : {}) } : {}),
        },
        signal,
        redirect: "follow",
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (stall.signal.aborted) throw stall.signal.reason;
      // The registry or URL the pull named, not a service Hearth runs on: the pull's own failure.
      throw new HearthError(
        "MODEL_PULL_FAILED",
        `${new URL(url).host} did not answer: ${describeNetworkError(error)}`,
        { cause: error, details: { reason: "unreachable", host: new URL(url).host } },
      );
    }
    if (response.status === 416 && offset > 0) {
      // The partial file is already complete (or longer than the file): start over to be safe.
      await response.body?.cancel().catch(() => undefined);
      await discard();
      return "start over";
    }
    if (!response.ok || !response.body) {
      const refused = response.status === 401 || response.status === 403;
      throw new HearthError(
        "MODEL_PULL_FAILED",
        `${shown} answered ${response.status}${refused ? (authorization ? ": it refused the user name and password in the URL" : ": it asks for credentials (http://user:password@host/... sends them)") : ""}`,
        {
          details: {
            reason: response.status === 404 ? "not-found" : "http-error",
            status: response.status,
            url: shown,
            ...(refused ? { credentials: authorization ? "refused" : "required" } : {}),
          },
        },
      );
    }
    const etag = response.headers.get("etag") ?? undefined;
    const lastModified = response.headers.get("last-modified") ?? undefined;
    const length = Number(response.headers.get("content-length") ?? Number.NaN);
    let total: number | undefined;
    if (response.status === 206 && offset > 0) {
      const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
      total = range?.[2] === "*" || !range ? undefined : Number(range[2]);
      // Another file than the one begun (the server ignored If-Range, or has no validator): its rest
      // joined to the bytes received would make a file nobody published. Started over.
      const changed =
        !range ||
        Number(range[1]) !== offset ||
        (remembered?.total !== undefined && total !== remembered.total) ||
        (remembered?.etag !== undefined && etag !== undefined && etag !== remembered.etag);
      if (changed) {
        await response.body.cancel().catch(() => undefined);
        await discard();
        return "start over";
      }
    } else {
      // The whole file (a first attempt, a server that ignores Range, or the file changed: If-Range).
      offset = 0;
      total = Number.isFinite(length) ? length : undefined;
      await writeFile(
        recordPath,
        `${JSON.stringify({ etag, lastModified, total } satisfies FirstAttempt)}\n`,
      );
    }
    const handle = await open(partial, offset > 0 ? "a" : "w");
    let completed = offset;
    let checkedMagic = offset >= 4 || !options.requireGguf;
    let head = Buffer.alloc(0);
    try {
      const reader = response.body.getReader();
      let lastReport = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        timer.refresh();
        if (!checkedMagic) {
          head = Buffer.concat([head, Buffer.from(value)]);
          if (head.length >= 4) {
            if (head.subarray(0, 4).toString("latin1") !== "GGUF") {
              await reader.cancel().catch(() => undefined);
              throw new HearthError(
                "MODEL_PULL_FAILED",
                `${shown} is not a GGUF file (it does not start with "GGUF")`,
                { details: { reason: "not-gguf", url: shown } },
              );
            }
            checkedMagic = true;
          }
        }
        await handle.write(value);
        completed += value.length;
        if (options.onProgress && (completed - lastReport > 256 * 1024 || completed === total)) {
          lastReport = completed;
          options.onProgress({ completed, total });
        }
      }
    } catch (error) {
      await handle.close();
      if (error instanceof HearthError) {
        await discard();
        throw error;
      }
      if (options.signal?.aborted) throw error;
      // Keep the partial file: the next attempt, or the next pull, resumes from it.
      if (stall.signal.aborted) throw stall.signal.reason;
      throw new HearthError(
        "MODEL_PULL_FAILED",
        `the download of ${shown} was interrupted after ${completed} bytes; pull again to resume`,
        { cause: error, details: { reason: "interrupted", url: shown } },
      );
    }
    await handle.close();
    clearTimeout(timer);
    if (!checkedMagic) {
      await discard();
      throw new HearthError("MODEL_PULL_FAILED", `${shown} is too short to be a GGUF file`, {
        details: { reason: "not-gguf", url: shown },
      });
    }
    options.onProgress?.({ completed, total });
    await options.beforeCommit?.();
    const digest = await sha256File(partial);
    // The digest is of the bytes that take the final name: a file longer or shorter than the bytes
    // this download wrote was written by someone else too (a pull without the lock: an earlier
    // release's), and is nobody's file.
    const written = await stat(partial).catch(() => undefined);
    if (written?.size !== completed) {
      await discard();
      throw new HearthError(
        "MODEL_PULL_FAILED",
        `the download of ${shown} was written to by another process meanwhile (${partial} holds ${written?.size ?? 0} bytes, not the ${completed} received); it was discarded: pull again`,
        { details: { reason: "conflict", url: shown } },
      );
    }
    if (options.expectedDigest && digest !== options.expectedDigest) {
      await discard();
      throw new HearthError(
        "MODEL_DIGEST_MISMATCH",
        `${shown}: the content has digest ${digest}, not the announced ${options.expectedDigest}; the download was discarded`,
        { details: { reason: "digest-mismatch", url: shown } },
      );
    }
    await options.beforeCommit?.();
    await rename(partial, options.destination);
    await rm(recordPath, { force: true });
    return { digest, size: completed };
  } finally {
    clearTimeout(timer);
  }
}

export { sha256File };
