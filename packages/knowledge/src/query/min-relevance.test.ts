import type { QueryResult } from "@hearth/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startEmbedServer, startHarness } from "../testing/knowledge-harness.fixture.js";

/**
 * A knowledge base's minimum relevance: results whose relevance (0 to 1) is below it are left out of
 * its queries' answers, before topK cuts them, unless a query sets its own; changing it indexes
 * nothing again.
 */
describe("a knowledge base's minimum relevance", () => {
  let harness: Harness;
  let embed: Awaited<ReturnType<typeof startEmbedServer>>;
  /** Full text only (no embedding model): relevance s / (1 + s) of each passage's BM25 score s. */
  let care: string;
  let notes: string;
  /** With an embedding model: searched apart from the others, so merged with them by rank. */
  let vectors: string;
  const titles = (results: QueryResult[]) => results.map((result) => result.documentTitle);

  beforeAll(async () => {
    embed = await startEmbedServer();
    harness = await startHarness({ embeddingUrl: embed.url });
    const { client } = harness;
    const indexed = async (id: string, files: Record<string, string>) =>
      expect((await harness.uploadTexts(id, files)).counts.indexed).toBe(Object.keys(files).length);
    care = (await client.createKnowledgeBase({ name: "Kettle care" })).id;
    await indexed(care, {
      "descale.txt": "Descale the kettle every month: kettle scale spoils the kettle's tea.",
      "boil.txt": "The kettle boils water.",
      "teapot.txt": "A teapot steeps leaves; descale it rarely.",
    });
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
  afterAll(async () => {
    await harness?.close();
    await embed?.close();
  });

  /** Sets each base's minimum relevance, as its settings' PATCH does. */
  const holdTo = async (minimums: Record<string, number>) => {
    for (const [id, minRelevance] of Object.entries(minimums))
      await harness.client.updateKnowledgeBase(id, { minRelevance });
  };
  const QUESTION = "descale the kettle";

  it("holds none back unless set; set, it leaves out a base's less relevant passages on its query and /v1/query, indexing nothing again", async () => {
    const { client } = harness;
    // Relevances 0.62, 0.54 and 0.33 (the passages' BM25 scores s as s / (1 + s)).
    expect((await client.getKnowledgeBase(care)).minRelevance).toBe(0);
    expect(titles(await client.query(care, { query: QUESTION }))).toEqual([
      "descale.txt",
      "boil.txt",
      "teapot.txt",
    ]);
    const documents = await client.listDocuments(vectors);
    const before = { upserts: harness.backend.upserts, embedded: embed.state.texts };
    for (const id of [care, vectors]) {
      const saved = await client.updateKnowledgeBase(id, { minRelevance: 0.5 });
      // A query-time setting: no re-index job, nothing stale, no chunk written or text embedded.
      expect(saved).toMatchObject({ minRelevance: 0.5, staleDocumentCount: 0 });
      expect(saved).not.toHaveProperty("reindexJobId");
    }
    expect(await client.listDocuments(vectors)).toEqual(documents);
    expect({ upserts: harness.backend.upserts, embedded: embed.state.texts }).toEqual(before);
    expect((await client.getKnowledgeBase(care)).minRelevance).toBe(0.5);

    const held = await client.query(care, { query: QUESTION });
    expect(titles(held)).toEqual(["descale.txt", "boil.txt"]);
    expect(held.every((result) => result.relevance >= 0.5)).toBe(true);
    expect(titles(await client.queryMany({ knowledgeBaseIds: [care], query: QUESTION }))).toEqual(
      titles(held),
    );
    // Hybrid on a base with an embedding model (relevance 1, 0.98, 0.48), vectors alone too.
    expect(titles(await client.query(vectors, { query: QUESTION }))).toEqual(["v1.txt", "v2.txt"]);
    expect(titles(await client.query(vectors, { query: QUESTION, mode: "vector" }))).toEqual(
      (await client.query(vectors, { query: QUESTION, mode: "vector", minRelevance: 0 }))
        .filter((result) => result.relevance >= 0.5)
        .map((result) => result.documentTitle),
    );

    // Given on creation.
    const strict = await client.createKnowledgeBase({ name: "Strict", minRelevance: 0.75 });
    expect(strict.minRelevance).toBe(0.75);
    expect((await client.getKnowledgeBase(strict.id)).minRelevance).toBe(0.75);
  });

  it("gives way to a query's own minimum relevance, lower or higher", async () => {
    const { client } = harness;
    await holdTo({ [care]: 0.5 });
    expect(titles(await client.query(care, { query: QUESTION, minRelevance: 0 }))).toEqual([
      "descale.txt",
      "boil.txt",
      "teapot.txt",
    ]);
    expect(titles(await client.query(care, { query: QUESTION, minRelevance: 0.6 }))).toEqual(["descale.txt"]);
    expect(
      titles(await client.queryMany({ knowledgeBaseIds: [care], query: QUESTION, minRelevance: 0.3 })),
    ).toEqual(["descale.txt", "boil.txt", "teapot.txt"]);
    // topK still caps the answer, best first.
    expect(titles(await client.query(care, { query: QUESTION, topK: 1, minRelevance: 0 }))).toEqual([
      "descale.txt",
    ]);
  });

  it("holds each result of a query over several bases to its own base's, filling topK from the others", async () => {
    const { client } = harness;
    // Searched together (neither has an embedding model): descale 0.67, boil 0.59, rota 0.58,
    // teapot 0.38, shopping 0.33. Kettle care's all fall below its 0.7.
    await holdTo({ [care]: 0.7, [notes]: 0 });
    const together = { knowledgeBaseIds: [care, notes], query: QUESTION, topK: 2 };
    expect(titles(await client.queryMany(together))).toEqual(["rota.txt", "shopping.txt"]);
    await holdTo({ [care]: 0.6, [notes]: 0.4 });
    expect(titles(await client.queryMany({ ...together, topK: 10 }))).toEqual(["descale.txt", "rota.txt"]);
    // The query's own minimum holds for every base.
    expect(titles(await client.queryMany({ ...together, minRelevance: 0 }))).toEqual([
      "descale.txt",
      "boil.txt",
    ]);

    // Searched apart and merged by rank (relevance 1, 61/62, 61/63 down each base's answer), the
    // merged relevance is held: Kettle care keeps its first at 0.99, Kettle vectors all at 0.
    await holdTo({ [care]: 0.99, [vectors]: 0 });
    const merged = await client.queryMany({ knowledgeBaseIds: [care, vectors], query: QUESTION, topK: 3 });
    expect(titles(merged)).toEqual(["descale.txt", "v1.txt", "v2.txt"]);
    expect(merged.map((result) => result.relevance)).toEqual([1, 1, 61 / 62]);
  });

  it("refuses a minimum relevance outside 0 to 1 on creation, change and query, changing nothing", async () => {
    const { client } = harness;
    await holdTo({ [care]: 0.5 });
    for (const minRelevance of [1.5, -0.1, "0.5", null] as unknown as number[]) {
      const where = String(minRelevance);
      await expect(
        client.createKnowledgeBase({ name: `Bad ${where}`, minRelevance }),
        where,
      ).rejects.toMatchObject({
        status: 400,
        code: "INVALID_REQUEST",
      });
      await expect(client.updateKnowledgeBase(care, { minRelevance }), where).rejects.toMatchObject({
        status: 400,
        code: "INVALID_REQUEST",
      });
      await expect(client.query(care, { query: QUESTION, minRelevance }), where).rejects.toMatchObject({
        status: 400,
        code: "INVALID_REQUEST",
      });
      await expect(
        client.queryMany({ knowledgeBaseIds: [care], query: QUESTION, minRelevance }),
        where,
      ).rejects.toMatchObject({ status: 400, code: "INVALID_REQUEST" });
    }
    expect((await client.listKnowledgeBases()).map((base) => base.name)).not.toContain("Bad 1.5");
    expect((await client.getKnowledgeBase(care)).minRelevance).toBe(0.5);
  });
});
