import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChunkRecord, IndexBackend } from "./index-backend.js";

/**
 * Every embedding here is 4-dimensional: Elasticsearch and OpenSearch fix an index's dimensions.
 *
 * The one contract suite every index backend runs (SQLite, PostgreSQL, PGlite with pgvector,
 * Elasticsearch/OpenSearch). `open` gives a backend over an empty store (called once per suite);
 * `reset` empties it between tests when reopening is costly.
 */
export interface ContractSubject {
  open(): Promise<IndexBackend>;
  /** Closes and reopens over the same store, to check what survives a restart. */
  reopen?(backend: IndexBackend): Promise<IndexBackend>;
  /**
   * The backend computes term statistics over all knowledge bases together (Elasticsearch: one
   * index for every base), so one base's documents change another's ranking; its test is skipped.
   */
  sharedTermStatistics?: boolean;
}

const KB = "kb-contract";
const OTHER_KB = "kb-contract-other";

function unit(values: number[]): Float32Array {
  const norm = Math.hypot(...values);
  return new Float32Array(values.map((value) => value / norm));
}

let sequence = 0;
export function chunk(overrides: Partial<ChunkRecord> & { text: string }): ChunkRecord {
  sequence += 1;
  const documentId = overrides.documentId ?? "doc-1";
  const ordinal = overrides.ordinal ?? sequence;
  return {
    id: overrides.id ?? `${documentId}#${ordinal}`,
    knowledgeBaseId: KB,
    documentId,
    ordinal,
    contentHash: `hash-${sequence}`,
    documentTitle: "handbook.pdf",
    headingPath: [],
    charStart: 0,
    charEnd: overrides.text.length,
    metadata: {},
    ...overrides,
  };
}

