import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KnowledgeBase } from "@hearth/contracts";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { searchableText } from "../index/searchable-text.js";
import { openSqliteIndex } from "../index/sqlite-index-backend.js";
import { createRetriever } from "../retrieval/retriever.js";
import { startEmbedServer, startHarness } from "../testing/knowledge-harness.fixture.js";
import { analyzeText } from "../text/text-analyzer.js";
import { BlobStore } from "./blob-store.js";

const longDocument = (topic: string) =>
  Buffer.from(
    `# ${topic}\n\n${Array.from(
      { length: 24 },
      (_, p) =>
        `Paragraph ${p} about ${topic} explains rule number ${p} in plenty of words so that the chunker has text to split.`,
    ).join("\n\n")}\n`,
  );

/** Marks every document as indexed by an earlier processing (`tag`, as settingsVersion has it). */
function indexedBy(dataDir: string, kb: KnowledgeBase, tag: string): void {
  const previous = createHash("sha256")
    .update(`|${kb.chunking.maxTokens}|${kb.chunking.overlapTokens}|${tag}`)
    .digest("hex")
    .slice(0, 12);
  const db = new Database(join(dataDir, "knowledge", "knowledge.db"));
  db.prepare(
    "UPDATE documents SET indexed_hash = substr(indexed_hash, 1, instr(indexed_hash, ':')) || ?",
  ).run(previous);
  db.close();
}

/** A harness on a SQLite index at `<dataDir>/index.sqlite`, kept across restarts. */
async function startOnSqlite(dataDir: string) {
  const backend = await openSqliteIndex({ path: join(dataDir, "index.sqlite") });
  return startHarness({ ingestConcurrency: 1 }, {}, dataDir, {
    backend,
    retriever: createRetriever(backend),
  });
}

