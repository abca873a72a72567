import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type QueryResult, rerankResponseSchema } from "@hearth/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Harness,
  startHarness,
} from "../../packages/knowledge/src/testing/knowledge-harness.fixture.js";
import { postJson, startModelService } from "../../packages/model/test/start-model-service.js";
import { createApiKey, signUp } from "../../packages/web/test/support/web-client.js";
import { startWeb } from "../../packages/web/test/support/web-harness.js";
import { writeTinyGguf } from "../support/tiny-gguf.js";

/** Short documents in the tiny models' own words, each holding a word of the question. */
const DOCUMENTS = {
  "cat.txt": "the cat is big",
  "dog.txt": "once upon a time there was a little dog and a cat",
  "sun.txt": "the red sun was happy and the cat was happy",
  "girl.txt": "a little girl and a boy",
  "day.txt": "it is a big day for the boy and the little cat",
};
const QUESTION = "little cat";

/**
 * A knowledge base's rerank model over the real model and knowledge services: the model service
 * serves a tiny reranker and a tiny chat model (node-llama-cpp, one thread), the knowledge service
 * checks the base's rerank model with it when it is set and has each query's passages reranked by
 * it, and answers without it when the model service is gone.
 */
describe("a knowledge base reranked by the real model service", () => {
  let dir: string;
  let model: Awaited<ReturnType<typeof startModelService>> | undefined;
  let knowledge: Harness;
  let reranked: string;
  let plain: string;
  const titles = (results: QueryResult[]) => results.map((result) => result.documentTitle);

  /** The reranker's scores of these passages for the question, asked of the model service itself. */
  const scoresOf = async (passages: string[]): Promise<number[]> => {
    const response = await postJson(`${model!.url}/v1/rerank`, {
      model: "reranker",
      query: QUESTION,
      documents: passages,
    });
    expect(response.status).toBe(200);
    const scores: number[] = [];
    for (const result of rerankResponseSchema.parse(await response.json()).results)
      scores[result.index] = result.relevance_score;
    return scores;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-e2e-rerank-"));
    await writeTinyGguf(join(dir, "tiny.gguf"));
    await writeTinyGguf(join(dir, "reranker.gguf"), { reranker: true });
    model = await startModelService(dir);
    knowledge = await startHarness({}, { modelUrl: model.url });
    const { client } = knowledge;
    const indexed = async (id: string) =>
      expect((await knowledge.uploadTexts(id, DOCUMENTS)).counts.indexed).toBe(Object.keys(DOCUMENTS).length);
    // The rerank model is checked with the model service on creation: the tiny reranker passes.
    const created = await client.createKnowledgeBase({ name: "Stories", rerankModel: "reranker" });
    expect(created.rerankModel).toBe("reranker");
    reranked = created.id;
    await indexed(reranked);
    // The same documents with no rerank model: the order retrieval gives them.
    plain = (await client.createKnowledgeBase({ name: "Stories unreranked" })).id;
    await indexed(plain);
  }, 120_000);

  afterAll(async () => {
    await knowledge?.close();
    await model?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("orders a query's passages by the reranker's scores, which are their relevance; rerank: false keeps retrieval's order", async () => {
    const { client } = knowledge;
    const answer = await client.queryManyAnswer({ knowledgeBaseIds: [reranked], query: QUESTION });
    expect(answer.reranked).toEqual([{ model: "reranker", knowledgeBaseIds: [reranked] }]);
    expect(answer).not.toHaveProperty("warnings");
    expect(answer.results).toHaveLength(Object.keys(DOCUMENTS).length);
    const relevances = answer.results.map((result) => result.relevance);
    expect(relevances).toEqual([...relevances].sort((a, b) => b - a));
    // Each passage's relevance is the score the model service gives it for the question.
    const scores = await scoresOf(answer.results.map((result) => result.text));
    answer.results.forEach((result, index) => {
      expect(result.relevance, result.documentTitle).toBeCloseTo(scores[index]!, 5);
    });

    const retrieval = await client.queryManyAnswer({ knowledgeBaseIds: [plain], query: QUESTION });
    const unreranked = await client.queryManyAnswer({
      knowledgeBaseIds: [reranked],
      query: QUESTION,
      rerank: false,
    });
    expect(unreranked).not.toHaveProperty("reranked");
    expect(titles(unreranked.results)).toEqual(titles(retrieval.results));
    expect(unreranked.results.map((result) => result.relevance)).toEqual(
      retrieval.results.map((result) => result.relevance),
    );
    // The reranker ordered them otherwise than retrieval did.
    expect(titles(answer.results)).not.toEqual(titles(retrieval.results));
  });

  it("refuses a rerank model the model service does not have or cannot rerank with, changing nothing", async () => {
    const { client } = knowledge;
    await expect(client.updateKnowledgeBase(reranked, { rerankModel: "tiny" })).rejects.toMatchObject({
      status: 400,
      code: "MODEL_CANNOT_RERANK",
      message: expect.stringContaining('"tiny" cannot rerank'),
    });
    await expect(
      client.updateKnowledgeBase(reranked, { rerankModel: "bge-reranker-v2-m3" }),
    ).rejects.toMatchObject({ status: 400, code: "RERANK_MODEL_NOT_FOUND" });
    await expect(
      client.createKnowledgeBase({ name: "Chat reranked", rerankModel: "tiny" }),
    ).rejects.toMatchObject({ status: 400, code: "MODEL_CANNOT_RERANK" });
    expect((await client.getKnowledgeBase(reranked)).rerankModel).toBe("reranker");
    expect((await client.listKnowledgeBases()).map((base) => base.name).sort()).toEqual([
      "Stories",
      "Stories unreranked",
    ]);
  });

  it("reranks for the web service's API-key clients as the model service does, held to the model's groups", async () => {
    const web = await startWeb({ modelUrl: model!.url });
    try {
      const admin = await signUp(web.app, "admin");
      const member = await signUp(web.app, "member");
      const rerank = async (key: string) =>
        web.app.inject({
          method: "POST",
          url: "/v1/rerank",
          headers: { authorization: `Bearer ${key}` },
          payload: { model: "reranker", query: QUESTION, documents: Object.values(DOCUMENTS), top_n: 3 },
        });
      const memberKey = await createApiKey(web.app, member);
      const answer = await rerank(memberKey);
      expect(answer.statusCode, answer.body).toBe(200);
      const results = rerankResponseSchema.parse(answer.json()).results;
      const scores = await scoresOf(Object.values(DOCUMENTS));
      expect(results.map((result) => result.index)).toEqual(
        scores
          .map((score, index) => ({ score, index }))
          .sort((a, b) => b.score - a.score)
          .slice(0, 3)
          .map(({ index }) => index),
      );
      for (const result of results) expect(result.relevance_score).toBeCloseTo(scores[result.index]!, 5);
      // Kept for a group the member is not in: refused, as a chat model would be.
      const group = (
        await web.app.inject({
          method: "POST",
          url: "/api/admin/groups",
          headers: admin.headers,
          payload: { name: "search team" },
        })
      ).json() as { id: string };
      await web.app.inject({
        method: "PUT",
        url: "/api/admin/models/reranker/access",
        headers: admin.headers,
        payload: { groupIds: [group.id] },
      });
      const refused = await rerank(memberKey);
      expect([refused.statusCode, refused.json().error.code]).toEqual([403, "MODEL_NOT_ALLOWED"]);
    } finally {
      await web.close();
    }
  });

  it("answers in retrieval order with a RERANK_FAILED warning once the model service is gone", async () => {
    const { client } = knowledge;
    const retrieval = await client.queryManyAnswer({ knowledgeBaseIds: [plain], query: QUESTION });
    await model!.close();
    model = undefined;
    const answer = await client.queryManyAnswer({ knowledgeBaseIds: [reranked], query: QUESTION });
    expect(titles(answer.results)).toEqual(titles(retrieval.results));
    expect(answer).not.toHaveProperty("reranked");
    expect(answer.warnings).toEqual([
      {
        knowledgeBaseId: reranked,
        code: "RERANK_FAILED",
        message: expect.stringContaining("did not answer"),
        details: { model: "reranker" },
      },
    ]);
  });
});
