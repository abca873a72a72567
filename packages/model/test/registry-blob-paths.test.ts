import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tinyGgufBytes } from "../../../test/support/tiny-gguf.js";
import { ModelRegistry } from "../src/registry/model-registry.js";

let dir: string;
let modelsDir: string;
let victim: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-blob-paths-"));
  modelsDir = join(dir, "models");
  victim = join(dir, "victim");
  await mkdir(join(modelsDir, ".hearth"), { recursive: true });
  await mkdir(victim);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const sha256 = (bytes: string | Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** A registry.json naming one model `x` whose blob is `blob`. */
async function recordBlob(blob: string, digest: string, extra: Record<string, unknown> = {}) {
  const stats = await stat(blob);
  const version = {
    version: "1.0.0",
    digest,
    sizeBytes: stats.size,
    blob,
    source: "models dir",
    changelog: "",
    createdAt: new Date().toISOString(),
    blobMtimeMs: stats.mtimeMs,
    ...extra,
  };
  await writeFile(
    join(modelsDir, ".hearth", "registry.json"),
    JSON.stringify({ models: { "x:latest": { name: "x:latest", current: "1.0.0", versions: [version] } } }),
  );
}

describe("the registry's blob paths", () => {
  it("never deletes a file through a blobs dir that is a link elsewhere", async () => {
    await symlink(victim, join(modelsDir, ".hearth", "blobs"));
    const precious = join(victim, "precious.txt");
    await writeFile(precious, "precious");
    const named = `sha256-${"a".repeat(64)}`;
    await writeFile(join(victim, named), "also precious");
    for (const blob of [
      join(modelsDir, ".hearth", "blobs", "precious.txt"),
      join(modelsDir, ".hearth", "blobs", named),
    ]) {
      await recordBlob(blob, sha256(await readFile(blob)));
      await symlink(blob, join(modelsDir, "x.gguf"));
      const warnings: string[] = [];
      const registry = new ModelRegistry(modelsDir, { onWarning: (message) => warnings.push(message) });
      const removed = await registry.remove("x");
      expect(removed.deletedWeights).toEqual([]);
      expect((await readdir(victim)).sort()).toEqual(["precious.txt", named]);
      if (blob.endsWith("precious.txt")) expect(warnings.join("\n")).toContain("not followed");
    }
  });

  it("never links to, hashes or lists a file outside that registry.json names", async () => {
    const secret = join(victim, "secret.txt");
    await writeFile(secret, "secret");
    // A recorded digest that does not match, so that a listing would hash the file and relink.
    await recordBlob(secret, `sha256:${"0".repeat(64)}`, { blobMtimeMs: 1 });
    const warnings: string[] = [];
    const registry = new ModelRegistry(modelsDir, { onWarning: (message) => warnings.push(message) });
    expect(await registry.list()).toEqual([]);
    expect(await readdir(modelsDir)).toEqual([".hearth"]);
    expect(await readFile(secret, "utf8")).toBe("secret");
    expect(warnings.join("\n")).toContain(JSON.stringify(secret));
    // Nor when it passes for an imported Ollama blob in all but its name.
    await recordBlob(secret, sha256("secret"), { source: "ollama:library/x:latest", blobMtimeMs: 1 });
    expect(await registry.list()).toEqual([]);
    expect(await readdir(modelsDir)).toEqual([".hearth"]);
  });

  it("still registers, lists and removes its own blobs, and lists an imported Ollama blob", async () => {
    const bytes = tinyGgufBytes({ seed: 1 });
    await writeFile(join(modelsDir, "tiny.gguf"), bytes);
    const registry = new ModelRegistry(modelsDir);
    expect((await registry.list()).map((model) => model.name)).toEqual(["tiny:latest"]);
    const removed = await registry.remove("tiny");
    expect(removed.deletedWeights).toEqual([{ digest: sha256(bytes), sizeBytes: bytes.length }]);
    expect(await readdir(join(modelsDir, ".hearth", "blobs"))).toEqual([]);

    const ollamaDir = join(dir, "ollama");
    const digest = sha256(bytes);
    await mkdir(join(ollamaDir, "blobs"), { recursive: true });
    await writeFile(join(ollamaDir, "blobs", digest.replace(":", "-")), bytes);
    await mkdir(join(ollamaDir, "manifests", "registry.ollama.ai", "library", "tiny"), { recursive: true });
    await writeFile(
      join(ollamaDir, "manifests", "registry.ollama.ai", "library", "tiny", "latest"),
      JSON.stringify({
        schemaVersion: 2,
        layers: [{ mediaType: "application/vnd.ollama.image.model", digest, size: bytes.length }],
      }),
    );
    await registry.importFromOllama("tiny", ollamaDir);
    expect((await registry.list()).map((model) => [model.name, model.digest])).toEqual([
      ["tiny:latest", digest],
    ]);
    await registry.remove("tiny:latest");
    expect(await readdir(join(ollamaDir, "blobs"))).toEqual([digest.replace(":", "-")]);
  });
});
