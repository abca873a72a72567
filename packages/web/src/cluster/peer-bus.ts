import cluster from "node:cluster";
import { randomUUID } from "node:crypto";
import type { Logger } from "@hearth/core";
import { sql } from "kysely";
import pg from "pg";
import type { WebDatabase } from "../storage/open-database.js";

/** Why a turn is stopped: its conversation was deleted, or its user pressed Stop. */
export type StopReason = "deleted" | "stopped";

/** Accounts, keys, groups, access or settings changed: what was cached of them is stale. */
export const ACCESS_CHANGED = "hearth:access-changed";
/** A conversation was deleted or its answer stopped: the process answering it ends the answer. */
export const CONVERSATION_DELETED = "hearth:conversation-deleted";

/** What the web service's processes tell each other. */
export type PeerMessage =
  | { type: typeof ACCESS_CHANGED }
  | { type: typeof CONVERSATION_DELETED; conversationId: string; reason: StopReason };

/**
 * How one web service process tells the others (the workers of its node:cluster, the replicas on
 * other hosts) what they must not go on believing: that access is unchanged, that an answer should
 * still be written. A message reaches every process but its sender, once it is published; handlers
 * must bear hearing one twice.
 */
export interface PeerBus {
  publish(message: PeerMessage): void;
  subscribe(handler: (message: PeerMessage) => void): void;
  close(): Promise<void>;
}

/**
 * The web service's bus: PostgreSQL's LISTEN/NOTIFY when its database is PostgreSQL (it reaches
 * every process on every host, cluster workers included), else node:cluster IPC through the
 * primary (SQLite is one host's), else, for a lone process, none.
 */
export function createPeerBus(
  db: WebDatabase,
  options: { databaseUrl?: string; postgresSchema?: string; logger: Logger },
): PeerBus {
  if (options.databaseUrl)
    return new PostgresPeerBus(db, {
      databaseUrl: options.databaseUrl,
      channel: peerChannel(options.postgresSchema),
      logger: options.logger,
    });
  return new ClusterPeerBus();
}

/** The NOTIFY channel of the web service using `schema` (channels are database-wide; schemas are one service each). */
export function peerChannel(schema = "public"): string {
  return `hearth_web_peers_${schema}`;
}

/** The workers of one node:cluster, told through the primary (serveWebCluster relays). A lone process has no peers. */
class ClusterPeerBus implements PeerBus {
  readonly #handlers: Array<(message: PeerMessage) => void> = [];
  readonly #onMessage = (message: unknown) => {
    const known = asPeerMessage(message);
    if (known) for (const handler of this.#handlers) handler(known);
  };

