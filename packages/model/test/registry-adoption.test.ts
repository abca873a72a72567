import { appendFile, lstat, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it, vi } from "vitest";
import { tinyGgufBytes } from "../../../test/support/tiny-gguf.js";
import { ModelRegistry } from "../src/registry/model-registry.js";

// Hashing the second dropped-in file fails (a read error): the first, already moved, must be recorded.
// The first hash of growing.gguf sees it grow meanwhile (it was still being copied in).
let grown = false;
vi.mock("../src/registry/blob-download.js", async (original) => {
  const actual = await original<typeof import("../src/registry/blob-download.js")>();
  return {
    ...actual,
    sha256File: async (path: string) => {
      if (path.endsWith("broken.gguf"))
        throw Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" });
      const digest = await actual.sha256File(path);
      if (path.endsWith("growing.gguf") && !grown) {
        grown = true;
        await appendFile(path, new Uint8Array(64));
      }
      return digest;
    },
  };
});

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("records every file it moved into the blobs even when a later one fails", async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-adoption-"));
  await writeFile(join(dir, "alpha.gguf"), tinyGgufBytes({ seed: 1 }));
  await writeFile(join(dir, "broken.gguf"), tinyGgufBytes({ seed: 2 }));
  await expect(new ModelRegistry(dir).list()).rejects.toThrow(/EIO/);
  const recorded = JSON.parse(await readFile(join(dir, ".hearth", "registry.json"), "utf8"));
  expect(Object.keys(recorded.models)).toEqual(["alpha:latest"]);
  await rm(join(dir, "broken.gguf"));
  expect((await new ModelRegistry(dir).list()).map((model) => model.name)).toEqual(["alpha:latest"]);
});

it("leaves a file that changed while it was hashed for later, and registers it once it is complete", async () => {
  const models = await mkdtemp(join(tmpdir(), "hearth-adoption-growing-"));
  try {
    await writeFile(join(models, "growing.gguf"), tinyGgufBytes({ seed: 5 }));
    const registry = new ModelRegistry(models);
    expect(await registry.adopt("growing")).toBeUndefined();
    expect((await lstat(join(models, "growing.gguf"))).isFile()).toBe(true);
    const digest = await registry.adopt("growing");
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await lstat(join(models, "growing.gguf"))).isSymbolicLink()).toBe(true);
    // Registered once, whoever asks again.
    expect(await registry.adopt("growing:latest")).toBe(digest);
    expect((await registry.models()).map((model) => [model.name, model.versions.length])).toEqual([
      ["growing:latest", 1],
    ]);
  } finally {
    await rm(models, { recursive: true, force: true });
  }
});
