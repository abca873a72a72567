import pg from "pg";

/** The test PostgreSQL (127.0.0.1:5432, trust auth, database test), or HEARTH_TEST_POSTGRES_URL. */
export const POSTGRES_URL = process.env.HEARTH_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Whether the test PostgreSQL answers (tests on it skip, saying so, when it does not). */
export const postgresAvailable: boolean = await (async () => {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
})();
