import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chunk } from "../index/index-backend-contract.fixture.js";
import { type Harness, startHarness } from "../testing/knowledge-harness.fixture.js";

/**
 * A query shows only the documents whose chunks are all in the index: one still being written (its
 * chunks land in slices before it is marked indexed) is not shown half-done, however well its
 * passages match; it is once it is indexed.
 */
describe("a query over documents being indexed", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness?.close());

  it("leaves out the passages of a document not yet marked indexed", async () => {
    const { client } = harness;
    const kb = await client.createKnowledgeBase({ name: "Kitchen" });
    const upload = await client.uploadDocuments(kb.id, [
      { name: "rota.md", data: Buffer.from("Bob cleans the kitchen on Friday.") },
    ]);
    expect((await harness.finalJob(upload.job.id)).counts.indexed).toBe(1);
    // A document's first slice of chunks, written before the document is marked indexed.
    await harness.index.upsertChunks([
      chunk({
        knowledgeBaseId: kb.id,
        documentId: "doc-being-indexed",
        documentTitle: "half.md",
        text: "Who cleans the kitchen on Friday? Bob cleans the kitchen on Friday, every Friday.",
      }),
    ]);
    const titles = async () =>
      (await client.query(kb.id, { query: "who cleans the kitchen on Friday", mode: "lexical" })).map(
        (result) => result.documentTitle,
      );
    expect(await titles()).toEqual(["rota.md"]);
  });
});