  constructor() {
    if (cluster.isWorker) process.on("message", this.#onMessage);
  }

  publish(message: PeerMessage): void {
    if (cluster.isWorker) process.send?.(message);
  }

  subscribe(handler: (message: PeerMessage) => void): void {
    this.#handlers.push(handler);
  }

  async close(): Promise<void> {
    process.off("message", this.#onMessage);
  }
}

/** The longest wait between two tries to listen again after the connection was lost. */
const MAX_RECONNECT_DELAY_MS = 10_000;

/**
 * How the listening connection is found dead when nothing says so (a NAT or load balancer that
 * dropped it, a link that swallows packets): a connection attempt gives up after `connectTimeoutMs`,
 * and every `probeIntervalMs` a `SELECT 1` must answer within `probeTimeoutMs` (as must the LISTEN).
 */
export interface ListenerLiveness {
  connectTimeoutMs: number;
  probeIntervalMs: number;
  probeTimeoutMs: number;
}

const LISTENER_LIVENESS: ListenerLiveness = {
  connectTimeoutMs: 10_000,
  probeIntervalMs: 30_000,
  probeTimeoutMs: 5_000,
};

/**
 * Every web service process on one PostgreSQL database, told through NOTIFY on one channel (sent
 * through the service's pool, so a publish waits for no listener) and heard on a connection of its
 * own that LISTENs. Each message carries its sender's id, so that it ignores its own. A lost
 * listening connection is made again, after 0.25 s, then twice as long each failed try up to 10 s;
 * notifications sent meanwhile are lost, so once listening again the process hears ACCESS_CHANGED
 * from itself (its caches start afresh); a Stop sent meanwhile is lost, its answer ends as it would
 * have. A connection that died without a word is found by TCP keepalive and by a probe (see
 * ListenerLiveness), and made again the same way.
 */
export class PostgresPeerBus implements PeerBus {
  readonly #db: WebDatabase;
  readonly #databaseUrl: string;
  readonly #channel: string;
  readonly #logger: Logger;
  readonly #liveness: ListenerLiveness;
  readonly #sender = randomUUID();
  readonly #handlers: Array<(message: PeerMessage) => void> = [];
  #client: pg.Client | undefined;
  #retry: NodeJS.Timeout | undefined;
  #failures = 0;
  /** Whether the last NOTIFY failed: an outage is logged once, not with every change. */
  #publishFailing = false;
  #closed = false;

  constructor(
    db: WebDatabase,
    options: { databaseUrl: string; channel: string; logger: Logger; liveness?: ListenerLiveness },
  ) {
    this.#db = db;
    this.#databaseUrl = options.databaseUrl;
    this.#channel = options.channel;
    this.#logger = options.logger;
    this.#liveness = options.liveness ?? LISTENER_LIVENESS;
    void this.#listen();
  }

  publish(message: PeerMessage): void {
    // Far below NOTIFY's 8000-byte limit: a type, an id and a conversation id.
    const payload = JSON.stringify({ sender: this.#sender, message });
    sql`SELECT pg_notify(${this.#channel}, ${payload})`.execute(this.#db).then(
      () => {
        this.#publishFailing = false;
      },
      (error: unknown) => {
        if (this.#publishFailing) return;
        this.#publishFailing = true;
        this.#logger.warn(
          { err: error, type: message.type },
          "could not tell the other web service processes of a change",
        );
      },
    );
  }

  subscribe(handler: (message: PeerMessage) => void): void {
    this.#handlers.push(handler);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  #deliver(message: PeerMessage): void {
    for (const handler of this.#handlers) handler(message);
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#databaseUrl,
      connectionTimeoutMillis: this.#liveness.connectTimeoutMs,
      query_timeout: this.#liveness.probeTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: this.#liveness.probeIntervalMs,
    });
    this.#client = client;
    let lost = false;
    let probe: NodeJS.Timeout | undefined;
    const reconnect = (error?: unknown) => {
      if (lost) return;
      lost = true;
      clearInterval(probe);
      client.removeAllListeners("notification");
      // A probe that timed out is still running: end() then drops the socket instead of saying goodbye on it.
      client.end().catch(() => {});
      if (this.#closed || this.#client !== client) return;
      const delay = Math.min(250 * 2 ** this.#failures, MAX_RECONNECT_DELAY_MS);
      // Once per outage: the retries that follow (every 10 s at most) are not news.
      this.#logger[this.#failures === 0 ? "warn" : "debug"](
        { err: error, retryInMs: delay },
        "lost the connection that hears the other web service processes; listening again",
      );
      this.#failures += 1;
      this.#retry = setTimeout(() => void this.#listen(), delay);
    };
    client.on("error", reconnect);
    client.on("end", () => reconnect());
    client.on("notification", (notification) => {
      if (notification.channel !== this.#channel || !notification.payload) return;
      let parsed: { sender?: unknown; message?: unknown };
      try {
        parsed = JSON.parse(notification.payload) as typeof parsed;
      } catch {
        return;
      }
      const message = asPeerMessage(parsed.message);
      if (message && parsed.sender !== this.#sender) this.#deliver(message);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.#channel)}`);
    } catch (error) {
      reconnect(error);
      return;
    }
    if (this.#closed) return void client.end().catch(() => {});
    probe = setInterval(() => void client.query("SELECT 1").catch(reconnect), this.#liveness.probeIntervalMs);
    // Listening (again): whatever was sent while it was not is unknown, so every cache starts afresh.
    if (this.#failures > 0) this.#logger.info("listening to the other web service processes again");
    this.#failures = 0;
    this.#deliver({ type: ACCESS_CHANGED });
  }
}

/** `value` as a peer message, or undefined when it is none (another kind of cluster message). */
function asPeerMessage(value: unknown): PeerMessage | undefined {
  const message = value as { type?: unknown; conversationId?: unknown; reason?: unknown } | null;
  if (message?.type === ACCESS_CHANGED) return { type: ACCESS_CHANGED };
  if (message?.type === CONVERSATION_DELETED && typeof message.conversationId === "string")
    return {
      type: CONVERSATION_DELETED,
      conversationId: message.conversationId,
      reason: message.reason === "stopped" ? "stopped" : "deleted",
    };
  return undefined;
}
