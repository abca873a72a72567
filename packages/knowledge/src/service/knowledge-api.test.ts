import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { Writable } from "node:stream";
import { KnowledgeClientError } from "@hearth/contracts";
import { createLogger } from "@hearth/core";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawRequest } from "../../../../test/support/raw-request.js";
import { docx, pdf, zipBombDocx } from "../testing/document-fixtures.fixture.js";
import { type Harness, startEmbedServer, startHarness } from "../testing/knowledge-harness.fixture.js";

const MANUAL = `# Hearth manual

## Installation

Run the installer. The service listens on port 8083 by default.

## Backups

Backups are taken every night at 02:00 and kept for thirty days.
`;

describe("knowledge service API", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({
      maxUploadBytes: 256 * 1024,
      maxExtractedBytes: 4 * 1024 * 1024,
      workerThresholdBytes: 100 * 1024,
    });
  });
  afterAll(async () => harness.close());

  it("creates, lists, renames and deletes knowledge bases", async () => {
    const { client } = harness;
    const created = await client.createKnowledgeBase({ name: "Policies", chunking: { maxTokens: 200 } });
    expect(created).toMatchObject({
      name: "Policies",
      embeddingModel: null,
      chunking: { maxTokens: 200, overlapTokens: 64 },
      documentCount: 0,
      indexedDocumentCount: 0,
    });
    await expect(client.createKnowledgeBase({ name: "Policies" })).rejects.toMatchObject({
      status: 409,
      code: "KNOWLEDGE_BASE_NAME_TAKEN",
    });
    await expect(
      client.createKnowledgeBase({ name: "Bad", chunking: { maxTokens: 64, overlapTokens: 64 } }),
    ).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    const renamed = await client.updateKnowledgeBase(created.id, { name: "HR policies" });
    expect(renamed.name).toBe("HR policies");
    expect((await client.listKnowledgeBases()).map((kb) => kb.name)).toContain("HR policies");
    // The list says the largest file an upload may hold, for a page to refuse a larger one at once.
    const listed = await (await fetch(`${harness.url}/v1/knowledge-bases`)).json();
    expect(listed).toMatchObject({ maxUploadBytes: 256 * 1024 });
    await client.deleteKnowledgeBase(created.id);
    await expect(client.getKnowledgeBase(created.id)).rejects.toMatchObject({
      status: 404,
      code: "KNOWLEDGE_BASE_NOT_FOUND",
    });
  });

  it("reports a big document's progress within it: chunks indexed of total, written about once a second", async () => {
    const { client } = harness;
    const kb = await client.createKnowledgeBase({
      name: "Big file",
      chunking: { maxTokens: 64, overlapTokens: 0 },
    });
    const paragraphs = Array.from(
      { length: 1200 },
      (_, i) => `Paragraph ${i}: the review of item ${i} is due on Monday, 第${i}段。`,
    );
    const started = performance.now();
    const upload = await client.uploadDocuments(kb.id, [
      { name: "big.txt", data: Buffer.from(paragraphs.join("\n\n")) },
    ]);
    const events = await harness.follow(upload.job.id);
    const seconds = (performance.now() - started) / 1000;
    const [document] = await client.listDocuments(kb.id);
    expect(document).toMatchObject({ status: "indexed" });
    expect(document!.progress).toBeUndefined();
    const progress = events.flatMap((event) =>
      event.type === "document" && event.document.progress ? [event.document.progress] : [],
    );
    expect(progress[0]).toEqual({ phase: "indexing", done: 0, total: document!.chunkCount });
    expect(progress.every((entry) => entry.total === document!.chunkCount)).toBe(true);
    // Throttled: the first of the phase, then at most one a second (not one per chunk or batch).
    expect(progress.length).toBeLessThanOrEqual(2 + Math.ceil(seconds));
    expect(document!.chunkCount).toBeGreaterThan(100);
  });

  it("reports a PDF's pages read while it is parsed, then its chunks indexed", async () => {
    const { client } = harness;
    const kb = await client.createKnowledgeBase({ name: "Paged" });
    const upload = await client.uploadDocuments(kb.id, [
      { name: "three.pdf", data: pdf([["Page one."], ["Page two."], ["Page three."]]) },
    ]);
    const events = await harness.follow(upload.job.id);
    const progress = events.flatMap((event) =>
      event.type === "document" && event.document.progress ? [event.document.progress] : [],
    );
    // The first page read is said at once (the rest within the second are not written).
    expect(progress[0]).toEqual({ phase: "parsing", done: 1, total: 3 });
    expect(progress.at(-1)).toMatchObject({ phase: "indexing" });
  });

  it("ingests uploads with progress events, answers queries with citations, and serves the original file", async () => {
    const { client } = harness;
    const kb = await client.createKnowledgeBase({ name: "Manuals" });
    const report = pdf([
      ["# Annual report", "Revenue grew by twelve percent."],
      ["Headcount reached 340 people in March."],
    ]);
    const upload = await client.uploadDocuments(kb.id, [
      { name: "manual.md", data: Buffer.from(MANUAL) },
      { name: "report.pdf", data: report },
      {
        name: "rules.docx",
        data: docx([{ text: "Leave", style: "Heading1" }, { text: "Annual leave is 25 days per year." }]),
      },
    ]);
    expect(upload.documents.map((d) => d.name)).toEqual(["manual.md", "report.pdf", "rules.docx"]);
    const events = await harness.follow(upload.job.id);
    const final = events.at(-1)!;
    if (final.type === "job")
      expect(final.job.documents.map((d) => d.error ?? d.status)).toEqual(["indexed", "indexed", "indexed"]);
    expect(final).toMatchObject({
      type: "job",
      job: { status: "completed", counts: { total: 3, indexed: 3, failed: 0 } },
    });
    const statuses = events
      .filter((e) => e.type === "document")
      .map((e) => (e.type === "document" ? e.document.status : ""));
    expect(statuses).toContain("parsing");
    const documents = await client.listDocuments(kb.id);
    expect(documents.every((d) => d.status === "indexed" && d.chunkCount > 0 && d.sizeBytes > 0)).toBe(true);
    expect(documents.find((d) => d.name === "report.pdf")!.contentType).toBe("application/pdf");

    const [backup] = await client.query(kb.id, { query: "when are backups taken", topK: 3 });
    expect(backup).toMatchObject({ documentTitle: "manual.md", headingPath: ["Hearth manual", "Backups"] });
    expect(backup!.text).toContain("02:00");
    const [headcount] = await client.query(kb.id, { query: "headcount people", topK: 1 });
    expect(headcount).toMatchObject({ documentTitle: "report.pdf", page: 2 });
    const reportId = documents.find((d) => d.name === "report.pdf")!.id;
    const filtered = await client.query(kb.id, {
      query: "annual",
      topK: 5,
      filters: { documentIds: [reportId] },
    });
    expect(filtered.every((r) => r.documentId === reportId)).toBe(true);
    // The file name filters by document (metadata.title is the PDF's own title, absent here).
    const byName = await client.query(kb.id, {
      query: "annual",
      topK: 5,
      filters: { metadata: { documentName: "report.pdf" } },
    });
    expect(byName.length).toBeGreaterThan(0);
    expect(byName.every((r) => r.documentTitle === "report.pdf")).toBe(true);
    // An unknown key is refused, not answered with nothing.
    await expect(
      client.query(kb.id, { query: "annual", filters: { metadata: { bogus: "x" } } }),
    ).rejects.toMatchObject({
      code: "INVALID_REQUEST",
      message: expect.stringContaining("source, contentType, title, documentName"),
    });
    const file = await client.documentFile(kb.id, reportId);
    expect(Buffer.from(await file.arrayBuffer()).equals(Buffer.from(report))).toBe(true);
    expect(file.headers.get("content-disposition")).toMatch(/^inline/);
    // Markdown opens in the browser as text; an Office file is downloaded.
    const manualId = documents.find((d) => d.name === "manual.md")!.id;
    const manual = await client.documentFile(kb.id, manualId);
    expect(manual.headers.get("content-disposition")).toMatch(/^inline/);
    expect(manual.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await manual.text()).toBe(MANUAL);
    const rulesId = documents.find((d) => d.name === "rules.docx")!.id;
    expect((await client.documentFile(kb.id, rulesId)).headers.get("content-disposition")).toMatch(
      /^attachment/,
    );

    // Re-uploading the same bytes re-parses nothing.
    const upserts = harness.backend.upserts;
    const again = await client.uploadDocuments(kb.id, [{ name: "manual.md", data: Buffer.from(MANUAL) }]);
    const job = await harness.finalJob(again.job.id);
    expect(job.documents[0]).toMatchObject({ status: "skipped" });
    expect(harness.backend.upserts).toBe(upserts);
    expect((await client.listDocuments(kb.id)).length).toBe(3);
  });

  it("serves text documents inline as UTF-8 text (a GB18030 file decoded, an HTML page as its source)", async () => {
    const { client } = harness;
    const kb = await client.createKnowledgeBase({ name: "Texts" });
    // "你好" in GB18030 (GBK), as a Chinese Windows editor saves it.
    const gbk = Buffer.concat([
      Buffer.from("Greeting: "),
      Buffer.from([0xc4, 0xe3, 0xba, 0xc3]),
      Buffer.from("\n\nThe office opens at nine every weekday morning.\n"),
    ]);
    const page =
      "<html><body><h1>Opening hours</h1><img src=x onerror=alert(1)><p>Nine to five.</p></body></html>";
    const upload = await client.uploadDocuments(kb.id, [
      { name: "greeting.txt", data: gbk },
      { name: "hours.html", data: Buffer.from(page) },
      { name: "prices.csv", data: Buffer.from("item,price\ntea,3\ncoffee,4\n") },
    ]);
    expect((await harness.finalJob(upload.job.id)).status).toBe("completed");
    const documents = await client.listDocuments(kb.id);
    const file = (name: string) => client.documentFile(kb.id, documents.find((d) => d.name === name)!.id);
    for (const [name, text] of [
      ["greeting.txt", "Greeting: 你好\n\nThe office opens at nine every weekday morning.\n"],
      ["hours.html", page],
      ["prices.csv", "item,price\ntea,3\ncoffee,4\n"],
    ] as const) {
      const answer = await file(name);
      expect(answer.headers.get("content-type"), name).toBe("text/plain; charset=utf-8");
      expect(answer.headers.get("content-disposition"), name).toMatch(/^inline; filename\*=UTF-8''/);
      expect(answer.headers.get("content-security-policy"), name).toBe("default-src 'none'; sandbox");
      expect(answer.headers.get("x-content-type-options"), name).toBe("nosniff");
      expect(await answer.text(), name).toBe(text);
    }
  });
  it("gives a document's passages in order, the cited one among them, and none once it is deleted", async () => {
    const { client } = harness;
    const kb = await client.createKnowledgeBase({ name: "Passages" });
    const page = `<html><head><style>body { color: red; }</style></head><body><h1>Guide</h1>${Array.from(
      { length: 40 },
      (_, i) => `<p>Step ${i + 1}: turn the valve number ${i + 1} a quarter turn to the left.</p>`,
    ).join("")}</body></html>`;
    const upload = await client.uploadDocuments(kb.id, [{ name: "guide.html", data: Buffer.from(page) }]);
    expect((await harness.finalJob(upload.job.id)).status).toBe("completed");
    const [document] = await client.listDocuments(kb.id);
    const { document: described, passages } = await client.documentPassages(kb.id, document!.id);
    expect(described.name).toBe("guide.html");
    expect(passages.length).toBeGreaterThan(1);
    expect(passages.map((passage) => passage.ordinal)).toEqual(passages.map((_, i) => i));
    // The text as indexed, not the page's source: no markup, no style sheet.
    const text = passages.map((passage) => passage.text).join("\n");
    expect(text).toContain("Step 40: turn the valve number 40");
    expect(text).not.toMatch(/<p>|color: red/);
    const [hit] = await client.query(kb.id, { query: "valve number 33", topK: 1 });
    expect(passages.find((passage) => passage.id === hit!.chunkId)?.text).toBe(hit!.text);
    await client.deleteDocument(kb.id, document!.id);
    await expect(client.documentPassages(kb.id, document!.id)).rejects.toMatchObject({
      status: 404,
      code: "DOCUMENT_NOT_FOUND",
    });
  });

  it("cites full-width text as the document wrote it, and finds it by its half-width form", async () => {
    const { client } = harness;
    const kb = await client.createKnowledgeBase({ name: "报销制度" });
    const text = "报销申请提交后，财务部在５个工作日内完成审核。";
    const upload = await client.uploadDocuments(kb.id, [{ name: "报销.txt", data: Buffer.from(text) }]);
    await harness.finalJob(upload.job.id);
    const [hit] = await client.query(kb.id, { query: "5个工作日", topK: 1 });
    expect(hit).toMatchObject({ documentTitle: "报销.txt", text });
  });

  it("names a refused file as it was sent, apart from any real document", async () => {
    const { client } = harness;
    const kb = await client.createKnowledgeBase({ name: "Refused names" });
    const elf = Buffer.concat([Buffer.from("\x7fELF\x02\x01\x01"), Buffer.alloc(64)]);
    const refused = await harness.finalJob(
      (
        await client.uploadDocuments(kb.id, [
          { name: "..", data: Buffer.from("dots") },
          { name: "a\\b.txt", data: Buffer.from("backslash") },
          { name: "prog.exe", data: elf },
          { name: `${"长".repeat(256)}.txt`, data: Buffer.from("too long") },
        ])
      ).job.id,
    );
    expect(refused.documents.map((d) => [d.name, d.error?.code, d.error?.message])).toEqual([
      ["..", "DOCUMENT_NAME_INVALID", 'The file name ".." holds a path; send a plain file name'],
      [
        "a\\b.txt",
        "DOCUMENT_NAME_INVALID",
        'The file name "a\\\\b.txt" holds a path; send a plain file name',
      ],
      [
        "prog.exe",
        "DOCUMENT_UNSUPPORTED_FORMAT",
        '"prog.exe" is an ELF executable, not a supported document type',
      ],
      [
        `${"长".repeat(200)}…`,
        "DOCUMENT_NAME_TOO_LONG",
        "The file name is 260 characters long; at most 255 are allowed",
      ],
    ]);
    // A real b.txt (or unnamed) later is its own document, not merged with a refused record.
    const real = await client.uploadDocuments(kb.id, [
      { name: "b.txt", data: Buffer.from("Bravo handles payroll.") },
      { name: "unnamed", data: Buffer.from("Unnamed notes about kettles.") },
      // 96 Chinese characters, some 290 bytes: a name, not a path on disk.
      {
        name: `${"检察机关行政诉讼监督规则".repeat(8)}.md`,
        data: Buffer.from("检察机关行政诉讼监督规则全文。"),
      },
    ]);
    await harness.finalJob(real.job.id);
    const documents = await client.listDocuments(kb.id);
    expect(documents.map((d) => [d.name, d.status, d.error?.code]).sort()).toEqual([
      ["..", "failed", "DOCUMENT_NAME_INVALID"],
      ["a\\b.txt", "failed", "DOCUMENT_NAME_INVALID"],
      ["b.txt", "indexed", undefined],
      ["prog.exe", "failed", "DOCUMENT_UNSUPPORTED_FORMAT"],
      ["unnamed", "failed", "DOCUMENT_UNSUPPORTED_FORMAT"], // no extension: its own failure
      [`${"检察机关行政诉讼监督规则".repeat(8)}.md`, "indexed", undefined],
      [`${"长".repeat(200)}…`, "failed", "DOCUMENT_NAME_TOO_LONG"],
    ]);
  });

  it("keeps a name with quotes as it was chosen: a browser's %22, %0D, %0A turned back, and nothing else", async () => {
    const { client } = harness;
    const kb = await client.createKnowledgeBase({ name: "Quoted names" });
    // FormData writes the names as a browser and curl do: `"` as %22, CR as %0D, LF as %0A, `%` as is.
    const upload = await client.uploadDocuments(kb.id, [
      { name: 'Report "final".md', data: Buffer.from("The final report covers turbines.") },
      { name: 'name with 空格 & "quote".md', data: Buffer.from("Spaces and quotes in names.") },
      { name: "100%25.md", data: Buffer.from("A hundred percent of the budget.") },
      { name: "50%.md", data: Buffer.from("Half of the budget.") },
      { name: "lower%0a.md", data: Buffer.from("Lower case escapes stay as written.") },
      { name: "two\nlines.md", data: Buffer.from("A name on two lines.") },
    ]);
    expect(upload.documents.map((d) => d.name)).toEqual([
      'Report "final".md',
      'name with 空格 & "quote".md',
      "100%25.md",
      "50%.md",
      "lower%0a.md",
      "two\\u000alines.md",
    ]);
    const job = await harness.finalJob(upload.job.id);
    expect(job.documents.map((d) => [d.name, d.error?.code ?? d.status])).toEqual([
      ['Report "final".md', "indexed"],
      ['name with 空格 & "quote".md', "indexed"],
      ["100%25.md", "indexed"],
      ["50%.md", "indexed"],
      ["lower%0a.md", "indexed"],
      // A line break decoded is a control character, refused as any other.
      ["two\\u000alines.md", "DOCUMENT_NAME_INVALID"],
    ]);
    expect((await client.listDocuments(kb.id)).map((d) => d.name).sort()).toEqual(
      job.documents.map((d) => d.name).sort(),
    );
    const [hit] = await client.query(kb.id, { query: "turbines", topK: 1 });
    expect(hit?.documentTitle).toBe('Report "final".md');
  });

  it("fails each bad input alone with a clear reason, changing nothing else", async () => {
    const { client, backend } = harness;
    const kb = await client.createKnowledgeBase({ name: "Bad input" });
    const good = await client.uploadDocuments(kb.id, [{ name: "good.md", data: Buffer.from(MANUAL) }]);
    await harness.finalJob(good.job.id);
    const before = JSON.stringify(
      [...backend.chunks.values()]
        .filter((c) => c.knowledgeBaseId === kb.id)
        .map((c) => c.id)
        .sort(),
    );

    const upload = await client.uploadDocuments(kb.id, [
      { name: "empty.txt", data: new Uint8Array() },
      { name: "truncated.pdf", data: pdf([["Some text that is long enough."]]).subarray(0, 80) },
      { name: "locked.pdf", data: pdf([["Secret"]], { encrypted: true }) },
      { name: "scanned.pdf", data: pdf([[]]) },
      // A valid PDF whose page tree is empty (/Kids [] /Count 0).
      { name: "no-pages.pdf", data: pdf([]) },
      { name: "blank.txt", data: Buffer.from("\uFEFF  \n\t\n") },
      { name: "bundle.zip", data: zipSync({ "notes.txt": strToU8("Kettles boil water.") }) },
      { name: "bomb.docx", data: zipBombDocx(8 * 1024 * 1024) },
      { name: "setup.pdf", data: Buffer.concat([Buffer.from("MZ"), Buffer.alloc(4000)]) },
      { name: "huge.txt", data: Buffer.alloc(300 * 1024, 0x61) },
      { name: "../../etc/passwd", data: Buffer.from("root:x:0:0") },
      {
        name: "page.html",
        data: Buffer.from(
          `<html><body><script>steal()</script><p>${"Visible paragraph about kettles. ".repeat(10)}</p><script>more()</script></body></html>`,
        ),
      },
    ]);
    const job = await harness.finalJob(upload.job.id);
    const byName = Object.fromEntries(job.documents.map((d) => [d.name, d]));
    expect(byName["empty.txt"]?.error?.code).toBe("DOCUMENT_EMPTY");
    expect(byName["truncated.pdf"]?.error?.code).toMatch(/^DOCUMENT_(CORRUPT|NO_TEXT)$/);
    expect(byName["locked.pdf"]?.error?.code).toBe("DOCUMENT_ENCRYPTED");
    expect(byName["scanned.pdf"]?.error).toMatchObject({
      code: "DOCUMENT_NO_TEXT",
      message: expect.stringContaining("OCR"),
    });
    // Nor a PDF without pages, which is said as such, for a page to say it in its reader's language.
    expect(byName["no-pages.pdf"]?.error).toEqual({
      code: "DOCUMENT_NO_TEXT",
      message: "The PDF has no pages: there is nothing in it to index",
      details: { reason: "no-pages" },
    });
    // OCR would not help a text file.
    expect(byName["blank.txt"]?.error?.code).toBe("DOCUMENT_NO_TEXT");
    expect(byName["blank.txt"]?.error?.message).not.toContain("OCR");
    // What the file really is, for a page to say in its reader's language: on the job and the document.
    expect(byName["bundle.zip"]?.error).toEqual({
      code: "DOCUMENT_UNSUPPORTED_FORMAT",
      message: '"bundle.zip" is a ZIP archive, not a supported document type',
      details: { reason: "not-a-document", detected: "zip" },
    });
    expect(byName["bomb.docx"]?.error?.code).toBe("DOCUMENT_EXPANDS_TOO_LARGE");
    expect(byName["setup.pdf"]?.error).toMatchObject({
      code: "DOCUMENT_TYPE_MISMATCH",
      details: { detected: "windows-executable" },
    });
    const listed = Object.fromEntries((await client.listDocuments(kb.id)).map((d) => [d.name, d]));
    expect(listed["setup.pdf"]?.error).toMatchObject({ details: { detected: "windows-executable" } });
    // A failure whose error has no details lists none.
    expect(listed["empty.txt"]?.error).not.toHaveProperty("details");
    // With the limit, for a page to say it.
    expect(byName["huge.txt"]?.error).toMatchObject({
      code: "DOCUMENT_TOO_LARGE",
      details: { maxBytes: 256 * 1024 },
    });
    // The whole entry, so that a failure shows what the job recorded for it. Under load the parts after
    // huge.txt went missing (1 run in 4): @fastify/multipart 9 ended the parts when the request body had
    // drained into busboy, before busboy had handed out its last parts (fixed in 10.1).
    expect(byName["../../etc/passwd"] ?? job.documents).toMatchObject({
      status: "failed",
      error: { code: "DOCUMENT_NAME_INVALID" },
    });
    expect(byName["page.html"]?.status).toBe("indexed");
    expect(job).toMatchObject({ status: "completed", counts: { failed: 11, indexed: 1 } });

    const documents = await client.listDocuments(kb.id);
    expect(documents.find((d) => d.name === "good.md")).toMatchObject({ status: "indexed" });
    // The base counts every document, and apart the ones answers may use: the failed ones not.
    const indexed = documents.filter((d) => d.status === "indexed").length;
    expect(indexed).toBeGreaterThan(0);
    expect(await client.getKnowledgeBase(kb.id)).toMatchObject({
      documentCount: documents.length,
      indexedDocumentCount: indexed,
    });
    expect(documents.find((d) => d.name === "locked.pdf")).toMatchObject({
      status: "failed",
      error: { code: "DOCUMENT_ENCRYPTED" },
    });
    const html = [...backend.chunks.values()].filter((c) => c.documentTitle === "page.html");
    expect(html.map((c) => c.text).join(" ")).not.toMatch(/steal|more\(\)/);
    const after = JSON.stringify(
      [...backend.chunks.values()]
        .filter((c) => c.knowledgeBaseId === kb.id && c.documentTitle !== "page.html")
        .map((c) => c.id)
        .sort(),
    );
    expect(after).toBe(before);
    expect((await fetch(`${harness.url}/healthz`)).status).toBe(200);
  });

  it("rejects malformed requests with stable codes", async () => {
    const { client } = harness;
    await expect(client.query("kb_missing", { query: "x" })).rejects.toMatchObject({
      status: 404,
      code: "KNOWLEDGE_BASE_NOT_FOUND",
    });
    const kb = await client.createKnowledgeBase({ name: "Requests" });
    await expect(client.query(kb.id, { query: "" })).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    await expect(client.query(kb.id, { query: "backups", mode: "vector" })).rejects.toMatchObject({
      status: 400,
      code: "EMBEDDING_MODEL_REQUIRED",
    });
    await expect(
      client.queryMany({ knowledgeBaseIds: [kb.id], query: "backups", mode: "vector" }),
    ).rejects.toMatchObject({ status: 400, code: "EMBEDDING_MODEL_REQUIRED" });
    await expect(
      client.query(kb.id, { query: "backups", mode: "semantic" as "vector" }),
    ).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    await expect(client.getJob("job_missing")).rejects.toMatchObject({ code: "JOB_NOT_FOUND" });
    await expect(client.syncNow(kb.id)).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    const response = await fetch(`${harness.url}/v1/knowledge-bases/${kb.id}/documents`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(415);
    await expect(client.ingestUrl(kb.id, "file:///etc/passwd")).rejects.toBeInstanceOf(KnowledgeClientError);
  });

  it("keeps its folder and the uploads in it to the service's own user (0700)", async () => {
    const { client } = harness;
    const kb = await client.createKnowledgeBase({ name: "Payroll" });
    const upload = await client.uploadDocuments(kb.id, [{ name: "salaries.md", data: Buffer.from("# Pay") }]);
    await harness.follow(upload.job.id);
    for (const folder of [
      join(harness.dataDir, "knowledge"),
      join(harness.dataDir, "knowledge", "files", kb.id),
    ])
      expect(statSync(folder).mode & 0o777, folder).toBe(0o700);
  });

  it("answers no page of another site: neither through DNS rebinding (Host) nor a cross-site form (Origin)", async () => {
    const { client } = harness;
    const kb = await client.createKnowledgeBase({ name: "Private" });
    const rebound = await rawRequest(harness.url, {
      path: "/v1/knowledge-bases",
      headers: { host: "evil.example:9303" },
    });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error.code).toBe("HOST_NOT_ALLOWED");
    expect(rebound.body).not.toContain("Private");

    const form = new FormData();
    form.append("file", new Blob(["planted"]), "planted.md");
    const planted = await fetch(`${harness.url}/v1/knowledge-bases/${kb.id}/documents`, {
      method: "POST",
      headers: { origin: "http://evil.example" },
      body: form,
    });
    expect(planted.status).toBe(403);
    expect(((await planted.json()) as { error: { code: string } }).error.code).toBe("ORIGIN_NOT_ALLOWED");
    expect((await client.getKnowledgeBase(kb.id)).documentCount).toBe(0);
  });
});

