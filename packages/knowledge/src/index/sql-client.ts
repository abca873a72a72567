import { HearthError, isDatabaseUnreachable, type Logger, OutageLog, postgresPool } from "@hearth/core";
import type pg from "pg";

/** What the PostgreSQL backend needs from a connection: node-postgres and PGlite both fit. */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(text: string, parameters?: unknown[]): Promise<{ rows: Row[] }>;
}

export interface SqlClient extends SqlExecutor {
  /** Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (executor: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * How long an index query may go unanswered before it fails as INDEX_UNAVAILABLE and its
 * connection is dropped. Searches and writes of a batch of chunks take milliseconds to seconds
 * (an array-stored vector search scans the table, seconds on millions of chunks); a minute is a
 * dead or stuck connection, and a request waiting on it would otherwise wait until it came back.
 */
const QUERY_TIMEOUT_MS = 60_000;

/**
 * A node-postgres pool (core's `postgresPool`: connect timeout, keepalive, lost connections
 * handled) as a SqlClient. Connection failures become INDEX_UNAVAILABLE; the message names the host
 * and database, never the password. A query on a connection gone silent fails after
 * QUERY_TIMEOUT_MS (`queryTimeoutMs`; tests shorten it); the loss of the server is logged once per
 * outage (until a connection opens again).
 */
export function pgPoolClient(
  connectionString: string,
  options: { max?: number; logger?: Logger; queryTimeoutMs?: number } = {},
): SqlClient {
  const where = describeConnection(connectionString);
  const outage = new OutageLog(
    options.logger,
    `the PostgreSQL index at ${where} cannot be reached; knowledge requests fail with INDEX_UNAVAILABLE until it is back`,
  );
  const lost = outage.lost;
  const pool = postgresPool(
    {
      connectionString,
      max: options.max ?? 4,
      query_timeout: options.queryTimeoutMs ?? QUERY_TIMEOUT_MS,
    },
    outage,
  );
  const unavailable = (error: unknown) =>
    new HearthError(
      "INDEX_UNAVAILABLE",
      `PostgreSQL at ${where} cannot be used: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  const isConnectionError = (error: unknown) =>
    error instanceof Error &&
    !("severity" in error && typeof (error as { severity?: unknown }).severity === "string");
  return {
    async query<Row>(text: string, parameters?: unknown[]) {
      try {
        return (await pool.query(text, parameters)) as unknown as { rows: Row[] };
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        lost(error);
        throw unavailable(error);
      }
    },
    async transaction(work) {
      let connection: pg.PoolClient;
      try {
        connection = await pool.connect();
      } catch (error) {
        lost(error);
        throw unavailable(error);
      }
      let result: Awaited<ReturnType<typeof work>>;
      try {
        await connection.query("begin");
        result = await work({
          query: async <Row>(text: string, parameters?: unknown[]) =>
            (await connection.query(text, parameters)) as unknown as { rows: Row[] },
        });
        await connection.query("commit");
      } catch (error) {
        // A connection that broke or went unanswered is dropped (the server rolls its transaction
        // back), not given back to the pool with a query still pending on it.
        const broken = isDatabaseUnreachable(error);
        if (!broken) await connection.query("rollback").catch(() => {});
        connection.release(broken);
        throw error;
      }
      connection.release();
      return result;
    },
    close: () => pool.end(),
  };
}

/** host:port/database of a connection string, without user or password, for messages. */
function describeConnection(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.hostname}:${url.port || "5432"}${url.pathname}`;
  } catch {
    return "the configured address";
  }
}
