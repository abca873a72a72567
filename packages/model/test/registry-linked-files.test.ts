/**
 * A model added to the models dir as a symbolic link to a file elsewhere (`ln -s ~/models/x.gguf
 * data/models/`, one file shared with Ollama or LM Studio) is a registered model like a dropped-in
 * file: listed with a version and digest, versioned and rolled back, while the user's file is read
 * where it is and never moved, copied or deleted. A link to no file is skipped, saying so.
 */
import { createHash } from "node:crypto";
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelRegistryClient } from "@hearth/contracts";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyGgufBytes } from "../../../test/support/tiny-gguf.js";
import { skippedModelFiles } from "../src/index.js";
import { ModelRegistry, parsePullReference } from "../src/registry/model-registry.js";
import { startRegistryServer } from "./registry-server.js";
import { startModelService } from "./start-model-service.js";

const first = tinyGgufBytes({ seed: 1 });
const second = tinyGgufBytes({ seed: 2 });
const digestOf = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "hearth-linked-files-"));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** A models dir and, beside it, the user's own folder of models (as ~/models would be). */
async function fresh(name: string) {
  const models = join(root, name, "models");
  const mine = join(root, name, "mine");
  await mkdir(models, { recursive: true });
  await mkdir(mine, { recursive: true });
  return { models, mine };
}

/** What the registry's blobs dir holds (nothing when it was never made). */
const blobsOf = (registry: ModelRegistry) => readdir(registry.blobsDir).catch(() => []);

