/**
 * A unique index refused the row (SQLite's "UNIQUE constraint failed", PostgreSQL's 23505): another
 * request took the name between the check and the write.
 */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === "23505" || /UNIQUE constraint failed/i.test(e?.message ?? "");
}
