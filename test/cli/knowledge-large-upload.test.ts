/**
 * `hearth serve knowledge` with a big plain-text upload (one huge paragraph of short lines): the
 * service keeps answering health checks while the document is cleaned, chunked and indexed, and a
 * SIGTERM in the middle stops it promptly; the job completes after a restart.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KnowledgeClient } from "@hearth/contracts";
import { afterAll, describe, expect, it } from "vitest";
import { type HearthProcess, startHearth } from "../support/hearth-process.js";
import { freePort } from "../support/ports.js";

const vocabulary = ["river", "forest", "castle", "storm", "gold", "dragon", "knight", "lantern"];

/** About `bytes` of text in lines of ~130 characters with single newlines. */
function plainText(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const words = Array.from({ length: 20 }, (_, w) => vocabulary[(i * 7 + w * w + (i >> 3)) % 8]!);
    const line = `${words.join(" ")} ${i}`;
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(lines.join("\n"));
}

async function serveKnowledge(dataDir: string, port: number): Promise<HearthProcess> {
  const hearth = startHearth(["serve", "knowledge"], {
    HEARTH_DATA_DIR: dataDir,
    HEARTH_KNOWLEDGE_PORT: String(port),
  });
  await hearth.waitFor(/knowledge service ready at/, 60_000);
  return hearth;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("hearth serve knowledge with a large text upload", () => {
  const dataDirs: string[] = [];
  afterAll(() => {
    for (const dataDir of dataDirs) rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps /healthz answering within a second while the document is ingested", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-large-"));
    dataDirs.push(dataDir);
    const port = await freePort();
    const hearth = await serveKnowledge(dataDir, port);
    const url = `http://127.0.0.1:${port}`;
    const client = new KnowledgeClient({ baseUrl: url });
    try {
      const kb = await client.createKnowledgeBase({ name: "Large" });
      const upload = await client.uploadDocuments(kb.id, [{ name: "large.txt", data: plainText(2_500_000) }]);
      // Health checks on their own, every 100 ms, as a liveness probe sends them.
      let finished = false;
      const latencies: number[] = [];
      const probing = (async () => {
        while (!finished) {
          const started = performance.now();
          const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(120_000) });
          await response.arrayBuffer();
          expect(response.status).toBe(200);
          latencies.push(performance.now() - started);
          await sleep(100);
        }
      })();
      let job = await client.getJob(upload.job.id);
      while (job.status !== "completed" && job.status !== "failed") {
        await sleep(200);
        job = await client.getJob(upload.job.id);
      }
      finished = true;
      await probing;
      expect(job).toMatchObject({ status: "completed", counts: { indexed: 1, failed: 0 } });
      const [document] = await client.listDocuments(kb.id);
      expect(document!.chunkCount).toBeGreaterThan(100);
      expect(latencies.length).toBeGreaterThan(3);
      expect(Math.max(...latencies)).toBeLessThan(1_000);
    } finally {
      await hearth.kill();
    }
  }, 240_000);

  it("stops promptly on SIGTERM in the middle of one, and the job completes after a restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-large-"));
    dataDirs.push(dataDir);
    const port = await freePort();
    const first = await serveKnowledge(dataDir, port);
    const client = new KnowledgeClient({ baseUrl: `http://127.0.0.1:${port}` });
    let kbId: string;
    let jobId: string;
    try {
      const kb = await client.createKnowledgeBase({ name: "Large" });
      kbId = kb.id;
      const upload = await client.uploadDocuments(kb.id, [{ name: "large.txt", data: plainText(8_000_000) }]);
      jobId = upload.job.id;
      // Past parsing (a worker thread, which always stopped promptly) into cleaning and indexing.
      while ((await client.getJob(jobId)).documents[0]?.status !== "parsing") await sleep(20);
      await sleep(1_500);
    } catch (error) {
      await first.kill();
      throw error;
    }
    const stopping = performance.now();
    first.child.kill("SIGTERM");
    const exit = await Promise.race([first.exited, sleep(60_000).then(() => undefined)]);
    const stoppedAfter = performance.now() - stopping;
    if (!exit) await first.kill();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(stoppedAfter).toBeLessThan(5_000);

    const second = await serveKnowledge(dataDir, port);
    try {
      let job = await client.getJob(jobId);
      // Stopped in the middle: the job resumes rather than being already done.
      expect(job.status).not.toBe("completed");
      while (job.status !== "completed" && job.status !== "failed") {
        await sleep(200);
        job = await client.getJob(jobId);
      }
      expect(job).toMatchObject({ status: "completed", counts: { indexed: 1, failed: 0 } });
      expect((await client.listDocuments(kbId))[0]).toMatchObject({ status: "indexed" });
    } finally {
      await second.kill();
    }
  }, 240_000);
});
