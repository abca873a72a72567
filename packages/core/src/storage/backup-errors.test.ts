import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type * as FsPromises from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createBackup } from "./create-backup.js";

/** A folder standing for a read-only mount: nothing can be made in it (tests run as root, who may write anywhere). */
let readOnly = "/nowhere";

vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  const mkdir = async (path: string, options?: { recursive?: boolean }) => {
    if (String(path).startsWith(`${readOnly}/`)) {
      // As Node does: a recursive mkdir reports a read-only file system as ENOENT.
      const code = options?.recursive ? "ENOENT" : "EROFS";
      throw Object.assign(new Error(`${code}: mkdir '${path}'`), { code, path: String(path) });
    }
    return actual.mkdir(path, options as never);
  };
  return { ...actual, mkdir, default: { ...actual, mkdir } };
});

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "hearth-backup-errors-"));
  mkdirSync(join(root, "data"));
  writeFileSync(join(root, "data", "notes.txt"), "notes");
  readOnly = join(root, "read-only");
  mkdirSync(readOnly);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("why a backup failed", () => {
  it("says the destination's file system is read-only, and where, not ENOENT", async () => {
    const error = await createBackup({
      dataDir: join(root, "data"),
      destination: join(readOnly, "backups", "nightly"),
    }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({
      code: "BACKUP_FAILED",
      message: `The backup to ${join(readOnly, "backups", "nightly")} failed: the file system is read-only (EROFS): ${join(readOnly, "backups")}`,
    });
  });

  it("names the file a failure concerns", async () => {
    writeFileSync(join(root, "a-file"), "not a folder");
    const error = await createBackup({
      dataDir: join(root, "data"),
      destination: join(root, "a-file", "nightly"),
    }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({
      code: "BACKUP_FAILED",
      message: `The backup to ${join(root, "a-file", "nightly")} failed: a part of the path is a file, not a folder (ENOTDIR): ${join(root, "a-file")}`,
    });
  });
});
