import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { scanModelsDir } from "../src/index.js";
import { postJson, startModelService } from "./start-model-service.js";

/**
 * A GGUF whose hyperparameters llama.cpp asserts on (GGML_ASSERT ends the whole process) must be
 * refused before llama.cpp sees it: 422 MODEL_FILE_INVALID, the service still answering other models.
 */
describe("model service: GGUF hyperparameters llama.cpp would abort on", () => {
  let dir: string;
  let service: { url: string; close(): Promise<void> };
  const crafted: Record<string, Record<string, number>> = {
    "many-layers": { "llama.block_count": 4000 },
    "no-layers": { "llama.block_count": 0 },
    "no-embedding": { "llama.embedding_length": 0 },
    "no-context": { "llama.context_length": 0 },
    "no-heads": { "llama.attention.head_count": 0 },
    "more-kv-heads": { "llama.attention.head_count_kv": 8 },
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-hparams-"));
    await writeTinyGguf(join(dir, "tiny.gguf"));
    for (const [name, overrideMetadata] of Object.entries(crafted))
      await writeTinyGguf(join(dir, `${name}.gguf`), { seed: 2, overrideMetadata });
    service = await startModelService(dir);
  });

  afterAll(async () => {
    await service?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("refuses block_count 4000 with 422 MODEL_FILE_INVALID naming the key, and keeps serving the others", async () => {
    const response = await postJson(`${service.url}/api/generate`, {
      model: "many-layers",
      prompt: "hello",
      stream: false,
    });
    expect(response.status).toBe(422);
    // Ollama's error body is the message alone; the OpenAI API's carries the code.
    expect(((await response.json()) as { error: string }).error).toContain("llama.block_count = 4000");
    const openai = await postJson(`${service.url}/v1/chat/completions`, {
      model: "many-layers",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(openai.status).toBe(422);
    const body = (await openai.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("MODEL_FILE_INVALID");
    expect(body.error.message).toContain("llama.block_count = 4000");

    const tags = (await (await fetch(`${service.url}/api/tags`)).json()) as { models: { name: string }[] };
    const names = tags.models.map((model) => model.name);
    expect(names).toContain("tiny:latest");
    expect(names).not.toContain("many-layers:latest");

    const answer = await postJson(`${service.url}/api/generate`, {
      model: "tiny",
      prompt: "hello",
      raw: true,
      stream: false,
      options: { num_predict: 3 },
    });
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { response: string }).response.trim()).not.toBe("");
  });

  it("reports every crafted file to doctor with the key and value at fault", async () => {
    const scanned = await scanModelsDir(dir);
    for (const [name, overrides] of Object.entries(crafted)) {
      const [key, value] = Object.entries(overrides)[0]!;
      const found = scanned.find((model) => model.name === `${name}:latest`);
      expect(found, name).toMatchObject({ valid: false });
      expect(found?.error, name).toContain(`${key} = ${value}`);
    }
    expect(scanned.find((model) => model.name === "tiny:latest")).toMatchObject({ valid: true });
  });
});
