import { describe, expect, it } from "vitest";
import { pageIdentity, samePage } from "./same-page.js";

const page = (url: string, title: string, snippet: string) => pageIdentity({ url, title, snippet });

describe("same page", () => {
  it("tells apart pages whose titles and snippets differ only in a version, a year, an identifier or an amount", () => {
    const pairs = [
      [
        page(
          "https://docs.python.org/3.12/whatsnew/3.12.html",
          "What's New In Python 3.12 — Python documentation",
          "This article explains the new features in Python 3.12, compared to 3.11.",
        ),
        page(
          "https://docs.python.org/3.13/whatsnew/3.13.html",
          "What's New In Python 3.13 — Python documentation",
          "This article explains the new features in Python 3.13, compared to 3.12.",
        ),
      ],
      [
        page(
          "https://nodejs.org/en/blog/release/v20.0.0",
          "Node.js 20.0.0 (Current) | Node.js",
          "Node.js 20.0.0 (Current) release notes and downloads.",
        ),
        page(
          "https://nodejs.org/en/blog/release/v22.0.0",
          "Node.js 22.0.0 (Current) | Node.js",
          "Node.js 22.0.0 (Current) release notes and downloads.",
        ),
      ],
      [
        page(
          "https://www.stats.gov.cn/sj/zxfb/202401/t20240117.html",
          "2023年国民经济回升向好 高质量发展扎实推进",
          "国家统计局发布2023年国民经济运行情况，全年国内生产总值1260582亿元",
        ),
        page(
          "https://www.stats.gov.cn/sj/zxfb/202301/t20230117.html",
          "2022年国民经济顶住压力再上新台阶",
          "国家统计局发布2022年国民经济运行情况，全年国内生产总值1210207亿元",
        ),
      ],
      [
        page(
          "https://example.com/cve/CVE-2024-1234",
          "CVE-2024-1234 : Buffer overflow in libfoo",
          "A buffer overflow in libfoo before 1.2.3 allows remote attackers to execute code.",
        ),
        page(
          "https://example.com/cve/CVE-2024-1235",
          "CVE-2024-1235 : Buffer overflow in libfoo",
          "A buffer overflow in libfoo before 1.2.4 allows remote attackers to execute code.",
        ),
      ],
    ] as const;
    for (const [a, b] of pairs) expect(samePage(a, b), `${a.urlKey} | ${b.urlKey}`).toBe(false);
  });

  it("still takes a page mirrored under another URL, numbers and all, for the same page", () => {
    const snippet = "Node.js 20.0.0 ships a stable test runner, the permission model and V8 11.3.";
    const original = page("https://nodejs.org/en/blog/release/v20.0.0", "Node.js 20.0.0 (Current)", snippet);
    const mirror = page(
      "https://mirror.example.cn/nodejs/blog/release/v20.0.0",
      "Node.js 20.0.0 (Current)",
      `${snippet}…`,
    );
    // Full-width digits, as some Chinese sites write them, are the same numbers.
    const fullWidth = page(
      "https://cn.example.com/node-20",
      "Node.js ２０.０.０ (Current)",
      snippet.replace("11.3", "１１.３"),
    );
    expect(samePage(original, mirror)).toBe(true);
    expect(samePage(original, fullWidth)).toBe(true);
  });
});
