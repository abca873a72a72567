import { PostgresAdapter, sql } from "kysely";
import type { WebDatabase } from "./open-database.js";

/**
 * What a locked transaction locks: a namespace among PostgreSQL advisory locks (a 32-bit number)
 * and, within it, a key (hashed with hashtext).
 */
export interface TransactionLock {
  namespace: number;
  key: string;
}

/**
 * Runs `work` in a transaction holding a lock from its start, so that a check and the write it
 * allows (a count, then an insert) run one at a time across web workers and replicas sharing the
 * database: on SQLite BEGIN IMMEDIATE (the database's one writer, waited for up to its busy
 * timeout); on PostgreSQL, whose READ COMMITTED transactions would both see the state before either
 * wrote, a transaction-scoped advisory lock on `lock`. Rolled back when `work` throws.
 */
export async function lockedTransaction<T>(
  db: WebDatabase,
  lock: TransactionLock,
  work: (trx: WebDatabase) => Promise<T>,
): Promise<T> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return db.connection().execute(async (conn) => {
    await sql.raw(postgres ? "BEGIN" : "BEGIN IMMEDIATE").execute(conn);
    try {
      if (postgres)
        await sql`SELECT pg_advisory_xact_lock(${lock.namespace}, hashtext(${lock.key}))`.execute(conn);
      const result = await work(conn);
      await sql`COMMIT`.execute(conn);
      return result;
    } catch (error) {
      await sql`ROLLBACK`.execute(conn).catch(() => {});
      throw error;
    }
  });
}
