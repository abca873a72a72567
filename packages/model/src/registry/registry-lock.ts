import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { HearthError, type LockRecord, lockPidFile, type PidFileLock, PRIVATE_DIR } from "@hearth/core";

/** How often a registry change waiting for another process's lock looks at it again. */
export const REGISTRY_LOCK_POLL_MS = 25;
/** How long a registry change waits for another process's lock before it answers MODEL_REGISTRY_BUSY. */
export const REGISTRY_LOCK_WAIT_MS = 60_000;
/**
 * How long the lock of a process on another host (a replica sharing the models volume) may go
 * unrefreshed before it counts as left by a process that is gone (its holder refreshes it four
 * times as often while it lives).
 */
export const REGISTRY_LOCK_STALE_MS = 30_000;

export interface RegistryLockTiming {
  /** REGISTRY_LOCK_WAIT_MS unless set. */
  waitMs?: number;
  /** REGISTRY_LOCK_POLL_MS unless set. */
  pollMs?: number;
  /** REGISTRY_LOCK_STALE_MS unless set. */
  staleAfterMs?: number;
}

/** The lock's file in the registry dir, beside the registry.json it guards. */
export function registryLockFile(registryDir: string): string {
  return join(registryDir, "registry.lock");
}

/** Another process holds the lock (`holder`; none when several take over a stale one, or it holds no record): waited for. */
class Held extends HearthError {
  constructor(
    readonly holder: LockRecord | undefined,
    readonly unreadable = false,
  ) {
    super("MODEL_REGISTRY_BUSY", "another process holds the model registry's lock");
  }
}

function holderText(holder: LockRecord): string {
  const host = holder.hostname && holder.hostname !== hostname() ? ` on ${holder.hostname}` : "";
  return `process ${holder.pid}${host}${holder.startedAt ? ` (since ${holder.startedAt})` : ""}`;
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
  let lock: PidFileLock;
  for (;;) {
    try {
      lock = lockPidFile(
        file,
        "model registry",
        {
          held: (holder) => new Held(holder),
          busy: () => new Held(undefined),
          unreadable: () => new Held(undefined, true),
        },
        { staleAfterMs: timing.staleAfterMs ?? REGISTRY_LOCK_STALE_MS },
      );
      break;
    } catch (error) {
      if (!(error instanceof Held)) throw error;
      if (Date.now() >= deadline)
        throw new HearthError(
          "MODEL_REGISTRY_BUSY",
          error.unreadable
            ? `the model registry's lock (${file}) holds no record, so whether another process changes the registry is unknown; if none does (no model service or \`hearth models\` runs on this models dir), delete that file and try again`
            : `the model registry's lock (${file}) is held by another ${error.holder ? holderText(error.holder) : "process"} sharing the models dir; nothing was changed: try again shortly`,
          {
            details: {
              file,
              ...(error.holder ? { pid: error.holder.pid, hostname: error.holder.hostname } : {}),
            },
          },
        );
      await sleep(timing.pollMs ?? REGISTRY_LOCK_POLL_MS);
    }
  }
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
