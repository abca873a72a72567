import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@hearth/core";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkDatabases } from "./doctor.js";

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "hearth-doctor-"));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const config = () => loadConfig({ env: {}, cwd: dataDir, overrides: { dataDir } as never });

function sqliteFile(path: string): void {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE t (x)");
  db.close();
}

describe("hearth doctor's database check", () => {
  it("passes the database files that open, check clean and can be written", () => {
    sqliteFile(join(dataDir, "web.sqlite"));
    expect(checkDatabases(config())).toEqual([
      expect.objectContaining({ level: "ok", detail: expect.stringContaining("web.sqlite opens") }),
    ]);
  });

  it("fails a damaged file and a file this user cannot write, each with its fix", () => {
    const web = join(dataDir, "web.sqlite");
    sqliteFile(web);
    mkdirSync(join(dataDir, "knowledge"));
    const knowledge = join(dataDir, "knowledge", "knowledge.db");
    writeFileSync(knowledge, Buffer.alloc(8192, 0x41));
    // Tests run as root, which may write any file: the check is asked as a user who may not write web.sqlite.
    const findings = checkDatabases(config(), (path) => path !== web);
    expect(findings).toEqual([
      expect.objectContaining({
        level: "fail",
        detail: expect.stringMatching(/^DATA_DIR_NOT_WRITABLE: .*web\.sqlite cannot be written by this user/),
        fix: expect.stringContaining("chown the file"),
      }),
      expect.objectContaining({
        level: "fail",
        detail: expect.stringMatching(/^DATABASE_UNAVAILABLE: .*knowledge\.db is damaged/),
        fix: expect.stringContaining("hearth restore"),
      }),
    ]);
  });
});
