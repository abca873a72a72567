import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { expect, it } from "vitest";
import { repoRoot } from "../support/shared-data.js";

/** npm's own range logic (the semver package npm uses); it ships no types. */
const semver = createRequire(import.meta.url)("semver") as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
};

const read = (file: string) => JSON.parse(readFileSync(join(repoRoot, file), "utf8"));

/**
 * README says Node.js 20.19 or newer: `npm install` there warns EBADENGINE for any package the
 * lockfile installs whose `engines.node` refuses it (commander 15 under katex and cookie 2 under
 * fastify's light-my-request did, until overrides pinned versions that accept Node 20).
 */
it("installs only packages whose engines accept the oldest Node.js Hearth supports", () => {
  const oldest = semver.minVersion(read("package.json").engines.node)!.version;
  expect(oldest).toBe("20.19.0");
  const packages = read("package-lock.json").packages as Record<string, { engines?: unknown }>;
  const refusing = Object.entries(packages)
    .map(([path, entry]) => [path, (entry.engines as { node?: unknown } | undefined)?.node] as const)
    .filter(([, node]) => typeof node === "string" && !semver.satisfies(oldest, node))
    .map(([path, node]) => `${path} (node ${node})`);
  expect(refusing).toEqual([]);
});
