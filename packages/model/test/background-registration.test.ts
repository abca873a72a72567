/**
 * A GGUF dropped into the models dir is registered (hashed) in the background once the embedded
 * runtime's scan finds it: /api/tags shows its digest without anyone listing the registry, and a
 * model in use keeps serving while its file becomes a blob.
 */
import { createHash } from "node:crypto";
import { lstat, mkdtemp, readdir, readFile, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ollama } from "ollama";
import { afterAll, beforeAll, expect, it } from "vitest";
import { tinyGgufBytes, writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { startModelService } from "./start-model-service.js";

let dir: string;
let service: { url: string; close(): Promise<void> };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-model-register-"));
  await writeTinyGguf(join(dir, "tiny.gguf"));
  service = await startModelService(dir);
});

afterAll(async () => {
  await service?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const tags = async () =>
  (
    (await (await fetch(`${service.url}/api/tags`)).json()) as {
      models: Array<{ name: string; digest: string }>;
    }
  ).models;

it("lists the digest of a dropped-in file once it is hashed in the background, registered once, the model in use serving on", async () => {
  const ollama = new Ollama({ host: service.url });
  const ask = async (model: string) =>
    (
      await ollama.generate({
        model,
        prompt: "once upon",
        raw: true,
        options: { temperature: 0, num_predict: 4 },
      })
    ).response;
  // Loaded and answering from the file as dropped in.
  const before = await ask("tiny");

  await expect
    .poll(async () => (await tags()).find((model) => model.name === "tiny:latest")?.digest, {
      timeout: 10_000,
    })
    .toBe(createHash("sha256").update(tinyGgufBytes()).digest("hex"));
  const link = join(dir, "tiny.gguf");
  expect((await lstat(link)).isSymbolicLink()).toBe(true);
  expect(await realpath(link)).toMatch(/\.hearth[/\\]blobs[/\\]sha256-/);
  // The model loaded from the file answered on, from memory (not unloaded and reloaded for a new file).
  expect(await ask("tiny")).toBe(before);
  expect(((await ollama.ps()).models ?? []).map((model) => model.name)).toContain("tiny:latest");

  // Many listings at once while another file is new: it is registered once.
  await writeTinyGguf(join(dir, "other.gguf"), { seed: 7 });
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await Promise.all(Array.from({ length: 8 }, () => tags()));
  await expect
    .poll(async () => (await tags()).find((model) => model.name === "other:latest")?.digest, {
      timeout: 10_000,
    })
    .toBe(
      createHash("sha256")
        .update(tinyGgufBytes({ seed: 7 }))
        .digest("hex"),
    );
  const registry = JSON.parse(await readFile(join(dir, ".hearth", "registry.json"), "utf8")) as {
    models: Record<string, { versions: unknown[] }>;
  };
  expect(
    Object.fromEntries(
      Object.entries(registry.models).map(([name, record]) => [name, record.versions.length]),
    ),
  ).toEqual({
    "tiny:latest": 1,
    "other:latest": 1,
  });
  expect((await readdir(join(dir, ".hearth", "blobs"))).sort()).toHaveLength(2);
  // Nothing left behind in the models dir but the two links (and the registry).
  expect((await readdir(dir)).filter((name) => !name.startsWith(".") && name !== "data").sort()).toEqual([
    "other.gguf",
    "tiny.gguf",
  ]);
});