describe("a link to a file of the user's", () => {
  it("is listed with a version and digest, the file read where it is: not moved, copied or relinked", async () => {
    const { models, mine } = await fresh("listed");
    const target = join(mine, "stories260K.gguf");
    await writeFile(target, first);
    const before = await stat(target);
    await symlink(target, join(models, "stories260K.gguf"));

    const registry = new ModelRegistry(models);
    const [model] = await registry.models();
    expect(model).toMatchObject({
      name: "stories260K:latest",
      current: {
        version: "1.0.0",
        digest: digestOf(first),
        sizeBytes: first.length,
        blob: target,
        linkedFile: true,
        source: "models dir link",
        changelog: `linked to ${target}`,
      },
    });
    expect(await registry.digestOf("stories260K")).toBe(digestOf(first));
    // The link is the user's as they made it; the file is where it was, the same file; no copy made.
    expect(await readlink(join(models, "stories260K.gguf"))).toBe(target);
    const after = await stat(target);
    expect([after.ino, after.size, after.mtimeMs]).toEqual([before.ino, before.size, before.mtimeMs]);
    expect(await blobsOf(registry)).toEqual([]);
    // Listed again (and by another registry over the same dir): not hashed into a second version.
    expect((await new ModelRegistry(models).list()).map((m) => [m.name, m.version, m.versions])).toEqual([
      ["stories260K:latest", "1.0.0", ["1.0.0"]],
    ]);
  });

  it("records a link pointed at another file as a new version, and rolls back by pointing it back", async () => {
    const { models, mine } = await fresh("versions");
    const v1 = join(mine, "v1.gguf");
    const v2 = join(mine, "v2.gguf");
    await writeFile(v1, first);
    await writeFile(v2, second);
    const link = join(models, "tiny.gguf");
    // A relative link, as `ln -s ../mine/v1.gguf` makes.
    await symlink("../mine/v1.gguf", link);
    const registry = new ModelRegistry(models);
    await registry.list();
    expect(await readlink(link)).toBe("../mine/v1.gguf");

    await unlink(link);
    await symlink(v2, link);
    // The digest of what the link leads to now is not the recorded one until it is registered again.
    expect(await registry.digestOf("tiny")).toBeUndefined();
    expect(await registry.adopt("tiny")).toBe(digestOf(second));
    const [listed] = await registry.list();
    expect(listed).toMatchObject({
      version: "1.1.0",
      versions: ["1.0.0", "1.1.0"],
      digest: digestOf(second),
    });

    const rolled = await registry.rollback("tiny");
    expect(rolled).toMatchObject({ from: "1.1.0", model: { current: { version: "1.0.0", blob: v1 } } });
    expect(await readlink(link)).toBe(v1);
    expect(await registry.digestOf("tiny")).toBe(digestOf(first));
    // Both of the user's files are where they were, with their bytes.
    expect(new Uint8Array(await readFile(v1))).toEqual(first);
    expect(new Uint8Array(await readFile(v2))).toEqual(second);
    expect(await blobsOf(registry)).toEqual([]);
  });

  it("marks the version lost when the user's file is overwritten in place, and records the new bytes", async () => {
    const { models, mine } = await fresh("overwritten");
    const target = join(mine, "tiny.gguf");
    await writeFile(target, first);
    await symlink(target, join(models, "tiny.gguf"));
    const registry = new ModelRegistry(models);
    await registry.list();
    await writeFile(target, second);
    const [model] = await registry.list();
    expect(model).toMatchObject({
      version: "1.1.0",
      digest: digestOf(second),
      lostVersions: ["1.0.0"],
    });
    expect(await readlink(join(models, "tiny.gguf"))).toBe(target);
    expect(new Uint8Array(await readFile(target))).toEqual(second);
  });

  it("is removed as a link only: the user's file is kept, and the answer says where it is", async () => {
    const { models, mine } = await fresh("removed");
    const target = join(mine, "tiny.gguf");
    await writeFile(target, first);
    const link = join(models, "tiny.gguf");
    await symlink(target, link);
    // Never listed before: registered first, so that the answer accounts for its weights.
    const removed = await new ModelRegistry(models).remove("tiny");
    expect(removed).toEqual({
      name: "tiny:latest",
      removed: link,
      deletedWeights: [],
      keptWeights: [{ digest: digestOf(first), outside: target }],
    });
    expect(await lstat(link).catch(() => undefined)).toBeUndefined();
    expect(new Uint8Array(await readFile(target))).toEqual(first);
    expect(await new ModelRegistry(models).list()).toEqual([]);
  });

  it("keeps the user's file when a second link to it is removed, naming the model that still uses it", async () => {
    const { models, mine } = await fresh("two-links");
    const target = join(mine, "shared.gguf");
    await writeFile(target, first);
    await symlink(target, join(models, "one.gguf"));
    await symlink(target, join(models, "two.gguf"));
    const registry = new ModelRegistry(models);
    expect((await registry.list()).map((model) => [model.name, model.digest])).toEqual([
      ["one:latest", digestOf(first)],
      ["two:latest", digestOf(first)],
    ]);
    expect((await registry.remove("two")).keptWeights).toEqual([
      { digest: digestOf(first), usedBy: ["one:latest"] },
    ]);
    expect((await registry.remove("one")).keptWeights).toEqual([
      { digest: digestOf(first), outside: target },
    ]);
    expect(new Uint8Array(await readFile(target))).toEqual(first);
  });

  it("is served from the registry's blob after a pull under its name, and rolls back to the user's file", async () => {
    const { models, mine } = await fresh("pulled-over");
    const target = join(mine, "tiny.gguf");
    await writeFile(target, first);
    const link = join(models, "tiny.gguf");
    await symlink(target, link);
    const server = await startRegistryServer([{ reference: "library/tiny:v2", bytes: second }]);
    try {
      // No listing in between: the pull registers the link first, as it would a file dropped in.
      const registry = new ModelRegistry(models);
      expect(
        await registry.pull(parsePullReference(`${server.url}/library/tiny:v2`, { name: "tiny" })),
      ).toMatchObject({
        version: "1.1.0",
        digest: digestOf(second),
      });
      expect(await readlink(link)).toMatch(/^\.hearth[/\\]blobs[/\\]sha256-/);
      await registry.rollback("tiny", "1.0.0");
      expect(await readlink(link)).toBe(target);
      expect(await registry.digestOf("tiny")).toBe(digestOf(first));
      // Removed: the registry's blob (no other model uses it) is deleted, the user's file kept.
      const removed = await registry.remove("tiny");
      expect(removed.deletedWeights).toEqual([{ digest: digestOf(second), sizeBytes: second.length }]);
      expect(removed.keptWeights).toEqual([{ digest: digestOf(first), outside: target }]);
      expect(new Uint8Array(await readFile(target))).toEqual(first);
    } finally {
      await server.close();
    }
  });
});

