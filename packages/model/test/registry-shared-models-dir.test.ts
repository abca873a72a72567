import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, realpath, rm, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyGgufBytes } from "../../../test/support/tiny-gguf.js";
import { ModelRegistry, type ModelRegistryOptions } from "../src/registry/model-registry.js";
import { registryLockFile } from "../src/registry/registry-lock.js";

/**
 * Processes sharing one models dir (model service replicas on one volume, `hearth models` beside the
 * service) change registry.json one at a time, under its lock: no change of one is lost to another's.
 * Two registries in one process share nothing but the files, as two processes do; one test runs
 * real processes too.
 */

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-shared-models-"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface RegistryJson {
  models: Record<string, { current: string; versions: Array<{ version: string; blob: string }> }>;
}

const registryJson = async (modelsDir: string) =>
  JSON.parse(await readFile(join(modelsDir, ".hearth", "registry.json"), "utf8")) as RegistryJson;

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** A models dir holding `m3` (registered) and `r` with two versions (1.1.0 current). */
async function modelsDirWithModels(name: string): Promise<string> {
  const modelsDir = join(dir, name);
  await mkdir(modelsDir, { recursive: true });
  await writeFile(join(modelsDir, "m3.gguf"), tinyGgufBytes({ seed: 1 }));
  await writeFile(join(modelsDir, "r.gguf"), tinyGgufBytes({ seed: 2 }));
  const registry = new ModelRegistry(modelsDir);
  await registry.list();
  // A file put in place of r's link: its second version.
  await unlink(join(modelsDir, "r.gguf"));
  await writeFile(join(modelsDir, "r.gguf"), tinyGgufBytes({ seed: 3 }));
  expect((await registry.model("r")).current.version).toBe("1.1.0");
  return modelsDir;
}

const serviceLike = (modelsDir: string, options: ModelRegistryOptions = {}) =>
  new ModelRegistry(modelsDir, {}, undefined, { hashInBackground: true, ...options });

describe("registries sharing one models dir", () => {
  it("keeps every copy made at once by several registries (two services' and the CLI's)", async () => {
    const modelsDir = await modelsDirWithModels("copies");
    const registries = [serviceLike(modelsDir), serviceLike(modelsDir), new ModelRegistry(modelsDir)];
    const names = Array.from({ length: 12 }, (_, n) => `cc${n}`);
    await Promise.all(names.map((name, n) => registries[n % registries.length]!.copy("m3", name)));
    const recorded = await registryJson(modelsDir);
    for (const name of names) {
      expect(recorded.models[`${name}:latest`], name).toBeDefined();
      expect(await exists(join(modelsDir, `${name}.gguf`))).toBe(true);
    }
    expect((await registries[1]!.models()).map((model) => model.name)).toEqual(
      expect.arrayContaining(names.map((name) => `${name}:latest`)),
    );
  });

  it("removes on one registry while another copies and rolls back: nothing removed comes back, nothing copied is lost, the current version is the one served", async () => {
    const modelsDir = await modelsDirWithModels("mixed");
    const one = serviceLike(modelsDir);
    const other = serviceLike(modelsDir);
    const removed = Array.from({ length: 6 }, (_, n) => `gone${n}`);
    const copied = Array.from({ length: 6 }, (_, n) => `kept${n}`);
    for (const name of removed) await one.copy("m3", name);
    await Promise.all([
      ...removed.map((name) => one.remove(name)),
      ...copied.map((name) => other.copy("m3", name)),
      ...Array.from({ length: 5 }, (_, n) =>
        (n % 2 === 0 ? one : other).rollback("r", n % 2 === 0 ? "1.0.0" : "1.1.0"),
      ),
    ]);
    const recorded = await registryJson(modelsDir);
    for (const name of removed) {
      expect(recorded.models[`${name}:latest`], name).toBeUndefined();
      expect(await exists(join(modelsDir, `${name}.gguf`))).toBe(false);
    }
    for (const name of copied) {
      expect(recorded.models[`${name}:latest`], name).toBeDefined();
      expect(await exists(join(modelsDir, `${name}.gguf`))).toBe(true);
    }
    // Whichever rollback was last, its version is recorded as current and r's link leads to its blob.
    const r = recorded.models["r:latest"]!;
    expect(r.versions.map((version) => version.version)).toEqual(["1.0.0", "1.1.0"]);
    const served = r.versions.find((version) => version.version === r.current)!;
    expect(await realpath(join(modelsDir, "r.gguf"))).toBe(await realpath(served.blob));
    expect(await exists(registryLockFile(join(modelsDir, ".hearth")))).toBe(false);
  });

  it("keeps every copy made by two model processes at once", { timeout: 60_000 }, async () => {
    const modelsDir = await modelsDirWithModels("processes");
    const source = fileURLToPath(new URL("../src/registry/model-registry.ts", import.meta.url));
    const go = join(modelsDir, "..", "processes-go");
    const child = (prefix: string) =>
      new Promise<void>((resolve, reject) => {
        const script = `
          import { existsSync, writeFileSync } from "node:fs";
          import { ModelRegistry } from ${JSON.stringify(source)};
          const registry = new ModelRegistry(${JSON.stringify(modelsDir)}, {}, undefined, { hashInBackground: true });
          writeFileSync(${JSON.stringify(`${go}.${prefix}`)}, "");
          while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 10));
          await Promise.all(Array.from({ length: 8 }, (_, n) => registry.copy("m3", "${prefix}" + n)));
        `;
        const process_ = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
          stdio: ["ignore", "ignore", "pipe"],
        });
        let stderr = "";
        process_.stderr.on("data", (chunk) => (stderr += chunk));
        process_.on("error", reject);
        process_.on("exit", (code) =>
          code === 0 ? resolve() : reject(new Error(`child ${prefix} exited ${code}: ${stderr}`)),
        );
      });
    const done = Promise.all([child("pa"), child("pb")]);
    const ready = async () => (await exists(`${go}.pa`)) && (await exists(`${go}.pb`));
    while (!(await ready())) await new Promise((resolve) => setTimeout(resolve, 10));
    await writeFile(go, "");
    await done;
    const recorded = await registryJson(modelsDir);
    for (const prefix of ["pa", "pb"])
      for (let n = 0; n < 8; n++)
        expect(recorded.models[`${prefix}${n}:latest`], `${prefix}${n}`).toBeDefined();
  });
});

