import { describe, expect, it } from "vitest";
import { knowledgeBaseInPath } from "./router.js";

describe("the knowledge base a knowledge page's address opens", () => {
  it("reads /knowledge/<id>, and none from /knowledge or another path", () => {
    expect(knowledgeBaseInPath("/knowledge/kb_123")).toBe("kb_123");
    expect(knowledgeBaseInPath("/knowledge/kb%20x/")).toBe("kb x");
    expect(knowledgeBaseInPath("/knowledge")).toBeUndefined();
    expect(knowledgeBaseInPath("/knowledge/")).toBeUndefined();
    expect(knowledgeBaseInPath("/knowledge/a/b")).toBeUndefined();
    expect(knowledgeBaseInPath("/knowledge/%E0%A4%A")).toBeUndefined();
    expect(knowledgeBaseInPath("/settings")).toBeUndefined();
  });
});
