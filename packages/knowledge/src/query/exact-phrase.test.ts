import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POSTGRES_URL, postgresAvailable } from "../../../../test/support/postgres.js";
import type { IndexBackend } from "../index/index-backend.js";
import { openPostgresIndex } from "../index/postgres-index-backend.js";
import { openSqliteIndex } from "../index/sqlite-index-backend.js";
import { createRetriever } from "../retrieval/retriever.js";
import { type Harness, startHarness } from "../testing/knowledge-harness.fixture.js";

const folder = mkdtempSync(join(tmpdir(), "hearth-exact-phrase-"));
// Other test runs share the PostgreSQL database: this run uses its own table and drops it afterwards.
const tablePrefix = `hearth_phrase_test_${process.pid}`;
afterAll(async () => {
  rmSync(folder, { recursive: true, force: true });
  if (!postgresAvailable) return;
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`drop table if exists ${tablePrefix}_chunks`);
  await client.end();
});

const backends: Array<[string, boolean, () => Promise<IndexBackend>]> = [
  ["SQLite", true, () => openSqliteIndex({ path: join(folder, "index.sqlite") })],
  ["PostgreSQL", postgresAvailable, () => openPostgresIndex({ connectionString: POSTGRES_URL, tablePrefix })],
];

/** Sentences that share nothing with the queries, to give a document the length of a real clause. */
const FILLER = [
  "申请人应当如实提交有关材料，并对其真实性负责。",
  "主管部门应当自受理之日起十五个工作日内作出决定。",
  "本市行政区域内的有关单位和个人应当遵守本办法。",
  "对违反本办法的行为，任何单位和个人都有权举报。",
];
const filler = (sentences: number) =>
  Array.from({ length: sentences }, (_, index) => FILLER[index % FILLER.length]).join("");

/**
 * Per clause a regulation cites, one document holding it as written (in a longer text) and
 * near-misses holding its pieces apart, more often and in less text: word matches alone rank them first.
 */
const CORPUS = [
  { name: "条文.txt", text: `依据第24条规定，${filler(8)}` },
  {
    name: "施行.txt",
    text: "第3条 本办法自发布之日起施行，有效期24个月。第5条 有关条款的解释由主管部门负责，第24号、第25号文件同时废止，条文另行公布。",
  },
  { name: "报告.txt", text: "第十条规定：每24小时报告一次，逐条核对第二章各条款。" },
  { name: "网络.txt", text: `本市支持5G网络切片在工业互联网中的应用。${filler(8)}` },
  {
    name: "基站.txt",
    text: "5G基站建设与光纤网络、有线网络同步规划；5G终端接入网络前应当登记，网络安全另行规定。",
  },
  { name: "附件.txt", text: `具体格式详见附件 3。${filler(8)}` },
  { name: "目录.txt", text: "附件1、附件2和附件4共3页，附件另行印发，第3页附表。" },
  { name: "文献.txt", text: `参考文献按照 GB/T 7714-2015 著录。${filler(8)}` },
  { name: "标准.txt", text: "GB 50016 规定了防火间距；T 形接头见图 7714；GB 50016 的条文说明另行发布。" },
];

describe.each(backends)(
  "a phrase mixing Chinese with numbers or Latin letters, on %s",
  (_name, available, open) => {
    let harness: Harness;
    let knowledgeBaseId: string;
    const names = new Map<string, string>();

    beforeAll(async () => {
      if (!available) return;
      const backend = await open();
      harness = await startHarness({ ingestConcurrency: 1 }, {}, undefined, {
        backend,
        retriever: createRetriever(backend),
      });
      const { client } = harness;
      knowledgeBaseId = (await client.createKnowledgeBase({ name: "法规" })).id;
      const upload = await client.uploadDocuments(
        knowledgeBaseId,
        CORPUS.map(({ name, text }) => ({ name, data: Buffer.from(text) })),
      );
      expect(await harness.finalJob(upload.job.id)).toMatchObject({ status: "completed" });
      for (const document of await client.listDocuments(knowledgeBaseId))
        names.set(document.id, document.name);
    });
    afterAll(async () => harness?.close());

    /** The names of the documents a query finds, best first. */
    const found = async (query: string) =>
      (await harness.client.query(knowledgeBaseId, { query, topK: 10 })).map(
        (result) => names.get(result.documentId) as string,
      );

    it.skipIf(!available)(
      "ranks the document holding it as written first, quoted or standing alone",
      async () => {
        for (const query of ['"第24条"', "“第24条”", "第24条", "依据 第24条"]) {
          const documents = await found(query);
          expect(documents[0], query).toBe("条文.txt");
          // The near-misses are still found by their words, below it.
          expect(documents, query).toContain("施行.txt");
        }
        expect((await found('"5G网络"'))[0]).toBe("网络.txt");
        expect((await found("5G网络"))[0]).toBe("网络.txt");
        // Spaces between Chinese and a number are typesetting: "附件3" finds "附件 3".
        expect((await found('"附件3"'))[0]).toBe("附件.txt");
        expect((await found('"GB/T 7714"'))[0]).toBe("文献.txt");
      },
    );
  },
);
