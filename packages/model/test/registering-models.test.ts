/**
 * A model file new to the registry (a GGUF of many gigabytes takes a minute to hash on a small
 * machine) never holds up the model service: its listing answers at once, showing the model as
 * registering with the bytes hashed so far, and as registered with its version and digest once the
 * hash is done; removing, tagging or rolling it back meanwhile is refused with MODEL_REGISTERING.
 * Large files are real files (a tiny GGUF with a tail of padding), hashed slowly by reading them in
 * small chunks.
 */
import { createHash } from "node:crypto";
import { lstat, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyGgufBytes } from "../../../test/support/tiny-gguf.js";
import {
  type HashProgress,
  isRegistering,
  ModelRegistry,
  type RegistryEntry,
} from "../src/registry/model-registry.js";
import { startModelService } from "./start-model-service.js";

/** A tiny GGUF padded with `padding` bytes no tensor uses: as slow to hash as a file its size. */
function paddedGguf(seed: number, padding: number): Uint8Array {
  const model = tinyGgufBytes({ seed });
  const file = new Uint8Array(model.length + padding);
  file.set(model);
  return file;
}

const digestOf = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** Read 256 bytes at a time, a 4 MB file takes a second or more to hash: long enough to see it registering. */
const SLOW_CHUNK = 256;
const big = paddedGguf(31, 4_000_000);
const other = paddedGguf(32, 4_000_000);

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "hearth-registering-"));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const entryOf = (entries: RegistryEntry[], name: string) => entries.find((entry) => entry.name === name);

