import type { WebDatabase } from "../storage/open-database.js";
import type { AlertNotification } from "./webhook-formats.js";

/**
 * How replicas of the web service that share one database send each alert notification once. Every
 * replica scrapes and evaluates on its own; a change of an alert's state (it starts firing, it
 * resolves) is claimed in the database, atomically, and only the replica whose claim takes sends
 * the notification. The others take note (an alert another replica notified as firing is firing
 * for them too), so that whichever replica sees it resolve first notifies that, the one that sent
 * the firing notification or not: a replica that stops hands over without a word.
 */
export interface AlertClaims {
  /** The replica claiming (host:port), recorded with each claim. */
  readonly replica: string;
  /** The alerts this replica finds now (pending or firing): those notified as firing are still so. */
  seen(keys: readonly string[], at: number): Promise<void>;
  /**
   * Claims an alert's start of firing. `won`: no replica has notified it as firing; this one
   * sends `notification`. Either way, the episode it is now firing in.
   */
  fire(key: string, notification: AlertNotification, at: number): Promise<{ won: boolean; episode: number }>;
  /**
   * Claims an alert's resolution, of the firing episode this replica saw: the notification sent
   * when it started firing when this replica is the one to notify, else undefined (another replica
   * did, or it has started firing again since).
   */
  resolve(key: string, episode: number, at: number): Promise<AlertNotification | undefined>;
  /**
   * Resolves the alerts notified as firing that no replica has seen since `staleBefore` (the
   * replicas that saw them stopped, and none sees them now): their firing notifications, to send
   * as resolved.
   */
  sweep(staleBefore: number, at: number): Promise<AlertNotification[]>;
}

/** The claims kept in the web database's alert_claims table (PostgreSQL or SQLite alike). */
export function databaseAlertClaims(db: WebDatabase, replica: string): AlertClaims {
  const iso = (at: number) => new Date(at).toISOString();
  return {
    replica,
    async seen(keys, at) {
      if (keys.length === 0) return;
      await db
        .updateTable("alert_claims")
        .set({ seen_at: iso(at) })
        .where("status", "=", "firing")
        .where("key", "in", [...keys])
        .execute();
    },
    async fire(key, notification, at) {
      const won = await db
        .insertInto("alert_claims")
        .values({
          key,
          status: "firing",
          episode: 1,
          notification: JSON.stringify(notification),
          claimed_by: replica,
          changed_at: iso(at),
          seen_at: iso(at),
        })
        // One statement: of replicas claiming at once, the database lets one through.
        .onConflict((conflict) =>
          conflict
            .column("key")
            .doUpdateSet((eb) => ({
              status: "firing",
              episode: eb("alert_claims.episode", "+", 1),
              notification: eb.ref("excluded.notification"),
              claimed_by: eb.ref("excluded.claimed_by"),
              changed_at: eb.ref("excluded.changed_at"),
              seen_at: eb.ref("excluded.seen_at"),
            }))
            .where("alert_claims.status", "!=", "firing"),
        )
        .returning("episode")
        .executeTakeFirst();
      if (won) return { won: true, episode: won.episode };
      const current = await db
        .selectFrom("alert_claims")
        .select("episode")
        .where("key", "=", key)
        .executeTakeFirstOrThrow();
      return { won: false, episode: current.episode };
    },
    async resolve(key, episode, at) {
      const won = await db
        .updateTable("alert_claims")
        .set({ status: "resolved", claimed_by: replica, changed_at: iso(at) })
        .where("key", "=", key)
        .where("status", "=", "firing")
        .where("episode", "=", episode)
        .returning("notification")
        .executeTakeFirst();
      return won ? (JSON.parse(won.notification) as AlertNotification) : undefined;
    },
    async sweep(staleBefore, at) {
      const resolved = await db
        .updateTable("alert_claims")
        .set({ status: "resolved", claimed_by: replica, changed_at: iso(at) })
        .where("status", "=", "firing")
        .where("seen_at", "<", iso(staleBefore))
        .returning("notification")
        .execute();
      return resolved.map((row) => JSON.parse(row.notification) as AlertNotification);
    },
  };
}
