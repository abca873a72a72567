import { describe, expect, it } from "vitest";
import { firstCodePoints, shortened } from "./first-code-points.js";

describe("cutting text on whole characters", () => {
  it("keeps a character outside the Basic Multilingual Plane whole or leaves it out", () => {
    expect(firstCodePoints(`${"请".repeat(59)}𠮷野家`, 60)).toBe(`${"请".repeat(59)}𠮷`);
    expect(firstCodePoints("𠮷😀", 1)).toBe("𠮷");
  });

  it("marks a cut with an ellipsis, and only a cut", () => {
    expect(shortened(`${"请".repeat(299)}𠮷野家`, 300)).toBe(`${"请".repeat(299)}𠮷…`);
    // 300 code points, 301 UTF-16 units: whole, no ellipsis.
    expect(shortened(`${"请".repeat(299)}𠮷`, 300)).toBe(`${"请".repeat(299)}𠮷`);
    expect(shortened("short", 300)).toBe("short");
  });
});
