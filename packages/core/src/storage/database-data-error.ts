/**
 * Whether a database call failed because of the data it was given, not because of the database:
 * PostgreSQL's class 22, data exception (a NUL character in a text, a value out of its type's
 * range, text the server's encoding cannot hold), or SQLite's value over its length limit or of the
 * wrong type. Retrying the same data fails again; other data may be stored.
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
export function isDataRefused(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return false;
  // Only a server's answer (node-postgres puts its severity beside the SQLSTATE) is read as one.
  if ("severity" in error && /^22[0-9A-Z]{3}$/.test(code)) return true;
  return code === "SQLITE_TOOBIG" || code === "SQLITE_MISMATCH";
}
