/** Node's socket and name-lookup failures: the database server could not be reached, or the link to it broke. */
const NETWORK_FAILURES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * PostgreSQL's SQLSTATEs that mean the server, not the statement, failed: class 08 (connection
 * exception), 57P01-57P03 (the server is shutting down, crashed, or cannot connect now) and 53300
 * (too many connections). https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
const SERVER_UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;

/**
 * node-postgres's own words for a connection that broke, never opened, or went silent (a query
 * unanswered past its query_timeout); it gives them no code.
 */
const DRIVER_CONNECTION_FAILURE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Query read timeout)/;

/**
 * Whether a database call failed because the database could not be reached (PostgreSQL down,
 * restarting or cut off; SQLite locked by another process past its busy timeout) rather than
 * because of the statement: such a failure is temporary, and a retry may succeed.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (NETWORK_FAILURES.has(code) || code === "SQLITE_BUSY") return true;
    // Only a server's answer (node-postgres puts its severity beside the SQLSTATE) is read as one.
    if ("severity" in error && SERVER_UNAVAILABLE_SQLSTATE.test(code)) return true;
  }
  return DRIVER_CONNECTION_FAILURE.test(error.message);
}
