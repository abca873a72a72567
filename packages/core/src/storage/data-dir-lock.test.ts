import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HearthError } from "../errors/hearth-error.js";
import { dataDirLockHolders, lockDataDir, lockPidFile, processStartTime } from "./data-dir-lock.js";

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

describe("the data dir lock, unreadable pid file", () => {
  it("never takes a pid file holding no record for a stale one", () => {
    mkdirSync(join(dataDir, ".locks"), { recursive: true });
    writeFileSync(pidFile("web"), "");
    expect(() => lockDataDir(dataDir, ["web"], "hearth up")).toThrow(
      expect.objectContaining({
        code: "DATA_DIR_IN_USE",
        message: expect.stringContaining("holds no record"),
      }),
    );
    expect(readFileSync(pidFile("web"), "utf8")).toBe("");
  });
});

describe("a pid file lock taken by a running service", () => {
  it("waits on timers for a pid file that holds no record yet, so the service's event loop goes on meanwhile", async () => {
    const file = join(dataDir, "being-written.lock");
    writeFileSync(file, "");
    // What a service does meanwhile (answering requests, streaming): a timer every 5 ms.
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(Date.now()), 5);
    const started = Date.now();
    const refused = await Promise.resolve()
      .then(() =>
        lockPidFile(file, "test", {
          held: () => new HearthError("BACKUP_IN_PROGRESS", "held"),
          busy: () => new HearthError("BACKUP_IN_PROGRESS", "busy"),
          unreadable: () => new HearthError("BACKUP_IN_PROGRESS", "holds no record"),
        }),
      )
      .catch((error: unknown) => error);
    const ended = Date.now();
    clearInterval(timer);
    // Given half a second to be written in full before it is refused, as before.
    expect(refused).toMatchObject({ message: "holds no record" });
    expect(ended - started).toBeGreaterThanOrEqual(450);
    const times = [started, ...ticks, ended];
    const longestStall = Math.max(...times.slice(1).map((tick, index) => tick - times[index]!));
    expect(longestStall).toBeLessThan(250);
  });
});

describe("the data dir lock, raced by several processes", () => {
  // Children run the built module (`tsc -b`, as `npm test` builds first), each taking the lock in
  // every round's data dir at the same instant, and holding what they got until all are done.
  const built = fileURLToPath(new URL("../../dist/storage/data-dir-lock.js", import.meta.url));
  const child = `
    const { lockDataDir } = await import(${JSON.stringify(pathToFileURL(built).href)});
    process.setMaxListeners(0);
    const [dirs, start, step] = JSON.parse(process.argv[1]);
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const results = [];
    for (let round = 0; round < dirs.length; round++) {
      const at = start + round * step;
      if (at - Date.now() > 2) Atomics.wait(pause, 0, 0, at - Date.now() - 2);
      while (Date.now() < at) {}
      try {
        lockDataDir(dirs[round], ["web", "knowledge"], "hearth up");
        results.push("won");
      } catch (error) {
        results.push(error.code);
      }
    }
    console.log(JSON.stringify(results));
    process.stdin.resume();
  `;

  it("goes to exactly one of them each round, with or without a stale pid file", async () => {
    const gone = spawnSync(process.execPath, ["-e", ""]).pid!;
    const rounds = 60;
    const dirs = Array.from({ length: rounds }, (_, round) => {
      const dir = join(dataDir, `round-${round}`);
      mkdirSync(join(dir, ".locks"), { recursive: true });
      // Two rounds in three start from a pid file left by a crash.
      if (round % 3 !== 2) writeFileSync(join(dir, ".locks", "web.pid"), JSON.stringify({ pid: gone }));
      return dir;
    });
    const start = Date.now() + 700;
    const children = Array.from({ length: 6 }, () =>
      spawn(process.execPath, ["--input-type=module", "-e", child, JSON.stringify([dirs, start, 12])], {
        stdio: ["pipe", "pipe", "inherit"],
      }),
    );
    const outputs = await Promise.all(
      children.map(
        (process) =>
          new Promise<string[]>((resolve) => {
            let out = "";
            process.stdout.on("data", (chunk) => {
              out += chunk;
              if (out.endsWith("\n")) resolve(JSON.parse(out) as string[]);
            });
          }),
      ),
    );
    // Only now may they exit (and release what they hold).
    await Promise.all(
      children.map((process) => {
        process.stdin.end();
        return new Promise((resolve) => process.on("close", resolve));
      }),
    );
    for (let round = 0; round < rounds; round++) {
      const results = outputs.map((output) => output[round]);
      expect({ round, winners: results.filter((result) => result === "won").length }).toEqual({
        round,
        winners: 1,
      });
      expect(
        results.filter((result) => result !== "won").every((result) => result === "DATA_DIR_IN_USE"),
      ).toBe(true);
    }
  });
});
