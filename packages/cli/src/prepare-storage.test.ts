import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@hearth/core";
import { afterEach, describe, expect, it } from "vitest";
import { prepareStorage } from "./prepare-storage.js";

describe("prepareStorage", () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });

  it("creates the data directory and its models folder readable by no other local user", () => {
    const root = mkdtempSync(join(tmpdir(), "hearth-storage-"));
    roots.push(root);
    const dataDir = join(root, "data");
    prepareStorage(loadConfig({ env: {}, cwd: root, overrides: { dataDir } }));
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, "models")).mode & 0o777).toBe(0o700);
  });

  it("closes a data directory an earlier version left open to other local users, and says so", () => {
    const root = mkdtempSync(join(tmpdir(), "hearth-storage-"));
    roots.push(root);
    const dataDir = join(root, "data");
    mkdirSync(join(dataDir, "models"), { recursive: true });
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, "models"), 0o775);
    const changes = prepareStorage(loadConfig({ env: {}, cwd: root, overrides: { dataDir } }));
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, "models")).mode & 0o777).toBe(0o700);
    expect(changes).toEqual([
      `closed ${dataDir} to other local users (mode 755 -> 700)`,
      `closed ${join(dataDir, "models")} to other local users (mode 775 -> 700)`,
    ]);
    expect(prepareStorage(loadConfig({ env: {}, cwd: root, overrides: { dataDir } }))).toEqual([]);
  });
});
