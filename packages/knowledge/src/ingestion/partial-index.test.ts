import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite/vector";
import type { IngestionJob } from "@hearth/contracts";
import { afterAll, describe, expect, it } from "vitest";
import type { IndexBackend } from "../index/index-backend.js";
import { openPostgresIndex } from "../index/postgres-index-backend.js";
import { openSqliteIndex } from "../index/sqlite-index-backend.js";
import { createRetriever } from "../retrieval/retriever.js";
import { type Harness, startHarness, watchCancels } from "../testing/knowledge-harness.fixture.js";

/** Many chunks at 40 tokens each: written to the index in several batches. */
const bigText = (topic: string) =>
  Buffer.from(
    Array.from(
      { length: 800 },
      (_, i) => `Sentence ${i} of the ${topic} notes says something about item ${i} in plain words.`,
    ).join("\n\n"),
  );

const folder = mkdtempSync(join(tmpdir(), "hearth-partial-index-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const backends: Array<[string, () => Promise<IndexBackend>]> = [
  ["SQLite", () => openSqliteIndex({ path: join(folder, `${Math.random()}.sqlite`) })],
  [
    "PostgreSQL (PGlite)",
    async () => {
      const database = await PGlite.create({ extensions: { vector } });
      return openPostgresIndex({
        client: {
          query: (text, parameters) => database.query(text, parameters) as never,
          transaction: (work) =>
            database.transaction((transaction) =>
              work({ query: (text, parameters) => transaction.query(text, parameters) as never }),
            ),
          close: () => database.close(),
        },
      });
    },
  ],
];

/**
 * Asks for a cancel of the job from inside a chunk write and returns once the service has taken it,
 * with its answer to come: the answer waits for the document to stop, so for this write to end.
 */
async function cancelLanded(harness: Harness, jobId: string): Promise<{ answer: Promise<IngestionJob> }> {
  const cancels = watchCancels();
  try {
    const answer = harness.client.cancelJob(jobId);
    await cancels.taken;
    return { answer };
  } finally {
    cancels.restore();
  }
}

describe.each(backends)("a stopped document leaves no partial version in the %s index", (_name, open) => {
  /**
   * A harness on this backend whose chunk writes call `onWrite` before each batch (the second
   * batch of a document is where a cancel or a failure lands mid-way).
   */
  async function start(onWrite: (batch: number) => Promise<void>): Promise<Harness> {
    const backend = await open();
    const upsert = backend.upsertChunks.bind(backend);
    let batch = 0;
    backend.upsertChunks = async (chunks) => {
      await onWrite(++batch);
      return upsert(chunks);
    };
    return startHarness({ ingestConcurrency: 1 }, {}, undefined, {
      backend,
      retriever: createRetriever(backend),
    });
  }

  it("removes every chunk of a new document cancelled while its chunks were being written", async () => {
    let jobId = "";
    let cancelled: Promise<IngestionJob> | undefined;
    const harness = await start(async (batch) => {
      if (batch !== 3) return;
      while (!jobId) await sleep(5);
      cancelled = (await cancelLanded(harness, jobId)).answer;
    });
    try {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({
        name: "Cancelled",
        chunking: { maxTokens: 40, overlapTokens: 0 },
      });
      const upload = await client.uploadDocuments(kb.id, [{ name: "big.txt", data: bigText("kettle") }]);
      jobId = upload.job.id;
      await harness.finalJob(jobId);
      await harness.service.idle();
      expect((await cancelled)?.status).toBe("cancelled");
      const [document] = await client.listDocuments(kb.id);
      expect(document).toMatchObject({ status: "failed", error: { code: "JOB_CANCELLED" } });
      expect((await harness.index.listChunkHashes(kb.id, document!.id)).size).toBe(0);
    } finally {
      await harness.close();
    }
  });

  it("removes every chunk of a new document whose chunks failed to be written", async () => {
    const harness = await start(async (batch) => {
      if (batch === 3) throw new Error("disk full");
    });
    try {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({
        name: "Failed",
        chunking: { maxTokens: 40, overlapTokens: 0 },
      });
      const upload = await client.uploadDocuments(kb.id, [{ name: "big.txt", data: bigText("kettle") }]);
      expect((await harness.finalJob(upload.job.id)).documents[0]).toMatchObject({
        status: "failed",
        error: { code: "INTERNAL_ERROR" },
      });
      await harness.service.idle();
      const [document] = await client.listDocuments(kb.id);
      expect((await harness.index.listChunkHashes(kb.id, document!.id)).size).toBe(0);
    } finally {
      await harness.close();
    }
  });

  it("keeps a re-upload's indexed version, and only it, when the new one is cancelled mid-way", async () => {
    let jobId = "";
    let reuploading = false;
    let batches = 0;
    let cancelled: Promise<IngestionJob> | undefined;
    const harness = await start(async () => {
      if (!reuploading || ++batches !== 2) return;
      while (!jobId) await sleep(5);
      cancelled = (await cancelLanded(harness, jobId)).answer;
    });
    try {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({
        name: "Re-upload",
        chunking: { maxTokens: 40, overlapTokens: 0 },
      });
      const first = await client.uploadDocuments(kb.id, [
        { name: "notes.txt", data: Buffer.from("Teapots steep leaves slowly.") },
      ]);
      expect((await harness.finalJob(first.job.id)).status).toBe("completed");
      const [before] = await client.listDocuments(kb.id);
      const chunksBefore = await harness.index.listChunkHashes(kb.id, before!.id);
      expect(chunksBefore.size).toBe(1);

      reuploading = true;
      const second = await client.uploadDocuments(kb.id, [{ name: "notes.txt", data: bigText("kettle") }]);
      jobId = second.job.id;
      await harness.finalJob(jobId);
      await harness.service.idle();
      expect((await cancelled)?.status).toBe("cancelled");
      expect((await client.listDocuments(kb.id))[0]).toEqual(before);
      expect(await harness.index.listChunkHashes(kb.id, before!.id)).toEqual(chunksBefore);
      expect((await client.query(kb.id, { query: "kettle item" })).length).toBe(0);
      expect((await client.query(kb.id, { query: "teapots" }))[0]?.documentId).toBe(before!.id);
    } finally {
      await harness.close();
    }
  });
});
