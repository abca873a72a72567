import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelRegistryClient, ModelRegistryClientError } from "@hearth/contracts";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyGgufBytes } from "../../../test/support/tiny-gguf.js";
import { ModelRegistry, parsePullReference } from "../src/registry/model-registry.js";
import { startRegistryServer } from "./registry-server.js";
import { startModelService } from "./start-model-service.js";

const first = tinyGgufBytes({ seed: 11 });
const second = tinyGgufBytes({ seed: 12 });

/** The registry over HTTP (/api/hearth/models), on real registry state made by two real pulls. */
describe("model registry routes", () => {
  let dir: string;
  let registryServer: Awaited<ReturnType<typeof startRegistryServer>>;
  let service: Awaited<ReturnType<typeof startModelService>>;
  let client: ModelRegistryClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-registry-routes-"));
    registryServer = await startRegistryServer([
      { reference: "library/tiny:latest", bytes: first },
      { reference: "library/tiny:v2", bytes: second },
    ]);
    service = await startModelService(dir);
    client = new ModelRegistryClient({ baseUrl: service.url });
    const ollama = new Ollama({ host: service.url });
    await ollama.pull({ model: `${registryServer.url}/library/tiny:latest`, stream: false });
    // A second pull of new weights under the same name makes version 1.1.0.
    await new ModelRegistry(dir).pull(
      parsePullReference(`${registryServer.url}/library/tiny:v2`, { name: "tiny" }),
    );
  });

  afterAll(async () => {
    await service?.close();
    await registryServer?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lists each model with its digest, size, current version and every version with its changelog", async () => {
    const response = await fetch(`${service.url}/api/hearth/models`);
    expect(response.status).toBe(200);
    const models = await client.listModels();
    expect(models).toHaveLength(1);
    const [tiny] = models;
    expect(tiny).toMatchObject({
      name: "tiny:latest",
      version: "1.1.0",
      digest: registryServer.digestOf(second),
      size: second.length,
    });
    expect(tiny!.versions.map((v) => [v.version, v.digest])).toEqual([
      ["1.0.0", registryServer.digestOf(first)],
      ["1.1.0", registryServer.digestOf(second)],
    ]);
    expect(tiny!.versions[0]!.changelog).toMatch(/pulled from .*library\/tiny:latest/);
    expect(tiny!.versions[1]!.changelog).toMatch(/pulled from .*library\/tiny:v2/);
    expect(Date.parse(tiny!.versions[1]!.created_at)).toBeGreaterThan(Date.now() - 60_000);
    // The CLI's view (`hearth models list`) reads the same registry.
    expect((await new ModelRegistry(dir).list())[0]).toMatchObject({
      version: "1.1.0",
      versions: ["1.0.0", "1.1.0"],
    });
  });

  it("answers a model's versions, and MODEL_NOT_FOUND in the Ollama error shape for an unknown one", async () => {
    expect(await client.versions("tiny")).toMatchObject({ name: "tiny:latest", version: "1.1.0" });
    const missing = await fetch(`${service.url}/api/hearth/models/nothere:latest/versions`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: 'model "nothere:latest" has no recorded versions',
      code: "MODEL_NOT_FOUND",
    });
  });

  it("rolls back to the previous version, and the model served switches with it", async () => {
    const ollama = new Ollama({ host: service.url });
    const rolled = await client.rollback("tiny:latest");
    expect(rolled).toMatchObject({
      name: "tiny:latest",
      from: "1.1.0",
      version: "1.0.0",
      digest: registryServer.digestOf(first),
    });
    expect(rolled.model.version).toBe("1.0.0");
    const tags = await ollama.list();
    // Listed as Ollama lists digests: the hex alone.
    expect(`sha256:${tags.models.find((model) => model.name === "tiny:latest")?.digest}`).toBe(
      registryServer.digestOf(first),
    );
    // Nothing before 1.0.0: MODEL_VERSION_NOT_FOUND, and the current version is untouched.
    const error = await client.rollback("tiny").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelRegistryClientError);
    expect(error).toMatchObject({ status: 404, code: "MODEL_VERSION_NOT_FOUND" });
    await expect(client.rollback("tiny", { to: "9.9.9" })).rejects.toMatchObject({
      code: "MODEL_VERSION_NOT_FOUND",
    });
    expect((await client.versions("tiny")).version).toBe("1.0.0");
    // Forward again to a named version; the CLI sees it.
    expect((await client.rollback("tiny", { to: "1.1.0" })).version).toBe("1.1.0");
    expect((await new ModelRegistry(dir).list())[0]?.version).toBe("1.1.0");
  });

  it("refuses a malformed rollback body with INVALID_REQUEST", async () => {
    const response = await fetch(`${service.url}/api/hearth/models/tiny/rollback`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ to: "latest; rm -rf /" }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "INVALID_REQUEST" });
    expect((await client.versions("tiny")).version).toBe("1.1.0");
  });

  it("removes a model and says which weights it kept (another model uses them) and which it deleted", async () => {
    // Another name for the current weights (Ollama's copy): a link, no bytes copied.
    await new ModelRegistry(dir).copy("tiny", "tiny:copy");
    expect(await client.remove("tiny:copy")).toEqual({
      name: "tiny:copy",
      removed: true,
      deleted_weights: [],
      kept_weights: [{ digest: registryServer.digestOf(second), used_by: ["tiny:latest"] }],
    });
    // The last name of both versions: their weights go with it.
    const removed = await client.remove("tiny");
    expect(removed.kept_weights).toEqual([]);
    expect(removed.deleted_weights).toEqual([
      { digest: registryServer.digestOf(first), size: first.length },
      { digest: registryServer.digestOf(second), size: second.length },
    ]);
    expect(await new ModelRegistry(dir).list()).toEqual([]);
    await expect(client.remove("tiny")).rejects.toMatchObject({ status: 404, code: "MODEL_NOT_FOUND" });
  });
});
