import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseLink, openDatabaseLink } from "../../../../test/support/database-link.js";
import { POSTGRES_URL, postgresAvailable } from "../../../../test/support/postgres.js";
import { openPostgresIndex } from "../index/postgres-index-backend.js";
import { pgPoolClient, type SqlClient } from "../index/sql-client.js";
import { createRetriever } from "../retrieval/retriever.js";
import { type Harness, startHarness } from "../testing/knowledge-harness.fixture.js";

// Other test runs share the database: this run uses its own table and drops it afterwards.
const tablePrefix = `hearth_readiness_test_${process.pid}`;

describe.skipIf(!postgresAvailable)("the knowledge service's readiness with a PostgreSQL index", () => {
  let link: DatabaseLink;
  let harness: Harness;
  let indexClient: SqlClient;

  beforeAll(async () => {
    link = await openDatabaseLink(POSTGRES_URL);
    indexClient = pgPoolClient(link.url, { queryTimeoutMs: 1000 });
    const backend = await openPostgresIndex({ client: indexClient, tablePrefix });
    harness = await startHarness({}, {}, undefined, { backend, retriever: createRetriever(backend) });
  });

  afterAll(async () => {
    link.restore();
    await harness?.close();
    await indexClient?.close();
    await link?.close();
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`drop table if exists ${tablePrefix}_chunks`);
    await client.end();
  });

  const readyz = async () => {
    const response = await fetch(`${harness.url}/readyz`);
    return { status: response.status, body: (await response.json()) as { status: string; reason?: string } };
  };

  it("is not ready while the index's PostgreSQL cannot be reached, and ready again once it can", async () => {
    expect((await readyz()).status).toBe(200);
    link.cut();
    expect(await readyz()).toMatchObject({
      status: 503,
      body: { status: "not-ready", reason: expect.stringContaining("index is not reachable") },
    });
    link.restore();
    expect((await readyz()).status).toBe(200);
  });

  it("is not ready within seconds while the link is silent, and ready again once it is back, its stuck connections dropped", async () => {
    expect((await readyz()).status).toBe(200);
    link.freeze();
    const started = Date.now();
    // As many checks as the pool has connections: each one's query hangs on a silent connection.
    const during = await Promise.all([readyz(), readyz(), readyz(), readyz()]);
    for (const answer of during) expect(answer).toMatchObject({ status: 503, body: { status: "not-ready" } });
    expect(Date.now() - started).toBeLessThan(5000);
    link.restore();
    await expect.poll(async () => (await readyz()).status, { timeout: 10_000 }).toBe(200);
  });
});
