import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { HearthError, type LockRecord, type PidFileLock, PRIVATE_DIR } from "@hearth/core";
import { holderText, waitForLock } from "./models-dir-lock.js";

/** How often a registry change waiting for another process's lock looks at it again. */
const REGISTRY_LOCK_POLL_MS = 25;
/** How long a registry change waits for another process's lock before it answers MODEL_REGISTRY_BUSY. */
const REGISTRY_LOCK_WAIT_MS = 60_000;

export interface RegistryLockTiming {
  /** REGISTRY_LOCK_WAIT_MS unless set. */
  waitMs?: number;
  /** REGISTRY_LOCK_POLL_MS unless set. */
  pollMs?: number;
  /** When a lock of another host counts as stale, for the registry's lock and the pulls' (MODELS_DIR_LOCK_STALE_MS unless set). */
  staleAfterMs?: number;
}

/** The lock's file in the registry dir, beside the registry.json it guards. */
export function registryLockFile(registryDir: string): string {
  return join(registryDir, "registry.lock");
}

function holderSince(holder: LockRecord): string {
  return `${holderText(holder)}${holder.startedAt ? ` (since ${holder.startedAt})` : ""}`;
}

/**
 * Runs `task` holding the registry's lock (`<registryDir>/registry.lock`, core's pid file lock), so
 * that of the processes sharing the models dir (model service replicas on one volume, `hearth
 * models` beside the service) one at a time reads and rewrites registry.json. A lock left by a
 * process that is gone is taken over: on this host when its pid is gone, from another host when it
 * was not refreshed for `staleAfterMs`. A lock held longer than `waitMs` ends the wait with
 * MODEL_REGISTRY_BUSY naming its holder.
 */
export async function withRegistryLock<T>(
  registryDir: string,
  task: (lock: PidFileLock) => Promise<T>,
  timing: RegistryLockTiming = {},
): Promise<T> {
  await mkdir(registryDir, PRIVATE_DIR);
  const file = registryLockFile(registryDir);
  const deadline = Date.now() + (timing.waitMs ?? REGISTRY_LOCK_WAIT_MS);
  const lock = await waitForLock(file, {
    command: "model registry",
    pollMs: timing.pollMs ?? REGISTRY_LOCK_POLL_MS,
    staleAfterMs: timing.staleAfterMs,
    onHeld: ({ holder, unreadable }) => {
      if (Date.now() < deadline) return;
      throw new HearthError(
        "MODEL_REGISTRY_BUSY",
        unreadable
          ? `the model registry's lock (${file}) holds no record, so whether another process changes the registry is unknown; if none does (no model service or \`hearth models\` runs on this models dir), delete that file and try again`
          : `the model registry's lock (${file}) is held by another ${holder ? holderSince(holder) : "process"} sharing the models dir; nothing was changed: try again shortly`,
        { details: { file, ...(holder ? { pid: holder.pid, hostname: holder.hostname } : {}) } },
      );
    },
  });
  try {
    return await task(lock);
  } finally {
    lock.release();
  }
}

/** MODEL_REGISTRY_BUSY for a change whose lock was taken over (counted stale) while it ran: it writes nothing. */
export function lockLost(lock: PidFileLock): HearthError {
  return new HearthError(
    "MODEL_REGISTRY_BUSY",
    `the model registry's lock (${lock.file}) was taken over by another process while this change ran, so it wrote nothing; try again`,
    { details: { file: lock.file } },
  );
}
