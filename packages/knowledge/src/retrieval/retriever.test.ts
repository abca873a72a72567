import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChunkRecord, IndexBackend } from "../index/index-backend.js";
import { openSqliteIndex } from "../index/sqlite-index-backend.js";
import { fuseByRank, fuseRankings } from "./fusion.js";
import { createRetriever } from "./retriever.js";

function unit(values: number[]): Float32Array {
  const norm = Math.hypot(...values);
  return new Float32Array(values.map((value) => value / norm));
}

function chunk(id: string, text: string, embedding: number[], extra: Partial<ChunkRecord> = {}): ChunkRecord {
  return {
    id,
    knowledgeBaseId: "kb",
    documentId: extra.documentId ?? "guide",
    ordinal: Number(id.replace(/\D/g, "")) || 0,
    text,
    contentHash: id,
    documentTitle: "Operations guide.pdf",
    page: 4,
    headingPath: ["Maintenance"],
    charStart: 10,
    charEnd: 10 + text.length,
    metadata: {},
    embedding: unit(embedding),
    ...extra,
  };
}

describe("createRetriever", () => {
  let backend: IndexBackend;
  beforeAll(async () => {
    backend = await openSqliteIndex({ path: ":memory:" });
    await backend.upsertChunks([
      chunk("c1", "Restart the database server with systemctl restart postgresql.", [1, 0.2, 0]),
      chunk("c2", "The server room is cooled by two air conditioners.", [0, 0, 1]),
      chunk("c3", "If PostgreSQL hangs, bring the service down and up again.", [0.9, 0.3, 0]),
      chunk("c4", "Holiday schedule for the support team.", [0, 1, 0], { documentId: "calendar" }),
    ]);
  });
  afterAll(() => backend.close());

  it("answers from full text alone when there is no query vector, with citation data", async () => {
    const results = await createRetriever(backend).retrieve({
      knowledgeBaseIds: ["kb"],
      text: "restart server",
      topK: 3,
    });
    expect(results.map((result) => result.chunk.id)).toEqual(["c1", "c2"]);
    expect(results[0]?.vector).toBeUndefined();
    expect(results[0]?.lexical?.rank).toBe(1);
    expect(results[0]?.citation).toEqual({
      knowledgeBaseId: "kb",
      documentId: "guide",
      documentTitle: "Operations guide.pdf",
      chunkId: "c1",
      page: 4,
      headingPath: ["Maintenance"],
      charStart: 10,
      charEnd: 10 + "Restart the database server with systemctl restart postgresql.".length,
    });
  });

  it("with a query vector, finds a passage that shares no word with the query and ranks agreement first", async () => {
    const results = await createRetriever(backend).retrieve({
      knowledgeBaseIds: ["kb"],
      text: "restart server",
      vector: unit([1, 0.25, 0]),
      topK: 3,
    });
    expect(results[0]?.chunk.id).toBe("c1");
    expect(results[0]?.lexical?.rank).toBe(1);
    expect(results[0]?.vector?.rank).toBe(1);
    const semantic = results.find((result) => result.chunk.id === "c3");
    expect(semantic?.lexical).toBeUndefined();
    expect(semantic?.vector?.score).toBeGreaterThan(0.9);
  });

  it("passes filters to both paths", async () => {
    const results = await createRetriever(backend).retrieve({
      knowledgeBaseIds: ["kb"],
      text: "support schedule restart",
      vector: unit([1, 0, 0]),
      topK: 5,
      filters: { documentIds: ["calendar"] },
    });
    expect(results.map((result) => result.chunk.id)).toEqual(["c4"]);
  });

  it("can fuse by weighted normalised scores instead of ranks (here: vector only)", async () => {
    const retriever = createRetriever(backend, {
      fusion: { kind: "relative-score", lexicalWeight: 0, vectorWeight: 1 },
    });
    const results = await retriever.retrieve({
      knowledgeBaseIds: ["kb"],
      text: "server",
      vector: unit([0.9, 0.3, 0]),
      topK: 2,
    });
    expect(results[0]?.chunk.id).toBe("c3");
  });

  it('with mode "lexical" ignores the query vector, with mode "vector" skips full text', async () => {
    const retriever = createRetriever(backend);
    const query = { knowledgeBaseIds: ["kb"], text: "restart server", vector: unit([1, 0.25, 0]), topK: 4 };
    const lexical = await retriever.retrieve({ ...query, mode: "lexical" });
    expect(lexical.map((result) => result.chunk.id)).toEqual(["c1", "c2"]);
    expect(lexical.every((result) => result.vector === undefined)).toBe(true);
    const vector = await retriever.retrieve({ ...query, mode: "vector" });
    expect(vector.map((result) => result.chunk.id).slice(0, 2)).toEqual(["c1", "c3"]);
    expect(vector.every((result) => result.lexical === undefined)).toBe(true);
    expect(vector[0]?.score).toBe(vector[0]?.vector?.score);
    const hybrid = await retriever.retrieve({ ...query, mode: "hybrid" });
    expect(hybrid).toEqual(await retriever.retrieve(query));
    await expect(retriever.retrieve({ ...query, vector: undefined, mode: "vector" })).rejects.toMatchObject({
      code: "INVALID_REQUEST",
    });
  });

  it("gives each result a relevance from 0 to 1 that falls as the rank does, on every path, the same for any query", async () => {
    const retriever = createRetriever(backend);
    const query = { knowledgeBaseIds: ["kb"], text: "restart server", vector: unit([1, 0.25, 0]), topK: 4 };
    for (const mode of ["hybrid", "lexical", "vector"] as const) {
      const relevances = (await retriever.retrieve({ ...query, mode })).map((result) => result.relevance);
      expect(
        relevances.every((relevance) => relevance >= 0 && relevance <= 1),
        mode,
      ).toBe(true);
      expect(relevances, mode).toEqual([...relevances].sort((a, b) => b - a));
    }
    // Fused: first in both rankings is 1, found by one ranking only at most a half.
    const hybrid = await retriever.retrieve(query);
    expect(hybrid[0]?.relevance).toBeCloseTo(1);
    expect(hybrid.find((result) => result.chunk.id === "c3")?.relevance).toBeLessThanOrEqual(0.5);
    // Vectors alone: the cosine similarity; full text alone: the BM25-like score s as s / (1 + s).
    const vector = await retriever.retrieve({ ...query, mode: "vector" });
    expect(vector[0]?.relevance).toBeCloseTo(vector[0]!.vector!.score);
    const lexical = await retriever.retrieve({ ...query, mode: "lexical" });
    expect(lexical[0]?.relevance).toBeCloseTo(lexical[0]!.score / (1 + lexical[0]!.score));
  });

  it("rejects a bad topK with INVALID_REQUEST", async () => {
    await expect(
      createRetriever(backend).retrieve({ knowledgeBaseIds: ["kb"], text: "x", topK: -1 }),
    ).rejects.toMatchObject({ code: "INVALID_REQUEST" });
  });
});

