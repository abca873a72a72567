import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OllamaRuntime } from "../src/runtime/upstream/ollama-runtime.js";

/** An Ollama's model list with an embedding model of each encoder family beside chat models. */
const TAGS = {
  models: [
    { name: "nomic-embed-text:latest", model: "nomic-embed-text:latest", details: { family: "nomic-bert" } },
    { name: "bge-m3:latest", model: "bge-m3:latest", details: { family: "bert" } },
    { name: "qwen2.5:7b", model: "qwen2.5:7b", details: { family: "qwen2" } },
    { name: "deepseek-r1:1.5b", model: "deepseek-r1:1.5b", details: { family: "qwen2" } },
  ],
};

describe("an upstream Ollama's embedding models", () => {
  const server = createServer((_request, response) => {
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify(TAGS));
  });
  let baseUrl = "";
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("are told by their encoder family, so that they are offered for search and not for chat", async () => {
    const models = await new OllamaRuntime({ baseUrl }).listModels();
    expect(models.map((model) => [model.id, model.embedsOnly === true])).toEqual([
      ["nomic-embed-text:latest", true],
      ["bge-m3:latest", true],
      ["qwen2.5:7b", false],
      ["deepseek-r1:1.5b", false],
    ]);
  });
});
