import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readlink,
  rename,
  rm,
  symlink,
  unlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyGgufBytes } from "../../../test/support/tiny-gguf.js";
import { sha256File } from "../src/registry/blob-download.js";
import { ModelRegistry } from "../src/registry/model-registry.js";
import { startModelService } from "./start-model-service.js";

const first = tinyGgufBytes({ seed: 1 });
const second = tinyGgufBytes({ seed: 2 });

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "hearth-registry-links-"));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function fresh(name: string): Promise<string> {
  const path = join(root, name, "models");
  await mkdir(path, { recursive: true });
  return path;
}

describe("registry links follow the data dir", () => {
  it("links relative to the models dir, so a moved data dir keeps serving its models", async () => {
    const models = await fresh("moved");
    await writeFile(join(models, "tiny.gguf"), first);
    expect((await new ModelRegistry(models).list()).map((model) => model.name)).toEqual(["tiny:latest"]);
    expect(isAbsolute(await readlink(join(models, "tiny.gguf")))).toBe(false);
    await rename(join(root, "moved"), join(root, "moved2"));
    const moved = join(root, "moved2", "models");
    expect((await new ModelRegistry(moved).list()).map((model) => model.name)).toEqual(["tiny:latest"]);
    const service = await startModelService(moved);
    try {
      const answer = await new Ollama({ host: service.url }).generate({
        model: "tiny",
        prompt: "hello",
        raw: true,
        options: { temperature: 0, num_predict: 3 },
      });
      expect((answer.response ?? "").trim().length).toBeGreaterThan(0);
    } finally {
      await service.close();
    }
  });

  it("repairs the absolute links an earlier release left, dangling after a move, on listing and at start", async () => {
    for (const via of ["listing", "service"] as const) {
      const models = await fresh(`absolute-${via}`);
      await writeFile(join(models, "tiny.gguf"), first);
      const registry = new ModelRegistry(models);
      await registry.list();
      // What an earlier release wrote: an absolute link into <old path>/models/.hearth/blobs.
      const blob = join(registry.blobsDir, (await readdir(registry.blobsDir))[0]!);
      await unlink(join(models, "tiny.gguf"));
      await symlink(blob, join(models, "tiny.gguf"));
      await rename(join(root, `absolute-${via}`), join(root, `absolute-${via}.pre-restore-1`));
      const moved = join(root, `absolute-${via}.pre-restore-1`, "models");
      if (via === "listing") {
        expect((await new ModelRegistry(moved).list()).map((model) => model.name)).toEqual(["tiny:latest"]);
      } else {
        const service = await startModelService(moved);
        try {
          const tags = await new Ollama({ host: service.url }).list();
          expect(tags.models.map((model) => model.name)).toEqual(["tiny:latest"]);
        } finally {
          await service.close();
        }
      }
      const target = await readlink(join(moved, "tiny.gguf"));
      expect(isAbsolute(target)).toBe(false);
      expect((await lstat(join(moved, target))).isFile()).toBe(true);
    }
  });
});

