import type { QueryResult } from "@hearth/contracts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type Harness,
  startEmbedServer,
  startHarness,
  startRerankServer,
} from "../testing/knowledge-harness.fixture.js";

/**
 * A knowledge base's rerank model, checked with the model service when it is set: the passages a
 * query retrieves are reordered by it (the model service's /v1/rerank), its scores their
 * relevance, before the minimum relevance and the cut at topK; a query may turn it off; where it
 * fails, the query answers in retrieval order and warns.
 * The stand-in reranker ranks what it is sent in reverse, so an order it gave is plain to see.
 */
describe("a knowledge base's rerank model", () => {
  let harness: Harness;
  let embed: Awaited<ReturnType<typeof startEmbedServer>>;
  let rerank: Awaited<ReturnType<typeof startRerankServer>>;
  /** Full text only: "descale the kettle" finds descale, boil, teapot in that order. */
  let care: string;
  /** Full text only, searched together with Kettle care: shopping, then rota. */
  let notes: string;
  /** With an embedding model: searched apart from the others. */
  let vectors: string;
  const titles = (results: QueryResult[]) => results.map((result) => result.documentTitle);
  const QUESTION = "descale the kettle";
  const TEXTS = {
    "descale.txt": "Descale the kettle every month: kettle scale spoils the kettle's tea.",
    "boil.txt": "The kettle boils water.",
    "teapot.txt": "A teapot steeps leaves; descale it rarely.",
  };

  beforeAll(async () => {
    embed = await startEmbedServer();
    rerank = await startRerankServer();
    harness = await startHarness({ embeddingUrl: embed.url }, { modelUrl: rerank.url });
    const { client } = harness;
    const indexed = async (id: string, files: Record<string, string>) =>
      expect((await harness.uploadTexts(id, files)).counts.indexed).toBe(Object.keys(files).length);
    const created = await client.createKnowledgeBase({ name: "Kettle care", rerankModel: "test-rerank" });
    expect(created.rerankModel).toBe("test-rerank");
    care = created.id;
    await indexed(care, TEXTS);
    notes = (await client.createKnowledgeBase({ name: "Kitchen notes" })).id;
    await indexed(notes, {
      "shopping.txt": "Buy vinegar to descale things, and bread, milk, eggs, butter and cheese.",
      "rota.txt": "Bob cleans the kettle shelf, the oven, the fridge, the floor and the windows.",
    });
    vectors = (await client.createKnowledgeBase({ name: "Kettle vectors", embeddingModel: "test-embed" })).id;
    await indexed(vectors, {
      "v1.txt": "Kettle descale notes.",
      "v2.txt": "Kettle cleaning.",
      "v3.txt": "Descaling.",
    });
  });
  afterEach(async () => {
    rerank.state.cannotRerank.clear();
    rerank.state.missingModels.clear();
    rerank.state.hangUp = false;
    for (const [id, rerankModel] of [
      [care, "test-rerank"],
      [notes, null],
      [vectors, null],
    ] as const)
      await harness.client.updateKnowledgeBase(id, { rerankModel, minRelevance: 0 });
  });
  afterAll(async () => {
    await harness?.close();
    await embed?.close();
    await rerank?.close();
  });

  it("reorders a base's passages by its scores, which become their relevance, before the minimum relevance and the cut at topK", async () => {
    const { client } = harness;
    const before = rerank.state.requests.length;
    const answer = await client.queryManyAnswer({ knowledgeBaseIds: [care], query: QUESTION });
    expect(titles(answer.results)).toEqual(["teapot.txt", "boil.txt", "descale.txt"]);
    expect(answer.results.map((result) => result.relevance)).toEqual([0.75, 0.5, 0.25]);
    expect(answer.reranked).toEqual([{ model: "test-rerank", knowledgeBaseIds: [care] }]);
    expect(answer).not.toHaveProperty("warnings");
    // The reranker was sent the passages in their retrieval order, and the query as asked.
    expect(rerank.state.requests.slice(before)).toEqual([
      {
        model: "test-rerank",
        query: QUESTION,
        documents: [TEXTS["descale.txt"], TEXTS["boil.txt"], TEXTS["teapot.txt"]],
      },
    ]);
    // The base's own query route reranks too.
    expect(titles(await client.query(care, { query: QUESTION }))).toEqual(titles(answer.results));

    // topK 1: more passages than topK are retrieved for it, so retrieval's third comes first.
    expect(titles(await client.query(care, { query: QUESTION, topK: 1 }))).toEqual(["teapot.txt"]);
    expect(rerank.state.requests.at(-1)?.documents).toHaveLength(3);

    // The minimum relevance holds the reranker's scores (retrieval's were 0.62, 0.54, 0.33).
    expect(titles(await client.query(care, { query: QUESTION, minRelevance: 0.5 }))).toEqual([
      "teapot.txt",
      "boil.txt",
    ]);
    await client.updateKnowledgeBase(care, { minRelevance: 0.6 });
    expect(titles(await client.query(care, { query: QUESTION }))).toEqual(["teapot.txt"]);
  });

  it("keeps the reranker's relevance when the other bases asked find nothing", async () => {
    const { client } = harness;
    // Kitchen notes holds no "teapot", the vectors base is searched apart: only Kettle care answers.
    const answer = await client.queryManyAnswer({
      knowledgeBaseIds: [care, notes],
      query: "teapot steeps leaves",
      mode: "lexical",
    });
    expect(titles(answer.results)).toEqual(["teapot.txt"]);
    // The stand-in scores the one passage it is sent 1/2; merged by rank with an empty list, 1.
    expect(answer.results[0]!.relevance).toBe(0.5);
  });

  it("reranks in every retrieval mode", async () => {
    const { client } = harness;
    for (const mode of ["hybrid", "lexical", "vector"] as const) {
      const plain = await client.query(vectors, { query: QUESTION, mode });
      expect(plain.length, mode).toBeGreaterThan(1);
      await client.updateKnowledgeBase(vectors, { rerankModel: "test-rerank" });
      expect(titles(await client.query(vectors, { query: QUESTION, mode })), mode).toEqual(
        titles(plain).reverse(),
      );
      await client.updateKnowledgeBase(vectors, { rerankModel: null });
    }
  });

  it("answers in retrieval order, asking no model, when the query says rerank: false", async () => {
    const { client } = harness;
    const before = rerank.state.requests.length;
    const answer = await client.queryManyAnswer({ knowledgeBaseIds: [care], query: QUESTION, rerank: false });
    expect(titles(answer.results)).toEqual(["descale.txt", "boil.txt", "teapot.txt"]);
    expect(answer.results[0]!.relevance).toBeCloseTo(0.62, 2);
    expect(answer).not.toHaveProperty("reranked");
    expect(titles(await client.query(care, { query: QUESTION, rerank: false, topK: 1 }))).toEqual([
      "descale.txt",
    ]);
    expect(rerank.state.requests.length).toBe(before);
  });

  it("answers in retrieval order with a RERANK_FAILED warning when the model cannot rerank or the model service does not answer", async () => {
    const { client } = harness;
    const unreranked = await client.queryManyAnswer({
      knowledgeBaseIds: [care, notes],
      query: QUESTION,
      rerank: false,
    });

    rerank.state.cannotRerank.add("test-rerank");
    const refused = await client.queryManyAnswer({ knowledgeBaseIds: [care, notes], query: QUESTION });
    expect(refused.results).toEqual(unreranked.results);
    expect(refused).not.toHaveProperty("reranked");
    expect(refused.warnings).toEqual([
      {
        knowledgeBaseId: care,
        code: "RERANK_FAILED",
        message: expect.stringMatching(
          /test-rerank.*answered 400: The model test-rerank cannot rerank.*retrieval order/,
        ),
        details: { model: "test-rerank", status: 400, code: "MODEL_CANNOT_RERANK" },
      },
    ]);
    // The base's own query route answers too, not a failure; the minimum relevance holds retrieval's.
    expect(titles(await client.query(care, { query: QUESTION, minRelevance: 0.5 }))).toEqual([
      "descale.txt",
      "boil.txt",
    ]);

    rerank.state.cannotRerank.clear();
    rerank.state.hangUp = true;
    const down = await client.queryManyAnswer({ knowledgeBaseIds: [care, notes], query: QUESTION });
    expect(down.results).toEqual(unreranked.results);
    expect(down.warnings).toEqual([
      {
        knowledgeBaseId: care,
        code: "RERANK_FAILED",
        message: expect.stringContaining("did not answer"),
        details: { model: "test-rerank" },
      },
    ]);
  });

  it("reranks the passages of bases sharing a model together, and merges by rank those reranked apart or not at all", async () => {
    const { client } = harness;
    // Searched together: descale, boil, rota, teapot, shopping (their retrieval order).
    const retrieval = titles(
      await client.queryMany({ knowledgeBaseIds: [care, notes], query: QUESTION, rerank: false }),
    );
    expect(retrieval).toEqual(["descale.txt", "boil.txt", "rota.txt", "teapot.txt", "shopping.txt"]);

    // One model for both: one call, one scale.
    await client.updateKnowledgeBase(notes, { rerankModel: "test-rerank" });
    let before = rerank.state.requests.length;
    const together = await client.queryManyAnswer({ knowledgeBaseIds: [care, notes], query: QUESTION });
    expect(titles(together.results)).toEqual([...retrieval].reverse());
    expect(together.results.map((result) => result.relevance)).toEqual([5, 4, 3, 2, 1].map((i) => i / 6));
    expect(together.reranked).toEqual([{ model: "test-rerank", knowledgeBaseIds: [care, notes] }]);
    expect(rerank.state.requests.length - before).toBe(1);

    // Kitchen notes not reranked: Kettle care's reranked passages and its own merged by rank.
    await client.updateKnowledgeBase(notes, { rerankModel: null });
    const mixed = await client.queryManyAnswer({ knowledgeBaseIds: [care, notes], query: QUESTION });
    expect(titles(mixed.results)).toEqual([
      "rota.txt",
      "teapot.txt",
      "shopping.txt",
      "boil.txt",
      "descale.txt",
    ]);
    expect(mixed.reranked).toEqual([{ model: "test-rerank", knowledgeBaseIds: [care] }]);

    // Another model for Kitchen notes: each model reranks its own base's passages, in its own call.
    await client.updateKnowledgeBase(notes, { rerankModel: "other-rerank" });
    before = rerank.state.requests.length;
    const apart = await client.queryManyAnswer({ knowledgeBaseIds: [care, notes], query: QUESTION });
    expect(titles(apart.results)).toEqual([
      "teapot.txt",
      "shopping.txt",
      "boil.txt",
      "rota.txt",
      "descale.txt",
    ]);
    expect(apart.reranked).toEqual([
      { model: "test-rerank", knowledgeBaseIds: [care] },
      { model: "other-rerank", knowledgeBaseIds: [notes] },
    ]);
    expect(
      rerank.state.requests
        .slice(before)
        .map((request) => [request.model, request.documents.length])
        .sort(),
    ).toEqual([
      ["other-rerank", 2],
      ["test-rerank", 3],
    ]);

    // Bases searched apart (one with an embedding model) but sharing a model: reranked together.
    await client.updateKnowledgeBase(vectors, { rerankModel: "test-rerank" });
    before = rerank.state.requests.length;
    const shared = await client.queryManyAnswer({ knowledgeBaseIds: [care, vectors], query: QUESTION });
    expect(rerank.state.requests.slice(before).map((request) => request.documents.length)).toEqual([6]);
    expect(shared.results.map((result) => result.relevance)).toEqual([6, 5, 4, 3, 2, 1].map((i) => i / 7));
  });

  it("is checked with the model service when it is set, on create and on change, and not saved when it is refused", async () => {
    const { client } = harness;
    rerank.state.missingModels.add("bge-reranker-v2-m3");
    rerank.state.cannotRerank.add("qwen3:8b");
    const bases = async () => (await client.listKnowledgeBases()).map((base) => base.name);
    const before = await bases();
    await expect(
      client.createKnowledgeBase({ name: "Missing reranker", rerankModel: "bge-reranker-v2-m3" }),
    ).rejects.toMatchObject({
      status: 400,
      code: "RERANK_MODEL_NOT_FOUND",
      message: expect.stringMatching(
        /"bge-reranker-v2-m3" is not on the model service: pull it.*set rerankModel to null/,
      ),
    });
    await expect(
      client.createKnowledgeBase({ name: "Chat reranker", rerankModel: "qwen3:8b" }),
    ).rejects.toMatchObject({
      status: 400,
      code: "MODEL_CANNOT_RERANK",
      message: expect.stringMatching(
        /"qwen3:8b" cannot rerank \(the model service answered 400: The model qwen3:8b cannot rerank\): choose a rerank model or set rerankModel to null/,
      ),
    });
    expect(await bases()).toEqual(before);
    // The check reranks one short passage with the model.
    expect(rerank.state.requests.at(-1)).toEqual({
      model: "qwen3:8b",
      query: "hearth",
      documents: ["hearth"],
    });

    for (const rerankModel of ["bge-reranker-v2-m3", "qwen3:8b"])
      await expect(
        client.updateKnowledgeBase(care, { rerankModel, minRelevance: 0.3 }),
      ).rejects.toMatchObject({
        status: 400,
      });
    expect(await client.getKnowledgeBase(care)).toMatchObject({
      rerankModel: "test-rerank",
      minRelevance: 0,
    });

    rerank.state.hangUp = true;
    await expect(client.updateKnowledgeBase(notes, { rerankModel: "test-rerank" })).rejects.toMatchObject({
      status: 502,
      code: "UPSTREAM_UNAVAILABLE",
      message: expect.stringMatching(
        /Cannot check the rerank model "test-rerank": .*did not answer.*try again/,
      ),
    });
    expect((await client.getKnowledgeBase(notes)).rerankModel).toBeNull();
    // The model a base already has is not asked about again (the model service is still down), nor is none.
    expect((await client.updateKnowledgeBase(care, { rerankModel: "test-rerank" })).rerankModel).toBe(
      "test-rerank",
    );
    expect((await client.updateKnowledgeBase(care, { rerankModel: null })).rerankModel).toBeNull();
  });

  it("is set on change without re-indexing, and refused when it is not a model name", async () => {
    const { client } = harness;
    const documents = await client.listDocuments(vectors);
    const before = { upserts: harness.backend.upserts, embedded: embed.state.texts };
    const saved = await client.updateKnowledgeBase(vectors, { rerankModel: "bge-reranker-v2-m3" });
    // A query-time setting: no re-index job, nothing stale, no chunk written or text embedded.
    expect(saved).toMatchObject({ rerankModel: "bge-reranker-v2-m3", staleDocumentCount: 0 });
    expect(saved).not.toHaveProperty("reindexJobId");
    expect(await client.listDocuments(vectors)).toEqual(documents);
    expect({ upserts: harness.backend.upserts, embedded: embed.state.texts }).toEqual(before);
    expect((await client.getKnowledgeBase(vectors)).rerankModel).toBe("bge-reranker-v2-m3");
    expect((await client.updateKnowledgeBase(vectors, { rerankModel: null })).rerankModel).toBeNull();
    expect((await client.getKnowledgeBase(notes)).rerankModel).toBeNull();

    for (const rerankModel of ["", 7] as unknown as string[]) {
      await expect(client.updateKnowledgeBase(vectors, { rerankModel })).rejects.toMatchObject({
        status: 400,
        code: "INVALID_REQUEST",
      });
      await expect(client.createKnowledgeBase({ name: "Bad", rerankModel })).rejects.toMatchObject({
        status: 400,
        code: "INVALID_REQUEST",
      });
    }
    await expect(
      client.query(care, { query: QUESTION, rerank: "no" as unknown as boolean }),
    ).rejects.toMatchObject({ status: 400, code: "INVALID_REQUEST" });
  });
});
