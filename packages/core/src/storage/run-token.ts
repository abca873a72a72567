import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PRIVATE_DIR } from "./private-dir.js";

/**
 * The folder in the data dir of what holds only while `hearth up` runs (its service token): never
 * backed up nor restored, as the pid files of LOCKS_DIR are not.
 */
export const RUN_DIR = "run";

/** Where `hearth up` keeps the service token it made for its run. */
export function runTokenFile(dataDir: string): string {
  return join(dataDir, RUN_DIR, "service-token");
}

/**
 * A new service token for a run of `hearth up` without one configured (HEARTH_SERVICE_TOKEN), so
 * that the knowledge and search services answer no local process but Hearth's own (a local user
 * would otherwise read every knowledge base past the web service's access rules): random, and
 * written to `runTokenFile` (mode 0600, in the 0700 data dir) for the CLI's commands that call them
 * (`hearth ingest`). Replaces the file a run that did not stop cleanly left.
 */
export function createRunToken(dataDir: string): string {
  const token = randomBytes(32).toString("base64url");
  mkdirSync(join(dataDir, RUN_DIR), PRIVATE_DIR);
  const file = runTokenFile(dataDir);
  rmSync(file, { force: true });
  // `wx`: made here, never written through a link someone else put in its place.
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: "wx" });
  return token;
}

/** The token of the `hearth up` running on this data dir, when one runs without a configured token. */
export function readRunToken(dataDir: string): string | undefined {
  try {
    const token = readFileSync(runTokenFile(dataDir), "utf8").trim();
    return token === "" ? undefined : token;
  } catch {
    return undefined;
  }
}

/** Removes the run's token file as the run ends (not another run's, nor the folder while it holds anything). */
export function removeRunToken(dataDir: string, token: string): void {
  if (readRunToken(dataDir) !== token) return;
  rmSync(runTokenFile(dataDir), { force: true });
  try {
    rmdirSync(join(dataDir, RUN_DIR));
  } catch {
    // Not empty, or gone: left as it is.
  }
}
