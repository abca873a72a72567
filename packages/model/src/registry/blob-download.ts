import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, rename, rm, stat } from "node:fs/promises";
import { HearthError, UpstreamCallError, urlCredentials, withoutUrlSecrets } from "@hearth/core";

export interface DownloadProgress {
  completed: number;
  total: number | undefined;
}

export interface DownloadOptions {
  /** User info in it (`http://user:password@host/...`) is sent as Basic credentials, to that origin only. */
  url: string;
  /** Where the finished file goes; `<destination>.partial` holds an interrupted download to resume. */
  destination: string;
  /** `sha256:<hex>` the content must have; when unset the digest is computed and returned. */
  expectedDigest?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** Check the first bytes are a GGUF file (plain URL pulls). */
  requireGguf?: boolean;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * Downloads a file, resuming an interrupted download with an HTTP Range request, and checks its
 * digest before it takes its final name: a file whose content does not match is deleted, never served.
 * Its messages name the URL without its user info and query.
 */
export async function downloadBlob(options: DownloadOptions): Promise<{ digest: string; size: number }> {
  const partial = `${options.destination}.partial`;
  const { url, authorization } = urlCredentials(options.url);
  const shown = withoutUrlSecrets(options.url);
  let offset = await sizeOf(partial);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: {
        ...options.headers,
        ...(authorization ? { authorization } : {}),
        ...(offset > 0 ? { range: `bytes=${offset}-` } : {}),
      },
      signal: options.signal,
      redirect: "follow",
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new UpstreamCallError({
      url: shown,
      message: withoutUrlSecrets(`${new URL(url).host} did not answer: ${(error as Error).message}`),
      cause: error,
    });
  }
  if (response.status === 416 && offset > 0) {
    // The partial file is already complete (or longer than the file): start over to be safe.
    await rm(partial, { force: true });
    return downloadBlob(options);
  }
  if (!response.ok || !response.body) {
    const refused = response.status === 401 || response.status === 403;
    throw new HearthError(
      "MODEL_PULL_FAILED",
      `${shown} answered ${response.status}${refused ? (authorization ? ": it refused the user name and password in the URL" : ": it asks for credentials (http://user:password@host/... sends them)") : ""}`,
      { details: { status: response.status } },
    );
  }
  if (response.status !== 206) offset = 0; // the server ignored the range: restart from the beginning
  const length = Number(response.headers.get("content-length") ?? Number.NaN);
  const total = Number.isFinite(length) ? offset + length : undefined;
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
      if (!checkedMagic) {
        head = Buffer.concat([head, Buffer.from(value)]);
        if (head.length >= 4) {
          if (head.subarray(0, 4).toString("latin1") !== "GGUF") {
            await reader.cancel().catch(() => undefined);
            throw new HearthError(
              "MODEL_PULL_FAILED",
              `${shown} is not a GGUF file (it does not start with "GGUF")`,
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
      await rm(partial, { force: true });
      throw error;
    }
    if (options.signal?.aborted) throw error;
    // Keep the partial file: the next pull resumes from it.
    throw new HearthError(
      "MODEL_PULL_FAILED",
      `the download of ${shown} was interrupted after ${completed} bytes; pull again to resume`,
      {
        cause: error,
      },
    );
  }
  await handle.close();
  if (!checkedMagic) {
    await rm(partial, { force: true });
    throw new HearthError("MODEL_PULL_FAILED", `${shown} is too short to be a GGUF file`);
  }
  options.onProgress?.({ completed, total });
  const digest = await sha256File(partial);
  if (options.expectedDigest && digest !== options.expectedDigest) {
    await rm(partial, { force: true });
    throw new HearthError(
      "MODEL_DIGEST_MISMATCH",
      `${shown}: the content has digest ${digest}, not the announced ${options.expectedDigest}; the download was discarded`,
    );
  }
  await rename(partial, options.destination);
  return { digest, size: completed };
}

export { sha256File };
