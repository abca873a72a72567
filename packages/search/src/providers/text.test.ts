import { describe, expect, it } from "vitest";
import { parseLooseDate, plainText } from "./text.js";

describe("engine text", () => {
  it("strips highlighting markup, entities and control characters from snippets", () => {
    expect(plainText("<strong>Node.js</strong> &amp; npm&#39;s <b>test</b>\u0007 runner&nbsp; ")).toBe(
      "Node.js & npm's test runner",
    );
    expect(plainText(undefined)).toBe("");
  });

  it("reads the dates engines give, and never invents one", () => {
    const now = Date.parse("2026-01-10T00:00:00Z");
    expect(parseLooseDate("2023-04-18 08:30:00")).toBe("2023-04-18T08:30:00.000Z");
    expect(parseLooseDate("2023-04-18T00:00:00.0000000")).toBe("2023-04-18T00:00:00.000Z");
    expect(parseLooseDate("2023-04-18T08:00:00+08:00")).toBe("2023-04-18T00:00:00.000Z");
    expect(parseLooseDate("3 days ago", now)).toBe("2026-01-07T00:00:00.000Z");
    expect(parseLooseDate("2小时前", now)).toBe("2026-01-09T22:00:00.000Z");
    for (const bad of ["", "yesterday-ish", "0001-01-01", null, 42])
      expect(parseLooseDate(bad)).toBeUndefined();
  });
});
