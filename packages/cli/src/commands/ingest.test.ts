import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../../../knowledge/src/testing/knowledge-harness.fixture.js";
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
});
