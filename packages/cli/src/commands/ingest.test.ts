import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { type HearthError, loadConfig } from "@hearth/core";
import { createAdminAccount, openDatabase } from "@hearth/web";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type Harness,
  startEmbedServer,
  startHarness,
} from "../../../knowledge/src/testing/knowledge-harness.fixture.js";
import { ingestCommand, runIngest } from "./ingest.js";

describe("hearth ingest", () => {
  let harness: Harness;
  let folder: string;
  beforeAll(async () => {
    harness = await startHarness();
    folder = mkdtempSync(join(tmpdir(), "hearth-ingest-"));
    mkdirSync(join(folder, "docs"));
    writeFileSync(join(folder, "docs", "a.md"), "# Alpha\n\nAlpha team handles onboarding.");
    writeFileSync(join(folder, "docs", "b.txt"), "Bravo team handles payroll.");
    writeFileSync(join(folder, "docs", "empty.txt"), "");
    writeFileSync(join(folder, "docs", ".hidden.md"), "secret");
  });
  afterAll(async () => {
    await harness.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it("uploads a folder, shows progress per document and reports failures with their reasons", async () => {
    const output = new PassThrough();
    let text = "";
    output.on("data", (part) => (text += part));
    const report = await runIngest({
      knowledgeBase: "Teams",
      paths: [join(folder, "docs")],
      baseUrl: harness.url,
      create: true,
      output,
    });
    expect(report).toMatchObject({
      indexed: 2,
      skipped: 0,
      failed: [{ name: "empty.txt", code: "DOCUMENT_EMPTY" }],
    });
    expect(text).toMatch(/\[\d\/3\] indexed a\.md/);
    expect(text).toContain("2 indexed, 0 unchanged, 1 failed");
    expect(text).toContain("empty.txt: DOCUMENT_EMPTY");
    const [hit] = await harness.client.query(report.knowledgeBaseId, { query: "payroll", topK: 1 });
    expect(hit?.documentTitle).toBe("b.txt");

    const again = await runIngest({
      knowledgeBase: "Teams",
      paths: [join(folder, "docs", "a.md")],
      baseUrl: harness.url,
      output: new PassThrough(),
    });
    expect(again).toMatchObject({ knowledgeBaseId: report.knowledgeBaseId, indexed: 0, skipped: 1 });
  });

  it("uploads every file when two share a base name or a path inside their folders", async () => {
    const root = join(folder, "same");
    for (const [dir, text] of [
      ["d1", "Delta one handles invoices."],
      ["d2", "Delta two handles travel."],
    ] as const) {
      mkdirSync(join(root, dir, "sub"), { recursive: true });
      writeFileSync(join(root, dir, "x.txt"), text);
      writeFileSync(join(root, dir, "sub", "y.txt"), `${text} Sub.`);
    }
    const output = new PassThrough();
    let text = "";
    output.on("data", (part) => (text += part));
    const run = (paths: string[], stream = new PassThrough()) =>
      runIngest({ knowledgeBase: "Same names", paths, baseUrl: harness.url, create: true, output: stream });
    const files = await run([join(root, "d1", "x.txt"), join(root, "d2", "x.txt")], output);
    expect(files).toMatchObject({ indexed: 2, failed: [] });
    expect(text).toContain("2 indexed, 0 unchanged, 0 failed");
    const folders = await run([join(root, "d1"), join(root, "d2")]);
    expect(folders.failed).toEqual([]);
    const documents = await harness.client.listDocuments(folders.knowledgeBaseId);
    expect(documents.map((d) => d.name).sort()).toEqual([
      "d1__sub__y.txt",
      "d1__x.txt",
      "d2__sub__y.txt",
      "d2__x.txt",
    ]);
    // The same command again finds every document under the same name, unchanged.
    expect(await run([join(root, "d1"), join(root, "d2")])).toMatchObject({ indexed: 0, skipped: 4 });
  });

  it("names a missing knowledge base and an unreachable service clearly", async () => {
    await expect(
      runIngest({ knowledgeBase: "Nope", paths: [folder], baseUrl: harness.url, output: new PassThrough() }),
    ).rejects.toMatchObject({
      code: "KNOWLEDGE_BASE_NOT_FOUND",
    });
    await expect(
      runIngest({
        knowledgeBase: "Teams",
        paths: [folder],
        baseUrl: "http://127.0.0.1:9",
        output: new PassThrough(),
      }),
    ).rejects.toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
    });
    expect(ingestCommand().name()).toBe("ingest");
  });

  it("resolves a name several owners share only by id, saying so", async () => {
    const alice = await harness.client.createKnowledgeBase({ name: "Shared name", owner: "alice" });
    const bob = await harness.client.createKnowledgeBase({ name: "Shared name", owner: "bob" });
    const error = await runIngest({
      knowledgeBase: "Shared name",
      paths: [join(folder, "docs", "b.txt")],
      baseUrl: harness.url,
      output: new PassThrough(),
    }).catch((caught: HearthError) => caught);
    expect(error).toMatchObject({ code: "INVALID_REQUEST" });
    expect((error as HearthError).message).toContain(alice.id);
    expect((error as HearthError).message).toContain(bob.id);
    const report = await runIngest({
      knowledgeBase: bob.id,
      paths: [join(folder, "docs", "b.txt")],
      baseUrl: harness.url,
      output: new PassThrough(),
    });
    expect(report.knowledgeBaseId).toBe(bob.id);
  });

  it("keeps each redraw of the terminal bar within 80 columns for wide (Chinese) file names", async () => {
    const wide = join(folder, "wide");
    mkdirSync(wide);
    for (const [i, topic] of ["财务报销流程", "员工入职培训"].entries())
      writeFileSync(join(wide, `${topic.repeat(4)}第${i}版说明文档.txt`), `${topic}的详细说明。`);
    const output = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
    let text = "";
    output.on("data", (part) => (text += part));
    const report = await runIngest({
      knowledgeBase: "宽字符",
      paths: [wide],
      baseUrl: harness.url,
      create: true,
      output,
    });
    expect(report.indexed).toBe(2);
    // East Asian wide characters take two columns each.
    const columns = (line: string) =>
      [...line].reduce((sum, char) => sum + (/[\u3000-\u9fff\uff00-\uffef]/.test(char) ? 2 : 1), 0);
    const redraws = text.split("\n")[0]!.split("\r").filter(Boolean);
    expect(redraws.length).toBeGreaterThan(1);
    for (const redraw of redraws) expect(columns(redraw), redraw).toBeLessThanOrEqual(80);
    expect(redraws.at(-1)).toMatch(/2\/2 财务报销流程|2\/2 员工入职培训/);
  });

  it("ingests the rest of a folder and lists an entry it cannot read as a failure with its code", async () => {
    const mini = join(folder, "mini");
    mkdirSync(mini);
    writeFileSync(join(mini, "a.txt"), "hello MINI-TOKEN");
    symlinkSync("/nonexistent", join(mini, "dangling.md"));
    let text = "";
    const write = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      text += String(chunk);
      return true;
    });
    try {
      await ingestCommand().parseAsync(["mini", mini, "--create", "--url", harness.url], { from: "user" });
      expect(process.exitCode).toBe(1);
    } finally {
      write.mockRestore();
      process.exitCode = undefined;
    }
    expect(text).toContain("1 indexed, 0 unchanged, 1 failed");
    expect(text).toContain(`${join(mini, "dangling.md")}: FOLDER_UNREADABLE: Cannot read the entry: ENOENT`);
    const base = (await harness.client.listKnowledgeBases()).find((kb) => kb.name === "mini")!;
    const [hit] = await harness.client.query(base.id, { query: "MINI-TOKEN", topK: 1 });
    expect(hit?.documentTitle).toBe("a.txt");
  });

  it("checks the paths before --create makes the knowledge base", async () => {
    await expect(
      runIngest({
        knowledgeBase: "Typo",
        paths: [join(folder, "no-such-folder")],
        baseUrl: harness.url,
        create: true,
        output: new PassThrough(),
      }),
    ).rejects.toMatchObject({ code: "FOLDER_UNREADABLE" });
    // A link given by name that leads nowhere is a path typed wrong too.
    symlinkSync(join(folder, "nowhere"), join(folder, "typed-link.md"));
    await expect(
      runIngest({
        knowledgeBase: "Typo",
        paths: [join(folder, "typed-link.md"), join(folder, "docs", "b.txt")],
        baseUrl: harness.url,
        create: true,
        output: new PassThrough(),
      }),
    ).rejects.toMatchObject({ code: "FOLDER_UNREADABLE" });
    expect((await harness.client.listKnowledgeBases()).map((kb) => kb.name)).not.toContain("Typo");
  });
});

