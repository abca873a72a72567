import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { postJson, startModelService } from "./start-model-service.js";

/** The context the service is configured with, and the tiny models trained on: more than an embedding context holds. */
const CONTEXT = 4096;
/** The most tokens the context an embedding model embeds in (or a reranker ranks in) holds. */
const SCORING_CONTEXT = 2048;

/**
 * An embedding model and a reranker are loaded with no chat context: a chat model gets one of
 * HEARTH_PARALLEL sequences of HEARTH_CONTEXT_SIZE tokens as it loads, they get only the context they
 * embed or rank in (one sequence, at most 2048 tokens, made on first use), and their memory is
 * counted for that.
 */
describe("models that only embed or rerank", () => {
  let dir: string;
  let service: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-scoring-models-"));
    // The same weights twice: as an embedding model (it names a pooling type) and as a chat model.
    await writeTinyGguf(join(dir, "embedder.gguf"), {
      seed: 5,
      contextLength: CONTEXT,
      overrideMetadata: { "llama.pooling_type": 1 },
    });
    await writeTinyGguf(join(dir, "chat.gguf"), { seed: 5, contextLength: CONTEXT });
    await writeTinyGguf(join(dir, "reranker.gguf"), { reranker: true, contextLength: CONTEXT });
    service = await startModelService(dir, { contextSize: CONTEXT, parallel: 4 });
  });

  afterAll(async () => {
    await service?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const loaded = async () =>
    (
      (await (await fetch(`${service.url}/api/ps`)).json()) as {
        models: Array<{ name: string; size: number; context_length: number }>;
      }
    ).models;
  const loadedModel = async (name: string) => (await loaded()).find((model) => model.name === name);
  /** Loads a model without using it (Ollama's legacy embeddings route with an empty prompt). */
  const preload = (model: string) => postJson(`${service.url}/api/embeddings`, { model, prompt: "" });

  it("loads an embedding model with no chat context, and /api/ps counts less memory for it than for the same weights loaded to chat", async () => {
    const createContext = vi.spyOn(LlamaModel.prototype, "createContext");
    try {
      expect((await preload("chat")).status).toBe(200);
      expect(createContext).toHaveBeenCalledTimes(1);
      expect(createContext).toHaveBeenLastCalledWith(expect.objectContaining({ sequences: 4 }));
      createContext.mockClear();
      // Loaded, and no context made: it has no chat context, and embeds in one made on first use.
      expect((await preload("embedder")).status).toBe(200);
      expect(createContext).not.toHaveBeenCalled();
      const embedded = await postJson(`${service.url}/api/embed`, {
        model: "embedder",
        input: ["the cat", "hello world ".repeat(1500)],
      });
      expect(embedded.status).toBe(200);
      const answer = (await embedded.json()) as { embeddings: number[][]; prompt_eval_count: number };
      expect(answer.embeddings.map((vector) => vector.length)).toEqual([16, 16]);
      // The long input was cut to the embedding context, less the BOS and EOS tokens around it.
      expect(answer.prompt_eval_count).toBeLessThanOrEqual(SCORING_CONTEXT);
      expect(answer.prompt_eval_count).toBeGreaterThan(SCORING_CONTEXT - 10);
      expect(createContext).toHaveBeenCalledTimes(1);
      expect(createContext).not.toHaveBeenCalledWith(expect.objectContaining({ sequences: 4 }));
    } finally {
      createContext.mockRestore();
    }
    const chat = await loadedModel("chat:latest");
    const embedder = await loadedModel("embedder:latest");
    expect(chat?.context_length).toBe(CONTEXT);
    // The context it embeds in, not one it does not have.
    expect(embedder?.context_length).toBe(SCORING_CONTEXT);
    // Four sequences of 4096 tokens weigh more than one of 2048.
    expect(embedder!.size).toBeLessThan(chat!.size);
  });

  it("refuses to chat with an embedding model or a reranker (400 MODEL_CANNOT_CHAT in each API's format), without loading it", async () => {
    const messages = [{ role: "user", content: "hello" }];
    for (const [model, what] of [
      ["embedder", /is an embedding model/],
      ["reranker", /is a reranker/],
    ] as const) {
      for (const [path, body] of [
        ["/api/chat", { model, messages, stream: false }],
        ["/api/chat", { model, messages }],
        ["/api/generate", { model, prompt: "hello", stream: false }],
      ] as const) {
        const response = await postJson(`${service.url}${path}`, body);
        expect(response.status, `${model} ${path}`).toBe(400);
        // Ollama's shape, as Ollama answers `"<name>" does not support chat`, with Hearth's code beside.
        expect(await response.json()).toEqual({
          error: expect.stringMatching(new RegExp(`^"${model}:latest" does not chat.*${what.source}`)),
          code: "MODEL_CANNOT_CHAT",
        });
      }
      for (const [path, body] of [
        ["/v1/chat/completions", { model, messages }],
        ["/v1/chat/completions", { model, messages, stream: true }],
        ["/v1/completions", { model, prompt: "hello" }],
      ] as const) {
        const response = await postJson(`${service.url}${path}`, body);
        expect(response.status, `${model} ${path}`).toBe(400);
        expect(((await response.json()) as { error: unknown }).error).toMatchObject({
          code: "MODEL_CANNOT_CHAT",
          message: expect.stringMatching(what),
        });
      }
    }
    expect((await loaded()).map((model) => model.name)).not.toContain("reranker:latest");
  });

  it("ranks with a reranker loaded with no chat context, reporting the context it ranks in", async () => {
    const response = await postJson(`${service.url}/v1/rerank`, {
      model: "reranker",
      query: "the cat",
      documents: ["the cat is big", "hello world", "red sun"],
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { results: Array<{ relevance_score: number }> };
    expect(new Set(answer.results.map((result) => result.relevance_score)).size).toBe(3);
    expect((await loadedModel("reranker:latest"))?.context_length).toBe(SCORING_CONTEXT);
  });
});
