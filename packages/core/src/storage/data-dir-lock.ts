import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { HearthError } from "../errors/hearth-error.js";
import { PRIVATE_DIR } from "./private-dir.js";

/** Folder of the data directory holding one pid file per running service that writes it; never backed up. */
export const LOCKS_DIR = ".locks";

interface LockRecord {
  pid: number;
  /** The process's start time (Linux: clock ticks after boot), so a pid reused by another process is not taken for it. */
  startTime?: string;
  hostname?: string;
  command?: string;
  startedAt?: string;
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

/**
 * Whether a pid file's process still runs: its pid is alive, is not this process (a container
 * restarted with the same pid finds its previous incarnation's file), and, where the start time is
 * known, started when the file says (else the pid was reused after a crash).
 */
function isHeld(record: LockRecord): boolean {
  if (!Number.isInteger(record.pid) || record.pid <= 0 || record.pid === process.pid) return false;
  if (!isAlive(record.pid)) return false;
  const started = processStartTime(record.pid);
  return record.startTime === undefined || started === undefined || started === record.startTime;
}

function readRecord(file: string): LockRecord | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as LockRecord;
    return typeof parsed?.pid === "number" ? parsed : { pid: 0 };
  } catch (error) {
    // Gone between the listing and the read: nothing holds it. Unreadable garbage: a crash mid-write.
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? undefined : { pid: 0 };
  }
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
    const record = readRecord(file);
    if (record && isHeld(record)) holders.push({ ...record, service: name.slice(0, -4), file });
  }
  return holders;
}

/**
 * Takes the data directory for these services (one pid file each under `<dataDir>/.locks/`), so a
 * second Hearth started on the same data directory, which would write the same SQLite files and
 * models, refuses with DATA_DIR_IN_USE naming the pid holding it. A file left by a process that is
 * gone (killed, a crash, a restarted container) is taken over. Released when the process exits.
 */
export function lockDataDir(dataDir: string, services: readonly string[], command: string): DataDirLock {
  const dir = join(dataDir, LOCKS_DIR);
  mkdirSync(dir, PRIVATE_DIR);
  const record: LockRecord = {
    pid: process.pid,
    ...(processStartTime(process.pid) ? { startTime: processStartTime(process.pid)! } : {}),
    hostname: hostname(),
    command,
    startedAt: new Date().toISOString(),
  };
  const taken: string[] = [];
  const release = () => {
    for (const file of taken.splice(0)) {
      if (readRecord(file)?.pid === process.pid) {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      }
    }
    process.off("exit", release);
  };
  try {
    for (const service of services) {
      const file = join(dir, `${service}.pid`);
      for (let attempt = 0; ; attempt++) {
        try {
          writeFileSync(file, `${JSON.stringify(record)}\n`, { flag: "wx", mode: 0o600 });
          taken.push(file);
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 2) throw error;
        }
        const holder = readRecord(file);
        if (holder && isHeld(holder)) {
          const what = [
            holder.command ? `\`${holder.command}\`` : undefined,
            holder.startedAt && `since ${holder.startedAt}`,
          ]
            .filter(Boolean)
            .join(", ");
          throw new HearthError(
            "DATA_DIR_IN_USE",
            `the data dir ${dataDir} is in use by another Hearth (pid ${holder.pid}${what ? `, ${what}` : ""}), which runs the ${service} service on it (${file}); stop that Hearth first, or give this one its own HEARTH_DATA_DIR`,
            { details: { pid: holder.pid, dataDir, service, file } },
          );
        }
        // Left by a process that is gone: take it over.
        try {
          unlinkSync(file);
        } catch {
          // another start took it over first; the next attempt finds its file
        }
      }
    }
  } catch (error) {
    release();
    throw error;
  }
  process.on("exit", release);
  return { files: [...taken], release };
}