describe("hearth ingest interrupted", () => {
  it("cancels the job on the service at the first Ctrl-C, names it, exits 130; a second quits", async () => {
    const embed = await startEmbedServer({ delayMs: 60 });
    const harness = await startHarness({
      embeddingUrl: embed.url,
      embeddingBatchSize: 1,
      ingestConcurrency: 1,
    });
    const folder = mkdtempSync(join(tmpdir(), "hearth-ingest-cancel-"));
    for (let i = 0; i < 20; i++)
      writeFileSync(join(folder, `doc-${i}.txt`), `Document ${i} about topic ${i}.`);
    let text = "";
    let interrupts = 0;
    const write = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      text += String(chunk);
      if (interrupts === 0 && /\[1\/20\]/.test(text)) {
        interrupts++;
        process.emit("SIGINT");
        expect(exit).not.toHaveBeenCalled();
        process.emit("SIGINT");
        expect(exit).toHaveBeenCalledWith(130);
      }
      return true;
    });
    const exit = vi.spyOn(process, "exit").mockImplementation(() => undefined as never);
    try {
      await ingestCommand().parseAsync(
        ["Cancel me", folder, "--create", "--embedding-model", "test-embed", "--url", harness.url],
        { from: "user" },
      );
    } finally {
      write.mockRestore();
    }
    try {
      expect(process.exitCode).toBe(130);
      const jobId = text.match(/cancelled job (\S+)/)?.[1];
      expect(jobId, text).toBeDefined();
      expect((await harness.client.getJob(jobId!)).status).toBe("cancelled");
      expect(text).not.toMatch(/20 indexed/);
    } finally {
      exit.mockRestore();
      process.exitCode = undefined;
      await harness.close();
      await embed.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe("hearth ingest when the knowledge service dies (kill -9)", () => {
  it("says the run was interrupted when an event stream breaks, as when it ends", async () => {
    const embed = await startEmbedServer({ delayMs: 60 });
    const harness = await startHarness({
      embeddingUrl: embed.url,
      embeddingBatchSize: 1,
      ingestConcurrency: 1,
    });
    const folder = mkdtempSync(join(tmpdir(), "hearth-ingest-gone-"));
    for (let i = 0; i < 20; i++)
      writeFileSync(join(folder, `doc-${i}.txt`), `Document ${i} about topic ${i}.`);
    const output = new PassThrough();
    let text = "";
    output.on("data", (part) => {
      text += part;
      // Every connection the service holds drops, as when it is killed.
      if (/\[1\/20\]/.test(text)) harness.service.app.server.closeAllConnections();
    });
    try {
      const report = await runIngest({
        knowledgeBase: "Gone",
        paths: [folder],
        baseUrl: harness.url,
        create: true,
        embeddingModel: "test-embed",
        output,
      });
      expect(report.unfinished).toHaveLength(1);
      expect(text).toMatch(
        /interrupted: \d+ of 20 indexed; job \S+ is unfinished and resumes when the service starts again\n/,
      );
    } finally {
      await harness.close();
      await embed.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("reports what was uploaded, the jobs and what was not when it dies between uploads", async () => {
    // 52 files: a batch of 50, then one of 2. The service takes the first batch, then dies: the
    // first job's event stream breaks while the second batch is being sent, and that upload too.
    const folder = mkdtempSync(join(tmpdir(), "hearth-ingest-killed-"));
    const names = Array.from({ length: 52 }, (_, i) => `doc-${String(i).padStart(2, "0")}.txt`);
    for (const name of names) writeFileSync(join(folder, name), `Text of ${name}.`);
    const service = await startDyingService(() => rmSync(join(folder, "doc-51.txt")));
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    let text = "";
    const write = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      text += String(chunk);
      return true;
    });
    try {
      await ingestCommand().parseAsync(["Killed", folder, "--url", service.url], { from: "user" });
      expect(process.exitCode).toBe(1);
    } finally {
      write.mockRestore();
      process.exitCode = undefined;
    }
    try {
      expect(rejections).toEqual([]);
      expect(text).toContain(
        "interrupted: 1 of 52 indexed (1 failed); job job-1 is unfinished and resumes when the service starts again\n",
      );
      // The file that went away after it was listed fails alone.
      expect(text).toContain(
        `${join(folder, "doc-51.txt")}: FOLDER_UNREADABLE: Cannot read the entry: ENOENT`,
      );
      expect(text).toMatch(
        /\n1 of 52 files were not uploaded: UPSTREAM_UNAVAILABLE: the knowledge service at \S+ did not answer.*; run the command again to upload them\n/,
      );
      expect(text).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      process.off("unhandledRejection", onRejection);
      await service.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

/**
 * A stand-in knowledge service that dies mid-run: it answers the first upload with job-1 (after
 * `onFirstUpload`), sends that job's snapshot and one indexed document, then drops the event
 * stream's connection and, after that, the second upload's.
 */
async function startDyingService(onFirstUpload: () => void) {
  const time = new Date().toISOString();
  const counts = {
    total: 50,
    queued: 50,
    parsing: 0,
    embedding: 0,
    indexed: 0,
    skipped: 0,
    deleted: 0,
    failed: 0,
  };
  const job = {
    id: "job-1",
    knowledgeBaseId: "kb-1",
    kind: "upload",
    status: "running",
    counts,
    documents: [],
    createdAt: time,
    updatedAt: time,
    finishedAt: null,
  };
  let uploads = 0;
  let streamBroken: () => void = () => {};
  const broken = new Promise<void>((resolve) => (streamBroken = resolve));
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.url === "/v1/knowledge-bases") {
      send(200, {
        knowledgeBases: [
          {
            id: "kb-1",
            name: "Killed",
            description: "",
            embeddingModel: null,
            chunking: { maxTokens: 512, overlapTokens: 64 },
            documentCount: 0,
            createdAt: time,
            updatedAt: time,
          },
        ],
      });
    } else if (req.url === "/v1/knowledge-bases/kb-1/documents") {
      req.resume();
      req.on("end", () => {
        if (++uploads === 1) {
          onFirstUpload();
          send(202, { job, documents: [] });
        } else void broken.then(() => setTimeout(() => res.socket?.destroy(), 200));
      });
    } else if (req.url === "/v1/jobs/job-1/events") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`event: job\ndata: ${JSON.stringify({ type: "job", job })}\n\n`);
      const document = { documentId: "d-0", name: "doc-00.txt", status: "indexed" };
      res.write(
        `event: document\ndata: ${JSON.stringify({ type: "document", jobId: "job-1", document, counts })}\n\n`,
      );
      // Once the events are on their way, the connection drops.
      res.write("\n", () => {
        res.socket?.once("close", streamBroken);
        res.socket?.destroy();
      });
    } else send(404, { error: { code: "NOT_FOUND", message: req.url ?? "" } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("hearth ingest when the knowledge service stops mid-run", () => {
  it("says the run was interrupted, names the unfinished job and exits non-zero", async () => {
    const embed = await startEmbedServer({ delayMs: 60 });
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-ingest-stop-data-"));
    const harness = await startHarness(
      { embeddingUrl: embed.url, embeddingBatchSize: 1, ingestConcurrency: 1 },
      {},
      dataDir,
    );
    const folder = mkdtempSync(join(tmpdir(), "hearth-ingest-stop-"));
    for (let i = 0; i < 20; i++)
      writeFileSync(join(folder, `doc-${i}.txt`), `Document ${i} about topic ${i}.`);
    let text = "";
    let closing: Promise<void> | undefined;
    const write = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      text += String(chunk);
      // The service shuts down cleanly (SIGTERM): it ends every event stream it holds.
      if (!closing && /\[1\/20\]/.test(text)) closing = harness.service.close();
      return true;
    });
    try {
      await ingestCommand().parseAsync(
        ["Stopped", folder, "--create", "--embedding-model", "test-embed", "--url", harness.url],
        { from: "user" },
      );
    } finally {
      write.mockRestore();
    }
    try {
      expect(process.exitCode).toBe(1);
      expect(text).toMatch(
        /interrupted: \d+ of 20 indexed; job \S+ is unfinished and resumes when the service starts again\n/,
      );
      expect(text).not.toMatch(/\d+ indexed, \d+ unchanged, \d+ failed/);
    } finally {
      process.exitCode = undefined;
      await closing;
      await embed.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe("hearth ingest --owner", () => {
  let harness: Harness;
  let root: string;
  const savedDataDir = process.env.HEARTH_DATA_DIR;
  beforeAll(async () => {
    harness = await startHarness();
    root = mkdtempSync(join(tmpdir(), "hearth-ingest-owner-"));
    mkdirSync(join(root, "docs"));
    writeFileSync(join(root, "docs", "handbook.md"), "# Handbook\n\nHolidays are booked in the portal.");
    process.env.HEARTH_DATA_DIR = join(root, "data");
    await createAdminAccount(loadConfig(), { username: "alice", password: "correct horse battery" });
  });
  afterAll(async () => {
    if (savedDataDir === undefined) delete process.env.HEARTH_DATA_DIR;
    else process.env.HEARTH_DATA_DIR = savedDataDir;
    await harness.close();
    rmSync(root, { recursive: true, force: true });
  });
  const ingest = (...args: string[]) =>
    ingestCommand().parseAsync([...args, "--url", harness.url], { from: "user" });

  it("gives a base it creates to the web account, private, as the web UI would", async () => {
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await ingest("Team handbook", join(root, "docs"), "--create", "--owner", "alice");
    } finally {
      write.mockRestore();
    }
    const base = (await harness.client.listKnowledgeBases()).find((kb) => kb.name === "Team handbook")!;
    const db = await openDatabase(loadConfig());
    try {
      const alice = await db
        .selectFrom("users")
        .select("id")
        .where("username", "=", "alice")
        .executeTakeFirstOrThrow();
      const row = await db
        .selectFrom("knowledge_bases")
        .select(["owner_id", "visibility"])
        .where("id", "=", base.id)
        .executeTakeFirst();
      expect(row).toEqual({ owner_id: alice.id, visibility: "private" });
    } finally {
      await db.destroy();
    }
  });

  it("names a web account that does not exist before it creates anything", async () => {
    await expect(ingest("Orphan", join(root, "docs"), "--create", "--owner", "nobody")).rejects.toMatchObject(
      {
        code: "USER_NOT_FOUND",
      },
    );
    expect((await harness.client.listKnowledgeBases()).map((kb) => kb.name)).not.toContain("Orphan");
  });
});
