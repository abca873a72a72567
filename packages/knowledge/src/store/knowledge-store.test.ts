import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type Migration, restoreBackup, runMigrations, verifyBackup } from "@hearth/core";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KnowledgeStore } from "./knowledge-store.js";
import { KNOWLEDGE_MIGRATIONS } from "./migrations.js";

/**
 * "The previous schema" of a released database is the current history with data in it; the next step is written here the way a release would add it (a new
 * column with a default, and an index) and run through the same core runner the store uses.
 */
const nextStep: Migration = {
  version: KNOWLEDGE_MIGRATIONS.length + 1,
  name: "documents-language",
  up: `ALTER TABLE documents ADD COLUMN language TEXT NOT NULL DEFAULT 'und';
       CREATE INDEX jobs_by_knowledge_base ON jobs (knowledge_base_id);`,
};

let dataDir: string;
let path: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "hearth-knowledge-store-"));
  path = join(dataDir, "knowledge", "knowledge.db");
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

function query(sql: string): unknown[] {
  const database = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return database.prepare(sql).all();
  } finally {
    database.close();
  }
}

/** A knowledge base with an indexed document, its cached embedding and the finished upload job. */
async function releasedStoreWithData() {
  const store = await KnowledgeStore.open({ path, dataDir });
  const knowledgeBase = store.createKnowledgeBase({
    name: "产品手册",
    description: "Installation and operations guides",
    embeddingModel: "bge-small-zh",
    chunking: { maxTokens: 512, overlapTokens: 64 },
    watchFolder: "/srv/manuals",
  });
  const document = store.upsertDocument({
    knowledgeBaseId: knowledgeBase.id,
    name: "部署指南.pdf",
    source: "upload",
    sourceKey: "部署指南.pdf",
    sizeBytes: 48_213,
    contentType: "application/pdf",
  });
  store.setDocumentContent(document.id, "sha256:3f1a", 48_213, "application/pdf");
  store.markDocumentIndexed(document.id, "sha256:3f1a", 17, {
    sizeBytes: 48_213,
    contentType: "application/pdf",
  });
  store.cacheEmbeddings("bge-small-zh", new Map([["chunk:9c2e", new Float32Array([0.25, -0.5, 1])]]));
  const job = store.createJob(knowledgeBase.id, "upload", [{ id: document.id, name: document.name }]);
  store.setJobDocumentStatus(job.id, document.id, "indexed");
  store.setJobStatus(job.id, "completed");
  store.markKnowledgeBaseIndexed(knowledgeBase.id);
  store.close();
  return { knowledgeBaseId: knowledgeBase.id, documentId: document.id, jobId: job.id };
}

function expectDataIntact(store: KnowledgeStore, ids: Awaited<ReturnType<typeof releasedStoreWithData>>) {
  expect(store.getKnowledgeBase(ids.knowledgeBaseId)).toMatchObject({
    name: "产品手册",
    watchFolder: "/srv/manuals",
    embeddingModel: "bge-small-zh",
    chunking: { maxTokens: 512, overlapTokens: 64 },
  });
  expect(store.getDocument(ids.knowledgeBaseId, ids.documentId)).toMatchObject({
    name: "部署指南.pdf",
    status: "indexed",
    chunkCount: 17,
    indexedHash: "sha256:3f1a",
  });
  expect(store.getJob(ids.jobId)).toMatchObject({ status: "completed" });
  expect(store.getJob(ids.jobId).documents).toEqual([
    expect.objectContaining({ documentId: ids.documentId, status: "indexed" }),
  ]);
  expect([...(store.cachedEmbeddings("bge-small-zh", ["chunk:9c2e"]).get("chunk:9c2e") ?? [])]).toEqual([
    0.25, -0.5, 1,
  ]);
}

