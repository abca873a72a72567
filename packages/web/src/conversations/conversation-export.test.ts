import { marked } from "marked";
import { describe, expect, it } from "vitest";
import { attachment, exportFileName, exportMarkdown } from "./conversation-export.js";
import type { StoredMessage } from "./conversation-store.js";

const message = (role: StoredMessage["role"], content: string, extra: Partial<StoredMessage> = {}) =>
  ({
    id: content,
    seq: 0,
    role,
    content,
    reasoning: null,
    status: "done",
    model: null,
    citations: [],
    error: null,
    errorCode: null,
    finishReason: null,
    createdAt: "2026-11-27T05:16:00.000Z",
    heartbeatAt: null,
    ...extra,
  }) satisfies StoredMessage;

const conversation = { title: "行政诉讼", createdAt: "2026-11-27T05:16:00.000Z" };
const messages = [
  message("user", "诉讼时效是多久？"),
  message("assistant", "一般为六个月 [1]。", {
    model: "qwen2.5:7b",
    status: "interrupted",
    citations: [
      {
        n: 1,
        kind: "document",
        title: "行政诉讼法.pdf",
        url: "/api/knowledge/bases/b1/documents/d1/file#page=3",
      },
      { n: 2, kind: "web", title: "Law", url: "https://example.org/law" },
    ],
  }),
];

