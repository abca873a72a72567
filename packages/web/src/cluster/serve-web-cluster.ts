import cluster, { type Worker } from "node:cluster";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type HearthConfig, HearthError, isErrorCode, type Logger, webDatabaseFile } from "@hearth/core";
import { ConversationStore } from "../conversations/conversation-store.js";
import { openDatabase } from "../storage/open-database.js";
import { ACCESS_CHANGED, CONVERSATION_DELETED, type PeerMessage } from "./peer-bus.js";

export const WORKER_CONFIG_ENV = "HEARTH_WEB_WORKER_CONFIG";

type WorkerMessage =
  | { type: "hearth:listening"; url: string }
  | { type: "hearth:failed"; line: string }
  | PeerMessage;

/**
 * Runs the web service as a node:cluster of `web.workers` processes sharing one port, so that
 * streaming work spreads over the cores. The primary migrates the database first (workers then
 * find it current), relays "access changed" between workers so a revoked key or a changed setting
 * is seen by all at once (and "conversation deleted", so the worker answering it stops) when the
 * database is SQLite (on PostgreSQL the workers hear each other through it: see createPeerBus),
 * and stops the workers gracefully on close.
 */
export async function serveWebCluster(
  config: HearthConfig,
  logger: Logger,
): Promise<{ url: string; close(): Promise<void> }> {
  const db = await openDatabase(config, { logger });
  try {
    // Before any worker answers: the answers a stopped service left unfinished are interrupted (on
    // PostgreSQL only those whose writer went quiet: other replicas may be writing theirs).
    await new ConversationStore(db).interruptUnfinished({
      abandonedOnly: webDatabaseFile(config) === undefined,
    });
  } finally {
    await db.destroy();
  }
  const compiled = fileURLToPath(new URL("./web-worker.js", import.meta.url));
  const source = fileURLToPath(new URL("./web-worker.ts", import.meta.url));
  const fromSource = !existsSync(compiled) && existsSync(source);
  cluster.setupPrimary({
    exec: fromSource ? source : compiled,
    execArgv: fromSource ? ["--conditions=source", "--import", "tsx"] : [],
    silent: false,
  });
  const workers: Worker[] = [];
  const listening: Array<Promise<string>> = [];
  for (let i = 0; i < config.web.workers; i++) {
    const worker = cluster.fork({ [WORKER_CONFIG_ENV]: JSON.stringify(config) });
    workers.push(worker);
    listening.push(
      new Promise((resolve, reject) => {
        worker.on("message", (message: WorkerMessage) => {
          if (message.type === "hearth:listening") resolve(message.url);
          else if (message.type === "hearth:failed") reject(workerFailure(message.line));
          else if (message.type === ACCESS_CHANGED || message.type === CONVERSATION_DELETED)
            for (const other of workers) if (other !== worker && other.isConnected()) other.send(message);
        });
        worker.once("exit", (code) =>
          reject(new Error(`web worker ${i} exited with ${code} before listening`)),
        );
      }),
    );
  }
  let url: string;
  try {
    url = (await Promise.all(listening))[0]!;
  } catch (error) {
    for (const worker of workers) worker.kill();
    throw error;
  }
  logger.info({ workers: workers.length, url }, "web service listening with workers");
  return {
    url,
    async close() {
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise<void>((resolve) => {
              if (worker.isDead()) return resolve();
              worker.once("exit", () => resolve());
              worker.send({ type: "hearth:shutdown" });
              setTimeout(() => worker.kill("SIGKILL"), 10_000).unref();
            }),
        ),
      );
    },
  };
}

/** A worker's start-up failure, `CODE: message`, as the error it was (a port in use, a host that does not resolve). */
function workerFailure(line: string): HearthError {
  const match = /^([A-Z_]+): ([\s\S]*)$/.exec(line);
  const code = match?.[1];
  return isErrorCode(code) ? new HearthError(code, match![2]!) : new HearthError("PORT_IN_USE", line);
}
