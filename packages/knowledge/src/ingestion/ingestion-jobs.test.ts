import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type IngestionJob, type JobEvent, KnowledgeClient } from "@hearth/contracts";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { pdf } from "../testing/document-fixtures.fixture.js";
import {
  type Harness,
  startEmbedServer,
  startHarness,
  watchCancels,
} from "../testing/knowledge-harness.fixture.js";
import { BlobStore } from "./blob-store.js";

const words = (n: number) =>
  ["red", "green", "blue", "amber", "violet", "teal"][n % 6]! +
  ["fox", "owl", "elk", "yak", "emu"][n % 5]! +
  ["s", "ing", "er", "ed"][n % 4]!;

const markdown = (i: number) =>
  Buffer.from(
    `# Document ${i}\n\n${Array.from({ length: 4 }, (_, p) => `Paragraph ${p} of document ${i} talks about subject ${i * 10 + p} at length.`).join("\n\n")}\n`,
  );

/** Every document is either fully indexed (all its chunks, once) or absent from the index. */
async function expectNoHalfIndexedDocument(harness: Harness, knowledgeBaseId: string) {
  const documents = await harness.client.listDocuments(knowledgeBaseId);
  for (const document of documents) {
    const chunks = [...harness.backend.chunks.values()].filter((chunk) => chunk.documentId === document.id);
    const ordinals = chunks.map((chunk) => chunk.ordinal).sort((a, b) => a - b);
    if (document.status === "indexed")
      expect(ordinals).toEqual(Array.from({ length: document.chunkCount }, (_, i) => i));
    else expect(chunks).toEqual([]);
  }
  return documents;
}

/**
 * Holds every read of a stored file until a cancel has been taken, so the cancel meets documents
 * that have started (status parsing) and not yet reached the parser.
 */
function holdReadsUntilCancel() {
  const read = BlobStore.prototype.read;
  const cancels = watchCancels();
  const reads = vi.spyOn(BlobStore.prototype, "read").mockImplementation(async function (
    this: BlobStore,
    ...args
  ) {
    await cancels.taken;
    return read.apply(this, args);
  });
  return {
    restore: () => {
      reads.mockRestore();
      cancels.restore();
    },
  };
}