describe("the service's registry (hashing in the background)", () => {
  it("lists a file being hashed as registering with the bytes hashed so far, hashes it once however many ask, then lists it registered", async () => {
    const dir = await mkdtemp(join(root, "listing-"));
    const progress: HashProgress[] = [];
    const registry = new ModelRegistry(
      dir,
      { onHashProgress: ({ completed, total }) => progress.push({ completed, total }) },
      undefined,
      { hashInBackground: true, hashChunkBytes: SLOW_CHUNK },
    );
    await writeFile(join(dir, "big.gguf"), big);

    const first = entryOf(await registry.listing(), "big:latest");
    expect(first).toEqual({
      name: "big:latest",
      sizeBytes: big.length,
      registering: { completed: expect.any(Number), total: big.length },
      versions: [],
    });
    // Registrations of it meanwhile (the runtime's scan, more listings) join the one hash.
    const adopted = Promise.all([registry.adopt("big"), registry.adopt("big:latest"), registry.adopt("big")]);
    await expect
      .poll(
        async () => {
          const entry = entryOf(await registry.listing(), "big:latest");
          return entry && isRegistering(entry) ? entry.registering.completed : undefined;
        },
        { timeout: 30_000, interval: 20 },
      )
      .toSatisfy((completed) => typeof completed === "number" && completed > 0 && completed < big.length);
    // A model not registered has no digest, no version, and is not among the registered models.
    expect(await registry.models()).toEqual([]);
    expect(await registry.digestOf("big")).toBeUndefined();

    expect(await adopted).toEqual([digestOf(big), digestOf(big), digestOf(big)]);
    const [listed] = await registry.listing();
    expect(listed).toMatchObject({
      name: "big:latest",
      current: { version: "1.0.0", digest: digestOf(big), sizeBytes: big.length, source: "models dir" },
    });
    expect((await lstat(join(dir, "big.gguf"))).isSymbolicLink()).toBe(true);
    // One hash: the bytes hashed only ever grew, and reached the whole file once.
    expect(progress.length).toBeGreaterThan(2);
    for (let index = 1; index < progress.length; index++)
      expect(progress[index]!.completed).toBeGreaterThan(progress[index - 1]!.completed);
    expect(progress.filter((step) => step.completed === big.length)).toHaveLength(1);
  });

  it("refuses to remove, tag or roll back a model while its file is hashed (MODEL_REGISTERING), changing nothing, and does once it is registered", async () => {
    const dir = await mkdtemp(join(root, "refusals-"));
    const registry = new ModelRegistry(dir, {}, undefined, {
      hashInBackground: true,
      hashChunkBytes: SLOW_CHUNK,
    });
    // Version 1.0.0 registered; then other weights dropped in place of its link: being registered.
    await writeFile(join(dir, "team.gguf"), tinyGgufBytes({ seed: 33 }));
    expect(await registry.adopt("team")).toBe(digestOf(tinyGgufBytes({ seed: 33 })));
    await rm(join(dir, "team.gguf"));
    await writeFile(join(dir, "team.gguf"), other);
    const registering = entryOf(await registry.listing(), "team:latest");
    expect(registering).toMatchObject({
      registering: { total: other.length },
      versions: [expect.objectContaining({ version: "1.0.0" })],
    });
    expect(registering).not.toHaveProperty("current");

    const refusal = {
      code: "MODEL_REGISTERING",
      status: 409,
      message: expect.stringMatching(
        /^model "team:latest" is still being registered: \d+% of its file hashed \(\d+ of \d+ bytes\); try again shortly$/,
      ),
      details: { completed: expect.any(Number), total: other.length },
    };
    await expect(registry.remove("team")).rejects.toMatchObject(refusal);
    await expect(registry.copy("team", "team:copy")).rejects.toMatchObject(refusal);
    await expect(registry.rollback("team", "1.0.0")).rejects.toMatchObject(refusal);
    await expect(registry.model("team")).rejects.toMatchObject(refusal);
    // The file dropped in is where it was, and no tag was made.
    expect(digestOf(await readFile(join(dir, "team.gguf")))).toBe(digestOf(other));
    expect(await lstat(join(dir, "team@copy.gguf")).catch(() => undefined)).toBeUndefined();

    expect(await registry.adopt("team")).toBe(digestOf(other));
    expect((await registry.model("team")).versions.map((version) => version.version)).toEqual([
      "1.0.0",
      "1.1.0",
    ]);
    const rolled = await registry.rollback("team");
    expect(rolled).toMatchObject({ from: "1.1.0", model: { current: { version: "1.0.0" } } });
    expect((await registry.remove("team")).name).toBe("team:latest");
  });

  it("hashes a link's file where it is in the background, shared by two names linked to it", async () => {
    const dir = await mkdtemp(join(root, "links-"));
    const mine = await mkdtemp(join(root, "mine-"));
    const progress: HashProgress[] = [];
    const registry = new ModelRegistry(
      dir,
      { onHashProgress: ({ completed, total }) => progress.push({ completed, total }) },
      undefined,
      { hashInBackground: true, hashChunkBytes: SLOW_CHUNK },
    );
    await writeFile(join(mine, "shared.gguf"), big);
    await symlink(join(mine, "shared.gguf"), join(dir, "one.gguf"));
    await symlink(join(mine, "shared.gguf"), join(dir, "two.gguf"));
    const entries = await registry.listing();
    expect(entries.map((entry) => [entry.name, isRegistering(entry)])).toEqual([
      ["one:latest", true],
      ["two:latest", true],
    ]);
    expect(await Promise.all([registry.adopt("one"), registry.adopt("two")])).toEqual([
      digestOf(big),
      digestOf(big),
    ]);
    expect(
      (await registry.listing()).map((entry) => [entry.name, !isRegistering(entry) && entry.current.digest]),
    ).toEqual([
      ["one:latest", digestOf(big)],
      ["two:latest", digestOf(big)],
    ]);
    expect(progress.filter((step) => step.completed === big.length)).toHaveLength(1);
  });
});

