import { describe, expect, it } from "vitest";
import { cleanDocument } from "../cleaning/clean-document.js";
import type { Block } from "../parsing/parsed-document.js";
import { chunkDocument, estimateTokens } from "./chunk-document.js";

describe("cleaning", () => {
  it("removes repeated page headers, footers and page numbers, and repairs broken lines", () => {
    const teams = ["Alpha", "Beta", "Gamma", "Delta"];
    const plans = ["hiring", "budget", "office", "travel"];
    const pages: Block[] = teams.map((team, index) => ({
      kind: "paragraph",
      page: index + 1,
      text: `ACME Corp — Confidential\nTeam ${team} met the inter-\nnational partners and\nagreed on the ${plans[index]} plan.\nPage ${index + 1} of 4`,
    }));
    const cleaned = cleanDocument({ blocks: pages, paged: true, pageCount: 4 });
    expect(cleaned.blocks.map((b) => b.text)).toEqual(
      teams.map(
        (team, index) =>
          `Team ${team} met the international partners and agreed on the ${plans[index]} plan.`,
      ),
    );
  });

  it("keeps full-width characters as written, joins Chinese lines without spaces and drops duplicate paragraphs across scripts and widths", () => {
    const cleaned = cleanDocument({
      blocks: [
        { kind: "paragraph", text: "ＡＢＣ１２３　公司\n成立于二〇二〇年。" },
        { kind: "paragraph", text: "這是一段關於資料庫軟體的重要說明文字，內容完全相同。" },
        { kind: "paragraph", text: "这是一段关于资料库软体的重要说明文字，内容完全相同。" },
        { kind: "paragraph", text: "zero\u200bwidth" },
        { kind: "paragraph", text: "报销申请提交后，财务部在５个工作日内完成审核。" },
        { kind: "paragraph", text: "报销申请提交后，财务部在5个工作日内完成审核。" },
      ],
    });
    expect(cleaned.blocks.map((b) => b.text)).toEqual([
      "ＡＢＣ１２３ 公司成立于二〇二〇年。",
      "這是一段關於資料庫軟體的重要說明文字，內容完全相同。",
      "zerowidth",
      "报销申请提交后，财务部在５个工作日内完成审核。",
    ]);
  });

  it("removes full-width page numbers and running headers as it removes half-width ones", () => {
    const topics = ["考勤制度", "报销流程", "休假规定", "安全守则"];
    const pages: Block[] = topics.map((topic, index) => ({
      kind: "paragraph",
      page: index + 1,
      text: `员工手册（２０２６版）\n本页说明${topic}。\n第 ${String.fromCharCode(0xff11 + index)} 页`,
    }));
    const cleaned = cleanDocument({ blocks: pages, paged: true, pageCount: 4 });
    expect(cleaned.blocks.map((b) => b.text)).toEqual(topics.map((topic) => `本页说明${topic}。`));
  });
});

describe("chunking", () => {
  it("keeps blocks whole, starts chunks at headings, and records heading paths and exact offsets", () => {
    const blocks: Block[] = [
      { kind: "heading", level: 1, text: "Guide" },
      { kind: "paragraph", text: "Intro paragraph." },
      { kind: "heading", level: 2, text: "Setup" },
      { kind: "code", text: "npm install\nnpm start" },
      { kind: "table", text: "a | b\n1 | 2" },
    ];
    const { text, chunks } = chunkDocument({ blocks }, { maxTokens: 100, overlapTokens: 10 });
    expect(chunks.map((c) => c.headingPath)).toEqual([["Guide"], ["Guide", "Setup"]]);
    for (const chunk of chunks) expect(text.slice(chunk.charStart, chunk.charEnd)).toBe(chunk.text);
    expect(chunks[1]!.text).toBe("Setup\n\nnpm install\nnpm start\n\na | b\n1 | 2");
  });

  it("splits long Chinese text at sentence ends within the token budget, with overlap", () => {
    const sentence = (i: number) => `第${i}条规定适用于全体员工和所有部门的日常管理工作。`;
    const text = Array.from({ length: 30 }, (_, i) => sentence(i)).join("");
    const { chunks } = chunkDocument(
      { blocks: [{ kind: "paragraph", text }] },
      { maxTokens: 80, overlapTokens: 30 },
    );
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      expect(chunk.tokenCount).toBeLessThanOrEqual(80);
      expect(chunk.text.endsWith("。")).toBe(true);
    }
    // Consecutive chunks share their boundary sentence.
    expect(chunks[1]!.charStart).toBeLessThan(chunks[0]!.charEnd);
  });

  it("starts a new chunk on each page so citations name one page", () => {
    const { chunks } = chunkDocument(
      {
        blocks: [
          { kind: "paragraph", text: "First page.", page: 1 },
          { kind: "paragraph", text: "Second page.", page: 2 },
        ],
      },
      { maxTokens: 200, overlapTokens: 20 },
    );
    expect(chunks.map((c) => [c.page, c.text])).toEqual([
      [1, "First page."],
      [2, "Second page."],
    ]);
  });

  it("cuts a sentence longer than the budget", () => {
    const { chunks } = chunkDocument(
      { blocks: [{ kind: "paragraph", text: "word ".repeat(500).trim() }] },
      { maxTokens: 50, overlapTokens: 0 },
    );
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.every((c) => c.tokenCount <= 50)).toBe(true);
    expect(estimateTokens("中文 text")).toBe(4);
  });
});