describe("ingestion jobs", () => {
  let embed: Awaited<ReturnType<typeof startEmbedServer>>;
  beforeAll(async () => {
    embed = await startEmbedServer({ delayMs: 60 });
  });
  afterAll(async () => embed.close());

  it("cancels a running job: queued documents stop, none is left half-indexed", async () => {
    const harness = await startHarness({
      embeddingUrl: embed.url,
      embeddingBatchSize: 1,
      ingestConcurrency: 1,
    });
    try {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({
        name: "Cancel",
        embeddingModel: "test-embed",
        chunking: { maxTokens: 40, overlapTokens: 0 },
      });
      const upload = await client.uploadDocuments(
        kb.id,
        Array.from({ length: 8 }, (_, i) => ({ name: `doc-${i}.md`, data: markdown(i) })),
      );
      for await (const event of client.jobEvents(upload.job.id)) {
        if (event.type === "document" && event.counts.indexed >= 1) break;
      }
      const cancelled = await client.cancelJob(upload.job.id);
      expect(cancelled.status).toBe("cancelled");
      await harness.service.idle();
      const job = await client.getJob(upload.job.id);
      expect(job.status).toBe("cancelled");
      expect(job.counts.indexed).toBeLessThan(8);
      expect(
        job.documents.filter((d) => d.status === "failed").every((d) => d.error?.code === "JOB_CANCELLED"),
      ).toBe(true);
      const documents = await expectNoHalfIndexedDocument(harness, kb.id);
      expect(documents.filter((d) => d.status === "indexed").length).toBe(job.counts.indexed);
    } finally {
      await harness.close();
    }
  });

  it("keeps the indexed version exactly as it was when a re-upload is cancelled", async () => {
    const harness = await startHarness({
      embeddingUrl: embed.url,
      embeddingBatchSize: 1,
      ingestConcurrency: 1,
    });
    try {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({
        name: "Re-upload",
        embeddingModel: "test-embed",
        chunking: { maxTokens: 40, overlapTokens: 0 },
      });
      const first = await client.uploadDocuments(kb.id, [{ name: "doc.md", data: markdown(1) }]);
      expect((await harness.finalJob(first.job.id)).status).toBe("completed");
      const [before] = await client.listDocuments(kb.id);
      const blobs = () =>
        readdirSync(join(harness.dataDir), { recursive: true, encoding: "utf8" }).filter((path) =>
          basename(path).startsWith(`${before!.id}.`),
        );
      const blobsBefore = blobs();
      expect(blobsBefore).toHaveLength(1);

      // Twelve documents' worth of paragraphs: embedding them one by one outlasts the cancel.
      const changed = Buffer.concat(Array.from({ length: 12 }, (_, i) => markdown(i + 2)));
      const second = await client.uploadDocuments(kb.id, [{ name: "doc.md", data: changed }]);
      expect((await client.cancelJob(second.job.id)).status).toBe("cancelled");
      await harness.service.idle();
      expect((await client.getJob(second.job.id)).documents[0]).toMatchObject({
        status: "failed",
        error: { code: "JOB_CANCELLED" },
      });
      const [after] = await client.listDocuments(kb.id);
      expect(after).toEqual(before); // status, size, type, chunks and updatedAt alike
      const file = await fetch(`${harness.url}/v1/knowledge-bases/${kb.id}/documents/${before!.id}/file`);
      expect(Buffer.from(await file.arrayBuffer()).equals(markdown(1))).toBe(true);
      expect(blobs()).toEqual(blobsBefore);
      await expectNoHalfIndexedDocument(harness, kb.id);

      // A re-upload that fails leaves it the same way; the job reports the failure.
      const empty = await client.uploadDocuments(kb.id, [{ name: "doc.md", data: Buffer.alloc(0) }]);
      expect((await harness.finalJob(empty.job.id)).documents[0]?.error?.code).toBe("DOCUMENT_EMPTY");
      await harness.service.idle();
      expect((await client.listDocuments(kb.id))[0]).toEqual(before);
      expect(blobs()).toEqual(blobsBefore);
    } finally {
      await harness.close();
    }
  });

  it("returns a re-upload a crash left with no job to its indexed version, its new file removed", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-knowledge-orphan-"));
    const settings = { embeddingUrl: embed.url, embeddingBatchSize: 1, ingestConcurrency: 1 };
    let harness = await startHarness(settings, {}, dataDir);
    try {
      const kb = await harness.client.createKnowledgeBase({ name: "Orphan", embeddingModel: "test-embed" });
      const first = await harness.client.uploadDocuments(kb.id, [{ name: "doc.md", data: markdown(1) }]);
      expect((await harness.finalJob(first.job.id)).status).toBe("completed");
      const [before] = await harness.client.listDocuments(kb.id);
      const files = () =>
        readdirSync(join(dataDir, "knowledge"), { recursive: true, encoding: "utf8" }).filter((path) =>
          basename(path).startsWith(`${before!.id}.`),
        );
      const filesBefore = files();
      await harness.close();

      // What a crash between receiving the new file and starting its job leaves: the new file kept,
      // the document pointing at it and queued, no job to finish it.
      const newHash = "f".repeat(64);
      writeFileSync(
        join(dirname(join(dataDir, "knowledge", filesBefore[0]!)), `${before!.id}.${newHash}`),
        markdown(2),
      );
      const db = new Database(join(dataDir, "knowledge", "knowledge.db"));
      db.prepare("UPDATE documents SET status = 'queued', content_hash = ? WHERE id = ?").run(
        newHash,
        before!.id,
      );
      db.close();

      harness = await startHarness(settings, {}, dataDir);
      await harness.service.idle();
      const [after] = await harness.client.listDocuments(kb.id);
      expect(after).toEqual(before);
      const file = await fetch(`${harness.url}/v1/knowledge-bases/${kb.id}/documents/${before!.id}/file`);
      expect(Buffer.from(await file.arrayBuffer()).equals(markdown(1))).toBe(true);
      expect(files()).toEqual(filesBefore);
    } finally {
      await harness.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("resumes after kill -9 mid-job and completes with no duplicate and no half-indexed document", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-crash-"));
    try {
      const script = fileURLToPath(new URL("../testing/resume-child.fixture.ts", import.meta.url));
      const child = spawn(
        process.execPath,
        ["--conditions=source", "--import", "tsx", script, dataDir, embed.url, "10"],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once("line", resolve);
        child.once("exit", (code) => reject(new Error(`child exited early (${code})`)));
      });
      const { url, kbId, jobId } = JSON.parse(line) as { url: string; kbId: string; jobId: string };
      const remote = new KnowledgeClient({ baseUrl: url });
      for await (const event of remote.jobEvents(jobId)) {
        if (event.type === "document" && event.counts.indexed >= 2) break;
      }
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));

      const harness = await startHarness({ embeddingUrl: embed.url, embeddingBatchSize: 1 }, {}, dataDir);
      try {
        const before = await harness.client.getJob(jobId);
        expect(before.counts.indexed).toBeLessThan(10);
        const job = before.status === "completed" ? before : await harness.finalJob(jobId);
        expect(job).toMatchObject({ status: "completed", counts: { total: 10, indexed: 10, failed: 0 } });
        const documents = await expectNoHalfIndexedDocument(harness, kbId);
        expect(documents.length).toBe(10);
        const metrics = await (await fetch(`${harness.url}/metrics`)).text();
        expect(metrics).toMatch(
          new RegExp(`hearth_knowledge_last_update_timestamp_seconds\\{[^}]*knowledge_base="${kbId}"`),
        );
        const ids = [...harness.backend.chunks.keys()];
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.length).toBe(documents.reduce((sum, d) => sum + d.chunkCount, 0));
      } finally {
        await harness.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("names the unfinished job of each document it has still to ingest in the document list, none once it is cancelled", async () => {
    const harness = await startHarness({ ingestConcurrency: 1 });
    let held: ReturnType<typeof holdReadsUntilCancel> | undefined;
    let jobId: string | undefined;
    try {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({ name: "Jobs listed" });
      const done = await client.uploadDocuments(kb.id, [{ name: "done.txt", data: Buffer.from("Done.") }]);
      expect((await harness.finalJob(done.job.id)).status).toBe("completed");
      // Reading a stored file is held until the cancel: the upload's documents stay in progress.
      held = holdReadsUntilCancel();
      const upload = await client.uploadDocuments(kb.id, [
        { name: "first.txt", data: Buffer.from("First.") },
        { name: "second.txt", data: Buffer.from("Second.") },
      ]);
      jobId = upload.job.id;
      while ((await client.getJob(upload.job.id)).documents[0]?.status !== "parsing")
        await new Promise((resolve) => setTimeout(resolve, 20));
      const listed = async () =>
        Object.fromEntries(
          (await client.listDocuments(kb.id)).map((document) => [
            document.name,
            { status: document.status, jobId: document.jobId },
          ]),
        );
      expect(await listed()).toEqual({
        "done.txt": { status: "indexed", jobId: undefined },
        "first.txt": { status: "parsing", jobId: upload.job.id },
        "second.txt": { status: "queued", jobId: upload.job.id },
      });
      const second = upload.documents.find((document) => document.name === "second.txt")!;
      expect((await client.getDocument(kb.id, second.id)).jobId).toBe(upload.job.id);

      expect((await client.cancelJob(upload.job.id)).status).toBe("cancelled");
      expect(await listed()).toEqual({
        "done.txt": { status: "indexed", jobId: undefined },
        "first.txt": { status: "failed", jobId: undefined },
        "second.txt": { status: "failed", jobId: undefined },
      });
    } finally {
      // The held read goes on once a cancel is taken: the service then closes whatever failed above.
      if (jobId) await harness.client.cancelJob(jobId).catch(() => {});
      held?.restore();
      await harness.close();
    }
  });

  it("frees the big-file lane when a job is cancelled while its big document starts parsing", async () => {
    // One large-lane slot and one parser thread. Reading the stored file is held until the cancel has
    // been asked for, so the cancel lands after the document started (status parsing) and before it
    // reaches the parser pool, as it does when a cancel meets a big file being read.
    const harness = await startHarness({
      workerThresholdBytes: 64 * 1024,
      ingestConcurrency: 1,
      parserThreads: 1,
    });
    const held = holdReadsUntilCancel();
    try {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({ name: "Cancel big" });
      const pages = (seed: number) =>
        Array.from({ length: 600 }, (_, p) => [`# Section ${words(p + seed)}`, `The ${words(p)} paragraph.`]);
      const first = await client.uploadDocuments(kb.id, [
        { name: "big-1.pdf", data: pdf(pages(0)) },
        { name: "big-2.pdf", data: pdf(pages(1)) },
      ]);
      while ((await client.getJob(first.job.id)).documents[0]?.status !== "parsing")
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await client.cancelJob(first.job.id)).status).toBe("cancelled");

      // A later big upload gets the lane and completes.
      const later = await client.uploadDocuments(kb.id, [{ name: "big-3.pdf", data: pdf(pages(2)) }]);
      const done = await Promise.race([
        harness.finalJob(later.job.id),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20_000)),
      ]);
      expect(done?.status).toBe("completed");

      const job = await client.getJob(first.job.id);
      expect(job.counts).toMatchObject({ parsing: 0, embedding: 0, queued: 0 });
      const documents = await client.listDocuments(kb.id);
      expect(documents.filter((d) => d.status === "parsing" || d.status === "queued")).toEqual([]);
      for (const entry of job.documents) {
        expect(entry).toMatchObject({ status: "failed", error: { code: "JOB_CANCELLED" } });
        expect(documents.find((d) => d.id === entry.documentId)).toMatchObject({
          status: "failed",
          error: { code: "JOB_CANCELLED" },
        });
      }
      const metrics = await (await fetch(`${harness.url}/metrics`)).text();
      expect(metrics).toMatch(/hearth_knowledge_jobs_active\{[^}]*\} 0\n/);
    } finally {
      held.restore();
      await harness.close();
    }
  });

  it("answers a cancel once its running documents have stopped: their events, then the job's, all settled", async () => {
    // A big text file and fifteen small ones. Reading a stored file is held until the cancel has been
    // asked for, so the cancel meets documents that are parsing, as it meets a 25 MB file in the parser.
    const harness = await startHarness({
      workerThresholdBytes: 64 * 1024,
      ingestConcurrency: 1,
      parserThreads: 1,
    });
    const held = holdReadsUntilCancel();
    try {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({ name: "Cancel while parsing" });
      const big = Array.from({ length: 20_000 }, (_, i) => `Line ${i}: the BIGTOKEN ${words(i)} text.`);
      const upload = await client.uploadDocuments(kb.id, [
        { name: "big.txt", data: Buffer.from(big.join("\n")) },
        ...Array.from({ length: 15 }, (_, i) => ({
          name: `small-${i}.txt`,
          data: Buffer.from(`Small ${i}.`),
        })),
      ]);
      const jobId = upload.job.id;
      const events: JobEvent[] = [];
      const following = (async () => {
        for await (const event of client.jobEvents(jobId)) events.push(event);
      })();
      while ((await client.getJob(jobId)).documents[0]?.status !== "parsing")
        await new Promise((resolve) => setTimeout(resolve, 20));

      const answer = await client.cancelJob(jobId);
      await following;
      const settled = (job: IngestionJob) => {
        expect(job.status).toBe("cancelled");
        expect(job.counts).toMatchObject({ queued: 0, parsing: 0, embedding: 0 });
        for (const entry of job.documents) expect(["indexed", "failed"]).toContain(entry.status);
        expect(job.documents[0]).toMatchObject({ status: "failed", error: { code: "JOB_CANCELLED" } });
      };
      settled(answer);
      // The stream tells the big file's end, then ends with the job as the cancel answered it.
      const last = events.at(-1);
      expect(last?.type === "job" && last.job).toEqual(answer);
      const bigEnd = events.findIndex(
        (event) =>
          event.type === "document" &&
          event.document.name === "big.txt" &&
          event.document.status === "failed",
      );
      expect(bigEnd).toBeGreaterThan(-1);
      expect(bigEnd).toBeLessThan(events.length - 1);
      // Nothing changes afterwards, and no document changed after the job finished.
      await harness.service.idle();
      expect(await client.getJob(jobId)).toEqual(answer);
      for (const document of await client.listDocuments(kb.id))
        expect(document.updatedAt <= answer.finishedAt!).toBe(true);
      expect(await client.query(kb.id, { query: "BIGTOKEN" })).toEqual([]);
    } finally {
      held.restore();
      await harness.close();
    }
  });

  it("after a restart, a cancelled job lists no document as still parsing", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-knowledge-stuck-"));
    let harness = await startHarness({}, {}, dataDir);
    try {
      const kb = await harness.client.createKnowledgeBase({ name: "Stuck" });
      const upload = await harness.client.uploadDocuments(kb.id, [{ name: "doc.md", data: markdown(1) }]);
      await harness.finalJob(upload.job.id);
      const documentId = upload.documents[0]!.id;
      await harness.close();

      // What a cancel whose document task never settled left behind (before the parser pool fix).
      const db = new Database(join(dataDir, "knowledge", "knowledge.db"));
      db.prepare("UPDATE jobs SET status = 'cancelled', error_code = 'JOB_CANCELLED' WHERE id = ?").run(
        upload.job.id,
      );
      db.prepare("UPDATE job_documents SET status = 'parsing' WHERE job_id = ?").run(upload.job.id);
      db.prepare("UPDATE documents SET status = 'parsing', indexed_hash = NULL WHERE id = ?").run(documentId);
      db.close();

      harness = await startHarness({}, {}, dataDir);
      const job = await harness.client.getJob(upload.job.id);
      expect(job.counts.parsing).toBe(0);
      expect(job.documents[0]).toMatchObject({ status: "failed", error: { code: "JOB_CANCELLED" } });
      expect((await harness.client.listDocuments(kb.id))[0]).toMatchObject({
        status: "failed",
        error: { code: "JOB_CANCELLED" },
      });
    } finally {
      await harness.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("removes the files of concurrent re-uploads a later one superseded, and says they were superseded", async () => {
    const harness = await startHarness({ ingestConcurrency: 2 });
    try {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({ name: "Race" });
      const versions = Array.from({ length: 5 }, (_, i) => markdown(i + 1));
      const uploads = await Promise.all(
        versions.map((data) => client.uploadDocuments(kb.id, [{ name: "race.txt", data }])),
      );
      const jobs = await Promise.all(uploads.map((upload) => harness.finalJob(upload.job.id)));
      await harness.service.idle();
      const documents = await client.listDocuments(kb.id);
      expect(documents).toHaveLength(1);
      expect(documents[0]).toMatchObject({ status: "indexed" });
      const id = documents[0]!.id;
      const file = Buffer.from(
        await (await fetch(`${harness.url}/v1/knowledge-bases/${kb.id}/documents/${id}/file`)).arrayBuffer(),
      );
      expect(versions.some((version) => version.equals(file))).toBe(true);
      // Only the indexed version's file is kept.
      const blobs = readdirSync(harness.dataDir, { recursive: true, encoding: "utf8" }).filter((path) =>
        basename(path).startsWith(`${id}.`),
      );
      expect(blobs).toHaveLength(1);
      // Each upload's entry was indexed or superseded; none says "unchanged" (every content differed).
      const entries = jobs.map((job) => job.documents[0]!);
      for (const entry of entries)
        if (entry.status !== "indexed")
          expect(entry).toMatchObject({ status: "skipped", error: { code: "DOCUMENT_SUPERSEDED" } });
      expect(entries.some((entry) => entry.status === "indexed")).toBe(true);
    } finally {
      await harness.close();
    }
  });

  it("accounts for two files of the same name in one upload: the later wins, the earlier is superseded and removed", async () => {
    const harness = await startHarness();
    try {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({ name: "Same name" });
      const blobs = () =>
        readdirSync(join(harness.dataDir, "knowledge", "files"), {
          recursive: true,
          encoding: "utf8",
        }).filter((path) => basename(path).startsWith("doc_"));
      const upload = await client.uploadDocuments(kb.id, [
        { name: "same.txt", data: Buffer.from("The first file talks about kettles.") },
        { name: "same.txt", data: Buffer.from("The second file talks about teapots.") },
      ]);
      expect(upload.documents).toHaveLength(1);
      const id = upload.documents[0]!.id;
      const job = await harness.finalJob(upload.job.id);
      expect(job.counts).toMatchObject({ total: 2, indexed: 1, skipped: 1, failed: 0 });
      expect(job.documents[0]).toMatchObject({
        name: "same.txt",
        status: "skipped",
        error: { code: "DOCUMENT_SUPERSEDED" },
      });
      expect(job.documents[1]).toMatchObject({ documentId: id, status: "indexed" });
      await harness.service.idle();
      const file = await fetch(`${harness.url}/v1/knowledge-bases/${kb.id}/documents/${id}/file`);
      expect(await file.text()).toBe("The second file talks about teapots.");
      expect(blobs()).toHaveLength(1);
      expect((await client.query(kb.id, { query: "kettles" })).length).toBe(0);

      // A later part that fails leaves the document as it was before the request, with no stray file.
      const again = await client.uploadDocuments(kb.id, [
        { name: "same.txt", data: Buffer.from("A third version about mugs.") },
        { name: "same.txt", data: Buffer.alloc(0) },
      ]);
      const failed = await harness.finalJob(again.job.id);
      expect(failed.counts).toMatchObject({ total: 2, skipped: 1, failed: 1 });
      await harness.service.idle();
      expect(blobs()).toHaveLength(1);
      expect(
        await (await fetch(`${harness.url}/v1/knowledge-bases/${kb.id}/documents/${id}/file`)).text(),
      ).toBe("The second file talks about teapots.");

      await client.deleteDocument(kb.id, id);
      expect(blobs()).toEqual([]);
    } finally {
      await harness.close();
    }
  });

  it("removes the file of a part replaced by a later part of the same name that is refused on arrival", async () => {
    const harness = await startHarness({ maxUploadBytes: 64 });
    try {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({ name: "Same name, too large" });
      const upload = await client.uploadDocuments(kb.id, [
        { name: "same.txt", data: Buffer.from("Small enough.") },
        { name: "same.txt", data: Buffer.alloc(200, 0x61) },
      ]);
      const job = await harness.finalJob(upload.job.id);
      expect(job.documents.map((d) => [d.status, d.error?.code])).toEqual([
        ["skipped", "DOCUMENT_SUPERSEDED"],
        ["failed", "DOCUMENT_TOO_LARGE"],
      ]);
      await harness.service.idle();
      const files = readdirSync(join(harness.dataDir, "knowledge"), { recursive: true, encoding: "utf8" });
      expect(files.filter((path) => basename(path).startsWith("doc_"))).toEqual([]);
    } finally {
      await harness.close();
    }
  });

  it("does not let one huge file hold back another user's small file", async () => {
    const harness = await startHarness({ workerThresholdBytes: 64 * 1024, ingestConcurrency: 2 });
    try {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({ name: "Fair" });
      const pages = Array.from({ length: 600 }, (_, p) => [
        `# Section ${words(p)}`,
        `The ${words(p)} paragraph opens this page.`,
        `It closes with ${words(p + 7)}.`,
      ]);
      const big = await client.uploadDocuments(kb.id, [{ name: "big.pdf", data: pdf(pages) }]);
      const small = await client.uploadDocuments(kb.id, [{ name: "small.md", data: markdown(1) }]);
      const finished: string[] = [];
      await Promise.all([
        harness.finalJob(big.job.id).then(() => finished.push("big")),
        harness.finalJob(small.job.id).then(() => finished.push("small")),
      ]);
      expect(finished).toEqual(["small", "big"]);
      expect((await client.getJob(big.job.id)).documents[0]).toMatchObject({ status: "indexed" });
    } finally {
      await harness.close();
    }
  });

  it("schedules a huge re-upload of a small document as huge, so a small file is not held back", async () => {
    // One slot per lane: a huge file scheduled in the small files' lane would hold the small file back.
    const harness = await startHarness({ workerThresholdBytes: 64 * 1024, ingestConcurrency: 1 });
    try {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({ name: "Fair re-upload" });
      const first = await client.uploadDocuments(kb.id, [
        { name: "report.pdf", data: pdf([["A short first draft."]]) },
      ]);
      expect((await harness.finalJob(first.job.id)).status).toBe("completed");
      const pages = Array.from({ length: 600 }, (_, p) => [
        `# Section ${words(p)}`,
        `The ${words(p)} paragraph opens this page.`,
        `It closes with ${words(p + 7)}.`,
      ]);
      const big = await client.uploadDocuments(kb.id, [{ name: "report.pdf", data: pdf(pages) }]);
      const small = await client.uploadDocuments(kb.id, [{ name: "small.md", data: markdown(1) }]);
      const finished: string[] = [];
      await Promise.all([
        harness.finalJob(big.job.id).then(() => finished.push("big")),
        harness.finalJob(small.job.id).then(() => finished.push("small")),
      ]);
      expect(finished).toEqual(["small", "big"]);
      const [report] = (await client.listDocuments(kb.id)).filter((d) => d.name === "report.pdf");
      expect(report).toMatchObject({ status: "indexed" });
      expect(report!.sizeBytes).toBeGreaterThan(64 * 1024);
    } finally {
      await harness.close();
    }
  });
});