describe("conversation export as Markdown", () => {
  it("says under an answer that it was cut off at the length limit, in the reader's language", () => {
    const cut = [
      message("user", "Tell me a long story"),
      message("assistant", "Once upon a time", { finishReason: "length" }),
      message("assistant", "The end.", { finishReason: "stop" }),
    ];
    const options = { tz: "UTC", origin: "https://hearth.example" };
    const english = exportMarkdown(conversation, cut, { ...options, lang: "en" });
    expect(english).toContain("Once upon a time\n\n_(cut off at the length limit)_\n");
    expect(english.match(/cut off/g)).toHaveLength(1);
    expect(exportMarkdown(conversation, cut, { ...options, lang: "zh-CN" })).toContain(
      "Once upon a time\n\n_（已达到长度上限，回答被截断）_\n",
    );
  });

  it("is written in the reader's language and time zone, with absolute links", () => {
    const text = exportMarkdown(conversation, messages, {
      lang: "zh-CN",
      tz: "Asia/Shanghai",
      origin: "https://hearth.example.cn",
    });
    expect(text).toContain("_2026年11月27日 13:16（Asia/Shanghai）_");
    expect(text).toContain("## 用户\n");
    expect(text).toContain("## 助手（qwen2.5:7b）\n");
    expect(text).toContain("_（已中断）_");
    expect(text).toContain("**来源**\n\n1. [行政诉讼法.pdf，第 3 页][1-1]\n2. [Law][1-2]\n");
    expect(text).toContain(
      '[1-1]: <https://hearth.example.cn/api/knowledge/bases/b1/documents/d1/file#page=3> "行政诉讼法.pdf"',
    );
    expect(text).toContain('[1-2]: <https://example.org/law> "Law"');
    expect(text).not.toMatch(/User|Assistant|interrupted|Sources|, page|2026-11-27T/);
  });

  it("is English and UTC by default, as API clients get it", () => {
    const text = exportMarkdown(conversation, messages, {
      lang: "en",
      tz: "UTC",
      origin: "http://127.0.0.1:8080",
    });
    expect(text).toContain("_November 27, 2026 at 05:16 (UTC)_");
    expect(text).toContain("## User\n");
    expect(text).toContain("## Assistant (qwen2.5:7b)\n");
    expect(text).toContain("_(interrupted)_");
    expect(text).toContain("**Sources**\n\n1. [行政诉讼法.pdf, page 3][1-1]\n2. [Law][1-2]\n");
    expect(text).toContain("[1-1]: <http://127.0.0.1:8080/api/knowledge/bases/b1/documents/d1/file#page=3>");
  });

  it("writes the conversation's system prompt before the messages, as written, headed in the reader's language", () => {
    const prompt = "You are a SQL reviewer.\n\n- Answer in formal Chinese";
    const options = { tz: "UTC", origin: "https://hearth.example.cn" };
    const zh = exportMarkdown({ ...conversation, systemPrompt: prompt }, messages, {
      ...options,
      lang: "zh-CN",
    });
    expect(zh).toContain(`05:16（UTC）_\n\n## 系统提示词\n\n${prompt}\n\n## 用户\n`);
    const en = exportMarkdown({ ...conversation, systemPrompt: prompt }, messages, {
      ...options,
      lang: "en",
    });
    expect(en).toContain(`## System prompt\n\n${prompt}\n\n## User\n`);
    // None: no heading.
    const none = exportMarkdown({ ...conversation, systemPrompt: null }, messages, {
      ...options,
      lang: "en",
    });
    expect(none).not.toContain("System prompt");
  });

  it("renders each answer's sources under it, its [n] linking to its own sources", async () => {
    const leave = "https://example.org/leave";
    const text = exportMarkdown(
      conversation,
      [
        message("user", "How much leave?"),
        message("assistant", "25 days [1][2]. In code, `a[1]` stays.", {
          citations: [
            {
              n: 1,
              kind: "document",
              title: "Handbook [v2] *draft*.pdf",
              url: "/api/knowledge-bases/b1/documents/d1/file#page=12",
              snippet: "Employees get\n25 days <b>per</b> year.",
            },
            { n: 2, kind: "web", title: 'Leave "rules"', url: leave, snippet: "Leave rules" },
          ],
        }),
        message("user", "And sick days?"),
        message("assistant", "Ten [1].", {
          citations: [{ n: 1, kind: "web", title: "Sick days", url: "https://example.org/sick" }],
        }),
      ],
      { lang: "en", tz: "UTC", origin: "https://hearth.example.com" },
    );
    // Each answer's part of the page as a browser shows it (marked, as the UI renders Markdown).
    const [, , first, , second] = (await marked.parse(text)).split("<h2>");
    /** The links of some HTML: their text (entities read) and where they go. */
    const links = (html: string) =>
      [...html.matchAll(/<a href="([^"]*)"[^>]*>(.*?)<\/a>/g)].map(([, href, inner]) => [
        inner!
          .replace(/&quot;/g, '"')
          .replace(/&lt;/g, "<")
          .replace(/&gt;/g, ">")
          .replace(/&amp;/g, "&"),
        href,
      ]);
    const [answer, sources] = first!.split("<ol>");
    const handbook = "https://hearth.example.com/api/knowledge-bases/b1/documents/d1/file#page=12";
    // The answer's markers link to its own sources; code is left as it is.
    expect(links(answer!)).toEqual([
      ["[1]", handbook],
      ["[2]", leave],
    ]);
    expect(answer).toContain("<code>a[1]</code>");
    expect(links(second!.split("<ol>")[0]!)).toEqual([["[1]", "https://example.org/sick"]]);
    // Its sources are listed under it, by number, with the page and the start of the passage.
    expect(answer).toContain("<strong>Sources</strong>");
    expect(sources!.match(/<li>/g)).toHaveLength(2);
    expect(links(sources!)).toEqual([
      ["Handbook [v2] *draft*.pdf, page 12", handbook],
      ['Leave "rules"', leave],
    ]);
    expect(sources).toContain("</a>: “Employees get 25 days &lt;b&gt;per&lt;/b&gt; year.”</li>");
    expect(links(second!.split("<ol>")[1]!)).toEqual([["Sick days", "https://example.org/sick"]]);
  });

  it("marks an answer still being written, and one whose writer went quiet as interrupted", () => {
    const now = new Date().toISOString();
    const streaming = [
      message("user", "写一首诗"),
      message("assistant", "床前明月光", { status: "streaming", createdAt: now, heartbeatAt: now }),
    ];
    const options = { tz: "UTC", origin: "http://127.0.0.1:8080" };
    expect(exportMarkdown(conversation, streaming, { ...options, lang: "en" })).toContain(
      "床前明月光\n\n_(being written)_\n",
    );
    expect(exportMarkdown(conversation, streaming, { ...options, lang: "zh-CN" })).toContain(
      "床前明月光\n\n_（正在生成）_\n",
    );
    const abandoned = [message("assistant", "床前明月光", { status: "streaming" })];
    expect(exportMarkdown(conversation, abandoned, { ...options, lang: "en" })).toContain(
      "床前明月光\n\n_(interrupted)_\n",
    );
  });
});

describe("export file names", () => {
  it("are the title, sanitised, Chinese kept; the id when nothing is left", () => {
    expect(exportFileName("行政诉讼：时效?", "0123456789abcdef")).toBe("行政诉讼：时效");
    expect(exportFileName('a/b\\c:*?"<>|d', "0123456789abcdef")).toBe("a b c d");
    expect(exportFileName("..hidden. ", "0123456789abcdef")).toBe("hidden");
    expect(exportFileName("x".repeat(200), "id")).toHaveLength(80);
    // 80 characters, not 80 UTF-16 units: 𠮷 (two units) is kept whole.
    expect(exportFileName(`${"请".repeat(79)}𠮷家`, "id")).toBe(`${"请".repeat(79)}𠮷`);
    expect(exportFileName("///", "0123456789abcdef")).toBe("conversation-01234567");
    expect(exportFileName("New chat", "0123456789abcdef")).toBe("conversation-01234567");
    expect(attachment("行政诉讼.md")).toBe(
      "attachment; filename=\"____.md\"; filename*=UTF-8''%E8%A1%8C%E6%94%BF%E8%AF%89%E8%AE%BC.md",
    );
  });
});