describe("knowledge store schema", () => {
  it("creates a new database at the current schema without a backup, and reopens it untouched", async () => {
    const store = await KnowledgeStore.open({ path, dataDir });
    expect(store.migration).toMatchObject({ from: 0, to: KNOWLEDGE_MIGRATIONS.length, backup: undefined });
    store.close();
    expect(query("PRAGMA user_version")).toEqual([{ user_version: KNOWLEDGE_MIGRATIONS.length }]);
    expect(query("SELECT name FROM hearth_migrations")).toEqual(
      KNOWLEDGE_MIGRATIONS.map((migration) => ({ name: migration.name })),
    );

    const again = await KnowledgeStore.open({ path, dataDir });
    expect(again.migration).toMatchObject({ applied: [], backup: undefined });
    again.close();
    expect(existsSync(join(dataDir, "backups"))).toBe(false);
  });

  it("carries knowledge bases, documents and jobs forward through the next step, after a backup that restores", async () => {
    const ids = await releasedStoreWithData();

    const result = await runMigrations({
      databasePath: path,
      dataDir,
      migrations: [...KNOWLEDGE_MIGRATIONS, nextStep],
    });
    const current = KNOWLEDGE_MIGRATIONS.length;
    expect(result).toMatchObject({
      from: current,
      to: current + 1,
      applied: [{ version: current + 1, name: "documents-language" }],
    });
    expect(result.backup).toMatch(
      new RegExp(`backups[/\\\\]pre-migration-knowledge\\.db-v${current}-to-v${current + 1}-`),
    );
    expect(query("SELECT name, status, chunk_count, language FROM documents")).toEqual([
      { name: "部署指南.pdf", status: "indexed", chunk_count: 17, language: "und" },
    ]);
    expect(query("SELECT name, watch_folder FROM knowledge_bases")).toEqual([
      { name: "产品手册", watch_folder: "/srv/manuals" },
    ]);
    expect(query("SELECT status FROM jobs")).toEqual([{ status: "completed" }]);
    expect(query("SELECT count(*) AS n FROM embedding_cache")).toEqual([{ n: 1 }]);

    // This code knows the current schema only: it refuses the newer database instead of misreading it.
    await expect(KnowledgeStore.open({ path, dataDir })).rejects.toMatchObject({ code: "SCHEMA_TOO_NEW" });

    // The pre-migration backup is complete and brings back the database this code opens.
    expect(await verifyBackup(result.backup!)).toMatchObject({
      scope: "partial",
      reason: `before migrating knowledge.db from schema ${current} to ${current + 1}`,
      entries: [{ path: "data/knowledge/knowledge.db", kind: "sqlite" }],
    });
    await restoreBackup({ source: result.backup!, dataDir });
    const store = await KnowledgeStore.open({ path, dataDir });
    try {
      expect(store.migration).toMatchObject({ from: current, to: current, applied: [], backup: undefined });
      expectDataIntact(store, ids);
    } finally {
      store.close();
    }
    expect(query("SELECT name FROM pragma_table_info('documents') WHERE name = 'language'")).toEqual([]);
  });

  it("makes names unique per owner, case-insensitively, keeping existing bases and their documents", async () => {
    // A database at schema 1, when names were unique across everyone (case-sensitively).
    mkdirSync(dirname(path), { recursive: true });
    await runMigrations({ databasePath: path, dataDir, migrations: KNOWLEDGE_MIGRATIONS.slice(0, 1) });
    const v1 = new Database(path);
    const at = "2026-01-01T00:00:00.000Z";
    const addBase = v1.prepare(
      `INSERT INTO knowledge_bases (id, name, chunk_max_tokens, chunk_overlap_tokens, created_at, updated_at)
       VALUES (?, ?, 512, 64, ?, ?)`,
    );
    addBase.run("kb_a", "Docs", at, at);
    addBase.run("kb_b", "docs", "2026-01-02T00:00:00.000Z", at);
    v1.prepare(
      `INSERT INTO documents (id, knowledge_base_id, name, source, source_key, status, created_at, updated_at)
       VALUES ('doc_1', 'kb_b', 'a.txt', 'upload', 'a.txt', 'indexed', ?, ?)`,
    ).run(at, at);
    v1.close();

    const store = await KnowledgeStore.open({ path, dataDir });
    try {
      expect(store.migration).toMatchObject({ from: 1, to: KNOWLEDGE_MIGRATIONS.length });
      expect(store.listKnowledgeBases().map((base) => [base.id, base.name, base.documentCount])).toEqual([
        ["kb_a", "Docs", 0],
        ["kb_b", "docs", 1],
      ]);
      expect(store.getDocument("kb_b", "doc_1")).toMatchObject({ name: "a.txt", status: "indexed" });
      // Both old bases still take an unrelated change; the name stays taken for bases without owner.
      expect(store.updateKnowledgeBase("kb_b", { description: "kept" }).description).toBe("kept");
      const base = {
        description: "",
        embeddingModel: null,
        chunking: { maxTokens: 512, overlapTokens: 64 },
        watchFolder: null,
      };
      expect(() => store.createKnowledgeBase({ ...base, name: "DOCS" })).toThrow(
        expect.objectContaining({ code: "KNOWLEDGE_BASE_NAME_TAKEN" }),
      );
      // Per owner: another owner may use the name, once, whatever its case.
      store.createKnowledgeBase({ ...base, name: "Docs", owner: "alice" });
      store.createKnowledgeBase({ ...base, name: "Docs", owner: "bob" });
      expect(() => store.createKnowledgeBase({ ...base, name: "dOcS", owner: "alice" })).toThrow(
        expect.objectContaining({ code: "KNOWLEDGE_BASE_NAME_TAKEN" }),
      );
      const other = store.createKnowledgeBase({ ...base, name: "Other", owner: "alice" });
      expect(() => store.updateKnowledgeBase(other.id, { name: "DOCS" })).toThrow(
        expect.objectContaining({ code: "KNOWLEDGE_BASE_NAME_TAKEN" }),
      );
    } finally {
      store.close();
    }
  });
});

