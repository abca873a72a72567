import { createHash, randomBytes } from "node:crypto";
import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { HearthError } from "../errors/hearth-error.js";
import { PRIVATE_DIR } from "./private-dir.js";

/** Folder of the data directory holding one pid file per running service that writes it; never backed up. */
export const LOCKS_DIR = ".locks";

export interface LockRecord {
  pid: number;
  /** The process's start time (Linux: clock ticks after boot), so a pid reused by another process is not taken for it. */
  startTime?: string;
  hostname?: string;
  command?: string;
  startedAt?: string;
  /** Written by every pid file so that no two hold the same text; names one holding among others. */
  nonce?: string;
}

export interface LockHolder extends LockRecord {
  /** The service whose lock it holds. */
  service: string;
  file: string;
}

export interface DataDirLock {
  files: string[];
  /** Removes the pid files (also done when the process exits). */
  release(): void;
}

/** A process's start time as Linux's /proc records it; undefined elsewhere or when it is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The texts of the pid files this process holds now. */
const heldHere = new Set<string>();

/**
 * A lock that lives on a volume other hosts share (a models dir that several replicas mount): its
 * holder refreshes the file's mtime every `staleAfterMs / 4` while it holds it, and a record of
 * another host (whose pid says nothing here) counts as held until its file is seen unchanged for
 * `staleAfterMs` by this host's clock (so clocks that differ between hosts never matter).
 */
export interface SharedVolumeLock {
  staleAfterMs: number;
}

/** What this process last saw of a pid file of another host: its text and mtime, and since when. */
const seenUnchanged = new Map<string, { text: string; mtimeMs: number; since: number }>();

/** Whether the pid file `file` (holding `text`) changed within the last `staleAfterMs`, as this process saw it. */
function refreshedWithin(file: string, text: string, staleAfterMs: number): boolean {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return false; // gone since it was read
  }
  const seen = seenUnchanged.get(file);
  if (seen?.text !== text || seen.mtimeMs !== mtimeMs) {
    seenUnchanged.set(file, { text, mtimeMs, since: Date.now() });
    return true;
  }
  return Date.now() - seen.since < staleAfterMs;
}

/**
 * Whether a pid file's process still runs: its pid is alive, is not this process (a container
 * restarted with the same pid finds its previous incarnation's file) unless this process holds the
 * file now, and, where the start time is known, started when the file says (else the pid was reused
 * after a crash). For a lock on a shared volume (`shared`), a record of another host is held while
 * its file is refreshed.
 */
function isHeld(record: LockRecord, text?: string, shared?: SharedVolumeLock & { file: string }): boolean {
  if (!Number.isInteger(record.pid) || record.pid <= 0) return false;
  if (shared && text !== undefined && record.hostname !== undefined && record.hostname !== hostname())
    return refreshedWithin(shared.file, text, shared.staleAfterMs);
  // This process's own file is held while this process holds it (two backups to one destination
  // in one process); any other file naming this pid is a previous incarnation's.
  if (record.pid === process.pid) return text !== undefined && heldHere.has(text);
  if (!isAlive(record.pid)) return false;
  const started = processStartTime(record.pid);
  return record.startTime === undefined || started === undefined || started === record.startTime;
}

/**
 * A pid file's text and record: undefined when it is gone; `unreadable` when it holds no record
 * (this release links a complete file into place, so that is a file from elsewhere or a damaged one,
 * never a competitor's half-written record).
 */
type ReadResult = { text: string; record: LockRecord } | "unreadable" | undefined;

function readLock(file: string): ReadResult {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? undefined : "unreadable";
  }
  try {
    const parsed = JSON.parse(text) as LockRecord;
    return typeof parsed?.pid === "number" ? { text, record: parsed } : "unreadable";
  } catch {
    return "unreadable";
  }
}

/**
 * Taking a pid file, step by step: it yields each pause it needs (in milliseconds) while another
 * process writes or takes over the file, and whoever runs it decides how to wait: `waitingThrough`
 * on a timer, `blockingThrough` holding the thread.
 */
type Taking<T> = Generator<number, T, void>;

/**
 * Runs `taking` to its end, each pause a timer, so that the event loop serves everything else
 * meanwhile (a service's requests and streams).
 */
async function waitingThrough<T>(taking: Taking<T>): Promise<T> {
  for (;;) {
    const step = taking.next();
    if (step.done) return step.value;
    await sleep(step.value);
  }
}

const blocked = new Int32Array(new SharedArrayBuffer(4));

/** Runs `taking` to its end, holding the thread through each pause (nothing else runs meanwhile). */
function blockingThrough<T>(taking: Taking<T>): T {
  for (;;) {
    const step = taking.next();
    if (step.done) return step.value;
    Atomics.wait(blocked, 0, 0, step.value);
  }
}

