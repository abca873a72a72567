import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listDataFiles } from "./data-files.js";
import { createRunToken, readRunToken, removeRunToken, runTokenFile } from "./run-token.js";

describe("the service token of a `hearth up` run", () => {
  it("is random, kept readable by this user only, replaced by the next run, and removed by its own run only", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-run-token-"));
    const token = createRunToken(dataDir);
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(statSync(runTokenFile(dataDir)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, "run")).mode & 0o777).toBe(0o700);
    expect(readRunToken(dataDir)).toBe(token);
    // A run that did not stop cleanly left its token: the next run makes its own.
    const next = createRunToken(dataDir);
    expect(next).not.toBe(token);
    expect(readFileSync(runTokenFile(dataDir), "utf8").trim()).toBe(next);
    // The earlier run, stopping late, leaves the running one's token.
    removeRunToken(dataDir, token);
    expect(readRunToken(dataDir)).toBe(next);
    removeRunToken(dataDir, next);
    expect(existsSync(join(dataDir, "run"))).toBe(false);
    expect(readRunToken(dataDir)).toBeUndefined();
  });

  it("is never backed up: a restored one would be a past run's", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-run-token-"));
    writeFileSync(join(dataDir, "knowledge.db"), "data");
    createRunToken(dataDir);
    const listed = await listDataFiles(dataDir, { exclude: [], includeModelWeights: false });
    expect(listed.files.map((file) => file.relative)).toEqual(["knowledge.db"]);
  });
});