describe("hybrid retrieval with an exact match", () => {
  let backend: IndexBackend;
  beforeAll(async () => {
    backend = await openSqliteIndex({ path: ":memory:" });
    // The vector side ranks chunks that only share the policy number's pieces; the one chunk holding
    // POL-2022-555 as written has no vector near the query (here: none at all), so only full text finds it.
    await backend.upsertChunks([
      chunk("p1", "Claim under POL-2022-555: water damage in the kitchen, assessed on site.", [0, 0, 1], {
        embedding: undefined,
      }),
      chunk("p2", "Policy renewals in 2022: 555 policies renewed, POL team notified by mail.", [1, 0.1, 0]),
      chunk("p3", "Policy POL-2022-556 covers storm damage; 555 is the agent's extension.", [1, 0.2, 0]),
      chunk("p4", "Water damage claims in 2022 were assessed within ten days.", [1, 0.3, 0]),
    ]);
  });
  afterAll(() => backend.close());

  for (const fusion of [{ kind: "reciprocal-rank" }, { kind: "relative-score" }] as const) {
    it(`ranks the chunk holding a queried identifier first, scores falling as ranks do (${fusion.kind})`, async () => {
      const retriever = createRetriever(backend, { fusion });
      const query = { knowledgeBaseIds: ["kb"], text: "POL-2022-555", vector: unit([1, 0.1, 0]), topK: 4 };
      const lexical = await retriever.retrieve({ ...query, mode: "lexical" });
      expect(lexical[0]?.chunk.id).toBe("p1");
      const hybrid = await retriever.retrieve(query);
      expect(hybrid.map((result) => result.chunk.id)).toEqual(["p1", "p2", "p3", "p4"]);
      expect(hybrid[0]?.vector).toBeUndefined();
      const scores = hybrid.map((result) => result.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      expect(scores[0]).toBeGreaterThan(scores[1]!);
      // So does a phrase in double quotes.
      const quoted = await retriever.retrieve({ ...query, text: '"assessed on site"' });
      expect(quoted[0]?.chunk.id).toBe("p1");
      // A question without an identifier or quoted phrase is fused as before: agreement first.
      const question = await retriever.retrieve({ ...query, text: "water damage in 2022" });
      expect(question[0]?.chunk.id).not.toBe("p1");
    });
  }
});

describe("hybrid retrieval with a Chinese phrase", () => {
  let backend: IndexBackend;
  beforeAll(async () => {
    backend = await openSqliteIndex({ path: ":memory:" });
    // As with a weak embedding model: the vectors rank chunks that only share the phrase's
    // characters, and the chunks holding it have no vector near the query (here: none at all).
    await backend.upsertChunks([
      chunk(
        "z1",
        "第二十四条 人民检察院提请抗诉，应当制作《提请抗诉报告书》，在决定之日起十五日内报送上一级人民检察院。",
        [0, 0, 1],
        { embedding: undefined },
      ),
      chunk("z2", "当事人应当在裁定发生法律效力之日起六个月内提出监督申请。", [0, 0, 1], {
        embedding: undefined,
      }),
      chunk("z3", "第二十条、第十四条和第二十五条规定的期限，依照第三十四条、第四十四条办理。", [1, 0.1, 0]),
      chunk(
        "z4",
        "六个工作日内作出决定，一个月内审查完毕；报告书由提请人制作，抗诉书另行制作。",
        [1, 0.2, 0],
      ),
      chunk("z5", "第二十二条 提请人制作报告，一个月内送达；第十四条、第四条另有规定的除外。", [1, 0.3, 0]),
    ]);
  });
  afterAll(() => backend.close());

  for (const fusion of [{ kind: "reciprocal-rank" }, { kind: "relative-score" }] as const) {
    it(`ranks the chunk holding the phrase first, quoted or written as one word (${fusion.kind})`, async () => {
      const retriever = createRetriever(backend, { fusion });
      const query = { knowledgeBaseIds: ["kb"], vector: unit([1, 0.1, 0]), topK: 5 };
      const first = async (text: string) => {
        const results = await retriever.retrieve({ ...query, text });
        const scores = results.map((result) => result.score);
        expect(scores).toEqual([...scores].sort((a, b) => b - a));
        return results.filter((result) => result.exact === true).map((result) => result.chunk.id);
      };
      const ids = async (text: string) =>
        (await retriever.retrieve({ ...query, text })).map((result) => result.chunk.id);
      expect((await ids('"第二十四条"'))[0]).toBe("z1");
      expect((await ids("“第二十四条”"))[0]).toBe("z1");
      expect((await ids("第二十四条"))[0]).toBe("z1");
      expect((await ids("六个月内"))[0]).toBe("z2");
      expect((await ids('"六个月内"'))[0]).toBe("z2");
      expect((await ids("提请抗诉报告书"))[0]).toBe("z1");
      expect((await ids("第二十四條"))[0]).toBe("z1");
      // Only the chunks holding the phrase as written are exact, not those sharing its characters.
      expect(await first("第二十四条")).toEqual(["z1"]);
      expect(await first('"六个月内"')).toEqual(["z2"]);
      // A word of two characters is one term, as an English word is: fused as before.
      expect(await first("抗诉")).toEqual([]);
    });
  }
});

describe("fuseRankings", () => {
  const hit = (id: string, score: number) => ({ chunk: { id } as ChunkRecord, score });
  it("gives reciprocal-rank scores 1/(60 + rank), summed over both lists", () => {
    const fused = fuseRankings([hit("a", 9), hit("b", 5)], [hit("b", 0.9), hit("c", 0.8)], {
      kind: "reciprocal-rank",
    });
    expect(fused.map((entry) => entry.hit.chunk.id)).toEqual(["b", "a", "c"]);
    expect(fused[0]?.score).toBeCloseTo(1 / 62 + 1 / 61, 10);
  });
});

describe("fuseByRank", () => {
  const hit = (id: string, exact?: boolean) => ({ chunk: { id } as ChunkRecord, score: 1, exact });
  it("puts an exact hit of one base's ranking above the other base's best (bases with different models)", () => {
    const fused = fuseByRank([
      [hit("a1"), hit("a2")],
      [hit("b1", true), hit("b2")],
    ]);
    expect(fused.map((entry) => entry.chunk.id)).toEqual(["b1", "a1", "a2", "b2"]);
    expect(fused[0]!.score).toBeGreaterThan(fused[1]!.score);
  });
});
