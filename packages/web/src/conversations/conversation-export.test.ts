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
    expect(text).toContain(
      '[1]: https://hearth.example.cn/api/knowledge/bases/b1/documents/d1/file#page=3 "行政诉讼法.pdf"',
    );
    expect(text).toContain('[2]: https://example.org/law "Law"');
    expect(text).not.toMatch(/User|Assistant|interrupted|2026-11-27T/);
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
    expect(text).toContain("[1]: http://127.0.0.1:8080/api/knowledge/bases/b1/documents/d1/file#page=3");
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