describe("documents switched off for retrieval", () => {
  it("keeps documents stored before the switch existed on, and switches one off and on by itself", async () => {
    // A database at schema 5, the last before documents had `enabled`, with a document in it.
    mkdirSync(dirname(path), { recursive: true });
    await runMigrations({ databasePath: path, dataDir, migrations: KNOWLEDGE_MIGRATIONS.slice(0, 5) });
    const v5 = new Database(path);
    const at = "2026-01-01T00:00:00.000Z";
    v5.prepare(
      `INSERT INTO knowledge_bases (id, name, name_key, chunk_max_tokens, chunk_overlap_tokens, created_at, updated_at)
       VALUES ('kb_a', 'Docs', 'docs', 512, 64, ?, ?)`,
    ).run(at, at);
    const addDocument = v5.prepare(
      `INSERT INTO documents (id, knowledge_base_id, name, source, source_key, status, created_at, updated_at)
       VALUES (?, 'kb_a', ?, 'upload', ?, 'indexed', ?, ?)`,
    );
    addDocument.run("doc_1", "a.txt", "a.txt", at, at);
    addDocument.run("doc_2", "b.txt", "b.txt", at, at);
    v5.close();

    const store = await KnowledgeStore.open({ path, dataDir });
    try {
      expect(store.migration).toMatchObject({ from: 5 });
      expect(store.migration.applied[0]).toMatchObject({ version: 6, name: "document-enabled" });
      expect(store.listDocuments("kb_a").map((document) => [document.id, document.enabled])).toEqual([
        ["doc_1", true],
        ["doc_2", true],
      ]);
      expect(store.disabledDocumentIds(["kb_a"])).toEqual([]);
      expect(store.setDocumentEnabled("kb_a", "doc_2", false)).toMatchObject({
        id: "doc_2",
        enabled: false,
        updatedAt: at,
      });
      expect(store.getDocument("kb_a", "doc_1").enabled).toBe(true);
      expect(store.disabledDocumentIds(["kb_a", "kb_other"])).toEqual(["doc_2"]);
      expect(store.disabledDocumentIds(["kb_other"])).toEqual([]);
      store.setDocumentEnabled("kb_a", "doc_2", true);
      expect(store.disabledDocumentIds(["kb_a"])).toEqual([]);
      expect(() => store.setDocumentEnabled("kb_other", "doc_1", false)).toThrow(
        expect.objectContaining({ code: "DOCUMENT_NOT_FOUND" }),
      );
    } finally {
      store.close();
    }
  });
});