describe("weights copied back after a restore without them", () => {
  async function restoredWithoutWeights(name: string) {
    const models = await fresh(name);
    await writeFile(join(models, "stories260K.gguf"), first);
    const registry = new ModelRegistry(models);
    await registry.list();
    // A restore without --include-models: registry.json kept, blobs and links gone.
    await rm(registry.blobsDir, { recursive: true });
    await unlink(join(models, "stories260K.gguf"));
    expect(await registry.list()).toEqual([]);
    return { models, registry };
  }

  it("refuses to tag a model whose weights are gone (MODEL_WEIGHTS_MISSING), making no link", async () => {
    const { models, registry } = await restoredWithoutWeights("tag-missing");
    await expect(registry.copy("stories260K", "tiny:v2")).rejects.toMatchObject({
      code: "MODEL_WEIGHTS_MISSING",
      message: expect.stringMatching(/stories260K:latest.*not on disk/),
    });
    expect(await readdir(models)).not.toContain("tiny@v2.gguf");
    await expect(registry.rollback("stories260K", "1.0.0")).rejects.toMatchObject({
      code: "MODEL_WEIGHTS_MISSING",
    });
  });

  it("registers the file copied back under the recorded name: tag works, rm keeps the weights a tag uses", async () => {
    const { models, registry } = await restoredWithoutWeights("copied-back");
    await writeFile(join(models, "stories260K.gguf"), first);
    // No listing in between: tag registers it first.
    await registry.copy("stories260K", "tiny:v2");
    expect(
      (await registry.list()).map((model) => [model.name, model.version, model.digest.slice(0, 7)]),
    ).toEqual([
      ["stories260K:latest", "1.0.0", "sha256:"],
      ["tiny:v2", "1.0.0", "sha256:"],
    ]);
    const removed = await registry.remove("stories260K");
    expect(removed.deletedWeights).toEqual([]);
    expect(removed.keptWeights).toEqual([{ digest: expect.any(String), usedBy: ["tiny:v2"] }]);
    expect((await registry.list()).map((model) => model.name)).toEqual(["tiny:v2"]);
    // The last user removed: the weights go, and it says so.
    const last = await registry.remove("tiny:v2");
    expect(last.deletedWeights).toEqual([{ digest: expect.any(String), sizeBytes: first.length }]);
  });

  it("records other bytes copied back under the name as a new version", async () => {
    const { models, registry } = await restoredWithoutWeights("other-bytes");
    await writeFile(join(models, "stories260K.gguf"), second);
    const [model] = await registry.list();
    expect(model).toMatchObject({
      name: "stories260K:latest",
      version: "1.1.0",
      versions: ["1.0.0", "1.1.0"],
    });
    expect(model?.digest).toBe(await sha256File(join(models, "stories260K.gguf")));
    expect((await lstat(join(models, "stories260K.gguf"))).isSymbolicLink()).toBe(true);
  });

  it("registers in the background when the running service finds the file copied back", async () => {
    const { models } = await restoredWithoutWeights("background");
    await writeFile(join(models, "stories260K.gguf"), first);
    const service = await startModelService(models);
    try {
      const ollama = new Ollama({ host: service.url });
      let digest = "";
      for (let attempt = 0; attempt < 50 && !digest; attempt++) {
        digest =
          (await ollama.list()).models.find((model) => model.name === "stories260K:latest")?.digest ?? "";
        if (!digest) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(`sha256:${digest}`).toBe(await sha256File(join(models, "stories260K.gguf")));
      expect((await lstat(join(models, "stories260K.gguf"))).isSymbolicLink()).toBe(true);
    } finally {
      await service.close();
    }
  });
});

describe("weights overwritten in place", () => {
  it("hashes a blob whose size or mtime changed: the new bytes become a version, the old one is lost", async () => {
    const models = await fresh("overwritten");
    await writeFile(join(models, "stories260K.gguf"), first);
    const warnings: string[] = [];
    const registry = new ModelRegistry(models, { onWarning: (message) => warnings.push(message) });
    const [before] = await registry.list();
    // `cp v2.gguf models/stories260K.gguf` as root: written through the link, into the blob.
    await writeFile(join(models, "stories260K.gguf"), second);
    // Not reported under the old digest meanwhile.
    expect((await registry.digests()).has("stories260K:latest")).toBe(false);
    const [after] = await registry.list();
    const actual = await sha256File(join(models, "stories260K.gguf"));
    expect(after).toMatchObject({
      version: "1.1.0",
      digest: actual,
      versions: ["1.0.0", "1.1.0"],
      lostVersions: ["1.0.0"],
    });
    expect(actual).not.toBe(before?.digest);
    expect(warnings).toEqual([expect.stringMatching(/overwritten in place.*1\.0\.0 is lost/)]);
    expect(await registry.digestOf("stories260K")).toBe(actual);
    // The blob is named by its real digest; the lost version cannot be switched to.
    expect(await readdir(registry.blobsDir)).toEqual([actual.replace(":", "-")]);
    await expect(registry.rollback("stories260K")).rejects.toMatchObject({ code: "MODEL_WEIGHTS_MISSING" });
    // Listing again hashes nothing new and says nothing more.
    await registry.list();
    expect(warnings).toHaveLength(1);
  });
});

describe("a corrupt registry file", () => {
  it("is named with its fix (MODEL_REGISTRY_CORRUPT); moved aside, the files found are registered again", async () => {
    const models = await fresh("corrupt");
    await writeFile(join(models, "tiny.gguf"), first);
    await new ModelRegistry(models).list();
    const file = join(models, ".hearth", "registry.json");
    await writeFile(file, '{"models": {"tiny:latest": ');
    const error = await new ModelRegistry(models).list().catch((caught: Error) => caught);
    expect(error).toMatchObject({ code: "MODEL_REGISTRY_CORRUPT" });
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(/restore it from a backup.*move it aside/);
    await rename(file, `${file}.corrupt`);
    expect((await new ModelRegistry(models).list()).map((model) => model.name)).toEqual(["tiny:latest"]);
  });
});

describe("a tag onto a name that exists", () => {
  it("re-points the name to the source's weights, as Ollama's copy does, keeping what it served as the version a rollback returns to (was 400 already exists)", async () => {
    const models = await fresh("retag");
    await writeFile(join(models, "x.gguf"), first);
    await writeFile(join(models, "x@v2.gguf"), second);
    const registry = new ModelRegistry(models);
    await registry.list();
    const [before, v2] = [(await registry.model("x")).current, (await registry.model("x:v2")).current];
    const service = await startModelService(models);
    try {
      const ollama = new Ollama({ host: service.url });
      // The re-tag of a release: `ollama cp x:v2 x:latest`.
      await ollama.copy({ source: "x:v2", destination: "x:latest" });
      const listed = (await ollama.list()).models.find((model) => model.name === "x:latest");
      expect(`sha256:${listed?.digest}`).toBe(v2.digest);
      // Copying a name onto itself changes nothing.
      await ollama.copy({ source: "x:latest", destination: "x" });
    } finally {
      await service.close();
    }
    const tagged = await registry.model("x");
    expect(tagged.versions.map((version) => [version.version, version.digest])).toEqual([
      ["1.0.0", before.digest],
      ["1.1.0", v2.digest],
    ]);
    expect(tagged.current).toMatchObject({ version: "1.1.0", changelog: "copied from x:v2 1.0.0" });
    await registry.rollback("x");
    expect((await registry.model("x")).current.digest).toBe(before.digest);
    expect(await sha256File(join(models, "x.gguf"))).toBe(before.digest);
  });

  it("registers a file dropped in under the name before it replaces it, so its weights are kept as a version", async () => {
    const models = await fresh("retag-dropped");
    await writeFile(join(models, "source.gguf"), second);
    const registry = new ModelRegistry(models);
    await registry.list();
    await writeFile(join(models, "x.gguf"), first);
    await registry.copy("source", "x");
    const tagged = await registry.model("x");
    expect(tagged.versions.map((version) => [version.version, version.changelog])).toEqual([
      ["1.0.0", "found in the models dir"],
      ["1.1.0", "copied from source:latest 1.0.0"],
    ]);
    await registry.rollback("x");
    expect(await sha256File(join(models, "x.gguf"))).toBe(tagged.versions[0]!.digest);
  });
});
