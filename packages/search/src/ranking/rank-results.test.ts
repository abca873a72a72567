import { describe, expect, it } from "vitest";
import { rankResults, wantsRecent } from "./rank-results.js";

describe("ranking", () => {
  const hit = (url: string, title: string, snippet = "", publishedAt?: string) => ({
    url,
    title,
    snippet,
    publishedAt,
  });

  it("merges a page found by several engines into one result that lists all of them and ranks it first", () => {
    const ranked = rankResults([
      {
        providerId: "bing",
        weight: 1,
        hits: [hit("https://a.example.com/1", "A one"), hit("https://shared.example.com/x", "Shared")],
      },
      {
        providerId: "brave",
        weight: 1,
        hits: [
          hit("https://b.example.com/1", "B one"),
          hit("http://www.shared.example.com/x/?utm_source=brave", "Shared"),
        ],
      },
      {
        providerId: "baidu",
        weight: 1,
        hits: [hit("https://c.example.com/1", "C one"), hit("https://m.shared.example.com/x#top", "Shared")],
      },
    ]);
    expect(ranked).toHaveLength(4);
    expect(ranked[0]).toMatchObject({
      url: "https://shared.example.com/x",
      sources: ["bing", "brave", "baidu"],
    });
    expect(ranked[0]!.score).toBeGreaterThan(ranked[1]!.score);
  });

  it("merges near-duplicate pages on different URLs by title and snippet similarity", () => {
    const snippet =
      "北京时间3月1日，国家统计局发布2024年国民经济和社会发展统计公报，全年国内生产总值比上年增长5.2%。";
    const ranked = rankResults([
      {
        providerId: "baidu",
        weight: 1,
        hits: [hit("https://news.site-a.cn/2024/0301.html", "国家统计局发布2024年统计公报", snippet)],
      },
      {
        providerId: "bocha",
        weight: 1,
        hits: [hit("https://mirror.site-b.com/p/991", "国家统计局发布2024年统计公报", `${snippet}…`)],
      },
      {
        providerId: "bing",
        weight: 1,
        hits: [
          hit(
            "https://other.example.com/",
            "A different page about something else entirely",
            "Completely unrelated text about gardening and tomatoes.",
          ),
        ],
      },
    ]);
    expect(ranked).toHaveLength(2);
    expect(ranked[0]!.sources).toEqual(["baidu", "bocha"]);
    expect(ranked[0]!.url).toBe("https://news.site-a.cn/2024/0301.html");
  });

  it("keeps every page one engine listed, however alike their titles, and pages that differ in a version", () => {
    const question = (id: number, system: string) =>
      hit(
        `https://stackoverflow.com/questions/${id}`,
        "npm install fails with EACCES permission denied - Stack Overflow",
        `I get EACCES permission denied when I run npm install -g on ${system}.`,
      );
    const python = (version: string, previous: string) =>
      hit(
        `https://docs.python.org/${version}/whatsnew/${version}.html`,
        `What's New In Python ${version} — Python documentation`,
        `This article explains the new features in Python ${version}, compared to ${previous}.`,
      );
    const ubuntu = question(16151018, "Ubuntu");
    const macos = question(48910876, "macOS");
    const ranked = rankResults([
      { providerId: "searxng", weight: 1, hits: [ubuntu, macos] },
      { providerId: "bing", weight: 1, hits: [python("3.12", "3.11"), python("3.13", "3.12")] },
    ]);
    expect(ranked.map((result) => result.url).sort()).toEqual([
      "https://docs.python.org/3.12/whatsnew/3.12.html",
      "https://docs.python.org/3.13/whatsnew/3.13.html",
      "https://stackoverflow.com/questions/16151018",
      "https://stackoverflow.com/questions/48910876",
    ]);
    // Another engine's copy of the first question (a mirror) joins one of them, never both.
    const withCopy = rankResults([
      { providerId: "searxng", weight: 1, hits: [ubuntu, macos] },
      { providerId: "bocha", weight: 1, hits: [{ ...ubuntu, url: "https://mirror.example.cn/so/16151018" }] },
    ]);
    expect(withCopy.map((result) => [result.url, result.sources])).toEqual([
      ["https://stackoverflow.com/questions/16151018", ["searxng", "bocha"]],
      ["https://stackoverflow.com/questions/48910876", ["searxng"]],
    ]);
  });

  it("drops javascript: results and denied domains, boosts allowed ones and weighs engines", () => {
    const ranked = rankResults(
      [
        {
          providerId: "a",
          weight: 1,
          hits: [
            hit("javascript:alert(document.cookie)", "Click me"),
            hit("https://spam.example.net/x", "Spam"),
            hit("https://docs.python.org/3/", "Python docs"),
          ],
        },
        { providerId: "b", weight: 3, hits: [hit("https://blog.example.org/post", "A blog")] },
      ],
      { denyDomains: ["example.net"], allowDomains: ["python.org"] },
    );
    expect(ranked.map((result) => result.url)).toEqual([
      "https://blog.example.org/post",
      "https://docs.python.org/3/",
    ]);
  });

  it("favours recent pages when the query asks for news or a freshness window is given", () => {
    const now = Date.parse("2026-03-10T00:00:00Z");
    const engines = [
      {
        providerId: "a",
        weight: 1,
        hits: [
          hit("https://old.example.com/", "Old", "", "2024-01-01T00:00:00Z"),
          hit("https://new.example.com/", "New", "", "2026-03-09T12:00:00Z"),
        ],
      },
    ];
    expect(rankResults(engines, { now })[0]!.url).toBe("https://old.example.com/");
    expect(rankResults(engines, { now, recent: wantsRecent("最新 油价") })[0]!.url).toBe(
      "https://new.example.com/",
    );
    expect(rankResults(engines, { now, freshness: "week" })[0]!.url).toBe("https://new.example.com/");
    expect(wantsRecent("python list comprehension")).toBe(false);
  });
});
