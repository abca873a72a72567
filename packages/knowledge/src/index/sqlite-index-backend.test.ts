import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeIndexBackendContract } from "./index-backend-contract.fixture.js";
import { openSqliteIndex } from "./sqlite-index-backend.js";

const folder = mkdtempSync(join(tmpdir(), "hearth-sqlite-index-"));
const path = join(folder, "nested", "index.sqlite");
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describeIndexBackendContract("sqlite", {
  open: () => openSqliteIndex({ path }),
  async reopen(backend) {
    await backend.close();
    return openSqliteIndex({ path });
  },
});

describe("SQLite index on a damaged file", () => {
  it("refuses a file that is not a SQLite database with INDEX_UNAVAILABLE and leaves it as it was", async () => {
    const damaged = join(folder, "damaged.sqlite");
    writeFileSync(damaged, "this is not a database, just text that someone saved here\n".repeat(100));
    await expect(openSqliteIndex({ path: damaged })).rejects.toMatchObject({ code: "INDEX_UNAVAILABLE" });
    expect(readFileSync(damaged, "utf8")).toContain("this is not a database");
  });

  it("refuses, at open, a file this user cannot write, naming the fix", async () => {
    const path = join(folder, "read-only.sqlite");
    await (await openSqliteIndex({ path })).close();
    // Tests run as root, which writes any file: opening read-only is what SQLite does with a file
    // whose mode the user Hearth runs as may not write (chmod 444).
    const error = await openSqliteIndex({ path, sqlite: { readonly: true } }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: "INDEX_UNAVAILABLE" });
    expect((error as Error).message).toContain("give the user Hearth runs as write access");
  });
});
