import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { ModelRegistry } from "../src/registry/model-registry.js";
import { postJson, startModelService } from "./start-model-service.js";

/** As in Ollama, removing a model unloads it: /api/ps and hearth_model_loaded stop listing it. */
describe("model service: a removed model leaves memory", () => {
  let dir: string;
  let service: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-removed-"));
    for (const [name, seed] of [
      ["resumed", 1],
      ["other", 2],
      ["kept", 3],
      ["busy", 4],
    ] as const) {
      await writeTinyGguf(join(dir, `${name}.gguf`), { seed });
      await new ModelRegistry(dir).adopt(name);
    }
    service = await startModelService(dir);
  });

  afterAll(async () => {
    await service?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const loadForGood = async (model: string) => {
    const response = await postJson(`${service.url}/api/generate`, {
      model,
      prompt: "hello",
      raw: true,
      stream: false,
      keep_alive: -1,
      options: { num_predict: 2 },
    });
    expect(response.status).toBe(200);
  };
  const loadedNames = async () =>
    ((await (await fetch(`${service.url}/api/ps`)).json()) as { models: { name: string }[] }).models.map(
      (model) => model.name,
    );
  /** The model's hearth_model_loaded sample, if the metric has one. */
  const loadedMetric = async (model: string) =>
    (await (await fetch(`${service.url}/metrics`)).text())
      .split("\n")
      .find((line) => line.startsWith(`hearth_model_loaded{model="${model}",`));

  it("unloads a model removed through the service's registry route", async () => {
    await loadForGood("resumed");
    await loadForGood("kept");
    expect(await loadedNames()).toEqual(expect.arrayContaining(["resumed:latest", "kept:latest"]));
    expect(await loadedMetric("resumed:latest")).toMatch(/ 1$/);

    const removal = await fetch(`${service.url}/api/hearth/models/resumed`, { method: "DELETE" });
    expect(removal.status).toBe(200);

    expect(await loadedNames()).toEqual(["kept:latest"]);
    expect(await loadedMetric("resumed:latest")).toBeUndefined();
    expect(await loadedMetric("kept:latest")).toMatch(/ 1$/);
  });

  it("unloads a model another process (the CLI) removed from the registry on disk", async () => {
    await loadForGood("other");
    expect(await loadedNames()).toContain("other:latest");

    await new ModelRegistry(dir).remove("other");

    expect(await loadedNames()).toEqual(["kept:latest"]);
    expect(await loadedMetric("other:latest")).toBeUndefined();
  });

  it("unloads a model removed while it answers once the answer is done, the answer finishing whole", async () => {
    const response = await postJson(`${service.url}/api/generate`, {
      model: "busy",
      prompt: "hello",
      raw: true,
      keep_alive: -1,
      options: { num_predict: 40 },
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value, { stream: true });

    const removal = await fetch(`${service.url}/api/hearth/models/busy`, { method: "DELETE" });
    expect(removal.status).toBe(200);

    for (let part = await reader.read(); !part.done; part = await reader.read())
      text += decoder.decode(part.value, { stream: true });
    expect(text.trim().split("\n").at(-1)).toMatch(/"done":true/);
    expect(await loadedNames()).toEqual(["kept:latest"]);
    expect(await loadedMetric("busy:latest")).toBeUndefined();
  });
});