/** Writes `text` to a file of its own beside `file` and links it to `file`: created with all of it, or EEXIST. */
function createComplete(file: string, text: string): boolean {
  const temporary = `${file}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`;
  writeFileSync(temporary, text, { flag: "wx", mode: 0o600 });
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    // A file system without hard links (FAT, exFAT: a backup disk): created exclusively instead, so
    // a reader may for a moment find it empty (read as holding no record, and waited for).
    if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "EMLINK") {
      try {
        writeFileSync(file, text, { flag: "wx", mode: 0o600 });
        return true;
      } catch (exclusive) {
        if ((exclusive as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw exclusive;
      }
    }
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

/**
 * Removes the pid file `file` when it still holds `stale` (the text of a record whose process is
 * gone), so that of the processes that read it only one removes it: each first takes a takeover
 * file named after that text (`<file>.takeover-<hash>-<n>`, created whole or not at all), the
 * n-th only when those before it belong to processes that are gone (a start killed mid-takeover).
 * The pid file changes only by its removal, and its stale text only under such a takeover file, so
 * one that still reads `stale` there is the stale file (never a newcomer's that replaced it).
 * Answers whether this process should try to create the pid file again now.
 */
function removeStale(file: string, stale: string, record: string, shared?: SharedVolumeLock): boolean {
  const prefix = `${file}.takeover-${createHash("sha256").update(stale).digest("hex").slice(0, 32)}-`;
  for (let n = 0; n < 100; n++) {
    const marker = `${prefix}${n}`;
    if (!createComplete(marker, record)) {
      const other = readLock(marker);
      // Its process is gone (or the takeover finished and the file went): try the next one.
      if (
        other === undefined ||
        (typeof other === "object" &&
          !isHeld(other.record, other.text, shared && { ...shared, file: marker }))
      )
        continue;
      return false; // another start is taking it over right now: look again
    }
    const now = readLock(file);
    if (now === "unreadable") return false; // (not a record: left as it is, and so is the takeover file)
    if (now?.text === stale) unlinkSync(file);
    // The stale file is gone for good (removed now, or before): every takeover of it is over.
    for (let i = 0; i <= n; i++) rmSync(`${prefix}${i}`, { force: true });
    return true;
  }
  return false;
}

/** The services whose pid files in this data directory belong to a running process. */
export function dataDirLockHolders(dataDir: string): LockHolder[] {
  const dir = join(dataDir, LOCKS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith(".pid"));
  } catch {
    return [];
  }
  const holders: LockHolder[] = [];
  for (const name of names.sort()) {
    const file = join(dir, name);
    const read = readLock(file);
    if (typeof read === "object" && isHeld(read.record, read.text))
      holders.push({ ...read.record, service: name.slice(0, -4), file });
  }
  return holders;
}

/** Why a pid file cannot be taken: the error each case is refused with. */
export interface PidFileRefusals {
  /** A running process holds it. */
  held(holder: LockRecord): HearthError;
  /** It holds no record (not a file this release writes): left alone, never taken for a stale one. */
  unreadable(): HearthError;
  /** Other starts keep taking over the same stale file. */
  busy(): HearthError;
}

/** A record of this process for a new pid file: a nonce, so that no two pid files ever hold the same text. */
function recordText(command: string): string {
  const record: LockRecord = {
    pid: process.pid,
    ...(processStartTime(process.pid) ? { startTime: processStartTime(process.pid)! } : {}),
    hostname: hostname(),
    command,
    startedAt: new Date().toISOString(),
  };
  return `${JSON.stringify({ ...record, nonce: randomBytes(8).toString("hex") })}\n`;
}

/**
 * Creates the pid file `file` holding `text`, taking over one left by a process that is gone (by
 * one process only, when several race); a running holder's is refused. Answers the stale record
 * taken over, if there was one. Pauses (up to half a second for a file that holds no record yet,
 * two while other processes take over the same stale one) are yielded, never waited here.
 */
function* takePidFile(
  file: string,
  text: string,
  refusals: PidFileRefusals,
  shared?: SharedVolumeLock,
): Taking<{ tookOver: LockRecord | undefined }> {
  const deadline = Date.now() + 2_000;
  const unreadableDeadline = Date.now() + 500;
  let tookOver: LockRecord | undefined;
  for (;;) {
    if (createComplete(file, text)) {
      heldHere.add(text);
      return { tookOver };
    }
    const holder = readLock(file);
    if (holder === undefined) continue; // removed since: try again
    if (holder === "unreadable") {
      // Never taken for a stale file: it may be an older Hearth's, still being written.
      if (Date.now() < unreadableDeadline) {
        yield 20;
        continue;
      }
      throw refusals.unreadable();
    }
    if (isHeld(holder.record, holder.text, shared && { ...shared, file })) throw refusals.held(holder.record);
    // Left by a process that is gone: take it over (unless another start is doing so).
    if (removeStale(file, holder.text, text, shared)) tookOver = holder.record;
    else {
      if (Date.now() >= deadline) throw refusals.busy();
      yield 5;
    }
  }
}

/** Removes the pid files of `text` that are still this process's. */
function releasePidFiles(files: string[], text: string): void {
  for (const file of files) {
    const read = readLock(file);
    if (typeof read === "object" && read.text === text) {
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
    }
  }
}

export interface PidFileLock {
  file: string;
  /** This holding's record (its `nonce` tells it from any other holding of the same file). */
  record: LockRecord;
  /** The record of the process that had left the file, when it was taken over from one that is gone. */
  tookOver: LockRecord | undefined;
  /**
   * Whether the file still holds this holding's record: false once it was removed or replaced (by
   * hand, or taken over as stale), when whatever the lock guards may be another's again.
   */
  stillHeld(): boolean;
  /** Removes the pid file (also done when the process exits). */
  release(): void;
}

/**
 * Takes an exclusive lock held by a pid file: `file` is created holding this process's record
 * (pid, start time, host, `command`); a running process's file is refused with the error
 * `refusals` gives, one whose process is gone is taken over. Released when the process exits. On a
 * volume other hosts share (`shared`), the file is refreshed while held, and another host's file
 * left unrefreshed for `staleAfterMs` is taken over. Its short waits (a file still being written,
 * other processes taking over the same stale one) are timers: a service taking a lock keeps
 * answering its other requests meanwhile.
 */
export async function lockPidFile(
  file: string,
  command: string,
  refusals: PidFileRefusals,
  shared?: SharedVolumeLock,
): Promise<PidFileLock> {
  const text = recordText(command);
  const { tookOver } = await waitingThrough(takePidFile(file, text, refusals, shared));
  const stillHeld = () => {
    const read = readLock(file);
    return typeof read === "object" && read.text === text;
  };
  const refresh =
    shared &&
    setInterval(
      () => {
        if (!stillHeld()) return;
        try {
          const now = new Date();
          utimesSync(file, now, now);
        } catch {
          // removed since: stillHeld says so
        }
      },
      Math.max(1, Math.floor(shared.staleAfterMs / 4)),
    );
  refresh?.unref();
  const release = () => {
    if (refresh) clearInterval(refresh);
    releasePidFiles([file], text);
    heldHere.delete(text);
    process.off("exit", release);
  };
  process.on("exit", release);
  return { file, record: JSON.parse(text) as LockRecord, tookOver, stillHeld, release };
}

/** The record a pid file holds now: undefined when it is gone or holds none. */
export function readPidFile(file: string): LockRecord | undefined {
  const read = readLock(file);
  return typeof read === "object" ? read.record : undefined;
}

/**
 * Takes the data directory for these services (one pid file each under `<dataDir>/.locks/`), so a
 * second Hearth started on the same data directory, which would write the same SQLite files and
 * models, refuses with DATA_DIR_IN_USE naming the pid holding it. A file left by a process that is
 * gone (killed, a crash, a restarted container) is taken over. Released when the process exits.
 * Synchronous, its pauses holding the thread: `hearth up` and `hearth serve` take it at start-up,
 * before any service listens, when the thread has nothing else to serve (a lock taken while a
 * service runs is `lockPidFile`'s, whose pauses are timers).
 */
export function lockDataDir(dataDir: string, services: readonly string[], command: string): DataDirLock {
  const dir = join(dataDir, LOCKS_DIR);
  mkdirSync(dir, PRIVATE_DIR);
  const text = recordText(command);
  const taken: string[] = [];
  const release = () => {
    releasePidFiles(taken.splice(0), text);
    heldHere.delete(text);
    process.off("exit", release);
  };
  try {
    for (const service of services) {
      const file = join(dir, `${service}.pid`);
      const refusals: PidFileRefusals = {
        unreadable: () =>
          new HearthError(
            "DATA_DIR_IN_USE",
            `the data dir ${dataDir} has a pid file for the ${service} service that holds no record (${file}), so whether another Hearth runs on it is unknown; if none does, delete that file`,
            { details: { dataDir, service, file } },
          ),
        held: (holder) => {
          const what = [
            holder.command ? `\`${holder.command}\`` : undefined,
            holder.startedAt && `since ${holder.startedAt}`,
          ]
            .filter(Boolean)
            .join(", ");
          return new HearthError(
            "DATA_DIR_IN_USE",
            `the data dir ${dataDir} is in use by another Hearth (pid ${holder.pid}${what ? `, ${what}` : ""}), which runs the ${service} service on it (${file}); stop that Hearth first, or give this one its own HEARTH_DATA_DIR`,
            { details: { pid: holder.pid, dataDir, service, file } },
          );
        },
        busy: () =>
          new HearthError(
            "DATA_DIR_IN_USE",
            `the data dir ${dataDir} is being taken by another Hearth starting on it (the ${service} service, ${file}); stop that Hearth first, or give this one its own HEARTH_DATA_DIR`,
            { details: { dataDir, service, file } },
          ),
      };
      blockingThrough(takePidFile(file, text, refusals));
      taken.push(file);
    }
  } catch (error) {
    release();
    throw error;
  }
  process.on("exit", release);
  return { files: [...taken], release };
}
