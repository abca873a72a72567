import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nameDamagedSqlite } from "./sqlite-open-error.js";

const folder = mkdtempSync(join(tmpdir(), "hearth-sqlite-damage-"));
const file = join(folder, "notes.sqlite");
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** A database whose header and schema are intact but every leaf page of `notes` is overwritten. */
beforeAll(() => {
  const writer = new Database(file);
  writer.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  const insert = writer.prepare("INSERT INTO notes (body) VALUES (?)");
  for (let i = 0; i < 40; i++) insert.run(`note ${i} ${"x".repeat(3000)}`);
  const pages = writer
    .prepare("SELECT pageno FROM dbstat WHERE name = 'notes' AND pagetype = 'leaf'")
    .pluck()
    .all() as number[];
  const pageSize = Number(writer.pragma("page_size", { simple: true }));
  writer.close();
  const handle = openSync(file, "r+");
  for (const page of pages)
    writeSync(handle, Buffer.alloc(pageSize, 0xde), 0, pageSize, (page - 1) * pageSize);
  closeSync(handle);
});

describe("nameDamagedSqlite", () => {
  const damage = { code: "DATABASE_UNAVAILABLE", message: expect.stringContaining(`${file} is damaged`) };

  it("names the damaged file from a statement read plainly, plucked, raw or iterated", () => {
    const db = nameDamagedSqlite(new Database(file), file);
    try {
      const select = () => db.prepare("SELECT body FROM notes");
      expect(() => select().get()).toThrow(expect.objectContaining(damage));
      expect(() => select().pluck().all()).toThrow(expect.objectContaining(damage));
      expect(() => select().raw().get()).toThrow(expect.objectContaining(damage));
      expect(() => [...select().pluck().iterate()]).toThrow(expect.objectContaining(damage));
      expect(() => db.prepare("DELETE FROM notes").run()).toThrow(expect.objectContaining(damage));
      expect(() => db.exec("UPDATE notes SET body = ''")).toThrow(expect.objectContaining(damage));
    } finally {
      db.close();
    }
  });

  it("keeps the statement SQLite prepared, its chained settings and its other errors", () => {
    const db = nameDamagedSqlite(new Database(":memory:"), "memory");
    try {
      const statement = db.prepare("SELECT 1 AS one, ? AS two");
      expect(statement.pluck()).toBe(statement);
      expect(statement.get(2)).toBe(1);
      expect(statement.pluck(false).raw().all(2)).toEqual([[1, 2]]);
      expect([...statement.raw(false).iterate(2)]).toEqual([{ one: 1, two: 2 }]);
      expect(() => statement.get()).toThrow(RangeError);
      expect(() => db.prepare("SELECT * FROM missing")).toThrow(
        expect.objectContaining({ code: "SQLITE_ERROR", message: "no such table: missing" }),
      );
    } finally {
      db.close();
    }
  });
});
