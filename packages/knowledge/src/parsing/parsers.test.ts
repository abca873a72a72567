import { getEventListeners } from "node:events";
import { readFileSync } from "node:fs";
import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { sharedFile } from "../../../../test/support/shared-data.js";
import { chunkDocument } from "../chunking/chunk-document.js";
import {
  docx,
  odt,
  pdf,
  pptx,
  xlsx,
  xlsxWorkbook,
  zipBombDocx,
} from "../testing/document-fixtures.fixture.js";
import { detectFormat } from "./detect-format.js";
import { parseDocument } from "./parse-document.js";
import { ParserPool } from "./parser-pool.js";

/** These pathological inputs took 27 s to minutes before; now well under a second. A hang fails the test, not a slow host. */
const HANG_LIMIT_MS = 20_000;

/** Taken before this file loads the PDF engine. */
const nativeBuiltIns = { push: Array.prototype.push, parse: JSON.parse, stringify: JSON.stringify };
const options = { maxExtractedBytes: 8 * 1024 * 1024 };
const parse = (name: string, bytes: Uint8Array) => parseDocument(detectFormat(name, bytes)!, bytes, options);
const texts = (blocks: Array<{ text: string }>) => blocks.map((block) => block.text).join("\n");

describe("parsers", () => {
  it("reads DOCX headings, paragraphs and lists", async () => {
    const document = await parse(
      "a.docx",
      docx([{ text: "Safety rules", style: "Heading1" }, { text: "Wear goggles & gloves." }]),
    );
    expect(document.blocks).toEqual([
      { kind: "heading", level: 1, text: "Safety rules" },
      { kind: "paragraph", text: "Wear goggles & gloves." },
    ]);
  });

  it("reads DOCX headings whose style ids are localized, through styles.xml", async () => {
    // Word in a Chinese locale saves "heading 1" as style id "1" and "Title" as "a3".
    const styles = `<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
      <w:style w:type="paragraph" w:default="1" w:styleId="a"><w:name w:val="Normal"/></w:style>
      <w:style w:type="paragraph" w:styleId="1"><w:name w:val="heading 1"/><w:basedOn w:val="a"/><w:pPr><w:keepNext/></w:pPr></w:style>
      <w:style w:type="paragraph" w:styleId="2"><w:name w:val="heading 2"/><w:basedOn w:val="a"/></w:style>
      <w:style w:type="paragraph" w:styleId="a3"><w:name w:val="Title"/><w:basedOn w:val="a"/></w:style>
      <w:style w:type="paragraph" w:customStyle="1" w:styleId="a5"><w:name w:val="章节"/><w:basedOn w:val="2"/></w:style>
      <w:style w:type="paragraph" w:customStyle="1" w:styleId="a6"><w:name w:val="小节"/><w:basedOn w:val="a"/><w:pPr><w:outlineLvl w:val="2"/></w:pPr></w:style>
    </w:styles>`;
    const document = await parse(
      "zh.docx",
      docx(
        [
          { text: "安全手册", style: "a3" },
          { text: "第一章 总则", style: "1" },
          { text: "本手册适用于全体员工。", style: "a" },
          { text: "1.1 适用范围", style: "2" },
          { text: "1.2 术语", style: "a5" },
          { text: "1.2.1 设备", style: "a6" },
          { text: "附录", outline: 0 },
          { text: "正文。", style: "1", outline: 9 },
        ],
        { "word/styles.xml": Buffer.from(styles) },
      ),
    );
    expect(document.blocks).toEqual([
      { kind: "heading", level: 1, text: "安全手册" },
      { kind: "heading", level: 1, text: "第一章 总则" },
      { kind: "paragraph", text: "本手册适用于全体员工。" },
      { kind: "heading", level: 2, text: "1.1 适用范围" },
      { kind: "heading", level: 2, text: "1.2 术语" },
      { kind: "heading", level: 3, text: "1.2.1 设备" },
      { kind: "heading", level: 1, text: "附录" },
      { kind: "paragraph", text: "正文。" },
    ]);
  });

  it("reads DOCX footnotes and endnotes after the body, without the separator notes", async () => {
    const notes = (kind: string, texts: string[]) =>
      `<w:${kind}s xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">` +
      `<w:${kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:${kind}>` +
      `<w:${kind} w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:${kind}>` +
      texts
        .map(
          (text, i) =>
            `<w:${kind} w:id="${i + 1}"><w:p><w:pPr><w:pStyle w:val="FootnoteText"/></w:pPr><w:r><w:${kind}Ref/></w:r><w:r><w:t xml:space="preserve"> ${text}</w:t></w:r></w:p></w:${kind}>`,
        )
        .join("") +
      `</w:${kind}s>`;
    const bytes = docx([{ text: "The limit is 40 km/h." }], {
      "word/footnotes.xml": Buffer.from(notes("footnote", ["Measured at the north gate.", "Since 2021."])),
      "word/endnotes.xml": Buffer.from(notes("endnote", ["Source: site safety office."])),
    });
    const document = await parse("notes.docx", bytes);
    expect(document.blocks).toEqual([
      { kind: "paragraph", text: "The limit is 40 km/h." },
      { kind: "paragraph", text: "[1] Measured at the north gate." },
      { kind: "paragraph", text: "[2] Since 2021." },
      { kind: "paragraph", text: "[i] Source: site safety office." },
    ]);
  });

  it("reads PPTX slides as pages with their titles", async () => {
    const document = await parse(
      "deck.pptx",
      pptx([
        { title: "Q1", bullets: ["Revenue up"] },
        { title: "Q2", bullets: ["Costs down"] },
      ]),
    );
    expect(document.blocks.map((b) => [b.kind, b.page, b.text])).toEqual([
      ["heading", 1, "Q1"],
      ["paragraph", 1, "Revenue up"],
      ["heading", 2, "Q2"],
      ["paragraph", 2, "Costs down"],
    ]);
  });

  it("numbers PPTX slides in presentation order, not by file name", async () => {
    // Reordered in PowerPoint: slide2.xml is shown first, then slide3.xml, then slide1.xml.
    const document = await parse(
      "deck.pptx",
      pptx(
        [
          { title: "Agenda", bullets: ["Three topics"] },
          { title: "Welcome", bullets: ["Hello"] },
          { title: "Budget", bullets: ["Costs down"] },
        ],
        [2, 3, 1],
      ),
    );
    expect(document.blocks.filter((b) => b.kind === "heading").map((b) => [b.page, b.text])).toEqual([
      [1, "Welcome"],
      [2, "Budget"],
      [3, "Agenda"],
    ]);
    expect(document.pageCount).toBe(3);
  });

  it("reads XLSX rows as header: value lines under the sheet name", async () => {
    const document = await parse(
      "t.xlsx",
      xlsx("Prices", [
        ["Item", "Price"],
        ["Tea", "3"],
      ]),
    );
    expect(texts(document.blocks)).toBe("Prices\nItem: Tea; Price: 3");
  });

  it("places XLSX cells by their column and names sheets through their relationships", async () => {
    // Excel leaves empty cells out (B2 here), and after reordering tabs the first sheet in
    // workbook.xml (Summary) is stored as sheet2.xml.
    const document = await parse(
      "book.xlsx",
      xlsxWorkbook([
        { name: "Summary", file: 2, cells: { A1: "Total", B1: "Count", A2: "All tools", B2: "1" } },
        {
          name: "Inventory",
          file: 1,
          cells: { A1: "Item", B1: "Color", C1: "Price", A2: "Hammer", C2: "12.5", A3: "Saw", B3: "Red" },
        },
      ]),
    );
    expect(texts(document.blocks)).toBe(
      "Summary\nTotal: All tools; Count: 1\nInventory\nItem: Hammer; Price: 12.5\nItem: Saw; Color: Red",
    );
  });

  it("reads ODT headings and paragraphs", async () => {
    const document = await parse("n.odt", odt("标题", ["第一段。"]));
    expect(document.blocks).toEqual([
      { kind: "heading", level: 1, text: "标题" },
      { kind: "paragraph", text: "第一段。" },
    ]);
  });

  it("keeps HTML main content and drops scripts and navigation", async () => {
    const html = `<html><head><title>Guide</title><script>alert("x")</script></head><body><nav>Home | About</nav>
      <article><h1>Install</h1><p>${"Run the installer and follow the steps. ".repeat(12)}</p><script>document.write("evil")</script></article>
      <footer>Copyright</footer></body></html>`;
    const document = await parse("g.html", Buffer.from(html));
    const text = texts(document.blocks);
    expect(text).toContain("Run the installer");
    expect(text).not.toContain("alert");
    expect(text).not.toContain("evil");
    expect(text).not.toContain("Home | About");
    expect(document.title).toBe("Guide");
  });

  it("nests an HTML page's <h2> sections under its <h1>, as a Markdown file's ## under its #", async () => {
    // Readability made every h1 an h2 and dropped one that repeats the page title: the sections
    // under it got heading paths of their own (["管辖法院"]).
    const clause =
      "双方因本合同引起的或与本合同有关的任何争议，均应提交中国国际经济贸易仲裁委员会，按照申请仲裁时该会现行有效的仲裁规则进行仲裁。";
    const english = "Any dispute arising from this contract shall be settled by arbitration in Beijing. ";
    const paths = async (name: string, source: string) =>
      chunkDocument(await parse(name, Buffer.from(source)), { maxTokens: 400, overlapTokens: 0 }).chunks.map(
        (chunk) => chunk.headingPath,
      );
    const chinese = [["仲裁条款"], ["仲裁条款", "管辖法院"]];
    expect(await paths("仲裁条款.md", `# 仲裁条款\n\n${clause}\n\n## 管辖法院\n\n${clause}\n`)).toEqual(
      chinese,
    );
    expect(
      await paths(
        "仲裁条款.html",
        `<html><head><title>仲裁条款</title></head><body><h1>仲裁条款</h1><p>${clause}</p><h2>管辖法院</h2><p>${clause}</p></body></html>`,
      ),
    ).toEqual(chinese);
    expect(
      await paths(
        "clause.html",
        `<html><head><title>Arbitration clause</title></head><body><article><h1>Arbitration clause</h1><p>${english.repeat(4)}</p><h2>Jurisdiction</h2><p>${english.repeat(4)}</p></article></body></html>`,
      ),
    ).toEqual([["Arbitration clause"], ["Arbitration clause", "Jurisdiction"]]);
  });

  it("keeps HTML blocks, line breaks and table cells apart, and inline tags within words", async () => {
    const html = `<html><body><main><h1>Fuel prices</h1><blockquote><p>Grade 92</p><p>7.85 yuan</p></blockquote><p>Updated 2025-01-15<br>16:00</p><ul><li>The pri<b>ce</b> list<ul><li>95</li></ul></li></ul><table><tr><th>Grade</th><th>Price</th></tr><tr><td><p>92</p><p>95</p></td><td>7.85</td></tr></table></main></body></html>`;
    const document = await parse("p.html", Buffer.from(html));
    expect(texts(document.blocks)).toBe(
      "Fuel prices\nGrade 92\n7.85 yuan\nUpdated 2025-01-15\n16:00\n- The price list\n- 95\nGrade | Price\n92 95 | 7.85",
    );
  });

  it("keeps loose text in a block container as a paragraph of its own, in order", async () => {
    // A documentation page of sibling sections, read from its <main> (Readability keeps one section):
    // "Before you start:" and "Then ... a minute." were dropped and their <b> and <i> made paragraphs.
    const section = (title: string, sentence: string) =>
      `<section><h2>${title}</h2><div>Before you start: <b>switch it off</b>.<p>${sentence}</p>Then <i>wait</i> a minute.<p>${sentence}</p></div></section>`;
    const html = `<html><body><main>${section("Installing", "Installers for every platform are on the download page of the project.")}${section("Workflow", "A typical workflow starts with a schematic and ends with fabrication files.")}</main></body></html>`;
    const document = await parse("guide.html", Buffer.from(html));
    expect(document.blocks.slice(0, 5)).toEqual([
      { kind: "heading", level: 2, text: "Installing" },
      { kind: "paragraph", text: "Before you start: switch it off." },
      { kind: "paragraph", text: "Installers for every platform are on the download page of the project." },
      { kind: "paragraph", text: "Then wait a minute." },
      { kind: "paragraph", text: "Installers for every platform are on the download page of the project." },
    ]);
    expect(document.blocks).toHaveLength(10);
  });

  it("reads an HTML page that has no <body>, and a bare fragment", async () => {
    // linkedom leaves such content outside the body it makes up: these came out empty.
    const page = await parse(
      "notes.html",
      Buffer.from(
        `<html><head><title>Notes</title></head><article><h2>Release notes</h2><p>Version 2 ships on Monday.</p></article></html>`,
      ),
    );
    expect(page.title).toBe("Notes");
    expect(texts(page.blocks)).toBe("Release notes\nVersion 2 ships on Monday.");
    const fragment = await parse(
      "steps.html",
      Buffer.from(`<h2>Steps</h2><p>Open the lid.</p><p>Lift the tray.</p>`),
    );
    expect(fragment.blocks).toEqual([
      { kind: "heading", level: 2, text: "Steps" },
      { kind: "paragraph", text: "Open the lid." },
      { kind: "paragraph", text: "Lift the tray." },
    ]);
  });

  it(
    "reads HTML nested 2,000 and 50,000 deep with its text kept, without holding up ingestion",
    async () => {
      // Readability took 52 s on the first and over 100 s on the second: an upload held up ingestion.
      for (const depth of [2_000, 50_000]) {
        const html = `<html><body><h1>Deep page</h1><p>Intro</p>${"<div>".repeat(depth)}<p>Deep text</p>${"</div>".repeat(depth)}<p>After</p></body></html>`;
        const document = await parse("deep.html", Buffer.from(html));
        expect(texts(document.blocks)).toBe("Deep page\nIntro\nDeep text\nAfter");
      }
    },
    HANG_LIMIT_MS,
  );

  it(
    "reads nested tables, a nested link menu and long blank runs without holding up ingestion",
    async () => {
      // Each of these was read once per enclosing table, list or blank: seconds to minutes.
      const table = `${"<table><tr><td>cell ".repeat(150)}${"<b>y</b> ".repeat(400)}${"</td></tr></table>".repeat(150)}`;
      const menu = `${'<ul><li><a href="/">Menu</a> '.repeat(200)}${'<a href="/">link</a> '.repeat(400)}${"</li></ul>".repeat(200)}`;
      const html = `<html><body><p>Intro</p>${table}${menu}<pre>a${" ".repeat(100_000)}b\n\n</pre></body></html>`;
      const document = await parse("nested.html", Buffer.from(html));
      expect(document.blocks.map((block) => block.kind)).toEqual(["paragraph", "table", "code"]);
      // A table inside a cell is read in that cell, once, not again row by row.
      expect(document.blocks[1]!.text.match(/cell/g)).toHaveLength(150);
      expect(document.blocks[2]!.text).toBe(`a${" ".repeat(100_000)}b`);
    },
    HANG_LIMIT_MS,
  );

  it("keeps every sibling section of a documentation page with its heading", async () => {
    // Asciidoctor-style pages: sibling div.sect1 sections, where Readability keeps only one.
    const section = (n: number, title: string, sentence: string, paragraphs: number) =>
      `<div class="sect1"><h2 id="s${n}">${n}. ${title}</h2><div class="sectionbody">${Array.from(
        { length: paragraphs },
        (_, i) => `<div class="paragraph"><p>${sentence} Paragraph ${i + 1} of section ${n}.</p></div>`,
      ).join("")}</div></div>`;
    const html = `<html><head><title>Manual</title></head><body><div id="header"><h1>Manual</h1></div>
      <nav><a href="/">Home</a> | <a href="/docs">Docs</a></nav>
      ${section(1, "Welcome", "Welcome to the tool, a free suite for designing circuit boards.", 2)}
      ${section(2, "Installing", "Installers for every platform are on the download page of the project.", 3)}
      ${section(3, "Workflow", "A typical workflow starts with a schematic and ends with fabrication files.", 6)}
      ${section(4, "Further reading", "The community forum and the chat are good places to ask questions.", 2)}
      <footer>Last updated 2023</footer></body></html>`;
    const document = await parse("manual.html", Buffer.from(html));
    const headings = document.blocks.filter((b) => b.kind === "heading").map((b) => b.text);
    expect(headings).toEqual(["Manual", "1. Welcome", "2. Installing", "3. Workflow", "4. Further reading"]);
    const text = texts(document.blocks);
    expect(text).toContain("Welcome to the tool, a free suite");
    expect(text).toContain("Installers for every platform");
    expect(text).toContain("The community forum and the chat");
    expect(text).not.toContain("Home | Docs");
    expect(text).not.toContain("Last updated");
  });

  it("reads Markdown structure, CSV rows and JSON values", async () => {
    const md = await parse(
      "r.md",
      Buffer.from("# Title\n\nIntro text.\n\n```js\nconst a = 1;\n```\n\n- one\n- two\n"),
    );
    expect(md.blocks.map((b) => b.kind)).toEqual(["heading", "paragraph", "code", "list"]);
    const csv = await parse("p.csv", Buffer.from('name,city\n"Li, Wei",Beijing\n'));
    expect(texts(csv.blocks)).toBe("name: Li, Wei; city: Beijing");
    const json = await parse("c.json", Buffer.from('{"server":{"port":8080}}'));
    expect(texts(json.blocks)).toBe("server.port: 8080");
  });

  it("reads GB18030 text files", async () => {
    const gbk = Buffer.from([0xc4, 0xe3, 0xba, 0xc3]); // 你好
    expect(texts((await parse("a.txt", gbk)).blocks)).toBe("你好");
  });

  it("tells Big5 (traditional) from GB18030/GBK (simplified) text, Markdown and CSV files, long and short", async () => {
    const traditional = [
      "這是一份中文文件，負責人為諸葛亮，專案代號青龍偃月。",
      "請於下週一前完成審查，並將結果寄給專案小組。",
      "如有任何問題，請與我們聯絡。",
    ].join("\n\n");
    const simplified = [
      "这是一份中文文件，负责人为诸葛亮，项目代号青龙偃月。",
      "请在下周一前完成审查，并将结果发给项目小组。",
      "如有任何问题，请与我们联系。",
    ].join("\n\n");
    const cases: Array<[string, "big5" | "gbk", string]> = [
      ["notes.txt", "big5", traditional],
      ["notes.txt", "gbk", simplified],
      ["notes.txt", "gbk", traditional], // GBK holds traditional characters too
      ["short.txt", "big5", "你好，這是測試檔案。"],
      ["short.txt", "gbk", "你好，这是测试文件。"],
      ["readme.md", "big5", traditional],
      ["readme.md", "gbk", simplified],
    ];
    for (const [name, encoding, text] of cases) {
      const blocks = (await parse(name, legacyEncode(text, encoding))).blocks;
      expect(texts(blocks), `${name} in ${encoding}`).toBe(text.replaceAll("\n\n", "\n"));
    }
    const big5Csv = await parse("people.csv", legacyEncode("姓名,城市\n李偉,臺北\n王芳,高雄\n", "big5"));
    expect(texts(big5Csv.blocks)).toBe("姓名: 李偉; 城市: 臺北\n姓名: 王芳; 城市: 高雄");
    const gbkCsv = await parse("people.csv", legacyEncode("姓名,城市\n李伟,北京\n王芳,上海\n", "gbk"));
    expect(texts(gbkCsv.blocks)).toBe("姓名: 李伟; 城市: 北京\n姓名: 王芳; 城市: 上海");
    const html = await parse(
      "page.html",
      legacyEncode(`<html><body><p>${traditional}</p></body></html>`, "big5"),
    );
    expect(texts(html.blocks)).toContain("專案代號青龍偃月");
  });

  it("says a Japanese (Shift_JIS, EUC-JP) or Korean (EUC-KR) text's encoding is not supported, though its bytes are valid GB18030", async () => {
    const cases: Array<[string, "shift_jis" | "euc-jp" | "euc-kr"]> = [
      [
        "これは日本語の文書です。担当者は山田太郎で、プロジェクトのコードネームは青龍です。よろしくお願いいたします。",
        "shift_jis",
      ],
      // Reads as Big5 hanzi, a fifth of them common ones.
      [
        "本日の会議では、来年度の予算案について議論しました。担当者は山田太郎で、資料は来週までに共有される予定です。ご不明な点があれば、お気軽にお問い合わせください。",
        "euc-jp",
      ],
      // Reads as Big5 hanzi, 43% of them common, but as GB18030 mostly kana: Japanese, not Chinese.
      ["今日はとても暑いので、冷たいものが食べたいです。", "euc-jp"],
      // Reads as GB18030: its kana as kana, its kanji as rarer hanzi.
      [
        "東京都は、新しい交通計画を発表した。計画では、二〇三〇年までに駅周辺の道路を整備し、自転車の利用を促進する。",
        "euc-jp",
      ],
      // Its hangul reads as GB18030 hanzi, over a tenth of them common ones.
      [
        "이 문서는 한국어로 작성되었습니다. 담당자는 김철수이며, 프로젝트 코드명은 청룡입니다. 검토 후 결과를 알려 주시기 바랍니다.",
        "euc-kr",
      ],
    ];
    for (const [text, encoding] of cases) {
      const bytes = legacyEncode(text, encoding);
      expect(() => new TextDecoder("gb18030", { fatal: true }).decode(bytes), encoding).not.toThrow();
      await expect(parse("memo.txt", bytes), `${text} in ${encoding}`).rejects.toMatchObject({
        code: "DOCUMENT_CORRUPT",
        message: expect.stringMatching(/encoding is not supported.*GB18030.*Big5.*Save the file as UTF-8/),
      });
    }
  });

  it("says a Windows-1252 text or CSV file's encoding is not supported and names the supported ones", async () => {
    const latin1 = Buffer.from("name,note\nCaf\xe9 cr\xe8me,na\xefve r\xe9sum\xe9\n", "latin1");
    for (const name of ["notes.txt", "menu.csv"]) {
      await expect(parse(name, latin1)).rejects.toMatchObject({
        code: "DOCUMENT_CORRUPT",
        message: expect.stringMatching(
          /encoding is not supported.*UTF-8, UTF-16 .*GB18030.*Save the file as UTF-8/,
        ),
      });
    }
  });

  it("reads a PDF text layer with page numbers", async () => {
    const document = await parse(
      "x.pdf",
      pdf([["# Chapter One", "Hello from page one."], ["Second page text."]]),
    );
    expect(document.blocks.map((b) => [b.kind, b.page, b.text])).toEqual([
      ["heading", 1, "Chapter One"],
      ["paragraph", 1, "Hello from page one."],
      ["paragraph", 2, "Second page text."],
    ]);
  });

  it("puts PDF lines in reading order: a header drawn last first, columns kept whole", async () => {
    const left = ["Left column starts here and", "goes on down the page."];
    const right = ["Right column text begins", "and ends at the bottom."];
    const document = await parse(
      "order.pdf",
      pdf([
        [
          { text: left[0]!, x: 72, y: 700 },
          { text: left[1]!, x: 72, y: 686 },
          { text: right[0]!, x: 320, y: 700 },
          { text: right[1]!, x: 320, y: 686 },
          { text: "Quarterly Report", x: 72, y: 750 },
        ],
      ]),
    );
    expect(document.blocks).toEqual([
      { kind: "paragraph", text: "Quarterly Report", page: 1 },
      { kind: "paragraph", text: left.join("\n"), page: 1 },
      { kind: "paragraph", text: right.join("\n"), page: 1 },
    ]);
  });

  it("takes a PDF font size scaled by the text matrix (Tf 1) as the size it shows", async () => {
    const document = await parse(
      "scaled.pdf",
      pdf(
        [
          [
            "# Delivery memo",
            "The goods were delivered on January 23,",
            "2023. A total of 3 trucks were used.",
          ],
        ],
        {
          scaledFont: true,
        },
      ),
    );
    expect(document.blocks).toEqual([
      { kind: "heading", level: 1, text: "Delivery memo", page: 1 },
      {
        kind: "paragraph",
        text: "The goods were delivered on January 23,\n2023. A total of 3 trucks were used.",
        page: 1,
      },
    ]);
  });

  it("finds the body font size of a PDF page with a figure's many tiny labels", async () => {
    const body = [
      "The plot of inhibitor concentration over surface coverage versus",
      "concentration gives a straight line as shown in the figure below",
      "and the strong correlation reveals that the adsorption follows",
      "the Langmuir isotherm for every concentration that was tested",
    ];
    // A chart's axis ticks: one short line each, many more lines than the body has.
    const ticks = Array.from({ length: 30 }, (_, i) => ({
      text: String((i % 6) * 2),
      x: 100 + (i % 10) * 40,
      y: 300 - Math.floor(i / 10) * 60,
      size: 6,
    }));
    const document = await parse(
      "figure.pdf",
      pdf([
        [
          { text: "Results", y: 740, size: 18 },
          ...body.map((text, i) => ({ text, y: 710 - i * 14, size: 11 })),
          { text: "2 4 6 8 10", x: 100, y: 420, size: 14 },
          ...ticks,
        ],
      ]),
    );
    const headings = document.blocks.filter((block) => block.kind === "heading").map((block) => block.text);
    expect(headings).toEqual(["Results"]);
    expect(document.blocks).toContainEqual({ kind: "paragraph", text: body.join("\n"), page: 1 });
  });

  it("reads Chinese PDF text set in a non-embedded font with a predefined CMap", async () => {
    const document = await parse("zh.pdf", pdf([["中文知识库", "第二行文字"]], { chineseFont: true }));
    expect(document.blocks).toEqual([{ kind: "paragraph", text: "中文知识库\n第二行文字", page: 1 }]);
  });

  it("leaves the thread's native push and JSON in place once the PDF engine is loaded", async () => {
    // pdf.js's bundled core-js swapped them for JavaScript versions that slowed the whole thread
    // (and that core-js made print as "[native code]", hence the identity check); PDFium must not.
    await parse("x.pdf", pdf([["text"]]));
    expect(Array.prototype.push).toBe(nativeBuiltIns.push);
    expect(JSON.parse).toBe(nativeBuiltIns.parse);
    expect(JSON.stringify).toBe(nativeBuiltIns.stringify);
  });

  it("refuses bad input with a stable code", async () => {
    await expect(parse("x.pdf", pdf([["text"]], { encrypted: true }))).rejects.toMatchObject({
      code: "DOCUMENT_ENCRYPTED",
    });
    const whole = pdf([["Some text here."]]);
    await expect(parse("x.pdf", whole.subarray(0, 60))).rejects.toMatchObject({ code: "DOCUMENT_CORRUPT" });
    await expect(parse("bomb.docx", zipBombDocx(options.maxExtractedBytes * 2))).rejects.toMatchObject({
      code: "DOCUMENT_EXPANDS_TOO_LARGE",
    });
    expect(() => detectFormat("setup.pdf", Buffer.from("MZ\x90\x00\x03\x00\x00\x00"))).toThrow(
      expect.objectContaining({
        code: "DOCUMENT_TYPE_MISMATCH",
        details: { detected: "windows-executable" },
      }),
    );
    expect(() => detectFormat("run.docx", Buffer.from("\x7fELF\x02\x01\x01"))).toThrow(
      expect.objectContaining({ code: "DOCUMENT_TYPE_MISMATCH", details: { detected: "elf-executable" } }),
    );
    // Not a document at all, rather than a document in disguise: what it is, for a page to say.
    expect(() => detectFormat("prog.exe", Buffer.from("\x7fELF\x02\x01\x01"))).toThrow(
      expect.objectContaining({
        code: "DOCUMENT_UNSUPPORTED_FORMAT",
        message: '"prog.exe" is an ELF executable, not a supported document type',
        details: { reason: "not-a-document", detected: "elf-executable" },
      }),
    );
    expect(() => detectFormat("bad.exe", Buffer.from("MZ\x90\x00\x03\x00\x00\x00"))).toThrow(
      expect.objectContaining({ details: { reason: "not-a-document", detected: "windows-executable" } }),
    );
    // Bytes that are not what the name says, and not a kind it knows either: nothing is guessed.
    expect(() => detectFormat("odd.pdf", Buffer.from("just some words"))).toThrow(
      expect.objectContaining({ code: "DOCUMENT_TYPE_MISMATCH", details: undefined }),
    );
    await expect(parse("notes.txt", Buffer.from("text\u0000binary"))).rejects.toMatchObject({
      code: "DOCUMENT_TYPE_MISMATCH",
      details: { detected: "binary" },
    });
    await expect(parse("bad.json", Buffer.from("{oops"))).rejects.toMatchObject({ code: "DOCUMENT_CORRUPT" });
  });

  it("refuses a ZIP archive as not a document, and takes documents in ZIP containers for Tika", () => {
    const archive = zipSync({ "notes.txt": strToU8("Kettles boil water.") });
    for (const name of ["bundle.zip", "bundle.jar", "bundle"])
      expect(() => detectFormat(name, archive), name).toThrow(
        expect.objectContaining({
          code: "DOCUMENT_UNSUPPORTED_FORMAT",
          message: `"${name}" is a ZIP archive, not a supported document type`,
          details: { reason: "not-a-document", detected: "zip" },
        }),
      );
    // An office document renamed .zip is an archive under its own name too.
    expect(() => detectFormat("report.zip", docx([{ text: "Hi" }]))).toThrow(
      expect.objectContaining({ code: "DOCUMENT_UNSUPPORTED_FORMAT" }),
    );
    // ZIP-based documents without a built-in parser are left to Tika.
    const epub = zipSync({
      mimetype: strToU8("application/epub+zip"),
      "META-INF/container.xml": strToU8("<c/>"),
    });
    expect(detectFormat("book.epub", epub)).toBeUndefined();
    const ods = zipSync({ mimetype: strToU8("application/vnd.oasis.opendocument.spreadsheet") });
    expect(detectFormat("sheet.ods", ods)).toBeUndefined();
    const xlsm = zipSync({ "[Content_Types].xml": strToU8("<Types/>") });
    expect(detectFormat("macro.xlsm", xlsm)).toBeUndefined();
    expect(detectFormat("a.docx", docx([{ text: "Hi" }]))).toBe("docx");
  });

  it("says what a file named like another format is", () => {
    expect(() => detectFormat("memo.docx", pdf([["A memo."]]))).toThrow(
      expect.objectContaining({
        code: "DOCUMENT_TYPE_MISMATCH",
        message: '"memo.docx" is named like a document but is a PDF',
        details: { detected: "pdf" },
      }),
    );
    expect(() => detectFormat("memo.pdf", docx([{ text: "A memo." }]))).toThrow(
      expect.objectContaining({
        message: '"memo.pdf" is named like a document but is a ZIP archive',
        details: { detected: "zip" },
      }),
    );
  });

  it("parses in a worker thread and reports errors with their codes", async () => {
    const pool = new ParserPool({ size: 1 });
    try {
      const document = await pool.parse("pdf", pdf([["Worker text."]]), options);
      expect(texts(document.blocks)).toBe("Worker text.");
      await expect(pool.parse("pdf", pdf([["x"]], { encrypted: true }), options)).rejects.toMatchObject({
        code: "DOCUMENT_ENCRYPTED",
      });
      // The details a page says the cause by come back from the thread too.
      await expect(pool.parse("text", Buffer.from("a\u0000b"), options)).rejects.toMatchObject({
        code: "DOCUMENT_TYPE_MISMATCH",
        details: { detected: "binary" },
      });
    } finally {
      await pool.close();
    }
  });
});

