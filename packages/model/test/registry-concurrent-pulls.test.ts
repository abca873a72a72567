import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyGgufBytes } from "../../../test/support/tiny-gguf.js";
import { ModelRegistry, type PullProgress, parsePullReference } from "../src/registry/model-registry.js";
import { partialHolds, startRegistryServer } from "./registry-server.js";

/**
 * Two pulls of the same thing at once (two /api/pull calls, or `hearth models pull` beside the
 * running service): they share one download, and what is installed has the digest of its bytes.
 */

/**
 * A tiny model padded past 512 KiB (a GGUF may end with bytes no tensor uses): a download reports
 * its progress every 256 KiB, so a pull held halfway has reported some.
 */
const padded = (seed: number) => {
  const model = tinyGgufBytes({ seed });
  const file = new Uint8Array(model.length + 700_000);
  file.set(model);
  return file;
};
const bytes = padded(11);
const urlBytes = padded(12);
const half = Math.floor(bytes.length / 2);
const files: Record<string, Uint8Array> = { "slow.gguf": urlBytes };
let dir: string;
let server: Awaited<ReturnType<typeof startRegistryServer>>;
const sha256 = (data: Uint8Array) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-concurrent-pulls-"));
  server = await startRegistryServer([{ reference: "library/shared:latest", bytes }], files);
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function freshDir(name: string) {
  const path = join(dir, name);
  await mkdir(path, { recursive: true });
  return path;
}

/** Resolves once `check` holds; polled (a wait, never a timed assertion). */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** A gate: the server holds an answer until `open` is called. */
function gate() {
  let open!: () => void;
  const until = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { until, open };
}

