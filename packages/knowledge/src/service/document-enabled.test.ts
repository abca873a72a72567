import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RetrievalMode } from "@hearth/contracts";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POSTGRES_URL, postgresAvailable } from "../../../../test/support/postgres.js";
import type { IndexBackend } from "../index/index-backend.js";
import { openPostgresIndex } from "../index/postgres-index-backend.js";
import { openSqliteIndex } from "../index/sqlite-index-backend.js";
import { createRetriever } from "../retrieval/retriever.js";
import { type Harness, startEmbedServer, startHarness } from "../testing/knowledge-harness.fixture.js";

/**
 * A document switched off for retrieval (PATCH {enabled: false}) is in no query's results, in every
 * mode, on the embedded index and on PostgreSQL, while its passages and file still open; switched
 * on, it is found again. Its 60 sections, each holding the question's words and its error code as
 * written, outrank everything else on both paths: dropped after the search, they would leave topK
 * (and the candidates fused, 50 a path) empty.
 */
const folder = mkdtempSync(join(tmpdir(), "hearth-document-enabled-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const tablePrefix = `hearth_doc_enabled_${process.pid}`;
const backends: Array<[string, boolean, () => Promise<IndexBackend>]> = [
  ["SQLite", true, () => openSqliteIndex({ path: join(folder, `${Math.random()}.sqlite`) })],
  [
    "PostgreSQL (real server)",
    postgresAvailable,
    () => openPostgresIndex({ connectionString: POSTGRES_URL, tablePrefix }),
  ],
];

const outdated = (steps: number) =>
  Buffer.from(
    Array.from(
      { length: steps },
      (_, step) =>
        `# Step ${step}\n\nRouter reset ERR-7001, step ${step}: reset the router, then reset the router again.\n`,
    ).join("\n"),
  );
const current = Buffer.from(
  [
    "# Buttons\n\nTo reset the router, hold its power button for ten seconds.",
    "# Lights\n\nAfter a router reset the lights blink green.",
    "# Settings\n\nA reset router keeps its Wi-Fi name and password.",
  ].join("\n\n"),
);
const MODES: RetrievalMode[] = ["hybrid", "lexical", "vector"];
const QUESTION = "reset the router ERR-7001";

afterAll(async () => {
  if (!postgresAvailable) return;
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`drop table if exists ${tablePrefix}_chunks`);
  await client.end();
});

describe.each(backends)("a document switched off for retrieval, on %s", (_name, available, open) => {
  let harness: Harness;
  let embed: Awaited<ReturnType<typeof startEmbedServer>>;
  let writes = 0;

  beforeAll(async () => {
    if (!available) return;
    embed = await startEmbedServer();
    const backend = await open();
    const upsert = backend.upsertChunks.bind(backend);
    backend.upsertChunks = async (chunks) => {
      writes += chunks.length;
      return upsert(chunks);
    };
    harness = await startHarness({ embeddingUrl: embed.url }, {}, undefined, {
      backend,
      retriever: createRetriever(backend),
    });
  });
  afterAll(async () => {
    await harness?.close();
    await embed?.close();
  });

  const patch = (knowledgeBaseId: string, documentId: string, body: unknown) =>
    fetch(`${harness.url}/v1/knowledge-bases/${knowledgeBaseId}/documents/${documentId}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it.skipIf(!available)(
    "leaves it out of every mode's results, topK filled from the others, until it is switched on; re-upload and re-index keep it off",
    async () => {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({
        name: "Router",
        embeddingModel: "test-embed",
        chunking: { maxTokens: 32, overlapTokens: 0 },
      });
      const upload = await client.uploadDocuments(kb.id, [
        { name: "outdated.md", data: outdated(60) },
        { name: "current.md", data: current },
        { name: "printer.txt", data: Buffer.from("Printers jam when the paper is damp.") },
      ]);
      expect((await harness.finalJob(upload.job.id)).counts.indexed).toBe(3);
      const documents = await client.listDocuments(kb.id);
      for (const document of documents) expect(document.enabled).toBe(true);
      const off = documents.find((document) => document.name === "outdated.md")!;
      expect(off.chunkCount).toBe(60);
      const titles = async (mode: RetrievalMode) =>
        (await client.query(kb.id, { query: QUESTION, topK: 3, mode })).map((result) => result.documentTitle);
      for (const mode of MODES) expect(await titles(mode), mode).toEqual(Array(3).fill("outdated.md"));

      // Off at once: nothing is re-indexed, no job is started.
      const writesBefore = writes;
      const passagesBefore = await client.documentPassages(kb.id, off.id);
      const switched = await client.updateDocument(kb.id, off.id, { enabled: false });
      expect(switched).toMatchObject({ id: off.id, enabled: false, status: "indexed", chunkCount: 60 });
      expect(switched.updatedAt).toBe(off.updatedAt);
      expect(switched.jobId).toBeUndefined();
      expect(writes).toBe(writesBefore);
      expect((await client.getDocument(kb.id, off.id)).enabled).toBe(false);
      expect(
        (await client.listDocuments(kb.id)).map((document) => [document.name, document.enabled]),
      ).toEqual([
        ["outdated.md", false],
        ["current.md", true],
        ["printer.txt", true],
      ]);

      for (const mode of MODES) expect(await titles(mode), mode).toEqual(Array(3).fill("current.md"));
      const many = await client.queryMany({ knowledgeBaseIds: [kb.id], query: QUESTION, topK: 5 });
      expect(many.map((result) => result.documentTitle).sort()).toEqual([
        "current.md",
        "current.md",
        "current.md",
        "printer.txt",
      ]);
      // Its error code alone, which only it holds, finds nothing in full text.
      expect(await client.query(kb.id, { query: "ERR-7001", mode: "lexical" })).toEqual([]);
      // A citation of it in an earlier answer still opens: its passages and its file.
      expect(await client.documentPassages(kb.id, off.id)).toEqual({
        ...passagesBefore,
        document: { ...passagesBefore.document, enabled: false },
      });
      const file = await client.documentFile(kb.id, off.id);
      expect(await file.text()).toBe(outdated(60).toString());

      // A new version of the same name, and a re-index of every document, keep it off.
      const again = await client.uploadDocuments(kb.id, [{ name: "outdated.md", data: outdated(61) }]);
      expect((await harness.finalJob(again.job.id)).counts.indexed).toBe(1);
      expect(await client.getDocument(kb.id, off.id)).toMatchObject({ chunkCount: 61, enabled: false });
      const reindex = await client.reindexKnowledgeBase(kb.id, { all: true });
      expect((await harness.finalJob(reindex.id)).counts.indexed).toBe(3);
      expect((await client.getDocument(kb.id, off.id)).enabled).toBe(false);
      for (const mode of MODES) expect(await titles(mode), mode).toEqual(Array(3).fill("current.md"));

      expect((await client.updateDocument(kb.id, off.id, { enabled: true })).enabled).toBe(true);
      for (const mode of MODES) expect(await titles(mode), mode).toEqual(Array(3).fill("outdated.md"));
    },
  );

  it.skipIf(!available)("keeps a watched folder's document off through a sync that re-reads it", async () => {
    const { client } = harness;
    const watched = mkdtempSync(join(folder, "watched-"));
    writeFileSync(join(watched, "faq.txt"), "The kettle boils water.");
    const kb = await client.createKnowledgeBase({ name: "Folder", watchFolder: watched });
    await expect.poll(async () => (await client.listDocuments(kb.id))[0]?.status).toBe("indexed");
    const [faq] = await client.listDocuments(kb.id);
    await client.updateDocument(kb.id, faq!.id, { enabled: false });
    writeFileSync(join(watched, "faq.txt"), "The kettle boils water quickly.");
    const sync = await client.syncNow(kb.id);
    expect((await harness.finalJob(sync.id)).counts.indexed).toBe(1);
    expect(await client.getDocument(kb.id, faq!.id)).toMatchObject({ status: "indexed", enabled: false });
    expect(await client.query(kb.id, { query: "kettle quickly" })).toEqual([]);
  });

  it.skipIf(!available)(
    "takes only `enabled`, refusing other fields with INVALID_REQUEST, and an unknown document with DOCUMENT_NOT_FOUND",
    async () => {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({ name: "Refusals" });
      const upload = await client.uploadDocuments(kb.id, [{ name: "a.txt", data: Buffer.from("Alpha.") }]);
      await harness.finalJob(upload.job.id);
      const [document] = await client.listDocuments(kb.id);
      for (const body of [{ enabled: false, name: "b.txt" }, { name: "b.txt" }, {}, { enabled: "no" }]) {
        const refused = await patch(kb.id, document!.id, body);
        expect(refused.status, JSON.stringify(body)).toBe(400);
        expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("INVALID_REQUEST");
      }
      expect(await client.getDocument(kb.id, document!.id)).toMatchObject({ name: "a.txt", enabled: true });
      const unknown = await patch(kb.id, "doc_missing", { enabled: false });
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("DOCUMENT_NOT_FOUND");
    },
  );
});
