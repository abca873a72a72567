import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { openDatabase, type WebDatabase } from "../storage/open-database.js";
import { createUser } from "./account-store.js";

describe.skipIf(!postgresAvailable)("the first account on PostgreSQL shared by replicas", () => {
  let web: WebHarness;
  /** One connection pool per replica, all on the harness's schema. */
  const replicas: WebDatabase[] = [];

  beforeAll(async () => {
    web = await startWeb({ modelUrl: "http://127.0.0.1:9" }, {}, "postgres");
    for (let n = 0; n < 4; n++)
      replicas.push(await openDatabase(web.config, { postgresSchema: web.schema as string }));
  });
  afterAll(async () => {
    for (const db of replicas) await db.destroy();
    await web?.close();
  });

  it("is the one admin when first sign-ups reach several replicas at once", async () => {
    // A race is won or lost by timing: it is run a few times on an empty database.
    for (let round = 0; round < 6; round++) {
      await sql`TRUNCATE users CASCADE`.execute(web.db);
      const created = await Promise.all(
        replicas.map((db, n) =>
          createUser(db, { username: `first${n}`, password: "correct horse battery", signup: "open" }),
        ),
      );
      expect(created.map((user) => user.role).sort()).toEqual(["admin", "user", "user", "user"]);
      expect(created.filter((user) => user.first)).toHaveLength(1);
    }
  });
});
