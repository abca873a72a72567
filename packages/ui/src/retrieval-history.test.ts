import { describe, expect, it, vi } from "vitest";
import {
  forgetAllQuestions,
  RECENT_QUESTIONS,
  recentQuestions,
  rememberQuestion,
  withQuestion,
} from "./retrieval-history.js";

/** A browser's localStorage, as far as these use it. */
function memoryStorage() {
  const items = new Map<string, string>();
  const storage = {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
  // Object.keys(localStorage) lists its items, as a browser's does.
  return new Proxy(storage, {
    ownKeys: () => [...items.keys()],
    getOwnPropertyDescriptor: () => ({ enumerable: true, configurable: true }),
  });
}

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

  it("keeps each base's questions apart, and forgets them all on signing out, the rest of the storage kept", () => {
    vi.stubGlobal("localStorage", memoryStorage());
    localStorage.setItem("hearth.locale", "zh-CN");
    rememberQuestion("handbook", "leave days");
    rememberQuestion("handbook", "parking");
    rememberQuestion("wiki", "deploy");
    expect(recentQuestions("handbook")).toEqual(["parking", "leave days"]);
    expect(recentQuestions("wiki")).toEqual(["deploy"]);
    localStorage.setItem("hearth.retrievalQuestions.broken", "{not json");
    expect(recentQuestions("broken")).toEqual([]);
    forgetAllQuestions();
    expect(recentQuestions("handbook")).toEqual([]);
    expect(recentQuestions("wiki")).toEqual([]);
    expect(localStorage.getItem("hearth.locale")).toBe("zh-CN");
  });
});
