/**
 * Backup and restore of the data directory (issue 7, point 7): how fast an online snapshot of a
 * busy SQLite database is, compared with copying the file (unsafe while it is written, the lower
 * bound), what it costs a writer in another thread while it runs, and how fast a restore verifies.
 * `npm run bench -- backup`.
 */
import { copyFile, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { createBackup } from "../packages/core/src/storage/create-backup.js";
import { verifyBackup } from "../packages/core/src/storage/restore-backup.js";

const ROWS = 60_000;
const ROW_BYTES = 1024;

/** A writer in its own thread and connection, as a service would be: counts committed transactions. */
const WRITER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma("busy_timeout = 5000");
const insert = db.prepare("INSERT INTO messages (body) VALUES (?)");
const body = Buffer.alloc(${ROW_BYTES}, 7);
let running = true;
parentPort.on("message", (message) => { if (message === "stop") running = false; });
let writes = 0;
const tick = () => {
  const until = Date.now() + 20;
  while (Date.now() < until) { insert.run(body); writes++; }
  parentPort.postMessage(writes);
  if (running) setImmediate(tick); else { db.close(); parentPort.postMessage("stopped"); }
};
tick();
`;

function startWriter(path: string) {
  const worker = new Worker(WRITER, {
    eval: true,
    workerData: { path, module: require.resolve("better-sqlite3") },
  });
  let writes = 0;
  worker.on("message", (message) => {
    if (typeof message === "number") writes = message;
  });
  return {
    count: () => writes,
    stop: () =>
      new Promise<void>((resolve) => {
        worker.on("message", (message) => message === "stopped" && resolve());
        worker.postMessage("stop");
      }).then(() => worker.terminate()),
  };
}

const require = (await import("node:module")).createRequire(import.meta.url);
const mib = (bytes: number) => bytes / 1024 / 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function run(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "hearth-bench-backup-"));
  const dataDir = join(root, "data");
  const path = join(dataDir, "web.db");
  await (await import("node:fs/promises")).mkdir(dataDir, { recursive: true });
  const database = new Database(path);
  database.pragma("journal_mode = WAL");
  database.exec("CREATE TABLE messages (id INTEGER PRIMARY KEY, body BLOB)");
  const insert = database.prepare("INSERT INTO messages (body) VALUES (?)");
  database.transaction(() => {
    for (let i = 0; i < ROWS; i++) insert.run(Buffer.alloc(ROW_BYTES, i % 251));
  })();
  database.pragma("wal_checkpoint(TRUNCATE)");
  database.close();
  const size = (await stat(path)).size;
  console.log(`database: ${ROWS} rows, ${mib(size).toFixed(1)} MiB (WAL mode)`);

  let started = performance.now();
  await copyFile(path, join(root, "plain-copy.db"));
  const copySeconds = (performance.now() - started) / 1000;

  started = performance.now();
  await createBackup({ dataDir, destination: join(root, "idle") });
  const idleSeconds = (performance.now() - started) / 1000;

  // Writer throughput alone, then while a backup runs.
  const writer = startWriter(path);
  await sleep(500);
  let before = writer.count();
  await sleep(2000);
  const aloneRate = (writer.count() - before) / 2;
  before = writer.count();
  started = performance.now();
  const busy = await createBackup({ dataDir, destination: join(root, "busy") });
  const busySeconds = (performance.now() - started) / 1000;
  const duringRate = (writer.count() - before) / busySeconds;
  await writer.stop();

  started = performance.now();
  await verifyBackup(busy.destination);
  const verifySeconds = (performance.now() - started) / 1000;

  console.log(
    `plain file copy (unsafe while written): ${copySeconds.toFixed(3)} s, ${(mib(size) / copySeconds).toFixed(0)} MiB/s`,
  );
  console.log(
    `online backup, idle database: ${idleSeconds.toFixed(3)} s, ${(mib(size) / idleSeconds).toFixed(0)} MiB/s (${(idleSeconds / copySeconds).toFixed(1)}x the plain copy, checksums and check included)`,
  );
  console.log(
    `online backup, writer busy in another thread: ${busySeconds.toFixed(3)} s for ${mib(busy.entries[0]!.size).toFixed(1)} MiB, ${(mib(busy.entries[0]!.size) / busySeconds).toFixed(0)} MiB/s (the writer grew the database meanwhile)`,
  );
  console.log(
    `writer: ${aloneRate.toFixed(0)} inserts/s alone, ${duringRate.toFixed(0)} inserts/s during the backup (${(duringRate / aloneRate).toFixed(2)}x)`,
  );
  console.log(
    `restore verification (SHA-256 + quick_check): ${verifySeconds.toFixed(3)} s, ${(mib(busy.entries[0]!.size) / verifySeconds).toFixed(0)} MiB/s`,
  );
  await rm(root, { recursive: true, force: true });
}
