import { describe, expect, it } from "vitest";
import { canonicalUrlKey } from "./canonical-url.js";

describe("canonical URLs", () => {
  it("treats scheme, www./m., trailing slash, fragment, tracking parameters and parameter order as the same page", () => {
    const same = [
      "https://www.example.com/news/a?id=7&lang=zh",
      "http://example.com/news/a/?lang=zh&id=7#comments",
      "https://m.example.com/news/a?id=7&lang=zh&utm_source=weibo&utm_medium=social",
      "https://example.com:443/news/a?spm=a2c4g.11186623&id=7&from=timeline&lang=zh",
    ];
    expect(new Set(same.map(canonicalUrlKey)).size).toBe(1);
    expect(canonicalUrlKey("https://example.com/news/b")).not.toBe(canonicalUrlKey(same[0]!));
    expect(canonicalUrlKey("https://example.com/news/a?id=8")).not.toBe(
      canonicalUrlKey("https://example.com/news/a?id=7"),
    );
  });

  it("refuses URLs a browser must not open from a result", () => {
    for (const url of [
      "javascript:alert(1)",
      "JaVaScRiPt:alert(1)",
      "data:text/html,<b>x</b>",
      "file:///etc/passwd",
      "/relative",
      "",
      "https://user:pw@example.com/",
    ]) {
      expect(canonicalUrlKey(url)).toBeUndefined();
    }
  });
});