/** Whether a promise has settled, without waiting for it. */
function tracked<T>(promise: Promise<T>) {
  const state = { settled: false, promise };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

async function hashFile(path: string): Promise<string> {
  return sha256(await readFile(path));
}

describe("concurrent pulls of the same model", () => {
  it("two pulls of one GGUF URL (two registries: the CLI's and the service's) share one download; the blob installed has its digest", async () => {
    const modelsDir = await freshDir("url-two-registries");
    const url = `${server.url}/files/slow.gguf`;
    const urlHalf = Math.floor(urlBytes.length / 2);
    const held = gate();
    server.state.pauseNextAt = [{ at: urlHalf, until: held.until }];
    const requestsBefore = server.state.requests.length;
    const first: PullProgress[] = [];
    const second: PullProgress[] = [];
    const a = tracked(
      new ModelRegistry(modelsDir).pull(parsePullReference(url, { name: "s2a" }), {
        onProgress: (event) => first.push(event),
      }),
    );
    await partialHolds(modelsDir, urlHalf);
    const b = tracked(
      new ModelRegistry(modelsDir).pull(parsePullReference(url, { name: "s2b" }), {
        onProgress: (event) => second.push(event),
      }),
    );
    try {
      // The second joins the download under way: it is told the bytes received so far.
      await until(() => b.settled || second.some((event) => (event.completed ?? 0) > 256 * 1024));
      expect(b.settled).toBe(false);
    } finally {
      held.open();
    }
    const [installedA, installedB] = await Promise.all([a.promise, b.promise]);
    expect(installedA).toMatchObject({
      name: "s2a:latest",
      digest: sha256(urlBytes),
      sizeBytes: urlBytes.length,
    });
    expect(installedB).toMatchObject({
      name: "s2b:latest",
      digest: sha256(urlBytes),
      sizeBytes: urlBytes.length,
    });
    // One download, not two; and the blob's bytes are the file's.
    expect(server.state.requests.slice(requestsBefore)).toEqual(["/files/slow.gguf"]);
    expect(await hashFile(installedA.blob)).toBe(sha256(urlBytes));
    expect((await stat(installedA.blob)).size).toBe(urlBytes.length);
    expect(second.at(-1)).toMatchObject({ status: "success", name: "s2b:latest", digest: sha256(urlBytes) });
    // Nothing left behind: no partial file, no lock.
    const registry = new ModelRegistry(modelsDir);
    expect(await readdir(registry.blobsDir)).toEqual([sha256(urlBytes).replace(":", "-")]);
    expect(
      (await registry.list()).map((model) => [model.name, model.digest, model.lostVersions.length]),
    ).toEqual([
      ["s2a:latest", sha256(urlBytes), 0],
      ["s2b:latest", sha256(urlBytes), 0],
    ]);
  });

  it("two pulls of one registry model through one registry (two /api/pull calls) see the same progress and outcome", async () => {
    const modelsDir = await freshDir("registry-one-registry");
    const registry = new ModelRegistry(modelsDir);
    const reference = `${server.url}/library/shared:latest`;
    const held = gate();
    server.state.pauseNextAt = [{ at: half, until: held.until }];
    const requestsBefore = server.state.requests.length;
    const first: PullProgress[] = [];
    const second: PullProgress[] = [];
    const a = tracked(
      registry.pull(parsePullReference(reference), { onProgress: (event) => first.push(event) }),
    );
    await partialHolds(modelsDir, half);
    const b = tracked(
      registry.pull(parsePullReference(reference, { name: "other" }), {
        onProgress: (event) => second.push(event),
      }),
    );
    try {
      await until(
        () =>
          b.settled ||
          second.some((event) => (event.completed ?? 0) > 256 * 1024 && event.total === bytes.length),
      );
      expect(b.settled).toBe(false);
      // Listing the models is not held up by a download under way.
      expect(await registry.list()).toEqual([]);
    } finally {
      held.open();
    }
    const [installedA, installedB] = await Promise.all([a.promise, b.promise]);
    expect(installedA).toMatchObject({ name: "shared:latest", version: "1.0.0", digest: sha256(bytes) });
    expect(installedB).toMatchObject({ name: "other:latest", version: "1.0.0", digest: sha256(bytes) });
    expect(server.state.requests.slice(requestsBefore).filter((path) => path.includes("/blobs/"))).toEqual([
      `/v2/library/shared/blobs/${sha256(bytes)}`,
    ]);
    for (const events of [first, second])
      expect(events.filter((event) => event.total === bytes.length).at(-1)?.completed).toBe(bytes.length);
    expect(await hashFile(installedA.blob)).toBe(sha256(bytes));
  });

  it("keeps a shared download going when one of its pulls leaves, and stops it when the last one does", async () => {
    const modelsDir = await freshDir("registry-leave");
    const registry = new ModelRegistry(modelsDir);
    const reference = `${server.url}/library/shared:latest`;
    const held = gate();
    server.state.pauseNextAt = [{ at: half, until: held.until }];
    const requestsBefore = server.state.requests.length;
    const leaving = new AbortController();
    const a = registry
      .pull(parsePullReference(reference), { signal: leaving.signal })
      .catch((error: unknown) => error);
    const second: PullProgress[] = [];
    let b: ReturnType<typeof tracked<unknown>>;
    try {
      await partialHolds(modelsDir, half);
      b = tracked(
        registry.pull(parsePullReference(reference), { onProgress: (event) => second.push(event) }),
      );
      await until(() => b.settled || second.some((event) => (event.completed ?? 0) > 0));
      leaving.abort(new Error("the client went away"));
      expect(await a).toMatchObject({ message: "the client went away" });
      expect(b.settled).toBe(false);
    } finally {
      held.open();
    }
    expect(await b.promise).toMatchObject({ name: "shared:latest", digest: sha256(bytes) });
    expect(
      server.state.requests.slice(requestsBefore).filter((path) => path.includes("/blobs/")),
    ).toHaveLength(1);

    // Alone, a pull that leaves stops the download: its lock is released, its bytes kept to resume.
    const alone = await freshDir("registry-leave-alone");
    const stopped = gate();
    server.state.pauseNextAt = [{ at: half, until: stopped.until }];
    const stopping = new AbortController();
    const c = new ModelRegistry(alone)
      .pull(parsePullReference(reference), { signal: stopping.signal })
      .catch((error: unknown) => error);
    try {
      await partialHolds(alone, half);
      stopping.abort(new Error("interrupted"));
      expect(await c).toMatchObject({ message: "interrupted" });
      expect(await readdir(join(alone, ".hearth", "pulls"))).toEqual([]);
      expect(await readdir(join(alone, ".hearth", "blobs"))).toContain(
        `${sha256(bytes).replace(":", "-")}.partial`,
      );
    } finally {
      stopped.open();
    }
  });

  it("installs nothing when its pull leaves after the last byte, before the model is recorded; the next pull installs without downloading", async () => {
    const modelsDir = await freshDir("registry-leave-before-install");
    const registry = new ModelRegistry(modelsDir);
    const reference = `${server.url}/library/shared:latest`;
    const leaving = new AbortController();
    const requestsBefore = server.state.requests.length;
    // Cancelled once every byte is in and checked, as the model is about to be recorded.
    const left = await registry
      .pull(parsePullReference(reference), {
        signal: leaving.signal,
        onProgress: (event) => {
          if (event.status === "writing manifest") leaving.abort(new Error("cancelled"));
        },
      })
      .catch((error: unknown) => error);
    expect(left).toMatchObject({ message: "cancelled" });
    expect(await registry.list()).toEqual([]);
    expect(await readdir(modelsDir)).not.toContain("shared.gguf");
    // The bytes are kept: pulled again, it is installed from them.
    expect(await registry.pull(parsePullReference(reference))).toMatchObject({
      name: "shared:latest",
      digest: sha256(bytes),
    });
    expect(
      server.state.requests.slice(requestsBefore).filter((path) => path.includes("/blobs/")),
    ).toHaveLength(1);
  });

  describe("beside another process that holds the download's lock", () => {
    let other: ChildProcess;
    beforeAll(async () => {
      other = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
      await new Promise((resolve) => other.once("spawn", resolve));
    });
    afterAll(() => {
      if (other.exitCode === null) other.kill();
    });

    const blobName = sha256(bytes).replace(":", "-");
    const lockOf = (modelsDir: string) => join(modelsDir, ".hearth", "pulls", `${blobName}.lock`);
    const holdLock = async (modelsDir: string, pid: number) => {
      await mkdir(join(modelsDir, ".hearth", "pulls"), { recursive: true });
      await writeFile(
        lockOf(modelsDir),
        JSON.stringify({
          pid,
          hostname: hostname(),
          nonce: "the-other-pull",
          startedAt: new Date().toISOString(),
        }),
      );
    };
    /** Half the blob received by the other process, as its partial file holds it. */
    const halfReceived = async (modelsDir: string) => {
      const blobs = join(modelsDir, ".hearth", "blobs");
      await mkdir(blobs, { recursive: true });
      await writeFile(join(blobs, `${blobName}.partial`), bytes.subarray(0, half));
      await writeFile(
        join(blobs, `${blobName}.partial.json`),
        JSON.stringify({ etag: `"${sha256(bytes).slice(7, 23)}"`, total: bytes.length }),
      );
    };

    it("waits for it, showing its progress, then installs what it downloaded without downloading again", async () => {
      const modelsDir = await freshDir("registry-other-process");
      await holdLock(modelsDir, other.pid!);
      await halfReceived(modelsDir);
      const requestsBefore = server.state.requests.length;
      const events: PullProgress[] = [];
      const pull = tracked(
        new ModelRegistry(modelsDir).pull(parsePullReference(`${server.url}/library/shared:latest`), {
          onProgress: (event) => events.push(event),
          lockPollMs: 5,
        }),
      );
      await until(
        () =>
          pull.settled ||
          events.some(
            (event) => event.status.startsWith("waiting for another pull") && event.completed === half,
          ),
      );
      expect(pull.settled).toBe(false);
      expect(events.find((event) => event.status.startsWith("waiting"))?.status).toBe(
        `waiting for another pull of the same file (process ${other.pid})`,
      );
      // The other process finishes: the blob takes its name, the lock is released.
      const blobs = join(modelsDir, ".hearth", "blobs");
      await writeFile(join(blobs, blobName), bytes);
      await rm(join(blobs, `${blobName}.partial`));
      await rm(join(blobs, `${blobName}.partial.json`));
      await rm(lockOf(modelsDir));
      expect(await pull.promise).toMatchObject({ name: "shared:latest", digest: sha256(bytes) });
      expect(server.state.requests.slice(requestsBefore).filter((path) => path.includes("/blobs/"))).toEqual(
        [],
      );
    });

    it("waits for its download of the same URL, then installs the file it downloaded without downloading it again", async () => {
      const modelsDir = await freshDir("url-other-process");
      const url = `${server.url}/files/slow.gguf`;
      const key = `url-${createHash("sha256").update(url).digest("hex").slice(0, 16)}`;
      const pulls = join(modelsDir, ".hearth", "pulls");
      await mkdir(pulls, { recursive: true });
      await writeFile(
        join(pulls, `${key}.lock`),
        JSON.stringify({ pid: other.pid, hostname: hostname(), nonce: "the-other-pull" }),
      );
      const requestsBefore = server.state.requests.length;
      const events: PullProgress[] = [];
      const pull = tracked(
        new ModelRegistry(modelsDir).pull(parsePullReference(url, { name: "s2b" }), {
          onProgress: (event) => events.push(event),
          lockPollMs: 5,
        }),
      );
      await until(
        () => pull.settled || events.some((event) => event.status.startsWith("waiting for another pull")),
      );
      expect(pull.settled).toBe(false);
      // The other process finishes: its blob, the outcome it leaves for those that waited, its lock gone.
      const blobs = join(modelsDir, ".hearth", "blobs");
      await mkdir(blobs, { recursive: true });
      await writeFile(join(blobs, sha256(urlBytes).replace(":", "-")), urlBytes);
      await writeFile(
        join(pulls, `${key}.done.json`),
        JSON.stringify({ by: "the-other-pull", digest: sha256(urlBytes), size: urlBytes.length }),
      );
      await rm(join(pulls, `${key}.lock`));
      expect(await pull.promise).toMatchObject({ name: "s2b:latest", digest: sha256(urlBytes) });
      expect(server.state.requests.slice(requestsBefore)).toEqual([]);
      // The lock is gone; the outcome stays for any other pull that waited, until the next download.
      expect(await readdir(pulls)).toEqual([`${key}.done.json`]);
    });

    it("downloads a URL again when the outcome left beside it is not of a pull it waited for", async () => {
      const modelsDir = await freshDir("url-old-outcome");
      const url = `${server.url}/files/slow.gguf`;
      const key = `url-${createHash("sha256").update(url).digest("hex").slice(0, 16)}`;
      const pulls = join(modelsDir, ".hearth", "pulls");
      await mkdir(pulls, { recursive: true });
      // Left by a pull long ago (the file at the URL may have changed since): not trusted.
      await writeFile(
        join(pulls, `${key}.done.json`),
        JSON.stringify({ by: "a-pull-long-ago", digest: sha256(bytes), size: bytes.length }),
      );
      const requestsBefore = server.state.requests.length;
      const installed = await new ModelRegistry(modelsDir).pull(parsePullReference(url));
      expect(installed.digest).toBe(sha256(urlBytes));
      expect(server.state.requests.slice(requestsBefore)).toEqual(["/files/slow.gguf"]);
    });

    it("takes over the lock of a process that is gone, resuming from the bytes it received", async () => {
      const modelsDir = await freshDir("registry-dead-process");
      const gone = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
      await new Promise((resolve) => gone.once("exit", resolve));
      await holdLock(modelsDir, gone.pid!);
      await halfReceived(modelsDir);
      const installed = await new ModelRegistry(modelsDir).pull(
        parsePullReference(`${server.url}/library/shared:latest`),
      );
      expect(installed).toMatchObject({ digest: sha256(bytes) });
      expect(server.state.ranges.at(-1)).toBe(`bytes=${half}-`);
      expect(await hashFile(installed.blob)).toBe(sha256(bytes));
      expect(await readdir(join(modelsDir, ".hearth", "pulls"))).toEqual([]);
    });

    it("takes over the lock of a pull on another host sharing the volume once it goes unrefreshed, resuming from its bytes", {
      timeout: 20_000,
    }, async () => {
      const modelsDir = await freshDir("registry-other-host");
      // A running process's pid here, but of another host (a replica on another node): its pid says
      // nothing here, only whether its holder still refreshes the lock.
      await mkdir(join(modelsDir, ".hearth", "pulls"), { recursive: true });
      await writeFile(
        lockOf(modelsDir),
        JSON.stringify({ pid: other.pid, hostname: "another-replica", nonce: "the-other-host" }),
      );
      await halfReceived(modelsDir);
      const events: PullProgress[] = [];
      const installed = await new ModelRegistry(modelsDir, {}, undefined, {
        lock: { staleAfterMs: 300 },
      }).pull(parsePullReference(`${server.url}/library/shared:latest`), {
        onProgress: (event) => events.push(event),
        lockPollMs: 5,
      });
      expect(events.map((event) => event.status)).toContain(
        `waiting for another pull of the same file (process ${other.pid} on another-replica)`,
      );
      expect(installed).toMatchObject({ digest: sha256(bytes) });
      expect(server.state.ranges.at(-1)).toBe(`bytes=${half}-`);
      expect(await readdir(join(modelsDir, ".hearth", "pulls"))).toEqual([]);
    });

    it("gives up a download whose lock another process took over (MODEL_PULL_IN_PROGRESS), installing nothing", async () => {
      const modelsDir = await freshDir("registry-lock-taken");
      const held = gate();
      server.state.pauseNextAt = [{ at: half, until: held.until }];
      const registry = new ModelRegistry(modelsDir);
      const pull = registry
        .pull(parsePullReference(`${server.url}/library/shared:latest`))
        .catch((error: Error) => error);
      try {
        await partialHolds(modelsDir, half);
        // Another process took the lock (its file replaced by hand, say).
        await holdLock(modelsDir, other.pid!);
      } finally {
        held.open();
      }
      const failed = await pull;
      expect(failed).toMatchObject({ code: "MODEL_PULL_IN_PROGRESS" });
      expect((failed as Error).message).toContain(`process ${other.pid}`);
      expect(await readdir(registry.blobsDir)).not.toContain(blobName);
      expect(await registry.list()).toEqual([]);
      // Its lock is the other process's still: left in place.
      expect(JSON.parse(await readFile(lockOf(modelsDir), "utf8"))).toMatchObject({
        nonce: "the-other-pull",
      });
    });
  });
});
