import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { chunk, describeIndexBackendContract } from "./index-backend-contract.fixture.js";
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

  it("names an index whose inner pages are damaged, and the restore that fixes it", async () => {
    const path = join(folder, "inner-damage.sqlite");
    const backend = await openSqliteIndex({ path });
    await backend.upsertChunks(
      Array.from({ length: 40 }, (_, i) =>
        chunk({
          id: `doc-9#${i}`,
          text: `part ${i} ${"warranty ".repeat(400)}`,
          embedding: new Float32Array(4).fill(i + 1),
        }),
      ),
    );
    await backend.close();
    const reader = new Database(path, { readonly: true });
    const pages = reader
      .prepare("select pageno from dbstat where name = 'index_chunks' and pagetype = 'leaf'")
      .pluck()
      .all() as number[];
    const pageSize = Number(reader.pragma("page_size", { simple: true }));
    reader.close();
    expect(pages.length).toBeGreaterThan(2);
    const handle = openSync(path, "r+");
    for (const page of pages)
      writeSync(handle, Buffer.alloc(pageSize, 0xde), 0, pageSize, (page - 1) * pageSize);
    closeSync(handle);
    const error = await openSqliteIndex({ path }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "DATABASE_UNAVAILABLE" });
    expect((error as Error).message).toContain(`${path} is damaged`);
    expect((error as Error).message).toContain("hearth restore");
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