describe("the parser pool and a job's signal", () => {
  it("holds no listener on the signal once a document is parsed or failed (a job's documents are not kept)", async () => {
    const pool = new ParserPool({ size: 1 });
    const job = new AbortController();
    try {
      for (let i = 0; i < 12; i++)
        await pool.parse("pdf", pdf([[`Page of document ${i}.`]]), options, job.signal);
      await expect(
        pool.parse("pdf", pdf([["x"]], { encrypted: true }), options, job.signal),
      ).rejects.toThrow();
      expect(getEventListeners(job.signal, "abort")).toHaveLength(0);
    } finally {
      await pool.close();
    }
  });
});

describe.skipIf(!sharedFile("fixtures", "docs", "en-data-in-brief-page-with-tables.pdf"))(
  "a real PDF page with a table and a figure",
  () => {
    it("takes no body sentence or table row as a heading and keeps the body one paragraph", async () => {
      const bytes = readFileSync(sharedFile("fixtures", "docs", "en-data-in-brief-page-with-tables.pdf")!);
      const page = await parse("p.pdf", bytes);
      const headings = page.blocks.filter((block) => block.kind === "heading").map((block) => block.text);
      // Before: 31 headings, among them "surface morphology analysis of stainless steel. Figs. 7 and 8
      // are the SEM/EDX images of the stainless" and "10 0.0382 0.0086 0.5356 1.24E-05 246.080 0.0919".
      expect(headings.filter((text) => /\p{Ll}[.] +\p{Lu}/u.test(text) || /\d \d/.test(text))).toEqual([]);
      expect(headings.filter((text) => text.includes("stainless") || text.includes("0.0382"))).toEqual([]);
      const paragraph = page.blocks.find((block) => block.text.startsWith("The plot of inhibitor"));
      expect(paragraph?.kind).toBe("paragraph");
      expect(paragraph?.text).toContain("Figs. 7 and 8 are the SEM/EDX images of the stainless");
      expect(paragraph?.text).toMatch(/as shown in Fig\. 8\.$/);
    });
  },
);