describe("the service stopping", () => {
  it("stops the hashes under way: the file is left as it is, to be registered after the next start", async () => {
    const dir = await mkdtemp(join(root, "stopping-"));
    const progress: HashProgress[] = [];
    const registry = new ModelRegistry(
      dir,
      { onHashProgress: ({ completed, total }) => progress.push({ completed, total }) },
      undefined,
      { hashInBackground: true, hashChunkBytes: SLOW_CHUNK },
    );
    await writeFile(join(dir, "big.gguf"), big);
    const adopted = registry.adopt("big");
    await expect.poll(() => progress.length, { interval: 5 }).toBeGreaterThan(1);
    registry.stopHashing();
    await expect(adopted).rejects.toMatchObject({ code: "SERVICE_NOT_READY" });
    expect(progress.at(-1)!.completed).toBeLessThan(big.length);
    expect((await lstat(join(dir, "big.gguf"))).isFile()).toBe(true);
    expect(
      await new ModelRegistry(dir).listing().then((entries) => entries.map((entry) => entry.name)),
    ).toEqual(["big:latest"]);
  });
});

describe("the CLI's registry (hashing before it answers)", () => {
  it("registers a new file in the listing itself, telling how far the hash is", async () => {
    const dir = await mkdtemp(join(root, "cli-"));
    const progress: Array<HashProgress & { file: string }> = [];
    const registry = new ModelRegistry(dir, { onHashProgress: (step) => progress.push(step) });
    await writeFile(join(dir, "big.gguf"), big);
    expect((await registry.listing()).map((entry) => [entry.name, isRegistering(entry)])).toEqual([
      ["big:latest", false],
    ]);
    expect(progress.at(-1)).toEqual({
      file: join(dir, "big.gguf"),
      completed: big.length,
      total: big.length,
    });
    // Each hundredth told once at most.
    expect(progress.length).toBeLessThanOrEqual(101);
  });
});

describe("the model service", () => {
  let dir: string;
  let service: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    dir = await mkdtemp(join(root, "service-"));
    service = await startModelService(dir, {}, undefined, { hashChunkBytes: SLOW_CHUNK });
  });
  afterAll(async () => {
    await service?.close();
  });

  const registryList = async () => {
    const response = await fetch(`${service.url}/api/hearth/models`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { models: Array<Record<string, unknown>> }).models;
  };

  it("answers its listing at once while a new file is hashed, serves the model meanwhile, refuses its removal, and lists it registered once hashed", async () => {
    await writeFile(join(dir, "big.gguf"), big);
    const [listed] = await registryList();
    expect(listed).toEqual({
      name: "big:latest",
      size: big.length,
      registering: { completed: expect.any(Number), total: big.length },
      versions: [],
    });
    expect((listed!.registering as { completed: number }).completed).toBeLessThan(big.length);

    const removal = await fetch(`${service.url}/api/hearth/models/big:latest`, { method: "DELETE" });
    expect(removal.status).toBe(409);
    expect(await removal.json()).toEqual({
      error: expect.stringMatching(/^model "big:latest" is still being registered: \d+% of its file hashed/),
      code: "MODEL_REGISTERING",
      details: { completed: expect.any(Number), total: big.length },
    });
    const versions = await fetch(`${service.url}/api/hearth/models/big/versions`);
    expect(versions.status).toBe(409);
    // Ollama's and OpenAI's listings answer too, and the model answers a prompt from its file.
    const ollama = new Ollama({ host: service.url });
    expect((await ollama.list()).models.map((model) => model.name)).toEqual(["big:latest"]);
    const openAi = (await (await fetch(`${service.url}/v1/models`)).json()) as {
      data: Array<{ id: string }>;
    };
    expect(openAi.data.map((model) => model.id)).toEqual(["big:latest"]);
    const answer = await ollama.generate({
      model: "big",
      prompt: "once upon",
      raw: true,
      options: { temperature: 0, num_predict: 2 },
    });
    expect(answer).toMatchObject({ model: "big:latest", done: true });
    expect((await stat(join(dir, "big.gguf"))).size).toBe(big.length);

    await expect
      .poll(async () => (await registryList())[0], { timeout: 60_000, interval: 200 })
      .toMatchObject({ name: "big:latest", version: "1.0.0", digest: digestOf(big), size: big.length });
    const removed = await fetch(`${service.url}/api/hearth/models/big:latest`, { method: "DELETE" });
    expect(removed.status).toBe(200);
  });
});
