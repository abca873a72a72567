import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite/vector";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { POSTGRES_URL, postgresAvailable } from "../../../../test/support/postgres.js";
import { describeIndexBackendContract } from "./index-backend-contract.fixture.js";
import { openPostgresIndex } from "./postgres-index-backend.js";
import type { SqlClient } from "./sql-client.js";

/** PGlite (PostgreSQL in WebAssembly, with pgvector) as a SqlClient; started once for the suite (~5 s). */
function pgliteClient(database: PGlite): SqlClient {
  return {
    query: (text, parameters) => database.query(text, parameters) as never,
    transaction: (work) =>
      database.transaction((transaction) =>
        work({ query: (text, parameters) => transaction.query(text, parameters) as never }),
      ),
    close: () => database.close(),
  };
}

let pglite: PGlite | undefined;
describeIndexBackendContract("PGlite with pgvector", {
  async open() {
    pglite = await PGlite.create({ extensions: { vector } });
    return openPostgresIndex({ client: pgliteClient(pglite), vectorStorage: "pgvector" });
  },
  async reopen(backend) {
    await backend.close();
    return openPostgresIndex({ client: pgliteClient(pglite as PGlite) });
  },
});

// The test PostgreSQL has no pgvector, so vectors use real[].
// Other test runs share the database: every run uses its own tables and drops them afterwards.
const tablePrefix = `hearth_index_test_${process.pid}`;

describe.skipIf(!postgresAvailable)("PostgreSQL server", () => {
  describeIndexBackendContract("PostgreSQL (real server)", {
    open: () => openPostgresIndex({ connectionString: POSTGRES_URL, tablePrefix }),
    async reopen(backend) {
      await backend.close();
      return openPostgresIndex({ connectionString: POSTGRES_URL, tablePrefix });
    },
  });

  it("drops the test tables", async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`drop table if exists ${tablePrefix}_chunks`);
    await client.end();
  });

  it("reports an unreachable server as INDEX_UNAVAILABLE without the password", async () => {
    const failure = openPostgresIndex({ connectionString: "postgres://hearth:s3cret@127.0.0.1:1/none" });
    await expect(failure).rejects.toMatchObject({ code: "INDEX_UNAVAILABLE" });
    await expect(failure).rejects.not.toThrow(/s3cret/);
  });
});
