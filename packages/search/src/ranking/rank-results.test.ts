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
