import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createLogger } from "@hearth/core";
import { afterAll, expect, it, vi } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { ModelRegistry } from "../src/registry/model-registry.js";
import { postJson, startModelService } from "./start-model-service.js";

/**
 * Whether reading the models dir fails, as a disk's I/O error makes it: a mode that forbids reading
 * it would not stop the tests' root user, so the listing is made to fail instead.
 */
let unreadable = false;
vi.mock("../src/discovery/scan-models-dir.js", async (original) => {
  const actual = await original<typeof import("../src/discovery/scan-models-dir.js")>();
  return {
    ...actual,
    listModelFiles: async (modelsDir: string) => {
      if (unreadable)
        throw Object.assign(new Error(`EIO: i/o error, scandir '${modelsDir}'`), { code: "EIO" });
      return actual.listModelFiles(modelsDir);
    },
  };
});

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("answers a change it made even when the models dir cannot be read again after it, logging why", async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-rescan-"));
  await writeTinyGguf(join(dir, "tiny.gguf"), { seed: 1 });
  await new ModelRegistry(dir).adopt("tiny");
  const lines: Array<{ msg: string; model?: string; err?: { code?: string } }> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).trim().split("\n")) lines.push(JSON.parse(line));
      done();
    },
  });
  const service = await startModelService(dir, {}, createLogger({ level: "warn", destination }));
  try {
    const tags = async () =>
      ((await (await fetch(`${service.url}/api/tags`)).json()) as { models: { name: string }[] }).models.map(
        (model) => model.name,
      );
    expect(await tags()).toEqual(["tiny:latest"]);

    unreadable = true;
    const copied = await postJson(`${service.url}/api/copy`, { source: "tiny", destination: "tiny-copy" });
    unreadable = false;
    // The copy is made: the failed re-read after it is the log's, not the client's (no 500).
    expect(copied.status).toBe(200);
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: "re-reading the models dir after a change failed",
        model: "tiny-copy:latest",
        err: expect.objectContaining({ code: "EIO" }),
      }),
    );
    // Read again once it can be: the copy is served.
    expect((await tags()).sort()).toEqual(["tiny-copy:latest", "tiny:latest"]);
  } finally {
    unreadable = false;
    await service.close();
  }
});
