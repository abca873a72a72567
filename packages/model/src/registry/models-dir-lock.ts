import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { HearthError, type LockRecord, lockPidFile, type PidFileLock } from "@hearth/core";

/**
 * How long a lock in the models dir held by a process on another host (a replica sharing the models
 * volume) may go unrefreshed before it counts as left by a process that is gone (its holder
 * refreshes it four times as often while it lives).
 */
export const MODELS_DIR_LOCK_STALE_MS = 30_000;

/** What a lock was found held by: another process (`holder`), or none known (see `unreadable`). */
export interface HeldLock {
  /** The holder's record; none while several processes take over a stale lock, or when it holds no record. */
  holder?: LockRecord;
  /** The lock holds no record (not a file this release writes), so whether anyone holds it is unknown. */
  unreadable: boolean;
}

export interface LockWait {
  /** What the lock's record says this process does. */
  command: string;
  /** How often the lock is tried again while it is held. */
  pollMs: number;
  /** When a lock of another host counts as stale (MODELS_DIR_LOCK_STALE_MS unless set). */
  staleAfterMs?: number;
  /** Ends the wait when aborted. */
  signal?: AbortSignal;
  /** Told each time the lock is found held, before the wait goes on; an error it throws ends the wait. */
  onHeld(held: HeldLock): void | Promise<void>;
}

/** The process a lock's record names, with its host when that is another: `process 1234 on replica-2`. */
export function holderText(holder: LockRecord): string {
  return `process ${holder.pid}${holder.hostname && holder.hostname !== hostname() ? ` on ${holder.hostname}` : ""}`;
}

/** The lock was found held: waited for, never shown. */
class Held extends HearthError {
  constructor(readonly found: HeldLock) {
    super("INTERNAL_ERROR", "another process holds the lock");
  }
}

/**
 * Takes the lock `file` (core's pid file lock) in a models dir that other processes share, of this
 * host or of others mounting the same volume, waiting for as long as another holds it: one whose
 * process is gone is taken over, on this host when its pid is gone, of another host when it was not
 * refreshed for `staleAfterMs` (it is refreshed while this process holds it, so that others judge it
 * the same way). Every wait is a timer: the model service goes on serving meanwhile.
 */
export async function waitForLock(file: string, wait: LockWait): Promise<PidFileLock> {
  for (;;) {
    wait.signal?.throwIfAborted();
    try {
      return await lockPidFile(
        file,
        wait.command,
        {
          held: (holder) => new Held({ holder, unreadable: false }),
          busy: () => new Held({ unreadable: false }),
          unreadable: () => new Held({ unreadable: true }),
        },
        { staleAfterMs: wait.staleAfterMs ?? MODELS_DIR_LOCK_STALE_MS },
      );
    } catch (error) {
      if (!(error instanceof Held)) throw error;
      await wait.onHeld(error.found);
    }
    await sleep(wait.pollMs, undefined, { signal: wait.signal });
  }
}