describe.skipIf(!sharedFile("fixtures", "docs", "zh-ctex-manual.pdf"))("real fixture documents", () => {
  const file = (name: string) => readFileSync(sharedFile("fixtures", "docs", name)!);
  it("reads the Chinese PDF manual with pages and the DOCX table", async () => {
    const manual = await parse("zh-ctex-manual.pdf", file("zh-ctex-manual.pdf"));
    expect(manual.pageCount).toBe(175);
    expect(texts(manual.blocks)).toContain("CTEX");
    expect(manual.blocks.at(-1)!.page).toBeGreaterThan(150);
    const table = await parse("t.docx", file("zh-chatchat-text-table-image.docx"));
    expect(table.blocks).toContainEqual({
      kind: "table",
      text: "我是表格1 | 我是表格2\n我是表格3 | 我是表格4",
    });
  });

  it("reads the headings of a DOCX saved with localized style ids", async () => {
    const paper = await parse("p.docx", file("en-autogen-paper-excerpt.docx"));
    expect(paper.blocks).toContainEqual({ kind: "heading", level: 1, text: "Abstract" });
    expect(paper.blocks).toContainEqual({ kind: "heading", level: 1, text: "Introduction" });
  });

  it("marks and indexes DOCX footnotes", async () => {
    const notes = await parse("n.docx", file("en-mammoth-footnotes.docx"));
    expect(notes.blocks).toEqual([
      { kind: "paragraph", text: "Ouch[1].[2]" },
      { kind: "paragraph", text: "[1] A tachyon walks into a bar." },
      { kind: "paragraph", text: "[2] Fin." },
    ]);
  });

  it("keeps the lines of a PDF paragraph set with Tf 1 and a scaled text matrix together", async () => {
    const memo = await parse("memo.pdf", file("en-fake-memo.pdf"));
    // One paragraph, not a block per line.
    expect(memo.blocks).toContainEqual(
      expect.objectContaining({
        text: expect.stringContaining("delivered on January 23,\n2023. A total of"),
      }),
    );
  });

  it("keeps every section of the KiCad HTML manual page", async () => {
    const page = await parse("k.html", file("zh-kicad6-introduction.html"));
    const text = texts(page.blocks);
    expect(text).toContain("KiCad 是一个免费和开源的电子设计自动化（EDA）套件。");
    const headings = page.blocks.filter((b) => b.kind === "heading").map((b) => b.text);
    expect(headings).toEqual(
      expect.arrayContaining(["简介", "1. 欢迎", "2. 安装和升级 KiCad", "3. KiCad 工作流程", "4. 扩展阅读"]),
    );
    expect(text).not.toContain("Table of Contents");
  });
});

const legacyEncoders = new Map<string, Map<string, number[]>>();
/** Encodes text in a double-byte legacy encoding, by inverting the platform's decoder for it. */
function legacyEncode(text: string, encoding: "big5" | "gbk" | "shift_jis" | "euc-jp" | "euc-kr"): Buffer {
  let table = legacyEncoders.get(encoding);
  if (!table) {
    table = new Map();
    const decoder = new TextDecoder(encoding === "gbk" ? "gb18030" : encoding);
    for (let lead = 0x81; lead <= 0xfe; lead++) {
      for (let trail = 0x40; trail <= 0xfe; trail++) {
        const char = decoder.decode(Uint8Array.of(lead, trail));
        if (char.length === 1 && char !== "\ufffd" && char >= "\u0080" && !table.has(char))
          table.set(char, [lead, trail]);
      }
    }
    legacyEncoders.set(encoding, table);
  }
  return Buffer.from(
    [...text].flatMap((char) => {
      if (char < "\u0080") return [char.charCodeAt(0)];
      const bytes = table.get(char);
      if (!bytes) throw new Error(`${encoding} has no ${char}`);
      return bytes;
    }),
  );
}