describe("links within the models dir", () => {
  it("registers a link to another model as a tag of it, linked to its blob directly", async () => {
    const { models } = await fresh("alias");
    await writeFile(join(models, "b.gguf"), first);
    // Named first, so listed before b.gguf is registered.
    await symlink("b.gguf", join(models, "a.gguf"));
    const registry = new ModelRegistry(models);
    expect((await registry.list()).map((model) => [model.name, model.version, model.digest])).toEqual([
      ["a:latest", "1.0.0", digestOf(first)],
      ["b:latest", "1.0.0", digestOf(first)],
    ]);
    expect(await readlink(join(models, "a.gguf"))).toMatch(/^\.hearth[/\\]blobs[/\\]sha256-/);
    expect(await blobsOf(registry)).toHaveLength(1);
    // Removing b leaves a served: the blob is a's too.
    expect((await registry.remove("b")).keptWeights).toEqual([
      { digest: digestOf(first), usedBy: ["a:latest"] },
    ]);
    expect((await registry.list()).map((model) => model.name)).toEqual(["a:latest"]);
  });

  it("registers a link to a file in a folder of the models dir where it is", async () => {
    const { models } = await fresh("subfolder");
    await mkdir(join(models, "shared"));
    await writeFile(join(models, "shared", "tiny.gguf"), first);
    await symlink(join("shared", "tiny.gguf"), join(models, "tiny.gguf"));
    const registry = new ModelRegistry(models);
    const [model] = await registry.models();
    expect(model?.current).toMatchObject({ blob: join(models, "shared", "tiny.gguf"), linkedFile: true });
    await registry.remove("tiny");
    expect(new Uint8Array(await readFile(join(models, "shared", "tiny.gguf")))).toEqual(first);
  });

  it("skips a link that leads to no file, saying where it points; a link to a folder is no model", async () => {
    const { models, mine } = await fresh("dangling");
    await writeFile(join(models, "alpha.gguf"), first);
    await symlink(join(mine, "gone.gguf"), join(models, "gone.gguf"));
    await symlink("loop-b.gguf", join(models, "loop-a.gguf"));
    await symlink("loop-a.gguf", join(models, "loop-b.gguf"));
    await symlink(mine, join(models, "folder.gguf"));
    const registry = new ModelRegistry(models);
    expect((await registry.list()).map((model) => model.name)).toEqual(["alpha:latest"]);
    expect(await skippedModelFiles(models)).toEqual([
      {
        file: "gone.gguf",
        reason: "link-target-missing",
        target: join(mine, "gone.gguf"),
        why: `it is a symbolic link to ${join(mine, "gone.gguf")}, where there is no file`,
        fix: "put the file back there, or delete the link",
        message: `gone.gguf is skipped: it is a symbolic link to ${join(mine, "gone.gguf")}, where there is no file; put the file back there, or delete the link`,
      },
      expect.objectContaining({ file: "loop-a.gguf", reason: "link-target-missing", target: "loop-b.gguf" }),
      expect.objectContaining({ file: "loop-b.gguf", reason: "link-target-missing", target: "loop-a.gguf" }),
    ]);
    // The file put back: registered and served.
    await writeFile(join(mine, "gone.gguf"), second);
    expect((await registry.list()).map((model) => model.name)).toEqual(["alpha:latest", "gone:latest"]);
    expect((await skippedModelFiles(models)).map((file) => file.file)).toEqual([
      "loop-a.gguf",
      "loop-b.gguf",
    ]);
    // Gone again: not listed, skipped again, its versions kept for when it is back.
    await rm(join(mine, "gone.gguf"));
    expect((await registry.list()).map((model) => model.name)).toEqual(["alpha:latest"]);
    expect((await skippedModelFiles(models)).map((file) => file.file)).toContain("gone.gguf");
  });
});

describe("the model service", () => {
  it("lists a linked model in its registry with its version, hashes it in the background, and removes only the link", async () => {
    const { models, mine } = await fresh("service");
    const target = join(mine, "stories260K.gguf");
    await writeFile(target, first);
    await symlink(target, join(models, "stories260K.gguf"));
    await symlink(join(mine, "gone.gguf"), join(models, "gone.gguf"));
    const service = await startModelService(models);
    try {
      // Found by the runtime's scan and registered in the background: /api/tags shows its digest.
      await expect
        .poll(
          async () =>
            (await new Ollama({ host: service.url }).list()).models.find(
              (model) => model.name === "stories260K:latest",
            )?.digest,
          { timeout: 10_000 },
        )
        .toBe(digestOf(first).slice(7));
      const client = new ModelRegistryClient({ baseUrl: service.url });
      expect(await client.listModels()).toEqual([
        expect.objectContaining({
          name: "stories260K:latest",
          version: "1.0.0",
          digest: digestOf(first),
          source: "models dir link",
          versions: [expect.objectContaining({ version: "1.0.0", changelog: `linked to ${target}` })],
        }),
      ]);
      expect(await client.skippedFiles()).toEqual([
        {
          file: "gone.gguf",
          reason: "link-target-missing",
          target: join(mine, "gone.gguf"),
          message: expect.stringMatching(
            /^gone\.gguf is skipped: it is a symbolic link to .*, where there is no file/,
          ),
        },
      ]);
      expect(await client.remove("stories260K")).toEqual({
        name: "stories260K:latest",
        removed: true,
        deleted_weights: [],
        kept_weights: [{ digest: digestOf(first), outside: target }],
      });
      expect(new Uint8Array(await readFile(target))).toEqual(first);
    } finally {
      await service.close();
    }
  });
});