describe("a knowledge base's minimum relevance", () => {
  it("holds none back for bases made before it existed, and keeps what a base is given or changed to", async () => {
    // A database at schema 6, the last before knowledge bases had a minimum relevance.
    mkdirSync(dirname(path), { recursive: true });
    await runMigrations({ databasePath: path, dataDir, migrations: KNOWLEDGE_MIGRATIONS.slice(0, 6) });
    const v6 = new Database(path);
    const at = "2026-01-01T00:00:00.000Z";
    v6.prepare(
      `INSERT INTO knowledge_bases (id, name, name_key, chunk_max_tokens, chunk_overlap_tokens, created_at, updated_at)
       VALUES ('kb_a', 'Docs', 'docs', 512, 64, ?, ?)`,
    ).run(at, at);
    v6.close();

    const store = await KnowledgeStore.open({ path, dataDir });
    try {
      expect(store.migration).toMatchObject({ from: 6 });
      expect(store.migration.applied[0]).toMatchObject({ version: 7, name: "knowledge-base-min-relevance" });
      expect(store.getKnowledgeBase("kb_a").minRelevance).toBe(0);
      expect(store.updateKnowledgeBase("kb_a", { minRelevance: 0.35 }).minRelevance).toBe(0.35);
      // A change of anything else keeps it.
      expect(store.updateKnowledgeBase("kb_a", { description: "kept" }).minRelevance).toBe(0.35);
      const given = store.createKnowledgeBase({
        name: "Strict",
        description: "",
        embeddingModel: null,
        chunking: { maxTokens: 512, overlapTokens: 64 },
        watchFolder: null,
        minRelevance: 0.8,
      });
      expect(store.getKnowledgeBase(given.id).minRelevance).toBe(0.8);
    } finally {
      store.close();
    }
  });
});

describe("a knowledge base's rerank model", () => {
  it("is none for bases made before it existed, and keeps what a base is given or changed to", async () => {
    // A database at schema 7, the last before knowledge bases had a rerank model.
    mkdirSync(dirname(path), { recursive: true });
    await runMigrations({ databasePath: path, dataDir, migrations: KNOWLEDGE_MIGRATIONS.slice(0, 7) });
    const v7 = new Database(path);
    const at = "2026-01-01T00:00:00.000Z";
    v7.prepare(
      `INSERT INTO knowledge_bases (id, name, name_key, chunk_max_tokens, chunk_overlap_tokens, min_relevance, created_at, updated_at)
       VALUES ('kb_a', 'Docs', 'docs', 512, 64, 0.25, ?, ?)`,
    ).run(at, at);
    v7.close();

    const store = await KnowledgeStore.open({ path, dataDir });
    try {
      expect(store.migration).toMatchObject({
        from: 7,
        applied: [{ version: 8, name: "knowledge-base-rerank-model" }],
      });
      expect(store.getKnowledgeBase("kb_a")).toMatchObject({ rerankModel: null, minRelevance: 0.25 });
      expect(store.updateKnowledgeBase("kb_a", { rerankModel: "bge-reranker-v2-m3" }).rerankModel).toBe(
        "bge-reranker-v2-m3",
      );
      // A change of anything else keeps it; null takes it away.
      expect(store.updateKnowledgeBase("kb_a", { description: "kept" }).rerankModel).toBe(
        "bge-reranker-v2-m3",
      );
      expect(store.updateKnowledgeBase("kb_a", { rerankModel: null }).rerankModel).toBeNull();
      const given = store.createKnowledgeBase({
        name: "Reranked",
        description: "",
        embeddingModel: null,
        chunking: { maxTokens: 512, overlapTokens: 64 },
        watchFolder: null,
        rerankModel: "bge-reranker-v2-m3",
      });
      expect(store.getKnowledgeBase(given.id).rerankModel).toBe("bge-reranker-v2-m3");
    } finally {
      store.close();
    }
  });
});

describe("opening a knowledge.db that cannot be used", () => {
  it("names a file this user cannot write, and the fix, instead of an internal error", async () => {
    (await KnowledgeStore.open({ path, dataDir })).close();
    // Tests run as root, which writes any file: opening read-only is what SQLite does with a file
    // whose mode the user Hearth runs as may not write (chmod 444).
    const error = await KnowledgeStore.open({ path, dataDir, sqlite: { readonly: true } }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: "DATA_DIR_NOT_WRITABLE" });
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain("give the user Hearth runs as write access");
  });

  it("names a damaged file and the restore that fixes it", async () => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, Buffer.alloc(8192, 0x41));
    const error = await KnowledgeStore.open({ path, dataDir }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "DATABASE_UNAVAILABLE" });
    expect((error as Error).message).toContain(`${path} is damaged`);
    expect((error as Error).message).toContain("hearth restore");
  });
});
