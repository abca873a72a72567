import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dataDirLockHolders, lockDataDir, processStartTime } from "./data-dir-lock.js";

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "hearth-lock-"));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const pidFile = (service: string) => join(dataDir, ".locks", `${service}.pid`);
function leaveLock(service: string, record: Record<string, unknown>): void {
  mkdirSync(join(dataDir, ".locks"), { recursive: true });
  writeFileSync(pidFile(service), JSON.stringify(record));
}

describe("the data dir lock", () => {
  it("writes a pid file per service and removes it on release", () => {
    const lock = lockDataDir(dataDir, ["web", "knowledge"], "hearth up");
    expect(JSON.parse(readFileSync(pidFile("web"), "utf8"))).toMatchObject({
      pid: process.pid,
      command: "hearth up",
    });
    expect(existsSync(pidFile("knowledge"))).toBe(true);
    lock.release();
    expect(existsSync(pidFile("web"))).toBe(false);
    expect(existsSync(pidFile("knowledge"))).toBe(false);
  });

  it("refuses while another live process holds it, naming the pid and the data dir", () => {
    // The parent process stands for the other Hearth: alive, and not this process.
    leaveLock("knowledge", {
      pid: process.ppid,
      startTime: processStartTime(process.ppid),
      command: "hearth up",
      startedAt: "2026-11-27T08:00:00.000Z",
    });
    let error: unknown;
    try {
      lockDataDir(dataDir, ["web", "knowledge"], "hearth up");
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: "DATA_DIR_IN_USE", details: { pid: process.ppid, dataDir } });
    expect((error as Error).message).toBe(
      `the data dir ${dataDir} is in use by another Hearth (pid ${process.ppid}, \`hearth up\`, since 2026-11-27T08:00:00.000Z), which runs the knowledge service on it (${pidFile("knowledge")}); stop that Hearth first, or give this one its own HEARTH_DATA_DIR`,
    );
    // What it took before finding the holder is given back; the holder's file stays.
    expect(existsSync(pidFile("web"))).toBe(false);
    expect(dataDirLockHolders(dataDir)).toEqual([
      expect.objectContaining({ service: "knowledge", pid: process.ppid }),
    ]);
  });

  it("takes over a pid file whose process is gone, was reused, or is this very pid (a restarted container)", () => {
    const gone = spawnSync(process.execPath, ["-e", ""]).pid!;
    leaveLock("web", { pid: gone });
    leaveLock("knowledge", { pid: process.ppid, startTime: "1" });
    leaveLock("model", { pid: process.pid, startTime: "1" });
    expect(dataDirLockHolders(dataDir)).toEqual([]);
    const lock = lockDataDir(dataDir, ["web", "knowledge", "model"], "hearth up");
    for (const service of ["web", "knowledge", "model"])
      expect(JSON.parse(readFileSync(pidFile(service), "utf8")).pid).toBe(process.pid);
    lock.release();
  });
});
