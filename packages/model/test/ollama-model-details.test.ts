import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ollama } from "ollama";
import { afterAll, beforeAll, expect, it } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { startModelService, waitForRegistration } from "./start-model-service.js";

let dir: string;
let service: { url: string; close(): Promise<void> };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-model-details-"));
  await writeTinyGguf(join(dir, "tiny.gguf"));
  service = await startModelService(dir);
  await waitForRegistration(service.url);
});

afterAll(async () => {
  await service?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("gives a model's details as Ollama does, parent_model included, in /api/tags, /api/ps and /api/show", async () => {
  const ollama = new Ollama({ host: service.url });
  // Loaded (a chat without messages loads the model, as Ollama's does), to be listed by /api/ps.
  await ollama.chat({ model: "tiny", messages: [] });
  const details = {
    parent_model: "",
    format: "gguf",
    family: "llama",
    families: ["llama"],
    parameter_size: expect.any(String),
    quantization_level: expect.any(String),
  };
  expect((await ollama.list()).models.find((model) => model.name === "tiny:latest")?.details).toEqual(
    details,
  );
  expect((await ollama.ps()).models.find((model) => model.name === "tiny:latest")?.details).toEqual(details);
  expect((await ollama.show({ model: "tiny" })).details).toEqual(details);
});