describe("watched folders, embeddings and URLs", () => {
  let harness: Harness;
  let embed: Awaited<ReturnType<typeof startEmbedServer>>;
  let folder: string;
  beforeAll(async () => {
    embed = await startEmbedServer({ failFirst: 1 });
    // The test page below is served on 127.0.0.1, listed as an intranet range would be.
    harness = await startHarness({
      embeddingUrl: embed.url,
      embeddingBatchSize: 4,
      allowPrivateRanges: ["127.0.0.1/32"],
    });
    folder = mkdtempSync(join(tmpdir(), "hearth-watch-"));
  });
  afterAll(async () => {
    await harness.close();
    await embed.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it("syncs a folder incrementally: unchanged files skipped, changed chunks re-embedded, deleted files removed", async () => {
    const { client, backend } = harness;
    const paragraphs = Array.from(
      { length: 12 },
      (_, i) => `Paragraph ${i} explains topic number ${i} in plain words for the reader.`,
    );
    writeFileSync(join(folder, "guide.md"), `# Guide\n\n${paragraphs.join("\n\n")}\n`);
    writeFileSync(join(folder, "notes.txt"), "Kettles boil water. Teapots steep tea.");
    mkdirSync(join(folder, "sub"));
    writeFileSync(join(folder, "sub", "deep.md"), "# Deep\n\nA nested file about lighthouses.");
    symlinkSync("..", join(folder, "sub", "loop"));

    const kb = await client.createKnowledgeBase({
      name: "Watched",
      watchFolder: folder,
      embeddingModel: "test-embed",
      chunking: { maxTokens: 40, overlapTokens: 0 },
    });
    const first = (await client.listDocuments(kb.id)).length >= 0 ? await client.syncNow(kb.id) : undefined;
    const job = await harness.finalJob(first!.id);
    expect(job.status).toBe("completed");
    const docs = await client.listDocuments(kb.id);
    expect(docs.map((d) => d.name).sort()).toEqual(["guide.md", "notes.txt", "sub/deep.md"]);
    expect(docs.every((d) => d.status === "indexed")).toBe(true);
    expect(job.documents.find((d) => d.name === "sub/loop")?.error?.code).toBe("FOLDER_UNREADABLE");
    expect(embed.state.batches.every((size) => size <= 4)).toBe(true);
    expect(embed.state.requests).toBeGreaterThan(embed.state.batches.length); // the first 503 was retried

    const [hit] = await client.query(kb.id, { query: "lighthouses", topK: 1 });
    expect(hit?.documentTitle).toBe("sub/deep.md");

    const guideChunks = docs.find((d) => d.name === "guide.md")!.chunkCount;
    expect(guideChunks).toBeGreaterThan(3);
    const embeddedBefore = embed.state.texts;
    const unchanged = await harness.finalJob((await client.syncNow(kb.id)).id);
    expect(unchanged.counts).toMatchObject({ skipped: 3, indexed: 0 });
    expect(embed.state.texts).toBe(embeddedBefore);

    paragraphs[11] = "Paragraph 11 now says something entirely different about volcanoes.";
    writeFileSync(join(folder, "guide.md"), `# Guide\n\n${paragraphs.join("\n\n")}\n`);
    unlinkSync(join(folder, "notes.txt"));
    const changed = await harness.finalJob((await client.syncNow(kb.id)).id);
    expect(changed.documents.find((d) => d.name === "guide.md")?.status).toBe("indexed");
    expect(changed.documents.find((d) => d.name === "notes.txt")?.status).toBe("deleted");
    expect(embed.state.texts - embeddedBefore).toBeLessThanOrEqual(2);
    expect(embed.state.texts - embeddedBefore).toBeGreaterThanOrEqual(1);
    expect((await client.listDocuments(kb.id)).map((d) => d.name).sort()).toEqual([
      "guide.md",
      "sub/deep.md",
    ]);
    expect([...backend.chunks.values()].some((c) => c.text.includes("Kettles"))).toBe(false);
    expect((await client.query(kb.id, { query: "volcanoes", topK: 1 }))[0]?.documentTitle).toBe("guide.md");
    const metrics = await (await fetch(`${harness.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`hearth_knowledge_last_update_timestamp_seconds\\{[^}]*knowledge_base="${kb.id}"`),
    );
    expect(metrics).toMatch(/hearth_knowledge_base_updates_total/);
  });

  it("leaves documents and the base untouched when a sync finds nothing changed", async () => {
    const { client } = harness;
    const quiet = join(folder, "..", `${basename(folder)}-quiet`);
    mkdirSync(quiet);
    try {
      writeFileSync(join(quiet, "notes.txt"), "Kettles boil water.");
      writeFileSync(join(quiet, "empty.txt"), "");
      const kb = await client.createKnowledgeBase({ name: "Quiet folder", watchFolder: quiet });
      const first = await harness.finalJob((await client.syncNow(kb.id)).id);
      expect(first.counts).toMatchObject({ indexed: 1, failed: 1 });
      const before = {
        documents: await client.listDocuments(kb.id),
        kb: await client.getKnowledgeBase(kb.id),
      };
      // Lets the clock move on, so that a needless write would show in the timestamps.
      await new Promise((resolve) => setTimeout(resolve, 20));
      for (let tick = 0; tick < 2; tick++) {
        const again = await harness.finalJob((await client.syncNow(kb.id)).id);
        expect(again.counts).toMatchObject({ skipped: 2, indexed: 0, failed: 0 });
        // The file that failed before says why it is skipped; the unchanged one needs no reason.
        expect(again.documents.find((d) => d.name === "empty.txt")).toMatchObject({
          status: "skipped",
          error: { code: "DOCUMENT_EMPTY", message: expect.stringContaining("Unchanged since it failed") },
        });
        expect(again.documents.find((d) => d.name === "notes.txt")).toMatchObject({
          status: "skipped",
          error: null,
        });
      }
      expect(await client.listDocuments(kb.id)).toEqual(before.documents);
      expect((await client.getKnowledgeBase(kb.id)).lastIndexedAt).toBe(before.kb.lastIndexedAt);
      expect(before.documents.find((d) => d.name === "empty.txt")?.error?.code).toBe("DOCUMENT_EMPTY");
    } finally {
      rmSync(quiet, { recursive: true, force: true });
    }
  });

  it("skips a link inside a watched folder that leads into the data directory", async () => {
    const { client, dataDir } = harness;
    const leaky = join(folder, "..", `${basename(folder)}-leaky`);
    mkdirSync(leaky);
    try {
      writeFileSync(join(leaky, "notes.txt"), "Kettles boil water.");
      symlinkSync(dataDir, join(leaky, "leak"));
      const kb = await client.createKnowledgeBase({ name: "Leaky folder", watchFolder: leaky });
      const job = await harness.finalJob((await client.syncNow(kb.id)).id);
      expect((await client.listDocuments(kb.id)).map((d) => d.name)).toEqual(["notes.txt"]);
      expect(job.documents.find((d) => d.name === "leak")?.error?.code).toBe("WATCH_FOLDER_IN_DATA_DIR");
    } finally {
      rmSync(leaky, { recursive: true, force: true });
    }
  });

  it("refuses to watch the data directory, a folder inside it, one holding it, or a link to it", async () => {
    const { client, dataDir } = harness;
    const link = join(folder, "..", `${basename(folder)}-data-link`);
    symlinkSync(dataDir, link);
    try {
      for (const watchFolder of [dataDir, join(dataDir, "knowledge"), dirname(dataDir), link]) {
        await expect(
          client.createKnowledgeBase({ name: `Data ${watchFolder}`, watchFolder }),
          watchFolder,
        ).rejects.toMatchObject({ status: 400, code: "WATCH_FOLDER_IN_DATA_DIR" });
      }
      const kb = await client.createKnowledgeBase({ name: "Later pointed at the data" });
      await expect(
        client.updateKnowledgeBase(kb.id, { watchFolder: join(dataDir, "knowledge") }),
      ).rejects.toMatchObject({ status: 400, code: "WATCH_FOLDER_IN_DATA_DIR" });
      expect((await client.getKnowledgeBase(kb.id)).watchFolder).toBeNull();
      expect((await client.listKnowledgeBases()).map((base) => base.name)).not.toContain(`Data ${dataDir}`);
    } finally {
      unlinkSync(link);
    }
  });

  it("refuses a watch folder that does not exist, is not a directory or cannot be read, and reads one set later at once", async () => {
    const { client } = harness;
    const kb = await client.createKnowledgeBase({ name: "Folder checked when set" });
    const aFile = join(folder, "..", `${basename(folder)}-a-file.txt`);
    writeFileSync(aFile, "not a folder");
    const locked = join(folder, "..", `${basename(folder)}-locked`);
    mkdirSync(locked);
    chmodSync(locked, 0o000);
    // Root reads any folder: the unreadable case is checked only where permissions hold.
    const permissionsHold = process.getuid?.() !== 0;
    try {
      const cases: Array<[string, RegExp]> = [
        [join(folder, "..", "no-such-folder-here"), /does not exist/],
        [aFile, /is not a directory/],
        ...(permissionsHold ? [[locked, /cannot be read/] as [string, RegExp]] : []),
      ];
      for (const [watchFolder, why] of cases) {
        await expect(client.updateKnowledgeBase(kb.id, { watchFolder }), watchFolder).rejects.toMatchObject({
          status: 422,
          code: "FOLDER_UNREADABLE",
          message: expect.stringMatching(why),
        });
        await expect(
          client.createKnowledgeBase({ name: `Unreadable ${watchFolder}`, watchFolder }),
        ).rejects.toMatchObject({ status: 422, code: "FOLDER_UNREADABLE" });
      }
      expect((await client.getKnowledgeBase(kb.id)).watchFolder).toBeNull();
      // A folder that can be read: its sync starts with the change, not at the next scheduled one.
      const updated = await client.updateKnowledgeBase(kb.id, { watchFolder: folder });
      expect(updated.syncJobId).toEqual(expect.any(String));
      await harness.finalJob(updated.syncJobId!);
      expect((await client.listDocuments(kb.id)).length).toBeGreaterThan(0);
      // Saved again unchanged: no new sync.
      expect((await client.updateKnowledgeBase(kb.id, { watchFolder: folder })).syncJobId).toBeUndefined();
    } finally {
      chmodSync(locked, 0o700);
      rmSync(locked, { recursive: true, force: true });
      rmSync(aFile, { force: true });
    }
  });

  it("refuses a watch folder that is not an absolute path (relative, blank, padded with spaces)", async () => {
    const { client } = harness;
    const kb = await client.createKnowledgeBase({ name: "Folder named badly" });
    for (const watchFolder of ["docs/manuals", "   ", ` ${folder}`, "./x"]) {
      await expect(client.updateKnowledgeBase(kb.id, { watchFolder }), watchFolder).rejects.toMatchObject({
        status: 400,
        code: "INVALID_REQUEST",
      });
      await expect(
        client.createKnowledgeBase({ name: `Bad ${watchFolder}`, watchFolder }),
        watchFolder,
      ).rejects.toMatchObject({ status: 400, code: "INVALID_REQUEST" });
    }
    expect((await client.getKnowledgeBase(kb.id)).watchFolder).toBeNull();
  });

  it("answers in the requested retrieval mode: lexical ignores vectors, vector ignores full text", async () => {
    const { client } = harness;
    const kb = await client.createKnowledgeBase({ name: "Modes", embeddingModel: "test-embed" });
    const upload = await client.uploadDocuments(kb.id, [
      { name: "kettle.txt", data: Buffer.from("Kettles boil water quickly.") },
      { name: "teapot.txt", data: Buffer.from("Teapots steep leaves slowly.") },
    ]);
    expect((await harness.finalJob(upload.job.id)).counts.indexed).toBe(2);
    const titles = (results: Array<{ documentTitle: string }>) => results.map((r) => r.documentTitle);

    const requestsBefore = embed.state.requests;
    const lexical = await client.query(kb.id, { query: "kettles", topK: 5, mode: "lexical" });
    expect(titles(lexical)).toEqual(["kettle.txt"]);
    expect(embed.state.requests).toBe(requestsBefore); // the query was not embedded

    // Every test vector overlaps a little, so the vector path also finds the teapot.
    const hybrid = await client.query(kb.id, { query: "kettles", topK: 5 });
    expect(titles(hybrid)).toEqual(["kettle.txt", "teapot.txt"]);
    expect(embed.state.requests).toBe(requestsBefore + 1);
    const explicit = await client.queryMany({
      knowledgeBaseIds: [kb.id],
      query: "kettles",
      topK: 5,
      mode: "hybrid",
    });
    expect(titles(explicit)).toEqual(titles(hybrid));

    // "porcelain" is in neither text; only the vector path answers it.
    expect(await client.query(kb.id, { query: "porcelain", topK: 5, mode: "lexical" })).toEqual([]);
    const vector = await client.query(kb.id, { query: "kettles boil", topK: 5, mode: "vector" });
    expect(titles(vector)).toEqual(["kettle.txt", "teapot.txt"]);
    expect((await client.query(kb.id, { query: "porcelain", topK: 5, mode: "vector" })).length).toBe(2);
  });

  it("answers a hybrid query from every base when one base's query cannot be embedded, and says which", async () => {
    const { client } = harness;
    const broken = await client.createKnowledgeBase({ name: "Broken model", embeddingModel: "gone-embed" });
    const plain = await client.createKnowledgeBase({ name: "No model" });
    const first = await client.uploadDocuments(broken.id, [
      { name: "kettle-notes.txt", data: Buffer.from("Kettles whistle when the water boils.") },
    ]);
    const second = await client.uploadDocuments(plain.id, [
      { name: "kettle-care.txt", data: Buffer.from("Descale kettles every month.") },
    ]);
    expect((await harness.finalJob(first.job.id)).counts.indexed).toBe(1);
    expect((await harness.finalJob(second.job.id)).counts.indexed).toBe(1);
    // The base's embedding model goes away (removed from the model service, or misnamed).
    embed.state.missingModels.add("gone-embed");
    try {
      const answer = await client.queryManyAnswer({
        knowledgeBaseIds: [broken.id, plain.id],
        query: "kettles",
      });
      expect(answer.results.map((r) => r.documentTitle).sort()).toEqual([
        "kettle-care.txt",
        "kettle-notes.txt",
      ]);
      // Merged across bases searched differently, each first of its base's answer: relevance 1.
      expect(answer.results.map((r) => r.relevance)).toEqual([1, 1]);
      expect(answer.warnings).toEqual([
        {
          knowledgeBaseId: broken.id,
          code: "EMBEDDING_FAILED",
          message: expect.stringContaining("full text"),
        },
      ]);
      const single = await client.query(broken.id, { query: "kettles" });
      expect(single.map((r) => r.documentTitle)).toEqual(["kettle-notes.txt"]);
      // A healthy query has no warnings field.
      expect(
        await client.queryManyAnswer({ knowledgeBaseIds: [plain.id], query: "kettles" }),
      ).not.toHaveProperty("warnings");
      // Hybrid asked for by name on a base with no model: full text only, and the answer says so.
      const asked = await client.queryManyAnswer({
        knowledgeBaseIds: [plain.id],
        query: "kettles",
        mode: "hybrid",
      });
      expect(asked.results.map((r) => r.documentTitle)).toEqual(["kettle-care.txt"]);
      expect(asked.warnings).toEqual([
        {
          knowledgeBaseId: plain.id,
          code: "EMBEDDING_MODEL_REQUIRED",
          message: expect.stringContaining("full text only"),
        },
      ]);
      // Asking for vectors only still fails clearly.
      await expect(client.query(broken.id, { query: "kettles", mode: "vector" })).rejects.toMatchObject({
        status: 502,
        code: "EMBEDDING_FAILED",
      });
    } finally {
      embed.state.missingModels.delete("gone-embed");
    }
  });

  it("refuses an embedding model the model service does not have or cannot embed with, on create and on change", async () => {
    const { client } = harness;
    embed.state.missingModels.add("nomic-embed-text");
    embed.state.chatModels.add("chat-only");
    try {
      await expect(
        client.createKnowledgeBase({ name: "Missing model", embeddingModel: "nomic-embed-text" }),
      ).rejects.toMatchObject({
        status: 400,
        code: "EMBEDDING_MODEL_NOT_FOUND",
        message: expect.stringMatching(/"nomic-embed-text".*pull it.*leave embeddingModel empty/),
      });
      await expect(
        client.createKnowledgeBase({ name: "Chat model", embeddingModel: "chat-only" }),
      ).rejects.toMatchObject({
        status: 400,
        code: "EMBEDDING_MODEL_UNUSABLE",
        message: expect.stringContaining("chat-only does not embed"),
      });
      const names = (await client.listKnowledgeBases()).map((base) => base.name);
      expect(names).not.toContain("Missing model");
      expect(names).not.toContain("Chat model");

      const kb = await client.createKnowledgeBase({ name: "Model later", embeddingModel: "test-embed" });
      await expect(
        client.updateKnowledgeBase(kb.id, { embeddingModel: "nomic-embed-text" }),
      ).rejects.toMatchObject({ status: 400, code: "EMBEDDING_MODEL_NOT_FOUND" });
      expect((await client.getKnowledgeBase(kb.id)).embeddingModel).toBe("test-embed");
      // The model it already has is not asked about again, nor is none.
      embed.state.missingModels.add("test-embed");
      expect((await client.updateKnowledgeBase(kb.id, { description: "kept" })).description).toBe("kept");
      expect((await client.updateKnowledgeBase(kb.id, { embeddingModel: null })).embeddingModel).toBeNull();

      // An upload to a base whose model went away says the model is missing.
      const broken = await client.createKnowledgeBase({ name: "Model gone", embeddingModel: "gone-later" });
      embed.state.missingModels.add("gone-later");
      const upload = await client.uploadDocuments(broken.id, [
        { name: "kettle.txt", data: Buffer.from("Kettles boil water.") },
      ]);
      expect((await harness.finalJob(upload.job.id)).documents[0]?.error).toMatchObject({
        code: "EMBEDDING_FAILED",
        message: expect.stringContaining('it has no model "gone-later"'),
      });
    } finally {
      for (const model of ["nomic-embed-text", "test-embed", "gone-later"])
        embed.state.missingModels.delete(model);
      embed.state.chatModels.delete("chat-only");
    }
  });

  it("refuses an embedding model the model service's upstream will not embed with, passing on its reason", async () => {
    embed.state.refusedModels.add("cloud/embed");
    try {
      const refused = await fetch(`${harness.url}/v1/knowledge-bases`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "Cloud embeddings", embeddingModel: "cloud/embed" }),
      });
      expect(refused.status).toBe(502);
      const { error } = (await refused.json()) as {
        error: { code: string; message: string; details?: unknown };
      };
      expect(error.code).toBe("UPSTREAM_ERROR");
      expect(error.message).toContain("refused the credentials Hearth sent");
      expect(error.message).toContain("model.upstreams[].apiKey");
      // The model service is running: no hint to start it.
      expect(error.message).not.toMatch(/start the model service/i);
      expect(error.details).toEqual({ service: "model" });
    } finally {
      embed.state.refusedModels.delete("cloud/embed");
    }
  });

  it("refuses an embedding model while the model service cannot be asked, saying why", async () => {
    const down = await startHarness({ embeddingUrl: "http://127.0.0.1:9" });
    try {
      await expect(
        down.client.createKnowledgeBase({ name: "No service", embeddingModel: "test-embed" }),
      ).rejects.toMatchObject({
        status: 502,
        code: "UPSTREAM_UNAVAILABLE",
        message: expect.stringMatching(/Cannot check the embedding model "test-embed".*did not answer/),
      });
      // The service that did not answer is named, for a page to say which one.
      const refused = await fetch(`${down.url}/v1/knowledge-bases`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "Still no service", embeddingModel: "test-embed" }),
      });
      expect(((await refused.json()) as { error: { details?: unknown } }).error.details).toEqual({
        service: "model",
      });
      // A base with no model needs no model service.
      expect((await down.client.createKnowledgeBase({ name: "Full text" })).embeddingModel).toBeNull();
    } finally {
      await down.close();
    }
  });

  it("ingests a document from a URL", async () => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      response.end(
        `<html><head><title>Release notes</title></head><body><article><h1>Version 2</h1><p>${"The new version adds offline sync. ".repeat(10)}</p></article></body></html>`,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { client } = harness;
      const kb = await client.createKnowledgeBase({ name: "Web" });
      const port = (server.address() as { port: number }).port;
      const job = await harness.finalJob(
        (await client.ingestUrl(kb.id, `http://127.0.0.1:${port}/notes`)).id,
      );
      expect(job.counts.indexed).toBe(1);
      const [hit] = await client.query(kb.id, { query: "offline sync", topK: 1 });
      expect(hit).toMatchObject({ documentTitle: "notes.html", headingPath: ["Version 2"] });
    } finally {
      server.close();
    }
  });
});

/** A port nothing listens on now, for a service to be configured with and then take. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("the log of a failed document", () => {
  it("says a refused URL, the user's own failure, as a warning without a stack or the URL's credentials", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).trim().split("\n"));
        done();
      },
    });
    const harness = await startHarness(
      {},
      {},
      undefined,
      undefined,
      createLogger({ level: "info", destination }),
    );
    try {
      const kb = await harness.client.createKnowledgeBase({ name: "Reports" });
      const job = await harness.finalJob(
        (await harness.client.ingestUrl(kb.id, "http://alice:s3cret@10.1.2.3/q3.pdf?key=K3Y")).id,
      );
      // Why, in details too, kept with the document for a page to say in its reader's language.
      expect(job.documents[0]?.error).toMatchObject({
        code: "URL_FETCH_FAILED",
        details: { reason: "private-address", host: "10.1.2.3" },
      });
      // The user's other mistakes (an empty file) are answered by their code and not logged at all.
      await harness.uploadTexts(kb.id, { "empty.txt": "" });
      const logged = lines.map((line) => JSON.parse(line)).filter((line) => line.level >= 40);
      expect(logged).toEqual([
        expect.objectContaining({
          level: 40,
          code: "URL_FETCH_FAILED",
          msg: expect.stringMatching(/^document ingestion failed: .*10\.1\.2\.3/),
        }),
      ]);
      expect(logged[0]).not.toHaveProperty("err");
      expect(lines.join("\n")).not.toMatch(/s3cret|K3Y/);
    } finally {
      await harness.close();
    }
  });
});

describe("URL ingestion never reaches Hearth's own services", () => {
  const SECRET = "The vault code is 7431 and only alice may read it.";

  /** Alice's private document, and the URL of its passages on the service's own API. */
  async function alicesPassages(harness: Harness, host = "127.0.0.1"): Promise<string> {
    const alice = await harness.client.createKnowledgeBase({ name: `Alice ${Math.random()}` });
    const upload = await harness.client.uploadDocuments(alice.id, [
      { name: "vault.md", data: Buffer.from(`# Vault\n\n${SECRET}\n`) },
    ]);
    await harness.finalJob(upload.job.id);
    const [document] = await harness.client.listDocuments(alice.id);
    const port = new URL(harness.url).port;
    return `http://${host}:${port}/v1/knowledge-bases/${alice.id}/documents/${document!.id}/passages`;
  }

  /** Ingests a URL into a fresh base (bob's); returns the document's outcome and what the base holds. */
  async function ingestAsBob(harness: Harness, url: string) {
    const bob = await harness.client.createKnowledgeBase({ name: `Bob ${Math.random()}` });
    const job = await harness.finalJob((await harness.client.ingestUrl(bob.id, url)).id);
    const hits = await harness.client.query(bob.id, { query: "vault code", topK: 5 });
    return { document: job.documents[0], hits };
  }

  it("with knowledge.allowPrivateUrls, refuses the knowledge service's own port on loopback and indexes nothing", async () => {
    const harness = await startHarness({ allowPrivateUrls: true, port: await freePort() });
    try {
      for (const host of ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"]) {
        const { document, hits } = await ingestAsBob(harness, await alicesPassages(harness, host));
        expect(document?.status, host).toBe("failed");
        expect(document?.error, host).toMatchObject({ code: "URL_FETCH_FAILED" });
        expect(hits, host).toEqual([]);
      }
      // allowPrivateUrls opens private network ranges, not loopback: any other local port is refused too.
      const page = createServer((_request, response) => response.end("a page on loopback"));
      await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
      try {
        const { document } = await ingestAsBob(
          harness,
          `http://127.0.0.1:${(page.address() as { port: number }).port}/`,
        );
        expect(document?.error?.message).toContain("private or loopback");
      } finally {
        page.close();
      }
    } finally {
      await harness.close();
    }
  });

  describe("with loopback listed in knowledge.allowPrivateRanges", () => {
    let harness: Harness;
    let intranet: ReturnType<typeof createServer>;
    let intranetUrl = "";
    beforeAll(async () => {
      harness = await startHarness({ allowPrivateRanges: ["127.0.0.1/32"], port: await freePort() });
      // An intranet server (not a Hearth port): a page, and redirects wherever ?to= says.
      intranet = createServer((request, response) => {
        const to = new URL(request.url ?? "/", "http://x").searchParams.get("to");
        if (to) response.writeHead(302, { location: to }).end();
        else
          response.writeHead(200, { "content-type": "text/plain" }).end(SECRET.replace("alice", "everyone"));
      });
      await new Promise<void>((resolve) => intranet.listen(0, "127.0.0.1", resolve));
      intranetUrl = `http://127.0.0.1:${(intranet.address() as { port: number }).port}`;
    });
    afterAll(async () => {
      intranet?.close();
      await harness?.close();
    });

    it("fetches an intranet page at an allowed address", async () => {
      const { document, hits } = await ingestAsBob(harness, `${intranetUrl}/handbook`);
      expect(document?.status).toBe("indexed");
      expect(hits[0]?.text).toContain("only everyone may read it");
    });

    it("still refuses the knowledge service's own API, named directly or reached by a redirect", async () => {
      const passages = await alicesPassages(harness);
      for (const url of [passages, `${intranetUrl}/?to=${encodeURIComponent(passages)}`]) {
        const { document, hits } = await ingestAsBob(harness, url);
        expect(document?.error, url).toMatchObject({
          code: "URL_FETCH_FAILED",
          message: expect.stringContaining("one of Hearth's own services"),
        });
        expect(hits, url).toEqual([]);
      }
    });
  });
});