describe("the registry's lock", () => {
  const lockRecord = (pid: number, host: string) =>
    `${JSON.stringify({ pid, hostname: host, nonce: `held-by-${pid}`, startedAt: new Date().toISOString() })}\n`;

  it("is taken over from a process of this host that is gone", async () => {
    const modelsDir = await modelsDirWithModels("dead-pid");
    const gone = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((resolve) => gone.once("exit", resolve));
    const lockFile = registryLockFile(join(modelsDir, ".hearth"));
    await writeFile(lockFile, lockRecord(gone.pid!, hostname()));
    await serviceLike(modelsDir, { lock: { waitMs: 2_000 } }).copy("m3", "after-crash");
    expect((await registryJson(modelsDir)).models["after-crash:latest"]).toBeDefined();
    expect(await exists(lockFile)).toBe(false);
  });

  it("waits for a running process's lock, then answers MODEL_REGISTRY_BUSY naming it, having changed nothing", async () => {
    const modelsDir = await modelsDirWithModels("held");
    const lockFile = registryLockFile(join(modelsDir, ".hearth"));
    await writeFile(lockFile, lockRecord(process.ppid, hostname()));
    const started = Date.now();
    const error = await serviceLike(modelsDir, { lock: { waitMs: 300 } })
      .copy("m3", "blocked")
      .catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(error).toMatchObject({
      code: "MODEL_REGISTRY_BUSY",
      message: expect.stringContaining(`process ${process.ppid}`),
    });
    expect((await registryJson(modelsDir)).models["blocked:latest"]).toBeUndefined();
    // Released by its holder, the lock is taken.
    await unlink(lockFile);
    await serviceLike(modelsDir).copy("m3", "blocked");
    expect((await registryJson(modelsDir)).models["blocked:latest"]).toBeDefined();
  });

  it("is waited for on timers: the service goes on serving while a change waits for it", async () => {
    const modelsDir = await modelsDirWithModels("loop");
    const lockFile = registryLockFile(join(modelsDir, ".hearth"));
    // A lock that holds no record (an older Hearth's, being written): each try looks at it for half a second.
    await writeFile(lockFile, "");
    // What the service does meanwhile (answering requests, streaming): a timer every 5 ms.
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(Date.now()), 5);
    const started = Date.now();
    const error = await serviceLike(modelsDir, { lock: { waitMs: 1_200, pollMs: 10 } })
      .copy("m3", "waited")
      .catch((caught: unknown) => caught);
    const ended = Date.now();
    clearInterval(timer);
    expect(error).toMatchObject({
      code: "MODEL_REGISTRY_BUSY",
      message: expect.stringContaining("holds no record"),
    });
    const times = [started, ...ticks, ended];
    const longestStall = Math.max(...times.slice(1).map((tick, index) => tick - times[index]!));
    expect(longestStall).toBeLessThan(250);
  });

  it("of another host is waited for while it is refreshed, and taken over once it is not", async () => {
    const modelsDir = await modelsDirWithModels("other-host");
    const lockFile = registryLockFile(join(modelsDir, ".hearth"));
    // pid 1 is alive here, as in every container: on another host it says nothing.
    await writeFile(lockFile, lockRecord(1, "another-replica"));
    const refresh = setInterval(() => {
      const now = new Date();
      utimes(lockFile, now, now).catch(() => undefined);
    }, 50);
    const timing = { waitMs: 600, staleAfterMs: 300, pollMs: 10 };
    const busy = await serviceLike(modelsDir, { lock: timing })
      .copy("m3", "elsewhere")
      .catch((caught: unknown) => caught);
    clearInterval(refresh);
    expect(busy).toMatchObject({
      code: "MODEL_REGISTRY_BUSY",
      message: expect.stringContaining("on another-replica"),
    });
    // No longer refreshed (the replica is gone): taken over after staleAfterMs.
    await serviceLike(modelsDir, { lock: timing }).copy("m3", "elsewhere");
    expect((await registryJson(modelsDir)).models["elsewhere:latest"]).toBeDefined();
  });

  it("is refreshed while held, so another host does not take it for stale", async () => {
    const modelsDir = await modelsDirWithModels("refreshed");
    const registry = serviceLike(modelsDir, { lock: { staleAfterMs: 200 } });
    const lockFile = registryLockFile(join(modelsDir, ".hearth"));
    // A change that holds the lock a while: its hook (the runtime told) answers after 400 ms.
    const slow = new ModelRegistry(
      modelsDir,
      { onChange: () => new Promise((resolve) => setTimeout(resolve, 400)) },
      undefined,
      { hashInBackground: true, lock: { staleAfterMs: 200 } },
    );
    const copying = slow.copy("m3", "slowly");
    while (!(await exists(lockFile))) await new Promise((resolve) => setTimeout(resolve, 5));
    const first = (await stat(lockFile)).mtimeMs;
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await stat(lockFile)).mtimeMs).toBeGreaterThan(first);
    await copying;
    await registry.copy("m3", "next");
    expect(Object.keys((await registryJson(modelsDir)).models)).toEqual(
      expect.arrayContaining(["slowly:latest", "next:latest"]),
    );
  });
});
