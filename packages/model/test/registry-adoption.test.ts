import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it, vi } from "vitest";
import { tinyGgufBytes } from "../../../test/support/tiny-gguf.js";
import { ModelRegistry } from "../src/registry/model-registry.js";

// Hashing the second dropped-in file fails (a read error): the first, already moved, must be recorded.
vi.mock("../src/registry/blob-download.js", async (original) => {
  const actual = await original<typeof import("../src/registry/blob-download.js")>();
  return {
    ...actual,
    sha256File: async (path: string) => {
      if (path.endsWith("broken.gguf"))
        throw Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" });
      return actual.sha256File(path);
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
