import { describe, expect, it } from "vitest";
import { RECENT_QUESTIONS, withQuestion } from "./retrieval-history.js";

describe("a retrieval test's recent questions", () => {
  it("puts the question asked first, once, trimmed, and keeps the newest few", () => {
    expect(withQuestion(["leave days", "parking"], "  parking ")).toEqual(["parking", "leave days"]);
    expect(withQuestion(["leave days"], "   ")).toEqual(["leave days"]);
    const many = Array.from({ length: RECENT_QUESTIONS }, (_, index) => `question ${index}`);
    const after = withQuestion(many, "newest");
    expect(after).toHaveLength(RECENT_QUESTIONS);
    expect(after[0]).toBe("newest");
    expect(after).not.toContain(`question ${RECENT_QUESTIONS - 1}`);
  });
});
