import { spawnSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HearthError } from "../errors/hearth-error.js";
import { type BackupProgress, createBackup } from "./create-backup.js";
import { restoreBackup, verifyBackup } from "./restore-backup.js";

let root: string;
let dataDir: string;
let configFile: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "hearth-backup-"));
  dataDir = join(root, "data");
  mkdirSync(join(dataDir, "knowledge", "index"), { recursive: true });
  mkdirSync(join(dataDir, "models"), { recursive: true });
  writeFileSync(join(dataDir, "knowledge", "index", "segment-0001.bin"), Buffer.alloc(64 * 1024, 7));
  writeFileSync(
    join(dataDir, "models", "registry.json"),
    JSON.stringify({ models: [{ name: "deepseek-r1:1.5b", version: "1.0.0" }] }),
  );
  writeFileSync(join(dataDir, "models", "deepseek-r1-1.5b.gguf"), Buffer.alloc(4096, 1));
  configFile = join(root, "hearth.yaml");
  writeFileSync(configFile, "web:\n  port: 8080\n");
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A WAL database where every write adds one order and one ledger line in the same transaction. */
function openShop(path: string): Database.Database {
  const database = new Database(path);
  database.pragma("journal_mode = WAL");
  database.exec(
    "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, body BLOB); CREATE TABLE IF NOT EXISTS ledger (order_id INTEGER)",
  );
  return database;
}

function sell(database: Database.Database, count: number): void {
  const order = database.prepare("INSERT INTO orders (body) VALUES (?)");
  const line = database.prepare("INSERT INTO ledger (order_id) VALUES (?)");
  database.transaction(() => {
    for (let i = 0; i < count; i++) line.run(order.run(Buffer.alloc(1024, i % 251)).lastInsertRowid);
  })();
}

function counts(path: string): { orders: number; ledger: number } {
  const database = new Database(path, { readonly: true });
  try {
    const orders = (database.prepare("SELECT count(*) AS n FROM orders").get() as { n: number }).n;
    const ledger = (database.prepare("SELECT count(*) AS n FROM ledger").get() as { n: number }).n;
    return { orders, ledger };
  } finally {
    database.close();
  }
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<HearthError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(HearthError);
  expect((error as HearthError).code).toBe(code);
  return error as HearthError;
}

