import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelRegistry, type PullProgress, parsePullReference } from "@hearth/model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partialHolds, startRegistryServer } from "../../packages/model/test/registry-server.js";
import { startHearth } from "../support/hearth-process.js";
import { tinyGgufBytes } from "../support/tiny-gguf.js";

/**
 * `hearth models pull` of a file the running service is pulling (the same models dir, another
 * process): the CLI waits for that download and installs what it brought, instead of writing into
 * the same partial file (which once installed a blob under a digest its bytes did not have).
 */

const model = tinyGgufBytes({ seed: 21 });
// Padded past 512 KiB (bytes no tensor uses): the service's download reports progress every 256 KiB.
const bytes = new Uint8Array(model.length + 700_000);
bytes.set(model);
const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const held = 400_000;

let dataDir: string;
let server: Awaited<ReturnType<typeof startRegistryServer>>;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "hearth-pull-beside-"));
  server = await startRegistryServer([], { "slow2.gguf": bytes });
});

afterAll(async () => {
  await server?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("hearth models pull beside a pull of the same URL in another process", () => {
  it("waits for that download, then installs the same bytes under their own digest", async () => {
    const modelsDir = join(dataDir, "models");
    const url = `${server.url}/files/slow2.gguf`;
    let open!: () => void;
    server.state.pauseNextAt = [{ at: held, until: new Promise<void>((resolve) => (open = resolve)) }];
    const events: PullProgress[] = [];
    const servicePull = new ModelRegistry(modelsDir).pull(parsePullReference(url, { name: "s2a" }), {
      onProgress: (event) => events.push(event),
    });
    const cli = startHearth(["models", "pull", url, "--name", "s2b"], { HEARTH_DATA_DIR: dataDir });
    try {
      await partialHolds(modelsDir, held);
      await cli.waitFor(new RegExp(`waiting for another pull of the same file \\(process ${process.pid}\\)`));
    } finally {
      open();
    }
    expect(await servicePull).toMatchObject({ name: "s2a:latest", digest, sizeBytes: bytes.length });
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.output()).toContain(`s2b:latest 1.0.0 ${digest}`);
    // One download of the file; the blob's bytes are the file's.
    expect(server.state.requests).toEqual(["/files/slow2.gguf"]);
    const registry = new ModelRegistry(modelsDir);
    const blob = join(registry.blobsDir, digest.replace(":", "-"));
    expect(
      `sha256:${createHash("sha256")
        .update(await readFile(blob))
        .digest("hex")}`,
    ).toBe(digest);
    expect(
      (await registry.list()).map((listed) => [listed.name, listed.digest, listed.lostVersions]),
    ).toEqual([
      ["s2a:latest", digest, []],
      ["s2b:latest", digest, []],
    ]);
  });
});
