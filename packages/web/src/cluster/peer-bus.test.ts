import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "@hearth/core";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabaseLink } from "../../../../test/support/database-link.js";
import { POSTGRES_URL, postgresAvailable } from "../../test/support/web-harness.js";
import { AuthCache } from "../auth/auth-cache.js";
import type { Database } from "../storage/database-schema.js";
import {
  ACCESS_CHANGED,
  CONVERSATION_DELETED,
  type PeerMessage,
  PostgresPeerBus,
  peerChannel,
} from "./peer-bus.js";

describe.skipIf(!postgresAvailable)("the peer bus on PostgreSQL", () => {
  const channel = peerChannel(`hearth_bus_${randomBytes(6).toString("hex")}`);
  let db: Kysely<Database>;
  let admin: pg.Client;

  beforeAll(async () => {
    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: POSTGRES_URL }) }),
    });
    admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await db?.destroy();
  });

  /** The backends LISTENing on the channel (a listener's last statement is its LISTEN). */
  const listeners = async () =>
    (
      await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE query = $1", [
        `LISTEN ${pg.escapeIdentifier(channel)}`,
      ])
    ).rows.map((row) => row.pid);
  /** A message as another process sends it. */
  const notifyFromPeer = (message: PeerMessage) =>
    admin.query("SELECT pg_notify($1, $2)", [channel, JSON.stringify({ sender: "another", message })]);

  it("hears its peers, not itself; listens again after losing its connection, and clears the caches then", async () => {
    const bus = new PostgresPeerBus(db, {
      databaseUrl: POSTGRES_URL,
      channel,
      logger: createLogger({ level: "silent" }),
    });
    try {
      const heard: PeerMessage[] = [];
      bus.subscribe((message) => heard.push(message));
      const cache = new AuthCache(bus);
      await expect.poll(listeners).toHaveLength(1);
      const stop = { type: CONVERSATION_DELETED, conversationId: "c1", reason: "stopped" } as const;
      bus.publish({ type: CONVERSATION_DELETED, conversationId: "own", reason: "deleted" });
      await notifyFromPeer(stop);
      await expect.poll(() => heard.at(-1)).toEqual(stop);
      expect(
        heard.some((message) => message.type === CONVERSATION_DELETED && message.conversationId === "own"),
      ).toBe(false);

      expect(await cache.get("key", async () => "before")).toBe("before");
      const [pid] = await listeners();
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      // Listening again (on a new connection), with what was cached dropped: a change may have gone unheard.
      const listeningAgain = async () => {
        const now = await listeners();
        return now.length === 1 && now[0] !== pid;
      };
      await expect.poll(listeningAgain, { timeout: 5000 }).toBe(true);
      await expect.poll(() => cache.get("key", async () => "after")).toBe("after");
      await notifyFromPeer({ type: CONVERSATION_DELETED, conversationId: "c2", reason: "deleted" });
      await expect
        .poll(() => heard.at(-1))
        .toEqual({ type: CONVERSATION_DELETED, conversationId: "c2", reason: "deleted" });
    } finally {
      await bus.close();
    }
    await expect.poll(listeners).toEqual([]);
  });

  it("finds a listening connection that went silent, waits out a link that swallows new ones, and listens again", async () => {
    const link = await openDatabaseLink(POSTGRES_URL);
    const bus = new PostgresPeerBus(db, {
      databaseUrl: link.url,
      channel,
      logger: createLogger({ level: "silent" }),
      liveness: { connectTimeoutMs: 300, probeIntervalMs: 200, probeTimeoutMs: 200 },
    });
    try {
      const heard: PeerMessage[] = [];
      bus.subscribe((message) => heard.push(message));
      await expect.poll(listeners).toHaveLength(1);
      const [frozenPid] = await listeners();
      heard.length = 0;
      // The link goes silent: the listening connection hears nothing more, and is never closed;
      // the connections tried meanwhile are accepted and never answered.
      link.freeze();
      await sleep(1500);
      link.restore();
      // Listening on a new connection (the frozen one's backend still LISTENs, unaware), caches cleared.
      await expect
        .poll(async () => (await listeners()).some((pid) => pid !== frozenPid), { timeout: 5000 })
        .toBe(true);
      await expect.poll(() => heard).toContainEqual({ type: ACCESS_CHANGED });
      const stop = { type: CONVERSATION_DELETED, conversationId: "after", reason: "stopped" } as const;
      await notifyFromPeer(stop);
      await expect.poll(() => heard.at(-1)).toEqual(stop);
    } finally {
      await bus.close();
      await link.close();
    }
  });
});