describe("re-indexing a knowledge base", () => {
  let embed: Awaited<ReturnType<typeof startEmbedServer>>;
  beforeAll(async () => {
    embed = await startEmbedServer();
  });
  afterAll(async () => embed.close());

  it("re-indexes every document when PATCH changes the chunking, so the base follows its settings", async () => {
    const harness = await startHarness({ embeddingUrl: embed.url, ingestConcurrency: 1 });
    try {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({
        name: "Rechunk",
        embeddingModel: "test-embed",
        chunking: { maxTokens: 1000, overlapTokens: 0 },
      });
      const upload = await client.uploadDocuments(kb.id, [
        { name: "a.md", data: longDocument("holidays") },
        { name: "b.md", data: longDocument("expenses") },
      ]);
      expect((await harness.finalJob(upload.job.id)).status).toBe("completed");
      const before = await client.listDocuments(kb.id);
      expect((await client.getKnowledgeBase(kb.id)).staleDocumentCount).toBe(0);

      const updated = await client.updateKnowledgeBase(kb.id, { chunking: { maxTokens: 64 } });
      expect(updated.reindexJobId).toEqual(expect.any(String));
      const job = await harness.finalJob(updated.reindexJobId!);
      expect(job).toMatchObject({ kind: "reindex", status: "completed", counts: { total: 2, indexed: 2 } });

      const after = await client.listDocuments(kb.id);
      for (const [i, document] of after.entries()) {
        expect(document.status).toBe("indexed");
        expect(document.chunkCount).toBeGreaterThan(before[i]!.chunkCount);
      }
      const chunks = [...harness.backend.chunks.values()].filter((chunk) => chunk.knowledgeBaseId === kb.id);
      expect(chunks.length).toBe(after.reduce((sum, document) => sum + document.chunkCount, 0));
      expect((await client.getKnowledgeBase(kb.id)).staleDocumentCount).toBe(0);

      // A rename changes nothing indexed: no job.
      expect((await client.updateKnowledgeBase(kb.id, { name: "Renamed" })).reindexJobId).toBeUndefined();
    } finally {
      await harness.close();
    }
  });

  it("shows a document indexed by an older processing as stale and re-indexes it on request, searchable meanwhile", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-knowledge-reindex-"));
    const settings = { embeddingUrl: embed.url, ingestConcurrency: 1 };
    let harness = await startHarness(settings, {}, dataDir);
    const read = BlobStore.prototype.read;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    try {
      const kb = await harness.client.createKnowledgeBase({ name: "Upgrade", embeddingModel: "test-embed" });
      const upload = await harness.client.uploadDocuments(kb.id, [
        { name: "old.md", data: longDocument("backups") },
        { name: "new.md", data: longDocument("printers") },
      ]);
      expect((await harness.finalJob(upload.job.id)).status).toBe("completed");
      const [old] = await harness.client.listDocuments(kb.id);
      await harness.close();

      // What an upgrade leaves: the document's index built under an earlier processing tag.
      const db = new Database(join(dataDir, "knowledge", "knowledge.db"));
      const row = db.prepare("SELECT indexed_hash FROM documents WHERE id = ?").get(old!.id) as {
        indexed_hash: string;
      };
      db.prepare("UPDATE documents SET indexed_hash = ? WHERE id = ?").run(
        `${row.indexed_hash.split(":")[0]}:0123456789ab`,
        old!.id,
      );
      db.close();

      harness = await startHarness(settings, {}, dataDir);
      const { client } = harness;
      expect((await client.getKnowledgeBase(kb.id)).staleDocumentCount).toBe(1);
      expect((await client.listKnowledgeBases()).find((b) => b.id === kb.id)?.staleDocumentCount).toBe(1);

      vi.spyOn(BlobStore.prototype, "read").mockImplementation(async function (this: BlobStore, ...args) {
        await gate;
        return read.apply(this, args);
      });
      const job = await client.reindexKnowledgeBase(kb.id);
      expect(job).toMatchObject({ kind: "reindex", counts: { total: 1 } });
      expect(job.documents.map((d) => d.documentId)).toEqual([old!.id]);
      // A second request while it runs answers the running job.
      expect((await client.reindexKnowledgeBase(kb.id)).id).toBe(job.id);
      // The document being re-indexed still answers queries.
      const during = await client.query(kb.id, { query: "backups rule", topK: 5 });
      expect(during.some((result) => result.documentId === old!.id)).toBe(true);

      release();
      expect(await harness.finalJob(job.id)).toMatchObject({
        status: "completed",
        counts: { indexed: 1, failed: 0 },
      });
      expect((await client.getKnowledgeBase(kb.id)).staleDocumentCount).toBe(0);
      const after = await client.query(kb.id, { query: "backups rule", topK: 5 });
      expect(after.some((result) => result.documentId === old!.id)).toBe(true);
      expect((await client.getDocument(kb.id, old!.id)).status).toBe("indexed");

      // Nothing stale: an empty job, completed at once; ?all=true redoes every document.
      expect(await client.reindexKnowledgeBase(kb.id)).toMatchObject({
        status: "completed",
        counts: { total: 0 },
      });
      const all = await client.reindexKnowledgeBase(kb.id, { all: true });
      expect(await harness.finalJob(all.id)).toMatchObject({ status: "completed", counts: { indexed: 2 } });
    } finally {
      release();
      vi.restoreAllMocks();
      await harness.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("shows a document indexed before run-end terms as stale; re-indexed, a one-character query finds it", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-knowledge-run-ends-"));
    const indexPath = join(dataDir, "index.sqlite");
    const start = () => startOnSqlite(dataDir);
    let harness = await start();
    try {
      const kb = await harness.client.createKnowledgeBase({ name: "法规" });
      // 诉 only ends a word here: only its run-end term begins with it.
      const upload = await harness.client.uploadDocuments(kb.id, [
        { name: "规定.md", data: Buffer.from("# 第一章 总则\n\n人民检察院依法提出抗诉。\n") },
      ]);
      expect((await harness.finalJob(upload.job.id)).status).toBe("completed");
      const [document] = await harness.client.listDocuments(kb.id);
      expect((await harness.client.query(kb.id, { query: "诉" })).map((hit) => hit.documentId)).toEqual([
        document!.id,
      ]);
      await harness.close();

      // What the upgrade finds: the document indexed by the processing before run-end terms (v3),
      // whose index has none of them.
      indexedBy(dataDir, kb, "v3");
      const index = new Database(indexPath);
      index.exec("delete from index_chunk_run_ends");
      index.close();

      harness = await start();
      const { client } = harness;
      expect((await client.getKnowledgeBase(kb.id)).staleDocumentCount).toBe(1);
      expect(await client.query(kb.id, { query: "诉" })).toEqual([]);
      const job = await client.reindexKnowledgeBase(kb.id);
      expect(await harness.finalJob(job.id)).toMatchObject({ status: "completed", counts: { indexed: 1 } });
      expect((await client.getKnowledgeBase(kb.id)).staleDocumentCount).toBe(0);
      expect((await client.query(kb.id, { query: "诉" })).map((hit) => hit.documentId)).toEqual([
        document!.id,
      ]);
    } finally {
      await harness.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
  it("shows documents indexed before junction terms as stale; until re-indexed a phrase such as 第24条 ranks by its words", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-knowledge-junctions-"));
    let harness = await startOnSqlite(dataDir);
    try {
      const kb = await harness.client.createKnowledgeBase({ name: "条例" });
      const upload = await harness.client.uploadDocuments(kb.id, [
        {
          name: "条文.txt",
          data: Buffer.from(
            "依据第24条规定，申请人应当如实提交有关材料，主管部门应当自受理之日起十五个工作日内作出决定。",
          ),
        },
        {
          name: "施行.txt",
          data: Buffer.from("第3条 本办法自发布之日起施行，有效期24个月。第5条 条款的解释另行公布。"),
        },
      ]);
      expect((await harness.finalJob(upload.job.id)).status).toBe("completed");
      const names = new Map((await harness.client.listDocuments(kb.id)).map((d) => [d.id, d.name]));
      const first = async () =>
        names.get((await harness.client.query(kb.id, { query: '"第24条"' }))[0]!.documentId);
      expect(await first()).toBe("条文.txt");
      await harness.close();

      // What the upgrade finds: documents indexed by the processing before junction terms (v7), their
      // terms stored as analyzeText gave them, each Han run's words then its bigrams.
      indexedBy(dataDir, kb, "v7");
      const index = new Database(join(dataDir, "index.sqlite"));
      const rows = index
        .prepare("select rowid, document_title, heading_path, text from index_chunks")
        .all() as Array<{ rowid: number; document_title: string; heading_path: string; text: string }>;
      for (const row of rows) {
        const text = searchableText({
          documentTitle: row.document_title,
          headingPath: JSON.parse(row.heading_path) as string[],
          text: row.text,
        });
        index
          .prepare("update index_chunk_terms set terms = ? where rowid = ?")
          .run(analyzeText(text).join(" "), row.rowid);
      }
      index.close();

      harness = await startOnSqlite(dataDir);
      expect((await harness.client.getKnowledgeBase(kb.id)).staleDocumentCount).toBe(2);
      // Found by its words, as before the upgrade: nothing lost, nothing matched that is not there.
      expect(await first()).toBe("施行.txt");
      const job = await harness.client.reindexKnowledgeBase(kb.id);
      expect(await harness.finalJob(job.id)).toMatchObject({ status: "completed", counts: { indexed: 2 } });
      expect((await harness.client.getKnowledgeBase(kb.id)).staleDocumentCount).toBe(0);
      expect(await first()).toBe("条文.txt");
    } finally {
      await harness.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