describe("Apache Tika", () => {
  it("parses formats without a built-in parser through the configured Tika server, and refuses them without one", async () => {
    const requests: Array<{ method: string; url: string; accept: string }> = [];
    // Replays Tika's answer to PUT /tika with Accept: text/plain (the text of the document).
    const tika = createServer((request, response) => {
      requests.push({
        method: request.method ?? "",
        url: request.url ?? "",
        accept: String(request.headers.accept),
      });
      request.resume();
      // A format Tika does not read either: 422, as Tika answers it.
      const unreadable = String(request.headers["content-disposition"]).includes("sealed.bin");
      request.on("end", () =>
        unreadable
          ? response.writeHead(422).end()
          : response
              .writeHead(200, { "content-type": "text/plain; charset=UTF-8" })
              .end("Quarterly minutes\n\nThe board approved the new warehouse lease.\n"),
      );
    });
    await new Promise<void>((resolve) => tika.listen(0, "127.0.0.1", resolve));
    const withTika = await startHarness({
      tikaUrl: `http://127.0.0.1:${(tika.address() as { port: number }).port}`,
    });
    const without = await startHarness();
    try {
      const rtf = Buffer.from("{\\rtf1\\ansi The board approved the new warehouse lease.}");
      const kb = await withTika.client.createKnowledgeBase({ name: "Tika" });
      const job = await withTika.finalJob(
        (await withTika.client.uploadDocuments(kb.id, [{ name: "minutes.rtf", data: rtf }])).job.id,
      );
      expect(job.documents[0]).toMatchObject({ status: "indexed" });
      expect(requests).toEqual([{ method: "PUT", url: "/tika", accept: "text/plain; charset=utf-8" }]);
      expect(
        (await withTika.client.query(kb.id, { query: "warehouse lease", topK: 1 }))[0]?.documentTitle,
      ).toBe("minutes.rtf");

      const plain = await without.client.createKnowledgeBase({ name: "No Tika" });
      const refused = await without.finalJob(
        (await without.client.uploadDocuments(plain.id, [{ name: "minutes.rtf", data: rtf }])).job.id,
      );
      // Tika could read it: said so (a page shows the Tika hint for this reason only).
      expect(refused.documents[0]?.error).toMatchObject({
        code: "DOCUMENT_UNSUPPORTED_FORMAT",
        details: { reason: "no-parser" },
      });
      const sealed = await withTika.finalJob(
        (await withTika.client.uploadDocuments(kb.id, [{ name: "sealed.bin", data: Buffer.from("??") }])).job
          .id,
      );
      expect(sealed.documents[0]?.error).toMatchObject({
        code: "DOCUMENT_UNSUPPORTED_FORMAT",
        details: { reason: "tika-refused" },
      });
    } finally {
      await withTika.close();
      await without.close();
      tika.close();
    }
  });
});