export function describeIndexBackendContract(name: string, subject: ContractSubject): void {
  describe(`IndexBackend contract: ${name}`, () => {
    let backend: IndexBackend;

    beforeAll(async () => {
      backend = await subject.open();
    });
    afterAll(async () => {
      await backend?.close();
    });
    beforeEach(async () => {
      await backend.deleteKnowledgeBase(KB);
      await backend.deleteKnowledgeBase(OTHER_KB);
    });

    const ids = (hits: Array<{ chunk: { id: string } }>) => hits.map((hit) => hit.chunk.id);

    it("is reachable while open", async () => {
      await expect(backend.checkReachable()).resolves.toBeUndefined();
    });

    it("finds a chunk by its words and returns everything needed to cite it", async () => {
      const stored = chunk({
        id: "manual#3",
        documentId: "manual",
        ordinal: 3,
        text: "To reset the router, hold the power button for ten seconds.",
        documentTitle: "Router manual.pdf",
        page: 12,
        headingPath: ["Troubleshooting", "Reset"],
        charStart: 1040,
        charEnd: 1100,
        metadata: { lang: "en", year: 2024, public: true },
      });
      await backend.upsertChunks([stored, chunk({ text: "The warranty covers two years of repairs." })]);
      const hits = await backend.lexicalSearch({
        knowledgeBaseIds: [KB],
        text: "how do I reset my router",
        topK: 5,
      });
      expect(ids(hits)[0]).toBe("manual#3");
      const { embedding: _embedding, ...expected } = stored;
      expect(hits[0]?.chunk).toEqual(expected);
      expect(hits[0]?.score).toBeGreaterThan(0);
    });

    it("ranks by BM25: the rare query word outweighs the common one, and more occurrences rank higher", async () => {
      await backend.upsertChunks([
        chunk({ id: "a", text: "The server logs every request. The server is fast." }),
        chunk({ id: "b", text: "The server restarts after a kernel panic." }),
        chunk({ id: "c", text: "A kernel panic, then another kernel panic, brought the kernel down." }),
        chunk({ id: "d", text: "The server keeps the server clock in sync with the server pool." }),
        ...[
          "Lunch is served at noon.",
          "Backups run every night.",
          "Printers jam often.",
          "The lobby opens at eight.",
          "Parking is free.",
          "Badges expire yearly.",
        ].map((text, position) => chunk({ id: `filler-${position}`, text })),
      ]);
      const hits = await backend.lexicalSearch({ knowledgeBaseIds: [KB], text: "server kernel", topK: 10 });
      // b has both words; c has the rarer one three times; d's three "server" beat a's two.
      expect(ids(hits)).toEqual(["b", "c", "d", "a"]);
      for (let i = 1; i < hits.length; i++)
        expect(hits[i - 1]?.score).toBeGreaterThanOrEqual(hits[i]?.score ?? 0);
    });

    it("matches Chinese by word, inside longer words, and across traditional and simplified script", async () => {
      await backend.upsertChunks([
        chunk({ id: "zh-1", text: "北京大学的图书馆藏有大量古籍。" }),
        chunk({ id: "zh-2", text: "机器学习模型需要大量训练数据。" }),
        chunk({ id: "zh-3", text: "今天天气很好，我们去公园散步。" }),
      ]);
      expect(
        ids(await backend.lexicalSearch({ knowledgeBaseIds: [KB], text: "大学图书馆", topK: 3 }))[0],
      ).toBe("zh-1");
      expect(
        ids(await backend.lexicalSearch({ knowledgeBaseIds: [KB], text: "機器學習的訓練資料", topK: 3 }))[0],
      ).toBe("zh-2");
      expect(ids(await backend.lexicalSearch({ knowledgeBaseIds: [KB], text: "公園", topK: 3 }))).toEqual([
        "zh-3",
      ]);
    });

    it("ranks the chunk holding an exact code, version, e-mail or name first, above near-misses", async () => {
      await backend.upsertChunks([
        chunk({
          id: "err-a",
          text: "Troubleshooting guide v2. Error ERR-4021 now means the inode limit was reached.",
        }),
        chunk({
          id: "err-b",
          text: "Error ERR-4012 means a network timeout. The service listens on port 4021 and logs errors to err.log.",
        }),
        chunk({
          id: "ver-c",
          text: "Release notes: version 2.10.3 fixes the login bug. Version 2.1.0 added SSO.",
        }),
        chunk({
          id: "ver-d",
          text: "Version 10.2.3 of the agent and 3.2.10 of the server were released together.",
        }),
        chunk({ id: "mail-e", text: "Contact alice.smith@example.com for billing questions." }),
        chunk({
          id: "mail-f",
          text: "Alice Smith from example.com handles marketing. Email bob@example.org for billing.",
        }),
        chunk({ id: "code-g", text: "The macro \\__zhlipsum_use:nn {#1} prints the text." }),
        chunk({
          id: "code-h",
          text: "Use the zhlipsum package; use nn use use zhlipsum options as you use them.",
        }),
      ]);
      const first = async (text: string) =>
        ids(await backend.lexicalSearch({ knowledgeBaseIds: [KB], text, topK: 3 }))[0];
      expect(await first("ERR-4021")).toBe("err-a");
      expect(await first('"ERR-4021"')).toBe("err-a");
      expect(await first("what does ERR-4021 mean")).toBe("err-a");
      expect(await first("2.10.3")).toBe("ver-c");
      expect(await first("alice.smith@example.com")).toBe("mail-e");
      expect(await first("\\zhlipsum_use:nn")).toBe("code-g");
      const hits = await backend.lexicalSearch({ knowledgeBaseIds: [KB], text: "ERR-4021", topK: 3 });
      // Scores fall as ranks do, so a score-based fusion keeps the exact match on top.
      expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
      // Each hit says whether it holds the token as written, for hybrid retrieval to keep it first.
      expect(hits.map((hit) => [hit.chunk.id, hit.exact === true])).toEqual([
        ["err-a", true],
        ["err-b", false],
      ]);
      const question = await backend.lexicalSearch({
        knowledgeBaseIds: [KB],
        text: "error network",
        topK: 3,
      });
      expect(question.length).toBeGreaterThan(0);
      expect(question.some((hit) => hit.exact === true)).toBe(false);
    });

    it("ranks the chunk holding a Chinese phrase as written first, above chunks sharing its characters", async () => {
      await backend.upsertChunks([
        chunk({
          id: "zh-art",
          text: "第二十四条 人民检察院提请抗诉，应当制作《提请抗诉报告书》，在决定之日起十五日内报送上一级人民检察院。",
        }),
        chunk({ id: "zh-month", text: "当事人应当在裁定发生法律效力之日起六个月内提出监督申请。" }),
        chunk({
          id: "zh-near-a",
          text: "第二十条、第十四条和第二十五条规定的期限，依照第三十四条、第四十四条、第五十四条办理。",
        }),
        chunk({
          id: "zh-near-b",
          text: "六个工作日内作出决定，一个月内审查完毕；报告书由提请人制作，抗诉书另行制作。",
        }),
      ]);
      const exact = async (text: string) =>
        (await backend.lexicalSearch({ knowledgeBaseIds: [KB], text, topK: 4 })).map((hit) => [
          hit.chunk.id,
          hit.exact === true,
        ]);
      expect((await exact('"第二十四条"'))[0]).toEqual(["zh-art", true]);
      expect((await exact("第二十四条")).filter(([, held]) => held)).toEqual([["zh-art", true]]);
      expect((await exact("六个月内")).filter(([, held]) => held)).toEqual([["zh-month", true]]);
      expect((await exact("“提请抗诉报告书”")).filter(([, held]) => held)).toEqual([["zh-art", true]]);
      expect((await exact("抗诉")).some(([, held]) => held)).toBe(false);
    });

    it("ranks the chunk holding a phrase of Chinese with numbers or Latin letters as written first (第24条, 5G网络)", async () => {
      await backend.upsertChunks([
        chunk({
          id: "mix-art",
          text: "依据《条例》第24条规定，申请人应当在收到通知之日起十五日内提交书面材料。",
        }),
        chunk({ id: "mix-spaced", text: "第 24 条 申请材料应当真实、完整。" }),
        chunk({
          id: "mix-near",
          text: "第3条 本办法自发布之日起施行，有效期24个月。第5条 有关条款的解释由主管部门负责，第24号文件同时废止。",
        }),
        chunk({ id: "mix-5g", text: "本市支持5G网络切片在工业互联网中的应用。" }),
        chunk({ id: "mix-5g-near", text: "5G基站建设与光纤网络同步规划；5G终端接入网络前应当登记。" }),
      ]);
      const exact = async (text: string) =>
        (await backend.lexicalSearch({ knowledgeBaseIds: [KB], text, topK: 5 })).flatMap((hit) =>
          hit.exact === true ? [hit.chunk.id] : [],
        );
      expect((await exact('"第24条"')).sort()).toEqual(["mix-art", "mix-spaced"]);
      expect((await exact("第24条")).sort()).toEqual(["mix-art", "mix-spaced"]);
      expect(await exact('"5G网络"')).toEqual(["mix-5g"]);
      const hits = await backend.lexicalSearch({ knowledgeBaseIds: [KB], text: '"第24条"', topK: 5 });
      // The near-miss is still found by its words, below the chunks holding the phrase.
      expect(ids(hits).slice(2)).toContain("mix-near");
      expect(hits[1]!.score).toBeGreaterThan(hits[2]!.score);
      // A question that no chunk holds as written ranks by its words alone: as it does spaced apart.
      const scores = async (text: string) =>
        (await backend.lexicalSearch({ knowledgeBaseIds: [KB], text, topK: 5 })).map((hit) => [
          hit.chunk.id,
          hit.score,
        ]);
      expect(await scores("第24条规定的期限是多少")).toEqual(await scores("第 24 条规定的期限是多少"));
    });

    it("finds letter-spaced Chinese words (总 则) by the word and the word by its spaced form", async () => {
      await backend.upsertChunks([
        chunk({ id: "sp-1", text: "第一章 总 则" }),
        chunk({ id: "sp-2", text: "第七章 附 则" }),
        chunk({ id: "sp-3", text: "人民检察院依法对行政诉讼实行法律监督。" }),
        chunk({ id: "sp-4", text: "行政诉讼监督的范围和程序。" }),
      ]);
      const search = async (text: string) =>
        ids(await backend.lexicalSearch({ knowledgeBaseIds: [KB], text, topK: 3 }));
      expect((await search("总则"))[0]).toBe("sp-1");
      expect((await search("總則"))[0]).toBe("sp-1");
      expect((await search("附则"))[0]).toBe("sp-2");
      expect((await search("行 政 诉 讼 监 督"))[0]).toBe("sp-4");
    });

    it("finds every chunk holding a Chinese character queried alone, most occurrences and words of its own first", async () => {
      // Generated regulations text: 诉 starts words (诉讼, 诉求), ends them (抗诉, at a sentence's end
      // too), or is absent; 字 stands as a word of its own or sits inside 汉字 and 文字.
      const words = ["法院", "证据", "程序", "规定", "当事人", "检察院", "案件", "期限", "裁定", "送达"];
      const sentence = (offset: number, length: number) =>
        `${Array.from({ length }, (_, index) => words[(offset + index) % words.length]).join("")}。`;
      const chunks = [
        chunk({ id: "many", text: `诉讼请求与诉讼期限。${sentence(0, 3)}上诉人的诉求，检察院提出抗诉。` }),
        chunk({ id: "once", text: `${sentence(1, 4)}当事人参加诉讼。${sentence(5, 3)}` }),
        chunk({ id: "end", text: `${sentence(2, 5)}人民检察院依法提出抗诉。` }),
        chunk({ id: "both", text: `${sentence(1, 4)}经审查，当事人参加诉讼。` }),
        chunk({ id: "review", text: `${sentence(7, 3)}审查的期限。` }),
        chunk({ id: "word", text: `这个字很难写，一个字一个字地写。${sentence(4, 2)}` }),
        chunk({ id: "inside", text: `汉字的写法与文字。${sentence(6, 3)}` }),
        ...Array.from({ length: 8 }, (_, index) =>
          chunk({ id: `filler-${index}`, text: sentence(index, 6) }),
        ),
      ];
      await backend.upsertChunks(chunks);
      const holding = (...parts: string[]) =>
        chunks
          .filter((stored) => parts.some((part) => stored.text.includes(part)))
          .map((stored) => stored.id);
      const search = async (text: string) => {
        const hits = await backend.lexicalSearch({ knowledgeBaseIds: [KB], text, topK: 20 });
        for (let i = 1; i < hits.length; i++)
          expect(hits[i - 1]?.score).toBeGreaterThanOrEqual(hits[i]?.score ?? 0);
        return ids(hits);
      };
      const alone = await search("诉");
      expect([...alone].sort()).toEqual(holding("诉").sort());
      expect(alone[0]).toBe("many");
      // Another base's chunk holding the character is not in this base's results.
      await backend.upsertChunks([
        chunk({ id: "other-base", knowledgeBaseId: OTHER_KB, text: "上诉人的诉讼请求。" }),
      ]);
      const found = await search("诉");
      expect([...found].sort()).toEqual(holding("诉").sort());
      expect(found[0]).toBe("many");
      expect(await search("訴")).toEqual(found);
      // Mixed with a word: every chunk holding either, the one holding both above those holding one
      // as often.
      const mixed = await search("诉 审查");
      expect(mixed.indexOf("both")).toBeLessThan(mixed.indexOf("once"));
      expect(mixed.indexOf("both")).toBeLessThan(mixed.indexOf("review"));
      expect([...mixed].sort()).toEqual(holding("诉", "审查").sort());
      const character = await search("字");
      expect(character).toEqual(["word", "inside"]);
    });

    it("matches English across word forms and full-width letters", async () => {
      await backend.upsertChunks([
        chunk({ id: "en-1", text: "Indexes are rebuilt nightly." }),
        chunk({ id: "en-2", text: "Cats sleep." }),
      ]);
      expect(
        ids(await backend.lexicalSearch({ knowledgeBaseIds: [KB], text: "indexing rebuild", topK: 3 })),
      ).toEqual(["en-1"]);
      expect(ids(await backend.lexicalSearch({ knowledgeBaseIds: [KB], text: "ＣＡＴ", topK: 3 }))).toEqual([
        "en-2",
      ]);
    });

    it("returns nothing for a query with no searchable words, and treats query syntax as plain text", async () => {
      await backend.upsertChunks([chunk({ id: "q-1", text: "Plain text about NEAR and OR operators." })]);
      expect(await backend.lexicalSearch({ knowledgeBaseIds: [KB], text: "?! ... ，。", topK: 3 })).toEqual(
        [],
      );
      expect(
        ids(
          await backend.lexicalSearch({ knowledgeBaseIds: [KB], text: 'NEAR(" operators* AND -', topK: 3 }),
        ),
      ).toEqual(["q-1"]);
    });

    it("keeps knowledge bases apart and filters by document and metadata", async () => {
      await backend.upsertChunks([
        chunk({
          id: "f-1",
          documentId: "d1",
          text: "quarterly revenue report",
          metadata: { lang: "en", year: 2024, draft: false },
        }),
        chunk({
          id: "f-2",
          documentId: "d2",
          text: "quarterly revenue forecast",
          metadata: { lang: "en", year: 2025, draft: true },
        }),
        chunk({
          id: "f-3",
          documentId: "d3",
          text: "quarterly revenue summary",
          metadata: { lang: "zh", year: "2024", draft: false },
        }),
        chunk({
          id: "f-4",
          knowledgeBaseId: OTHER_KB,
          documentId: "d1",
          text: "quarterly revenue of another team",
        }),
      ]);
      const search = (
        filters: Parameters<IndexBackend["lexicalSearch"]>[0]["filters"],
        knowledgeBaseIds = [KB],
      ) =>
        backend
          .lexicalSearch({ knowledgeBaseIds, text: "quarterly revenue", topK: 10, filters })
          .then((hits) => ids(hits).sort());
      expect(await search(undefined)).toEqual(["f-1", "f-2", "f-3"]);
      expect(await search(undefined, [OTHER_KB])).toEqual(["f-4"]);
      expect(await search(undefined, [KB, OTHER_KB])).toEqual(["f-1", "f-2", "f-3", "f-4"]);
      expect(await search(undefined, [])).toEqual([]);
      expect(await search({ documentIds: ["d1", "d3"] })).toEqual(["f-1", "f-3"]);
      expect(await search({ metadata: { lang: "en" } })).toEqual(["f-1", "f-2"]);
      expect(await search({ metadata: { year: 2024 } })).toEqual(["f-1"]);
      expect(await search({ metadata: { year: "2024" } })).toEqual(["f-3"]);
      expect(await search({ metadata: { draft: true } })).toEqual(["f-2"]);
      expect(await search({ metadata: { lang: "en", draft: false }, documentIds: ["d1", "d2"] })).toEqual([
        "f-1",
      ]);
      expect(await search({ metadata: { missing: "x" } })).toEqual([]);
    });

    it.skipIf(subject.sharedTermStatistics)(
      "ranks a knowledge base by its own term statistics: another base's big manual changes nothing",
      async () => {
        const install = chunk({
          id: "install",
          documentId: "甲.txt",
          documentTitle: "甲.txt",
          text: "CTEX 宏集的安装方法：下载宏包，运行安装脚本。",
        });
        const printer = chunk({
          id: "printer",
          documentId: "乙.txt",
          documentTitle: "乙.txt",
          text: "打印机安装说明：先安装驱动程序，再安装打印机软件，安装完成后重启电脑。",
        });
        await backend.upsertChunks([install, printer]);
        const search = (knowledgeBaseIds: string[], text: string) =>
          backend.lexicalSearch({ knowledgeBaseIds, text, topK: 10 });
        const alone = ids(await search([KB], "CTEX 安装"));
        // Another user's manual: "CTEX" in nearly every chunk of the installation.
        await backend.upsertChunks(
          Array.from({ length: 40 }, (_, page) =>
            chunk({
              id: `manual-${page}`,
              knowledgeBaseId: OTHER_KB,
              documentId: "zh-ctex-manual.pdf",
              documentTitle: "zh-ctex-manual.pdf",
              page: page + 1,
              text:
                page % 8 === 0
                  ? `第 ${page} 页：排版示例与字体配置。`
                  : `CTEX 宏集第 ${page} 节：CTEX 文档类的选项与 CTEX 宏包的用法。`,
            }),
          ),
        );
        const hits = await search([KB], "CTEX 安装");
        expect(ids(hits)).toEqual(["install", "printer"]);
        expect(ids(hits)).toEqual(alone);
        const only = await search([KB], "CTEX");
        expect(ids(only)).toEqual(["install"]);
        expect(only[0]?.score).toBeGreaterThan(0.1);
        // In the manual's own base a word in most chunks still ranks them, by how often it occurs.
        const manual = await search([OTHER_KB], "CTEX");
        expect(manual).toHaveLength(10);
        for (const hit of manual) expect(hit.score).toBeGreaterThan(0.01);
      },
    );

    it("replaces a chunk by id, so its old words no longer match, and reports content hashes", async () => {
      await backend.upsertChunks([
        chunk({ id: "r-1", documentId: "rd", ordinal: 0, text: "apples and pears", contentHash: "h1" }),
      ]);
      await backend.upsertChunks([
        chunk({ id: "r-1", documentId: "rd", ordinal: 0, text: "bananas only", contentHash: "h2" }),
      ]);
      expect(await backend.lexicalSearch({ knowledgeBaseIds: [KB], text: "apples", topK: 3 })).toEqual([]);
      expect(ids(await backend.lexicalSearch({ knowledgeBaseIds: [KB], text: "bananas", topK: 3 }))).toEqual([
        "r-1",
      ]);
      expect(await backend.listChunkHashes(KB, "rd")).toEqual(new Map([["r-1", "h2"]]));
      expect(await backend.listChunkHashes(KB, "no-such-document")).toEqual(new Map());
    });

    it("lists a document's chunks in order, with what a citation shows, and no other document's", async () => {
      await backend.upsertChunks([
        chunk({
          id: "l-2",
          documentId: "ld",
          ordinal: 1,
          text: "second part",
          page: 2,
          headingPath: ["Guide", "Setup"],
          charStart: 12,
          charEnd: 23,
          embedding: unit([1, 0, 0, 0]),
        }),
        chunk({ id: "l-1", documentId: "ld", ordinal: 0, text: "first part", charStart: 0, charEnd: 10 }),
        chunk({ id: "l-other", documentId: "ld-other", ordinal: 0, text: "elsewhere" }),
      ]);
      const chunks = await backend.listChunks(KB, "ld");
      expect(chunks.map((listed) => listed.id)).toEqual(["l-1", "l-2"]);
      expect(chunks[1]).toMatchObject({
        text: "second part",
        page: 2,
        headingPath: ["Guide", "Setup"],
        charStart: 12,
        charEnd: 23,
      });
      expect(chunks[1]).not.toHaveProperty("embedding");
      expect(await backend.listChunks(KB, "no-such-document")).toEqual([]);
    });

    it("finds the nearest vectors first with cosine scores, within the filters", async () => {
      await backend.upsertChunks([
        chunk({
          id: "v-1",
          documentId: "vd1",
          text: "one",
          embedding: unit([1, 0, 0, 0]),
          metadata: { kind: "a" },
        }),
        chunk({
          id: "v-2",
          documentId: "vd1",
          text: "two",
          embedding: unit([0.8, 0.6, 0, 0]),
          metadata: { kind: "b" },
        }),
        chunk({
          id: "v-3",
          documentId: "vd2",
          text: "three",
          embedding: unit([0, 0, 1, 0]),
          metadata: { kind: "a" },
        }),
        chunk({ id: "v-4", documentId: "vd2", text: "no embedding" }),
        chunk({ id: "v-5", knowledgeBaseId: OTHER_KB, text: "other", embedding: unit([1, 0, 0, 0]) }),
      ]);
      const hits = await backend.vectorSearch({
        knowledgeBaseIds: [KB],
        vector: unit([1, 0.1, 0, 0]),
        topK: 3,
      });
      expect(ids(hits)).toEqual(["v-1", "v-2", "v-3"]);
      expect(hits[0]?.score).toBeCloseTo(0.995, 2);
      expect(hits[2]?.score).toBeCloseTo(0, 2);
      expect(hits[0]?.chunk).not.toHaveProperty("embedding");
      const filtered = await backend.vectorSearch({
        knowledgeBaseIds: [KB],
        vector: unit([1, 0, 0, 0]),
        topK: 3,
        filters: { metadata: { kind: "a" } },
      });
      expect(ids(filtered)).toEqual(["v-1", "v-3"]);
      const byDocument = await backend.vectorSearch({
        knowledgeBaseIds: [KB],
        vector: unit([1, 0, 0, 0]),
        topK: 3,
        filters: { documentIds: ["vd2"] },
      });
      expect(ids(byDocument)).toEqual(["v-3"]);
    });

    it("leaves out excluded documents inside both searches, filling topK from the other documents", async () => {
      // The excluded document holds the best chunks for both searches, the code as written too.
      await backend.upsertChunks([
        ...[0, 0.05, 0.1].map((y, n) =>
          chunk({
            id: `off-${n}`,
            documentId: "off",
            text: `Router reset ERR-7001: reset the router, step ${n}.`,
            embedding: unit([1, y, 0, 0]),
          }),
        ),
        chunk({
          id: "on-1",
          documentId: "on-a",
          text: "router reset guide",
          embedding: unit([0.8, 0.6, 0, 0]),
        }),
        chunk({ id: "on-2", documentId: "on-a", text: "router manual", embedding: unit([0.6, 0.8, 0, 0]) }),
        chunk({ id: "on-3", documentId: "on-b", text: "reset button", embedding: unit([0.4, 0.9, 0, 0]) }),
        chunk({ id: "on-4", documentId: "on-b", text: "a router", embedding: unit([0.1, 1, 0, 0]) }),
        chunk({
          id: "filler",
          documentId: "on-b",
          text: "printers jam often",
          embedding: unit([0, 0, 0, 1]),
        }),
      ]);
      const lexical = (text: string, filters?: Parameters<IndexBackend["lexicalSearch"]>[0]["filters"]) =>
        backend.lexicalSearch({ knowledgeBaseIds: [KB], text, topK: 3, ...(filters ? { filters } : {}) });
      const vector = (filters?: Parameters<IndexBackend["vectorSearch"]>[0]["filters"]) =>
        backend.vectorSearch({
          knowledgeBaseIds: [KB],
          vector: unit([1, 0, 0, 0]),
          topK: 3,
          ...(filters ? { filters } : {}),
        });
      // Without the exclusion the excluded document fills topK: dropping it afterwards would leave nothing.
      expect(ids(await lexical("router reset")).sort()).toEqual(["off-0", "off-1", "off-2"]);
      expect(ids(await vector())).toEqual(["off-0", "off-1", "off-2"]);
      expect(ids(await lexical("router reset", { excludedDocumentIds: [] })).sort()).toEqual([
        "off-0",
        "off-1",
        "off-2",
      ]);

      const off = { excludedDocumentIds: ["off"] };
      const words = await lexical("router reset", off);
      expect(words).toHaveLength(3);
      expect(ids(words)[0]).toBe("on-1");
      for (const id of ids(words)) expect(["on-1", "on-2", "on-3", "on-4"]).toContain(id);
      const code = ids(await lexical("ERR-7001 router", off));
      expect(code).toHaveLength(3);
      for (const id of code) expect(["on-1", "on-2", "on-4"]).toContain(id);
      expect(await lexical("ERR-7001", off)).toEqual([]);
      expect(ids(await vector(off))).toEqual(["on-1", "on-2", "on-3"]);

      // With the other filters, the exclusion still holds.
      const within = { documentIds: ["off", "on-b"], excludedDocumentIds: ["off"] };
      expect(ids(await lexical("router reset", within)).sort()).toEqual(["on-3", "on-4"]);
      expect(ids(await vector(within))).toEqual(["on-3", "on-4", "filler"]);
    });

    it("rejects a query vector of the wrong dimensions with INDEX_DIMENSION_MISMATCH", async () => {
      await backend.upsertChunks([chunk({ id: "dm-1", text: "x", embedding: unit([1, 0, 0, 0]) })]);
      await expect(
        backend.vectorSearch({ knowledgeBaseIds: [KB], vector: unit([1, 0, 0]), topK: 3 }),
      ).rejects.toMatchObject({
        code: "INDEX_DIMENSION_MISMATCH",
      });
    });

    it("rejects a query vector holding a value that is not a finite number, even with nothing indexed", async () => {
      await expect(
        backend.vectorSearch({
          knowledgeBaseIds: ["kb-empty"],
          vector: new Float32Array([Number.NaN, 1, 0, 0]),
          topK: 3,
        }),
      ).rejects.toMatchObject({ code: "INDEX_DIMENSION_MISMATCH" });
    });

    it("removes chunks, documents and knowledge bases from both searches", async () => {
      await backend.upsertChunks([
        chunk({ id: "x-1", documentId: "xd1", text: "delete me alpha", embedding: unit([1, 0, 0, 0]) }),
        chunk({ id: "x-2", documentId: "xd1", text: "delete me beta", embedding: unit([0.9, 0.1, 0, 0]) }),
        chunk({ id: "x-3", documentId: "xd2", text: "delete me gamma", embedding: unit([0.8, 0.2, 0, 0]) }),
        chunk({
          id: "x-4",
          knowledgeBaseId: OTHER_KB,
          documentId: "xd1",
          text: "delete me delta",
          embedding: unit([0.7, 0.3, 0, 0]),
        }),
      ]);
      const both = async () => {
        const lexical = ids(
          await backend.lexicalSearch({ knowledgeBaseIds: [KB, OTHER_KB], text: "delete", topK: 10 }),
        ).sort();
        const vector = ids(
          await backend.vectorSearch({
            knowledgeBaseIds: [KB, OTHER_KB],
            vector: unit([1, 0, 0, 0]),
            topK: 10,
          }),
        ).sort();
        expect(vector).toEqual(lexical);
        return lexical;
      };
      expect(await both()).toEqual(["x-1", "x-2", "x-3", "x-4"]);
      await backend.deleteChunks(["x-2", "no-such-chunk"]);
      expect(await both()).toEqual(["x-1", "x-3", "x-4"]);
      await backend.deleteDocument(KB, "xd1");
      expect(await both()).toEqual(["x-3", "x-4"]);
      await backend.deleteKnowledgeBase(KB);
      expect(await both()).toEqual(["x-4"]);
    });

    it("rejects a batch with a bad chunk as a whole, storing nothing of it", async () => {
      await backend.upsertChunks([
        chunk({ id: "keep", text: "kept paragraph", contentHash: "k1", documentId: "bd" }),
      ]);
      const batch = [
        chunk({ id: "keep", text: "overwritten paragraph", contentHash: "k2", documentId: "bd" }),
        chunk({ id: "bad", text: "bad", documentId: "bd", ordinal: -1 }),
      ];
      await expect(backend.upsertChunks(batch)).rejects.toMatchObject({ code: "INDEX_INVALID_CHUNK" });
      const nan = chunk({
        id: "nan",
        text: "nan",
        documentId: "bd",
        embedding: new Float32Array([Number.NaN, 1, 0, 0]),
      });
      await expect(backend.upsertChunks([nan])).rejects.toMatchObject({ code: "INDEX_DIMENSION_MISMATCH" });
      expect(await backend.listChunkHashes(KB, "bd")).toEqual(new Map([["keep", "k1"]]));
      expect(ids(await backend.lexicalSearch({ knowledgeBaseIds: [KB], text: "kept", topK: 3 }))).toEqual([
        "keep",
      ]);
    });

    it("rejects an out-of-range topK with INVALID_REQUEST", async () => {
      await expect(
        backend.lexicalSearch({ knowledgeBaseIds: [KB], text: "x", topK: 0 }),
      ).rejects.toMatchObject({ code: "INVALID_REQUEST" });
      await expect(
        backend.vectorSearch({ knowledgeBaseIds: [KB], vector: unit([1, 0, 0, 0]), topK: 100_000 }),
      ).rejects.toMatchObject({
        code: "INVALID_REQUEST",
      });
    });

    it.skipIf(subject.reopen === undefined)("keeps chunks, terms and vectors across a restart", async () => {
      await backend.upsertChunks([
        chunk({ id: "p-1", text: "persistent 持久化 text", embedding: unit([0, 1, 0, 0]) }),
        chunk({ id: "p-2", text: "持久化 存储 与 持久化 日志" }),
        chunk({ id: "p-3", text: "unrelated words" }),
      ]);
      const search = () => backend.lexicalSearch({ knowledgeBaseIds: [KB], text: "持久化 text", topK: 3 });
      const before = await search();
      backend = await (subject.reopen as NonNullable<ContractSubject["reopen"]>)(backend);
      // The same ranking and scores after a restart: term statistics survive it too.
      const after = await search();
      expect(ids(after)).toEqual(["p-1", "p-2"]);
      expect(ids(after)).toEqual(ids(before));
      for (const [rank, hit] of after.entries())
        expect(hit.score).toBeCloseTo(before[rank]?.score ?? Number.NaN, 6);
      expect(
        ids(await backend.vectorSearch({ knowledgeBaseIds: [KB], vector: unit([0, 1, 0, 0]), topK: 3 })),
      ).toEqual(["p-1"]);
    });
  });
}
