import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RerankResponse, rerankResponseSchema } from "@hearth/contracts";
import { LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { startReplayServer } from "./replay-server.js";
import { postJson, startModelService } from "./start-model-service.js";

const QUERY = "the cat";
const DOCUMENTS = [
  "the cat is big",
  "hello world",
  "once upon a time there was a little dog",
  "red sun",
  "the cat",
];

/** The question and passages of vLLM's rerank example, which the recorded answers score. */
const FRANCE = {
  query: "What is the capital of France?",
  documents: ["The capital of Brazil is Brasilia.", "The capital of France is Paris."],
};

describe("POST /v1/rerank", () => {
  let dir: string;
  let service: { url: string; close(): Promise<void> };
  let vllm: Awaited<ReturnType<typeof startReplayServer>>;
  let llamaServer: Awaited<ReturnType<typeof startReplayServer>>;
  let ollama: Awaited<ReturnType<typeof startReplayServer>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-rerank-"));
    await writeTinyGguf(join(dir, "tiny.gguf"));
    await writeTinyGguf(join(dir, "reranker.gguf"), { reranker: true });
    await writeTinyGguf(join(dir, "embedder.gguf"), {
      seed: 5,
      overrideMetadata: { "llama.pooling_type": 1 },
    });
    vllm = await startReplayServer("vllm-rerank.json");
    llamaServer = await startReplayServer("llama-server-rerank.json");
    ollama = await startReplayServer("ollama.json");
    service = await startModelService(dir, {
      ollamaHost: ollama.url,
      upstreams: [
        { name: "vllm", baseUrl: `${vllm.url}/v1`, apiKey: "sk-test-secret" },
        { name: "llamacpp", baseUrl: `${llamaServer.url}/v1`, models: ["bge-reranker-v2-m3-Q8_0.gguf"] },
      ],
    });
  });

  afterAll(async () => {
    await service?.close();
    await Promise.all([vllm?.close(), llamaServer?.close(), ollama?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const rerank = (body: unknown) => postJson(`${service.url}/v1/rerank`, body);
  const ranked = async (body: unknown): Promise<RerankResponse> => {
    const response = await rerank(body);
    expect(response.status).toBe(200);
    return rerankResponseSchema.parse(await response.json());
  };
  const refusal = async (body: unknown) => {
    const response = await rerank(body);
    return {
      status: response.status,
      ...((await response.json()) as { error: { code: string; message: string } }).error,
    };
  };

  it("scores every document from 0 to 1 with an embedded reranker, best first, each pointing back to its document", async () => {
    const createRankingContext = vi.spyOn(LlamaModel.prototype, "createRankingContext");
    try {
      const answer = await ranked({
        model: "reranker",
        query: QUERY,
        documents: DOCUMENTS.map((text, index) => (index % 2 ? { text } : text)),
        return_documents: true,
      });
      expect(answer.object).toBe("list");
      expect(answer.model).toBe("reranker:latest");
      expect(answer.results.map((result) => result.index).sort()).toEqual([0, 1, 2, 3, 4]);
      for (const result of answer.results) {
        expect(result.relevance_score).toBeGreaterThanOrEqual(0);
        expect(result.relevance_score).toBeLessThanOrEqual(1);
        expect(result.document).toEqual({ text: DOCUMENTS[result.index] });
      }
      const scores = answer.results.map((result) => result.relevance_score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      // It ranks: the documents do not all score alike.
      expect(new Set(scores).size).toBeGreaterThan(1);
      expect(answer.usage?.prompt_tokens).toBeGreaterThan(DOCUMENTS.length * 2);
      expect(answer.usage?.total_tokens).toBe(answer.usage?.prompt_tokens);
      // With the service's thread count (1 in tests), not node-llama-cpp's default of 6, which
      // makes ranking on a small machine hundreds of times slower.
      expect(createRankingContext).toHaveBeenCalledWith(expect.objectContaining({ threads: 1 }));

      // The same request, the same scores; top_n keeps the best, without documents unless asked.
      expect(
        await ranked({ model: "reranker", query: QUERY, documents: DOCUMENTS, return_documents: true }),
      ).toEqual(answer);
      const best = await ranked({ model: "reranker", query: QUERY, documents: DOCUMENTS, top_n: 2 });
      expect(best.results).toEqual(answer.results.slice(0, 2).map(({ document: _, ...result }) => result));
    } finally {
      createRankingContext.mockRestore();
    }
  });

  it("counts as model work in the model's metrics: its wait in the admission queue, its time and its tokens", async () => {
    await ranked({ model: "reranker", query: QUERY, documents: DOCUMENTS });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    const figure = (name: string, labels = "") =>
      Number(new RegExp(`${name}\\{[^}]*model="reranker:latest"${labels}[^}]*\\} (\\d+)`).exec(metrics)?.[1]);
    expect(figure("hearth_model_queue_wait_seconds_count")).toBeGreaterThan(0);
    expect(figure("hearth_model_inference_duration_seconds_count")).toBeGreaterThan(0);
    expect(figure("hearth_model_tokens_total", '[^}]*kind="prompt"')).toBeGreaterThan(0);
  });

  it("scores a document longer than the ranking context by its best piece, rather than refusing it", async () => {
    const long = Array.from({ length: 400 }, (_, index) => (index % 7 ? "red sun" : "the cat")).join(" ");
    const answer = await ranked({ model: "reranker", query: QUERY, documents: ["hello world", long] });
    expect(answer.results).toHaveLength(2);
    for (const result of answer.results) expect(result.relevance_score).toBeGreaterThan(0);
    expect(answer.usage?.prompt_tokens).toBeGreaterThan(400);
  });

  it("lists a reranker's capability as rerank in /v1/models and /api/show, apart from chat and embedding models", async () => {
    const listed = (await (await fetch(`${service.url}/v1/models`)).json()) as {
      data: Array<{ id: string; capabilities: string[] }>;
    };
    const capabilities = (id: string) => listed.data.find((model) => model.id === id)?.capabilities;
    expect(capabilities("reranker:latest")).toEqual(["rerank"]);
    expect(capabilities("embedder:latest")).toEqual(["embedding"]);
    expect(capabilities("tiny:latest")).toEqual(["completion"]);
    const shown = await postJson(`${service.url}/api/show`, { model: "reranker" });
    expect(((await shown.json()) as { capabilities: string[] }).capabilities).toEqual(["rerank"]);
  });

  it("refuses a model that cannot rerank (400 MODEL_CANNOT_RERANK), an unknown one (404) and a bad body (400)", async () => {
    expect(await refusal({ model: "tiny", query: QUERY, documents: DOCUMENTS })).toMatchObject({
      status: 400,
      code: "MODEL_CANNOT_RERANK",
      message: expect.stringMatching(/^"tiny:latest" is not a reranking model: .*classification head/),
    });
    expect(await refusal({ model: "no-such-model", query: QUERY, documents: DOCUMENTS })).toMatchObject({
      status: 404,
      code: "MODEL_NOT_FOUND",
    });
    for (const body of [
      { model: "reranker", query: "", documents: DOCUMENTS },
      { model: "reranker", query: QUERY, documents: [] },
      { model: "reranker", query: QUERY },
      { query: QUERY, documents: DOCUMENTS },
      { model: "reranker", query: QUERY, documents: DOCUMENTS, top_n: 0 },
      { model: "reranker", query: QUERY, documents: [42] },
    ])
      expect(await refusal(body)).toMatchObject({ status: 400, code: "INVALID_REQUEST" });
  });

  it("forwards to an OpenAI-compatible upstream's /v1/rerank and answers in the same shape (vLLM)", async () => {
    const answer = await ranked({ model: "vllm/BAAI/bge-reranker-v2-m3", ...FRANCE, return_documents: true });
    expect(vllm.requests.at(-1)).toEqual({ model: "BAAI/bge-reranker-v2-m3", ...FRANCE });
    expect(answer).toEqual({
      object: "list",
      model: "vllm/BAAI/bge-reranker-v2-m3",
      results: [
        { index: 1, relevance_score: 0.99853515625, document: { text: FRANCE.documents[1] } },
        { index: 0, relevance_score: 0.0005860328674316406, document: { text: FRANCE.documents[0] } },
      ],
      // vLLM counts total_tokens only.
      usage: { prompt_tokens: 56, total_tokens: 56 },
    });
    const best = await ranked({ model: "vllm/BAAI/bge-reranker-v2-m3", ...FRANCE, top_n: 1 });
    expect(best.results).toEqual([{ index: 1, relevance_score: 0.99853515625 }]);
  });

  it("maps llama.cpp's server's raw scores (logits) to 0..1, keeping their order", async () => {
    const answer = await ranked({ model: "llamacpp/bge-reranker-v2-m3-Q8_0.gguf", ...FRANCE });
    expect(answer.results.map((result) => result.index)).toEqual([1, 0]);
    expect(answer.results[0]?.relevance_score).toBeCloseTo(1 / (1 + Math.exp(-7.916015625)), 10);
    expect(answer.results[1]?.relevance_score).toBeCloseTo(1 / (1 + Math.exp(5.62109375)), 10);
    expect(answer.usage).toEqual({ prompt_tokens: 34, total_tokens: 34 });
  });

  it("refuses an upstream's model that does not rerank, and every model of an upstream Ollama", async () => {
    expect(await refusal({ model: "vllm/meta-llama/Llama-3.2-1B-Instruct", ...FRANCE })).toMatchObject({
      status: 400,
      code: "MODEL_CANNOT_RERANK",
      message: expect.stringContaining('upstream "vllm" does not rerank with it'),
    });
    expect(await refusal({ model: "llama3.2", ...FRANCE })).toMatchObject({
      status: 400,
      code: "MODEL_CANNOT_RERANK",
      message: expect.stringMatching(
        /^"llama3.2:latest" is not a reranking model: .*Ollama, which has no rerank API/,
      ),
    });
  });
});
