import { HearthError } from "@hearth/core";
import pg from "pg";

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
 * A node-postgres pool as a SqlClient. Connection failures become INDEX_UNAVAILABLE; the message
 * names the host and database, never the password.
 */
export function pgPoolClient(connectionString: string, options: { max?: number } = {}): SqlClient {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 4 });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on("error", () => {});
  const where = describeConnection(connectionString);
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
        throw isConnectionError(error) ? unavailable(error) : error;
      }
    },
    async transaction(work) {
      let connection: pg.PoolClient;
      try {
        connection = await pool.connect();
      } catch (error) {
        throw unavailable(error);
      }
      try {
        await connection.query("begin");
        const result = await work({
          query: async <Row>(text: string, parameters?: unknown[]) =>
            (await connection.query(text, parameters)) as unknown as { rows: Row[] },
        });
        await connection.query("commit");
        return result;
      } catch (error) {
        await connection.query("rollback").catch(() => {});
        throw error;
      } finally {
        connection.release();
      }
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
