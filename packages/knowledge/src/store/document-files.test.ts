import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BlobStore } from "../ingestion/blob-store.js";
import { missingDocumentFiles } from "./document-files.js";
import { KnowledgeStore } from "./knowledge-store.js";

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "hearth-document-files-"));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe("documents whose file is missing", () => {
  it("names each document whose indexed or latest file is not stored, and none when all are", async () => {
    expect(missingDocumentFiles(dataDir)).toEqual([]); // no knowledge store yet
    const store = await KnowledgeStore.open({ path: join(dataDir, "knowledge", "knowledge.db"), dataDir });
    const blobs = new BlobStore(join(dataDir, "knowledge"));
    const base = store.createKnowledgeBase({
      name: "产品手册",
      description: "",
      embeddingModel: null,
      chunking: { maxTokens: 512, overlapTokens: 64 },
      watchFolder: null,
    });
    const add = async (name: string, sha256: string, stored: boolean) => {
      const document = store.upsertDocument({
        knowledgeBaseId: base.id,
        name,
        source: "upload",
        sourceKey: name,
        sizeBytes: 5,
        contentType: "text/plain",
      });
      if (stored) await blobs.writeBytes(new TextEncoder().encode(name), base.id, document.id, sha256);
      store.setDocumentContent(document.id, sha256, 5, "text/plain");
      store.markDocumentIndexed(document.id, `${sha256}:settings`, 1, {
        sizeBytes: 5,
        contentType: "text/plain",
      });
      return document.id;
    };
    await add("部署指南.md", "a".repeat(64), true);
    const lost = await add("FAQ.md", "b".repeat(64), false);
    store.close();

    expect(missingDocumentFiles(dataDir)).toEqual([
      {
        path: `knowledge/files/${base.id}/${lost}.${"b".repeat(64)}`,
        what: 'the file of "FAQ.md" in the knowledge base "产品手册"',
        knowledgeBaseId: base.id,
        documentId: lost,
        name: "FAQ.md",
      },
    ]);
  });
});
