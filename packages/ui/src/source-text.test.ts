import { describe, expect, it } from "vitest";
import { citedDocument, documentText, type Passage } from "./source-text.js";

/** Passages cut from `document` as the knowledge service cuts them: `text` is exactly the stretch. */
function cut(document: string, ...stretches: Array<[number, number]>): Passage[] {
  return stretches.map(([start, end], i) => ({
    id: `c${i}`,
    text: document.slice(start, end),
    charStart: start,
    charEnd: end,
  }));
}

describe("a cited document's text", () => {
  it("reads the knowledge base and document from a document citation's link, a PDF's page too", () => {
    expect(citedDocument("/api/knowledge-bases/kb%201/documents/doc-2/file")).toEqual({
      knowledgeBaseId: "kb 1",
      documentId: "doc-2",
    });
    expect(citedDocument("/api/knowledge-bases/kb/documents/doc/file#page=12")).toEqual({
      knowledgeBaseId: "kb",
      documentId: "doc",
    });
    expect(citedDocument("https://example.org/news")).toBeUndefined();
  });

  it("puts overlapping passages together once, a blank line where text lies between them", () => {
    const document = "One two three. Four five six.\n\n\nSeven eight.";
    const passages = cut(document, [0, 19], [15, 29], [32, 44]);
    const { text, cited } = documentText(passages, "Four five");
    expect(text).toBe("One two three. Four five six.\n\nSeven eight.");
    // The passage that starts with the quote, whole.
    expect(text.slice(cited!.start, cited!.end)).toBe("Four five six.");
  });

  it("finds a quote cut short (…) and one that no passage starts with; none when the text is gone", () => {
    const document = "Alpha beta gamma delta epsilon.";
    const passages = cut(document, [0, 16], [11, 31]);
    const whole = documentText(passages, "Alpha beta…");
    expect(whole.text.slice(whole.cited!.start, whole.cited!.end)).toBe("Alpha beta gamma");
    const inside = documentText(passages, "beta gamma delta");
    expect(inside.text.slice(inside.cited!.start, inside.cited!.end)).toBe("beta gamma delta");
    expect(documentText(passages, "omega").cited).toBeUndefined();
    expect(documentText([], "Alpha")).toEqual({ text: "" });
  });

  it("counts places as the knowledge service does, a character outside the Basic Multilingual Plane as two", () => {
    const document = "𠮷野家の牛丼。\n\n営業時間は九時から。";
    const passages = cut(document, [0, 8], [10, document.length]);
    const { text, cited } = documentText(passages, "営業時間");
    expect(text).toBe(document);
    expect(text.slice(cited!.start, cited!.end)).toBe("営業時間は九時から。");
  });
});