describe("createBackup", () => {
  it("snapshots a database that is being written to, consistently, with checksums for every file", async () => {
    const shopPath = join(dataDir, "web.db");
    const shop = openShop(shopPath);
    sell(shop, 3000);
    // Keep writing while the backup runs: each write is one order plus its ledger line.
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      while (writing) {
        sell(shop, 5);
        writes++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const destination = join(root, "backup-1");
    const manifest = await createBackup({ dataDir, destination, configFile });
    writing = false;
    await writer;
    expect(writes).toBeGreaterThan(0);

    const paths = manifest.entries.map((entry) => `${entry.kind}:${entry.path}`).sort();
    expect(paths).toEqual([
      "config:config/hearth.yaml",
      "file:data/knowledge/index/segment-0001.bin",
      "file:data/models/registry.json",
      "sqlite:data/web.db",
    ]);
    // The copy is one point in time: never an order without its ledger line, and no WAL beside it.
    const copied = counts(join(destination, "data", "web.db"));
    expect(copied.orders).toBeGreaterThanOrEqual(3000);
    expect(copied.ledger).toBe(copied.orders);
    expect(readdirSync(join(destination, "data"))).not.toContain("web.db-wal");
    expect(existsSync(`${destination}.partial`)).toBe(false);
    await expect(verifyBackup(destination)).resolves.toMatchObject({ scope: "full" });
    shop.close();
  });

  it("writes every file 0600 and every folder 0700 (hashes, conversations and keys are the owner's only)", async () => {
    const shop = openShop(join(dataDir, "web.db"));
    sell(shop, 10);
    shop.close();
    const destination = join(root, "private");
    await createBackup({ dataDir, destination, configFile });
    const modes: string[] = [];
    const walk = (folder: string) => {
      modes.push(`${folder}: ${(statSync(folder).mode & 0o777).toString(8)}`);
      for (const name of readdirSync(folder)) {
        const path = join(folder, name);
        if (lstatSync(path).isDirectory()) walk(path);
        else if (lstatSync(path).isFile())
          modes.push(`${path}: ${(statSync(path).mode & 0o777).toString(8)}`);
      }
    };
    walk(destination);
    expect(modes.length).toBeGreaterThan(6);
    expect(modes.filter((line) => !/: (600|700)$/.test(line))).toEqual([]);
    expect(modes.filter((line) => line.endsWith(": 700")).length).toBeGreaterThan(3);
  });

  it("refuses a destination inside the data directory other than its backups folder", async () => {
    const error = await expectCode(
      createBackup({ dataDir, destination: join(dataDir, "mybk") }),
      "BACKUP_FAILED",
    );
    expect(error.message).toContain("inside the data directory");
    expect(existsSync(join(dataDir, "mybk"))).toBe(false);
    expect(existsSync(join(dataDir, "mybk.partial"))).toBe(false);
    // The default place, and a folder of one's own under it, are fine.
    await createBackup({ dataDir, destination: join(dataDir, "backups", "mine", "one") });
  });

  it("never captures a backup lying elsewhere in the data directory (one made before the refusal)", async () => {
    await createBackup({ dataDir, destination: join(root, "first") });
    renameDir(join(root, "first"), join(dataDir, "knowledge", "old-backup"));
    const next = await createBackup({ dataDir, destination: join(root, "second") });
    expect(next.entries.some((entry) => entry.path.includes("old-backup"))).toBe(false);
    expect(next.entries.some((entry) => entry.path === "data/knowledge/index/segment-0001.bin")).toBe(true);
  });

  it("refuses to overwrite an existing backup", async () => {
    mkdirSync(join(root, "taken"));
    await expectCode(createBackup({ dataDir, destination: join(root, "taken") }), "BACKUP_FAILED");
  });

  it("never captures its own backups folder", async () => {
    const first = await createBackup({ dataDir, destination: join(dataDir, "backups", "one") });
    const second = await createBackup({ dataDir, destination: join(dataDir, "backups", "two") });
    expect(second.entries.map((entry) => entry.path)).toEqual(first.entries.map((entry) => entry.path));
    expect(second.entries.some((entry) => entry.path.includes("backups/"))).toBe(false);
  });
});

/**
 * A store like the knowledge service's: a WAL database whose rows name files that are written
 * before their row, and removed only after the row stops naming them (immutable, versioned files).
 */
function openLibrary(): { database: Database.Database; upload(): void; reupload(): void } {
  mkdirSync(join(dataDir, "library", "files"), { recursive: true });
  const database = new Database(join(dataDir, "library", "library.db"));
  database.pragma("journal_mode = WAL");
  database.exec("CREATE TABLE documents (id INTEGER PRIMARY KEY, file TEXT NOT NULL)");
  let version = 0;
  const fileFor = (id: number | bigint) => `library/files/${id}.v${++version}`;
  return {
    database,
    upload() {
      const id = (
        database.prepare("SELECT ifnull(max(id), 0) + 1 AS id FROM documents").get() as { id: number }
      ).id;
      const file = fileFor(id);
      writeFileSync(join(dataDir, file), `document ${id}, version ${version}`);
      database.prepare("INSERT INTO documents (id, file) VALUES (?, ?)").run(id, file);
    },
    reupload() {
      const row = database.prepare("SELECT id, file FROM documents ORDER BY random() LIMIT 1").get() as {
        id: number;
        file: string;
      };
      const file = fileFor(row.id);
      writeFileSync(join(dataDir, file), `document ${row.id}, version ${version}`);
      database.prepare("UPDATE documents SET file = ? WHERE id = ?").run(file, row.id);
      rmSync(join(dataDir, row.file));
    },
  };
}

/** The files a data directory's library database names that are not there. */
function missingLibraryFiles(directory: string): Array<{ path: string; what: string }> {
  if (!existsSync(join(directory, "library", "library.db"))) return [];
  const database = new Database(join(directory, "library", "library.db"), { readonly: true });
  try {
    return (database.prepare("SELECT id, file FROM documents").all() as Array<{ id: number; file: string }>)
      .filter((row) => !existsSync(join(directory, row.file)))
      .map((row) => ({ path: row.file, what: `the file of document ${row.id}` }));
  } finally {
    database.close();
  }
}

describe("a backup taken while documents are uploaded and replaced", () => {
  it("holds every file its copy of the database names, though files are added and removed throughout", async () => {
    const library = openLibrary();
    for (let i = 0; i < 60; i++) library.upload();
    // Uploads and re-uploads go on (sixty of them) until the backup looks for the files its
    // databases name.
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      while (writing && writes < 60) {
        if (writes % 2 === 0) library.upload();
        else library.reupload();
        writes++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const destination = join(root, "backup");
    const result = await createBackup({
      dataDir,
      destination,
      missingFiles: (directory) => {
        writing = false;
        return missingLibraryFiles(directory);
      },
    }).finally(() => {
      writing = false;
    });
    await writer;
    library.database.close();
    expect(writes).toBeGreaterThan(10);
    expect(missingLibraryFiles(join(destination, "data"))).toEqual([]);
    expect(result.missingInData).toEqual([]);
    await expect(verifyBackup(destination)).resolves.toMatchObject({ scope: "full" });
    // Restored, every document opens.
    await restoreBackup({ source: destination, dataDir });
    expect(missingLibraryFiles(dataDir)).toEqual([]);
  });

  it("fails naming the file, and that running it again helps, when a named file keeps being removed", async () => {
    const library = openLibrary();
    library.upload();
    library.database.close();
    const destination = join(root, "backup");
    // The copy names a file that is gone from the data directory, whose own database no longer names it.
    const error = await expectCode(
      createBackup({
        dataDir,
        destination,
        missingFiles: (directory) =>
          directory === dataDir ? [] : [{ path: "library/files/1.v0", what: "the file of document 1" }],
      }),
      "BACKUP_FAILED",
    );
    expect(error.message).toContain(
      `the file of document 1 (${join(dataDir, "library", "files", "1.v0")}) was removed while the backup copied it`,
    );
    expect(error.message).toContain("run the backup again");
    expect(existsSync(destination)).toBe(false);
    expect(readdirSync(root).filter((name) => name.startsWith("backup"))).toEqual([]);
  });

  it("reports a file missing from the data directory itself, and still writes the backup", async () => {
    const library = openLibrary();
    library.upload();
    library.upload();
    const lost = (
      library.database.prepare("SELECT file FROM documents WHERE id = 2").get() as { file: string }
    ).file;
    library.database.close();
    rmSync(join(dataDir, lost));
    const result = await createBackup({
      dataDir,
      destination: join(root, "backup"),
      missingFiles: missingLibraryFiles,
    });
    expect(result.missingInData).toEqual([{ path: lost, what: "the file of document 2" }]);
    await expect(verifyBackup(join(root, "backup"))).resolves.toMatchObject({ scope: "full" });
  });
});

describe("two backups at once", () => {
  it("lets one of two backups to the same destination write it and refuses the other at once, naming the pid", async () => {
    const destination = join(root, "nightly");
    const results = await Promise.allSettled([
      createBackup({ dataDir, destination, configFile }),
      createBackup({ dataDir, destination, configFile }),
    ]);
    const written = results.filter((result) => result.status === "fulfilled");
    const refused = results.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
    expect(written).toHaveLength(1);
    expect(refused).toEqual([
      expect.objectContaining({
        code: "BACKUP_IN_PROGRESS",
        message: expect.stringContaining(`a backup to ${destination} is in progress (pid ${process.pid}`),
      }),
    ]);
    // The one written is whole, and nothing of either is left beside it.
    await expect(verifyBackup(destination)).resolves.toMatchObject({ scope: "full" });
    expect(readdirSync(root).filter((name) => name.startsWith("nightly"))).toEqual(["nightly"]);
  });

  it("refuses while another running process writes that destination, and runs backups to other destinations side by side", async () => {
    const destination = join(root, "nightly");
    // The lock a backup in another process holds while it runs (here the parent process's pid: alive).
    writeFileSync(
      `${destination}.partial.lock`,
      JSON.stringify({ pid: process.ppid, command: "hearth backup" }),
    );
    mkdirSync(`${destination}.partial`);
    writeFileSync(join(`${destination}.partial`, "being-written"), "its data");
    const error = await expectCode(createBackup({ dataDir, destination }), "BACKUP_IN_PROGRESS");
    expect(error.message).toContain(`(pid ${process.ppid}`);
    // Its staging folder is untouched.
    expect(readFileSync(join(`${destination}.partial`, "being-written"), "utf8")).toBe("its data");

    const [one, two] = await Promise.all([
      createBackup({ dataDir, destination: join(root, "one") }),
      createBackup({ dataDir, destination: join(root, "two") }),
    ]);
    expect(one.entries.map((entry) => entry.sha256)).toEqual(two.entries.map((entry) => entry.sha256));
  });

  it("takes over the staging folder of a backup whose process is gone, and says so", async () => {
    const destination = join(root, "nightly");
    const gone = spawnSync(process.execPath, ["-e", ""]).pid!;
    writeFileSync(`${destination}.partial.lock`, JSON.stringify({ pid: gone, command: "hearth backup" }));
    mkdirSync(join(`${destination}.partial`, "data"), { recursive: true });
    writeFileSync(join(`${destination}.partial`, "data", "half-copied"), "x");
    const notes: string[] = [];
    await createBackup({ dataDir, destination, onNote: (note) => notes.push(note) });
    expect(notes).toEqual([
      `removed ${destination}.partial, left by a backup that did not finish (pid ${gone})`,
    ]);
    expect(existsSync(join(destination, "data", "half-copied"))).toBe(false);
    await expect(verifyBackup(destination)).resolves.toMatchObject({ scope: "full" });
    expect(readdirSync(root).filter((name) => name.startsWith("nightly"))).toEqual(["nightly"]);
  });
});

describe("a cancelled or killed backup", () => {
  it("removes its staging folder when cancelled and writes nothing", async () => {
    writeFileSync(join(dataDir, "knowledge", "index", "segment-0002.bin"), Buffer.alloc(64 * 1024, 8));
    const controller = new AbortController();
    const phases: string[] = [];
    const destination = join(root, "nightly");
    const outcome = await createBackup({
      dataDir,
      destination,
      signal: controller.signal,
      onProgress: (progress) => {
        phases.push(`${progress.phase} ${progress.done}/${progress.total}`);
        // Cancelled once the first file is copied (Ctrl-C).
        if (progress.phase === "files" && progress.done === 1) controller.abort("SIGINT");
      },
    }).then(
      () => "written",
      (reason: unknown) => reason,
    );
    expect(outcome).toBe("SIGINT");
    expect(phases).toEqual(["databases 0/0", "files 0/3", "files 1/3"]);
    expect(readdirSync(root).filter((name) => name.startsWith("nightly"))).toEqual([]);
  });

  it("is cancelled while a database is copied, between two steps, reporting bytes as it goes", async () => {
    const shop = openShop(join(dataDir, "web.db"));
    sell(shop, 3000); // about 3 MB
    shop.close();
    const controller = new AbortController();
    const seen: BackupProgress[] = [];
    const destination = join(root, "large");
    const outcome = await createBackup({
      dataDir,
      destination,
      signal: controller.signal,
      databasePagesPerStep: 16,
      onProgress: (progress) => {
        seen.push(progress);
        if (progress.phase === "databases" && progress.bytes > 0) controller.abort("SIGINT");
      },
    }).then(
      () => "written",
      (reason: unknown) => reason,
    );
    expect(outcome).toBe("SIGINT");
    const copying = seen.filter((progress) => progress.phase === "databases" && progress.bytes > 0);
    expect(copying.length).toBeGreaterThan(0);
    // Cancelled part-way through the database: fewer bytes than it holds, and no database done.
    expect(copying[0]!.bytes).toBeLessThan(copying[0]!.totalBytes);
    expect(copying[0]!.done).toBe(0);
    expect(seen.some((progress) => progress.phase === "files")).toBe(false);
    expect(readdirSync(root).filter((name) => name.startsWith("large"))).toEqual([]);
  });

  it("reports its progress: files and bytes of each phase", async () => {
    const shop = openShop(join(dataDir, "web.db"));
    sell(shop, 10);
    shop.close();
    const steps: BackupProgress[] = [];
    await createBackup({
      dataDir,
      destination: join(root, "nightly"),
      onProgress: (step) => steps.push(step),
    });
    expect(steps.map((step) => `${step.phase} ${step.done}/${step.total}`)).toEqual([
      "databases 0/1",
      "databases 0/1", // its pages copied (one step: a small database)
      "databases 1/1",
      "files 0/2",
      "files 1/2",
      "files 2/2",
    ]);
    const files = steps.at(-1)!;
    expect(files.bytes).toBe(files.totalBytes);
    expect(files.bytes).toBe(64 * 1024 + statSync(join(dataDir, "models", "registry.json")).size);
  });

  it("counts a database's pages still in its -wal file: the bytes never pass the total and end equal to it", async () => {
    const shop = openShop(join(dataDir, "web.db"));
    try {
      // The service's connection stays open and never checkpoints: the rows are all in the -wal file.
      shop.pragma("wal_autocheckpoint = 0");
      sell(shop, 600);
      expect(statSync(join(dataDir, "web.db-wal")).size).toBeGreaterThan(
        8 * statSync(join(dataDir, "web.db")).size,
      );
      const steps: BackupProgress[] = [];
      const destination = join(root, "nightly");
      await createBackup({
        dataDir,
        destination,
        databasePagesPerStep: 16,
        onProgress: (step) => steps.push(step),
      });
      const databases = steps.filter((step) => step.phase === "databases");
      const copy = statSync(join(destination, "data", "web.db")).size;
      expect(databases.length).toBeGreaterThan(10);
      // Known from the start: the copy's size, its pages from the -wal file included.
      expect(databases.map((step) => step.totalBytes)).toEqual(databases.map(() => copy));
      expect(databases.every((step) => step.bytes <= step.totalBytes)).toBe(true);
      expect(databases.at(-1)).toEqual({
        phase: "databases",
        done: 1,
        total: 1,
        bytes: copy,
        totalBytes: copy,
      });
    } finally {
      shop.close();
    }
  });

  it("never reports more bytes than its total while a database grows during its copy, nor fewer than before", async () => {
    const shop = openShop(join(dataDir, "web.db"));
    shop.pragma("wal_autocheckpoint = 0");
    sell(shop, 600);
    let writing = true;
    const writer = (async () => {
      while (writing) {
        sell(shop, 20);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const steps: BackupProgress[] = [];
    const destination = join(root, "busy");
    try {
      await createBackup({
        dataDir,
        destination,
        databasePagesPerStep: 16,
        onProgress: (step) => steps.push(step),
      });
    } finally {
      writing = false;
      await writer;
      shop.close();
    }
    const databases = steps.filter((step) => step.phase === "databases");
    // It grew while copied (the copy restarted), and the total followed it.
    expect(databases.at(-1)!.totalBytes).toBeGreaterThan(databases[0]!.totalBytes);
    expect(databases.every((step) => step.bytes <= step.totalBytes)).toBe(true);
    expect(databases.every((step, i) => i === 0 || step.bytes >= databases[i - 1]!.bytes)).toBe(true);
    const copy = statSync(join(destination, "data", "web.db")).size;
    expect(databases.at(-1)).toMatchObject({ done: 1, bytes: copy, totalBytes: copy });
  });

  it("removes the staging folders that killed backups left in the backups folder, but not a running one's", async () => {
    const backups = join(dataDir, "backups");
    mkdirSync(backups);
    const gone = spawnSync(process.execPath, ["-e", ""]).pid!;
    // Killed mid-copy (its lock names a process that is gone), by an older Hearth (no lock), and running.
    for (const name of ["hearth-killed", "hearth-older", "hearth-running"])
      mkdirSync(join(backups, `${name}.partial`, "data"), { recursive: true });
    writeFileSync(join(backups, "hearth-killed.partial.lock"), JSON.stringify({ pid: gone }));
    writeFileSync(join(backups, "hearth-running.partial.lock"), JSON.stringify({ pid: process.ppid }));
    const notes: string[] = [];
    await createBackup({
      dataDir,
      destination: join(backups, "hearth-now"),
      onNote: (note) => notes.push(note),
    });
    expect(readdirSync(backups).sort()).toEqual([
      "hearth-now",
      "hearth-running.partial",
      "hearth-running.partial.lock",
    ]);
    expect(notes.sort()).toEqual([
      `removed ${join(backups, "hearth-killed.partial")}, left by a backup that did not finish (pid ${gone})`,
      `removed ${join(backups, "hearth-older.partial")}, left by a backup that did not finish`,
    ]);
  });
});

describe("backups and restores, for the service's own user only", () => {
  const modeOf = (path: string) => statSync(path).mode & 0o777;

  it("makes the backups folder and a restored data directory readable by no other local user", async () => {
    const destination = join(root, "backups", "nightly");
    await createBackup({ dataDir, destination });
    expect(modeOf(join(root, "backups"))).toBe(0o700);
    expect(modeOf(destination)).toBe(0o700);
    await restoreBackup({ source: destination, dataDir });
    expect(modeOf(dataDir)).toBe(0o700);
  });
});

describe("restoreBackup", () => {
  it("brings back databases, files and config, and keeps the data it replaced", async () => {
    const shopPath = join(dataDir, "web.db");
    const shop = openShop(shopPath);
    sell(shop, 10);
    const destination = join(dataDir, "backups", "before-upgrade");
    await createBackup({ dataDir, destination, configFile });

    sell(shop, 90);
    shop.close();
    writeFileSync(join(dataDir, "models", "registry.json"), "{}");
    writeFileSync(configFile, "web:\n  port: 9999\n");

    const result = await restoreBackup({ source: destination, dataDir, configFile });
    expect(counts(shopPath)).toEqual({ orders: 10, ledger: 10 });
    expect(JSON.parse(readFileSync(join(dataDir, "models", "registry.json"), "utf8")).models[0].name).toBe(
      "deepseek-r1:1.5b",
    );
    expect(readFileSync(configFile, "utf8")).toContain("port: 8080");
    expect(result.previousData).toBeDefined();
    expect(counts(join(result.previousData!, "web.db")).orders).toBe(100);
    // Earlier backups are still under the data directory after the swap.
    expect(existsSync(join(dataDir, "backups", "before-upgrade", "manifest.json"))).toBe(true);
  });

  it("restores a pre-migration backup's one database, naming the file it replaced, or none", async () => {
    const shopPath = join(dataDir, "knowledge", "shop.db");
    const shop = openShop(shopPath);
    sell(shop, 10);
    const destination = join(dataDir, "backups", "pre-migration-shop.db-v1-to-v2");
    await createBackup({ dataDir, destination, only: [shopPath] });
    sell(shop, 40);
    shop.close();

    const result = await restoreBackup({ source: destination, dataDir });
    expect(counts(shopPath)).toEqual({ orders: 10, ledger: 10 });
    expect(result.previousData).toMatch(/\/data\/knowledge\/shop\.db\.pre-restore-[^,]+$/);
    expect(counts(result.previousData!).orders).toBe(50);

    // Into a new data directory there is nothing to keep, and the result says none.
    const fresh = join(root, "fresh");
    const into = await restoreBackup({ source: destination, dataDir: fresh });
    expect(counts(join(fresh, "knowledge", "shop.db"))).toEqual({ orders: 10, ledger: 10 });
    expect(into.previousData).toBeUndefined();
  });

  it("restores inside a data directory that cannot be swapped (a container volume)", async () => {
    const shopPath = join(dataDir, "web.db");
    const shop = openShop(shopPath);
    sell(shop, 10);
    const destination = join(dataDir, "backups", "nightly");
    await createBackup({ dataDir, destination });
    sell(shop, 40);
    shop.close();

    const result = await restoreBackup({ source: destination, dataDir, inPlace: true });
    expect(counts(shopPath)).toEqual({ orders: 10, ledger: 10 });
    expect(result.previousData).toMatch(/data\/\.pre-restore-/);
    expect(counts(join(result.previousData!, "web.db")).orders).toBe(50);
    expect(readdirSync(dataDir).sort()).toEqual(
      ["backups", "knowledge", "models", "web.db", expect.stringMatching(/^\.pre-restore-/)].sort(),
    );
    // What was set aside is not captured again by the next backup.
    const next = await createBackup({ dataDir, destination: join(root, "after") });
    expect(next.entries.some((entry) => entry.path.includes("pre-restore"))).toBe(false);
  });

  it("restores a data directory that is a symbolic link into its target, and keeps the link", async () => {
    // The operator's layout: HEARTH_DATA_DIR is a link to a directory on a larger disk.
    const real = join(root, "disk", "hearth-data");
    mkdirSync(join(root, "disk"));
    const link = join(root, "linked");
    renameDir(dataDir, real);
    symlinkSync(real, link);
    const shop = openShop(join(link, "web.db"));
    sell(shop, 10);
    const destination = join(root, "backup");
    await createBackup({ dataDir: link, destination });
    sell(shop, 5);
    shop.close();

    const result = await restoreBackup({ source: destination, dataDir: link });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(real);
    expect(counts(join(real, "web.db"))).toEqual({ orders: 10, ledger: 10 });
    expect(result.previousData).toMatch(/disk\/hearth-data\.pre-restore-/);
    expect(counts(join(result.previousData!, "web.db")).orders).toBe(15);
  });

  it("refuses a damaged backup and leaves the data directory untouched", async () => {
    const shop = openShop(join(dataDir, "web.db"));
    sell(shop, 10);
    shop.close();
    const destination = join(root, "backup");
    await createBackup({ dataDir, destination });
    const segment = join(destination, "data", "knowledge", "index", "segment-0001.bin");
    const bytes = readFileSync(segment);
    bytes[100] = 0;
    writeFileSync(segment, bytes);
    sell(openShop(join(dataDir, "web.db")), 5);

    const error = await expectCode(restoreBackup({ source: destination, dataDir }), "BACKUP_CORRUPT");
    expect(error.message).toContain("data/knowledge/index/segment-0001.bin");
    expect(counts(join(dataDir, "web.db")).orders).toBe(15);
    expect(
      readdirSync(root).filter((name) => name.includes("restoring") || name.includes("pre-restore")),
    ).toEqual([]);
  });

  it("rejects a folder without a manifest and a manifest that points outside the backup", async () => {
    await expectCode(restoreBackup({ source: join(root, "nothing"), dataDir }), "BACKUP_INVALID");
    const destination = join(root, "backup");
    await createBackup({ dataDir, destination });
    const manifestPath = join(destination, "manifest.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    manifest.entries[0].path = "data/../../escape.txt";
    writeFileSync(manifestPath, JSON.stringify(manifest));
    await expectCode(restoreBackup({ source: destination, dataDir }), "BACKUP_INVALID");
    writeFileSync(manifestPath, "{ not json");
    await expectCode(verifyBackup(destination), "BACKUP_INVALID");
  });
});

function renameDir(from: string, to: string): void {
  renameSync(from, to);
}
