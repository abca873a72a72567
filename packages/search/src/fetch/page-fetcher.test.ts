import { gzipSync } from "node:zlib";
import { MAX_HTML_DEPTH, OwnServices, type Resolver } from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BLOCKED } from "../../../core/src/net/address-policy.fixture.js";
import { ReplayServer } from "../../test/replay-server.js";
import { extractMainText, type PageLimits } from "./extract-main-text.js";
import { PageFetcher } from "./page-fetcher.js";

/** These pathological inputs took 27 s to minutes before; now well under a second. A hang fails the test, not a slow host. */
const HANG_LIMIT_MS = 20_000;

const ARTICLE = `<!doctype html><html><head><title>油价调整</title><meta charset="utf-8"></head><body>
<nav>首页 | 新闻 | 财经 | 登录</nav>
<article><h1>国内油价今日上调</h1>
<p>根据国家发展改革委消息，自今日24时起，国内汽油、柴油价格每吨分别提高120元和115元。折合92号汽油每升上调0.09元。</p>
<p>业内人士分析，本轮调价主要受国际原油价格上涨影响。下一轮调价窗口将于两周后开启，届时油价走势仍需关注国际市场变化。</p>
<p>The National Development and Reform Commission announced the price change on its website this morning.</p>
</article><footer>版权所有 © 2026 示例新闻网</footer><script>track()</script></body></html>`;

/** A Chinese news paragraph as GBK bytes (Node encodes no GBK), and a Russian one in windows-1251. */
const GBK_NEWS = Buffer.from(
  "b9fac4dab3c9c6b7d3cdbcdbb8f1c9cfb5f7a3acc3bfb6d6c9cfd5c7d2bbb0d9d4aaa1a3d5e2cac7bdf1c4ead2d4c0b4b5c4b5dac8fdb4cec9cfb5f7a3acd2b5c4dac8cbcabfcbb5cfc2d2bbc2d6b5f7bcdbb4b0bfdabdabd4dac1bdd6dcbaf3bfaac6f4a1a3",
  "hex",
);
const NEWS_TEXT =
  "国内成品油价格上调，每吨上涨一百元。这是今年以来的第三次上调，业内人士说下一轮调价窗口将在两周后开启。";
const CP1251_NEWS = Buffer.from(
  "d6e5edfb20ede020e1e5ede7e8ed20e2fbf0eef1ebe820ede020f1f2ee20f0f3e1ebe5e920e7e020f2eeededf32c20f1eeeee1f9e8ebe820f1e5e3eee4edff20e220ece8ede8f1f2e5f0f1f2e2e520fdede5f0e3e5f2e8eae82e",
  "hex",
);
/**
 * A Japanese news paragraph in EUC-JP: valid GB18030 too, and read so over a quarter of its ideographs
 * are common Chinese ones (Shift_JIS reads as under 2%, so would not tell a lax threshold).
 */
const EUC_JP_NEWS = Buffer.from(
  "b9f1c6e2a4cea5aca5bda5eaa5f3a4c8b7daccfda4ceb2c1b3caa4cfa1a2baa3c6fca4ceb8e1c1b0ceedbbfea4aba4e9b0eca5eaa5c3a5c8a5ebc5f6a4bfa4eaa4bda4eca4bea4ecbdbdc6f3b1dfa4c8bdbdb0ecb1dfb0faa4adbee5a4b2a4e9a4eca4eba1a3b6c8b3a6b4d8b7b8bcd4a4cfa1a2baa3b2f3a4cec3cdbee5a4b2a4cfb9f1baddb8b6ccfdb2c1b3caa4cebee5bebaa4cba4e8a4eba4e2a4cea4c0a4c8caacc0cfa4b7a4c6a4a4a4eba1a3",
  "hex",
);
/** A Taiwanese news page in Big5 (traditional Chinese), its title and paragraph, declaring no charset. */
const BIG5_TITLE = "臺北捷運環狀線北段今日通車";
const BIG5_NEWS_TEXT =
  "臺北市政府宣布，捷運環狀線北段今日正式通車，沿線居民往返市區的時間將縮短一半。市長表示，這是今年以來最重要的交通建設，未來還會繼續擴大路網。";
const BIG5_PAGE = Buffer.concat([
  Buffer.from("<html><head><title>"),
  Buffer.from("bb4fa55fb1b6b942c0f4aaacbd75a55fac71a4b5a4e9b371a8ae", "hex"),
  Buffer.from("</title></head><body><p>"),
  Buffer.from(
    "bb4fa55fa5abac46a9b2abc5a5aca141b1b6b942c0f4aaacbd75a55fac71a4b5a4e9a5bfa6a1b371a8aea141aa75bd75a97ea5c1a9b9aaf0a5abb0cfaabaaec9b6a1b14ec159b575a440a562a143a5abaaf8aaeda5dca141b36fac4fa4b5a67ea548a8d3b3ccadabad6eaabaa5e6b371abd8b35da141a5bca8d3c1d9b77cc47ec4f2c258a46ab8f4baf4a143",
    "hex",
  ),
  Buffer.from("</p></body></html>"),
]);
/** A page whose head is a long stylesheet, so that its <meta charset> comes after the first kilobytes. */
const lateMeta = (charset: string, body: Buffer) =>
  Buffer.concat([
    Buffer.from(`<!doctype html><html><head><style>${".a{color:red}\n".repeat(400)}</style>`),
    Buffer.from(`<meta charset="${charset}"><title>news</title></head><body><p>`),
    body,
    Buffer.from("</p></body></html>"),
  ]);
const html = (body: Buffer) =>
  Buffer.concat([Buffer.from("<html><body><p>"), body, Buffer.from("</p></body></html>")]);

/** Pages sent as they are: path, headers (no content type unless given) and body. */
const RAW_PAGES: Record<string, { headers: Record<string, string>; body: Buffer }> = {
  "/no-type-html": { headers: {}, body: Buffer.from(ARTICLE) },
  "/no-type-text": { headers: {}, body: Buffer.from("plain notes\nsecond line 中文") },
  "/no-type-pdf": { headers: {}, body: Buffer.from("%PDF-1.4\n%\u00e2\u00e3\n1 0 obj") },
  "/no-type-png": { headers: {}, body: Buffer.from("89504e470d0a1a0a0000000d49484452", "hex") },
  "/gbk-late-meta": { headers: { "content-type": "text/html" }, body: lateMeta("gbk", GBK_NEWS) },
  "/gbk-header": { headers: { "content-type": "text/html; charset=GBK" }, body: html(GBK_NEWS) },
  "/gbk-pragma": {
    headers: { "content-type": "text/html" },
    body: Buffer.concat([
      Buffer.from(
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body><p>',
      ),
      GBK_NEWS,
      Buffer.from("</p></body></html>"),
    ]),
  },
  "/gbk-undeclared": { headers: { "content-type": "text/html" }, body: html(GBK_NEWS) },
  "/utf16le-bom": {
    headers: { "content-type": "text/html" },
    body: Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`<html><body><p>${NEWS_TEXT}</p></body></html>`, "utf16le"),
    ]),
  },
  "/utf16be-bom": {
    headers: { "content-type": "text/html; charset=iso-8859-1" },
    body: Buffer.concat([
      Buffer.from([0xfe, 0xff]),
      Buffer.from(`<html><body><p>${NEWS_TEXT}</p></body></html>`, "utf16le").swap16(),
    ]),
  },
  "/cp1251-undeclared": { headers: { "content-type": "text/html" }, body: html(CP1251_NEWS) },
  "/euc-jp-undeclared": { headers: { "content-type": "text/html" }, body: html(EUC_JP_NEWS) },
  "/big5-undeclared": { headers: { "content-type": "text/html" }, body: BIG5_PAGE },
  "/long-chinese": {
    headers: { "content-type": "text/html; charset=utf-8" },
    body: Buffer.from(`<html><body><p>${"中".repeat(100_000)}</p></body></html>`),
  },
  "/long-gzip": {
    headers: { "content-type": "text/html; charset=utf-8", "content-encoding": "gzip" },
    body: gzipSync(`<html><body><p>Start of a long page.</p>${"<p>more</p>".repeat(50_000)}</body></html>`),
  },
};

const server = new ReplayServer((request, response) => {
  const path = request.url;
  const raw = RAW_PAGES[path];
  if (raw) {
    response.writeHead(200, raw.headers);
    return response.end(raw.body);
  }
  if (path === "/article") {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    return response.end(ARTICLE);
  }
  if (path.startsWith("/redirect-to?")) {
    response.writeHead(302, { location: decodeURIComponent(path.slice("/redirect-to?".length)) });
    return response.end();
  }
  if (path === "/loop") {
    response.writeHead(301, { location: "/loop" });
    return response.end();
  }
  if (path === "/image") {
    response.writeHead(200, { "content-type": "image/png" });
    return response.end(Buffer.alloc(100));
  }
  if (path === "/big") {
    response.writeHead(200, { "content-type": "text/html" });
    return response.end(`<p>${"x".repeat(200_000)}</p>`);
  }
  if (path === "/slow") return; // never answers
  response.writeHead(404, { "content-type": "text/plain" });
  response.end("not found");
});
let port = "";

/** A resolver that answers from a table, as a DNS server would, and counts questions. */
function tableResolver(
  table: Record<string, string | string[] | (() => string)>,
): Resolver & { questions: string[] } {
  const questions: string[] = [];
  const resolver = async (hostname: string) => {
    questions.push(hostname);
    const entry = table[hostname];
    if (entry === undefined) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
    const answer = typeof entry === "function" ? entry() : entry;
    return (Array.isArray(answer) ? answer : [answer]).map((address) => ({
      address,
      family: address.includes(":") ? 6 : 4,
    }));
  };
  return Object.assign(resolver, { questions });
}

const limits = { maxBytes: 100_000, timeoutMs: 1500, maxRedirects: 3, ownServices: new OwnServices([]) };

beforeAll(async () => {
  await server.start();
  port = new URL(server.url).port;
});
afterAll(async () => {
  await server.close();
});

describe("safe page fetch", () => {
  it("fetches an allowed page and extracts its main text without navigation, footer or scripts", async () => {
    const fetcher = new PageFetcher({
      ...limits,
      allowPrivateRanges: ["127.0.0.1/32"],
      resolver: tableResolver({ "news.test": "127.0.0.1" }),
    });
    const page = await fetcher.fetch(`http://news.test:${port}/article`);
    const text = extractMainText(page.text, page.contentType, 10_000);
    expect(text).toContain("国内汽油、柴油价格每吨分别提高120元");
    expect(text).toContain("National Development and Reform Commission");
    expect(text).not.toContain("登录");
    expect(text).not.toContain("track()");
  });

  it("keeps a minified page's blocks and table cells apart, and inline tags within words", () => {
    const page = `<!doctype html><html><head><title>Fuel</title></head><body><nav>Home</nav><article><h1>Fuel prices today</h1><p>Prices per litre in Beijing, updated this morning by the commission.</p><table><tr><th>Grade</th><th>Price</th></tr><tr><td>92</td><td>7.85</td></tr><tr><td>95</td><td>8.36</td></tr></table><ul><li>Next adjustment</li><li>2025-01-16</li></ul><p>The pri<b>ce</b> of <a href="/95">95</a><span>-octane</span> rose.</p></article></body></html>`;
    expect(extractMainText(page, "text/html", 10_000)).toBe(
      [
        "Fuel prices today",
        "Prices per litre in Beijing, updated this morning by the commission.",
        "Grade Price",
        "92 7.85",
        "95 8.36",
        "Next adjustment",
        "2025-01-16",
        "The price of 95-octane rose.",
      ].join("\n"),
    );
    // No article for Readability: the body's text, laid out the same way.
    expect(extractMainText("<body><div>12</div><div>34<br>56</div></body>", "text/html", 100)).toBe(
      "12\n34\n56",
    );
  });

  it(
    "reads pages nested 2,000 and 50,000 deep with their text kept, without holding up search",
    () => {
      // Readability took 52 s on the first and over 100 s on the second: a hostile page held up search.
      for (const depth of [2_000, 50_000]) {
        const page = `<html><body><p>Intro</p>${"<div>".repeat(depth)}<p>Deep text</p>${"</div>".repeat(depth)}<p>After</p></body></html>`;
        const limits: PageLimits[] = [];
        const text = extractMainText(page, "text/html", 10_000, (note) => limits.push(note));
        expect(text).toBe("Intro\nDeep text\nAfter");
        // Kept: html, body and the divs that fit under them; dropped: the other divs and the deep p.
        expect(limits).toEqual([
          expect.objectContaining({ readability: false, flattened: depth + 1 - (MAX_HTML_DEPTH - 2) }),
        ]);
      }
    },
    HANG_LIMIT_MS,
  );

  it(
    "reads long runs of blanks without holding up search",
    () => {
      // 100,000 blanks in a <pre> line, and ideographic spaces between words: patterns that started
      // again at each blank took minutes.
      const page = `<html><body><pre>a${" ".repeat(100_000)}b</pre><p>c${"\u3000".repeat(100_000)}d</p></body></html>`;
      const text = extractMainText(page, "text/html", 300_000);
      expect(text).toBe(`a b\nc${"\u3000".repeat(100_000)}d`);
    },
    HANG_LIMIT_MS,
  );

  it("refuses loopback by default, without sending a request", async () => {
    const before = server.requests.length;
    const fetcher = new PageFetcher(limits);
    await expect(fetcher.fetch(`${server.url}/article`)).rejects.toMatchObject({
      code: "SEARCH_FETCH_BLOCKED",
    });
    await expect(fetcher.fetch(`http://[::1]:${port}/article`)).rejects.toMatchObject({
      code: "SEARCH_FETCH_BLOCKED",
    });
    await expect(fetcher.fetch(`http://2130706433:${port}/article`)).rejects.toMatchObject({
      code: "SEARCH_FETCH_BLOCKED",
    });
    await expect(fetcher.fetch(`http://[::ffff:127.0.0.1]:${port}/article`)).rejects.toMatchObject({
      code: "SEARCH_FETCH_BLOCKED",
    });
    expect(server.requests.length).toBe(before);
  });

  it.each(BLOCKED)("refuses a name that resolves to %s", async (address) => {
    const fetcher = new PageFetcher({ ...limits, resolver: tableResolver({ "evil.test": address }) });
    await expect(fetcher.fetch(`http://evil.test:${port}/article`)).rejects.toMatchObject({
      code: "SEARCH_FETCH_BLOCKED",
    });
  });

  it("refuses a name when any of its addresses is blocked", async () => {
    const fetcher = new PageFetcher({
      ...limits,
      allowPrivateRanges: ["127.0.0.1/32"],
      resolver: tableResolver({ "mixed.test": ["127.0.0.1", "10.0.0.7"] }),
    });
    await expect(fetcher.fetch(`http://mixed.test:${port}/article`)).rejects.toMatchObject({
      code: "SEARCH_FETCH_BLOCKED",
    });
  });

  it("refuses redirects to metadata, private names and other schemes", async () => {
    const resolver = tableResolver({
      "site.test": "127.0.0.1",
      "internal.test": "10.0.0.5",
      "v6.test": "fd00::1",
    });
    const fetcher = new PageFetcher({ ...limits, allowPrivateRanges: ["127.0.0.1/32"], resolver });
    for (const target of [
      "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
      "http://[fd00:ec2::254]/latest/meta-data/",
      `http://internal.test:${port}/admin`,
      `http://v6.test:${port}/`,
      "file:///etc/passwd",
    ]) {
      await expect(
        fetcher.fetch(`http://site.test:${port}/redirect-to?${encodeURIComponent(target)}`),
        target,
      ).rejects.toMatchObject({
        code: "SEARCH_FETCH_BLOCKED",
      });
    }
  });

  it("checks the name again on every fetch, so a DNS answer that changes to a private address is refused", async () => {
    let answer = "127.0.0.1";
    const resolver = tableResolver({ "rebind.test": () => answer });
    const fetcher = new PageFetcher({ ...limits, allowPrivateRanges: ["127.0.0.1/32"], resolver });
    await expect(fetcher.fetch(`http://rebind.test:${port}/article`)).resolves.toMatchObject({
      contentType: expect.stringContaining("text/html"),
    });
    answer = "169.254.169.254";
    await expect(fetcher.fetch(`http://rebind.test:${port}/article`)).rejects.toMatchObject({
      code: "SEARCH_FETCH_BLOCKED",
    });
  });

  it("never fetches one of Hearth's own services, whatever ranges are allowed: directly, by name or by a redirect", async () => {
    const before = server.requests.length;
    // This server plays the search service's own port on this machine.
    const here = new PageFetcher({
      ...limits,
      allowPrivateRanges: ["127.0.0.0/8"],
      ownServices: new OwnServices([{ service: "search", port: Number(port) }]),
    });
    for (const url of [`http://127.0.0.1:${port}/article`, `http://127.0.0.2:${port}/article`]) {
      await expect(here.fetch(url), url).rejects.toMatchObject({
        code: "SEARCH_FETCH_BLOCKED",
        message: expect.stringContaining("one of Hearth's own services (the search service)"),
        details: { service: "search" },
      });
    }
    expect(server.requests.length).toBe(before);
    // A split deployment: the knowledge service at its configured URL's host, on the intranet.
    const split = new PageFetcher({
      ...limits,
      allowPrivateRanges: ["127.0.0.1/32", "10.9.8.7/32"],
      ownServices: new OwnServices([
        { service: "knowledge", host: "knowledge.internal", port: Number(port) },
      ]),
      resolver: tableResolver({ "site.test": "127.0.0.1", "knowledge.internal": "10.9.8.7" }),
    });
    await expect(split.fetch(`http://site.test:${port}/article`)).resolves.toMatchObject({
      contentType: expect.stringContaining("text/html"),
    });
    for (const target of [
      `http://knowledge.internal:${port}/v1/knowledge-bases`,
      `http://10.9.8.7:${port}/`,
    ]) {
      await expect(
        split.fetch(`http://site.test:${port}/redirect-to?${encodeURIComponent(target)}`),
        target,
      ).rejects.toMatchObject({ code: "SEARCH_FETCH_BLOCKED", details: { service: "knowledge" } });
    }
  });

  it("keeps to the limits on redirects, content type, size and time", async () => {
    const resolver = tableResolver({ "site.test": "127.0.0.1" });
    const fetcher = new PageFetcher({
      ...limits,
      timeoutMs: 300,
      allowPrivateRanges: ["127.0.0.1/32"],
      resolver,
    });
    const base = `http://site.test:${port}`;
    await expect(fetcher.fetch(`${base}/loop`)).rejects.toThrow(/more than 3 redirects/);
    await expect(fetcher.fetch(`${base}/image`)).rejects.toThrow(/image\/png/);
    const started = performance.now();
    await expect(fetcher.fetch(`${base}/slow`)).rejects.toMatchObject({ code: "SEARCH_FETCH_FAILED" });
    expect(performance.now() - started).toBeLessThan(1500);
  });

  const local = () =>
    new PageFetcher({
      ...limits,
      allowPrivateRanges: ["127.0.0.1/32"],
      resolver: tableResolver({ "site.test": "127.0.0.1" }),
    });
  const text = async (path: string) => {
    const page = await local().fetch(`http://site.test:${port}${path}`);
    return extractMainText(page.text, page.contentType, 300_000);
  };

  it("reads the first maxBytes of a longer page, says it was cut, and never ends in half a character", async () => {
    const fetcher = local();
    const big = await fetcher.fetch(`http://site.test:${port}/big`);
    expect(big).toMatchObject({ truncated: true });
    expect(big.text).toBe(`<p>${"x".repeat(100_000 - 3)}`);
    // 100,000 bytes end inside the 33,331st "中" (3 bytes each, after 15 of markup).
    const chinese = await fetcher.fetch(`http://site.test:${port}/long-chinese`);
    expect(chinese.truncated).toBe(true);
    expect(chinese.text).toBe(`<html><body><p>${"中".repeat(33_328)}`);
    // A compressed page is cut after inflating, without inflating the rest.
    const gzipped = await fetcher.fetch(`http://site.test:${port}/long-gzip`);
    expect(gzipped.truncated).toBe(true);
    expect(gzipped.text).toBe(
      `<html><body><p>Start of a long page.</p>${"<p>more</p>".repeat(50_000)}`.slice(0, 100_000),
    );
    expect(await fetcher.fetch(`http://site.test:${port}/article`)).toMatchObject({ truncated: false });
  });

  it("reads a page sent without a content type as a browser would: HTML or text, never binary", async () => {
    const fetcher = local();
    const page = await fetcher.fetch(`http://site.test:${port}/no-type-html`);
    expect(page.contentType).toBe("text/html");
    expect(extractMainText(page.text, page.contentType, 10_000)).toContain(
      "国内汽油、柴油价格每吨分别提高120元",
    );
    expect(await fetcher.fetch(`http://site.test:${port}/no-type-text`)).toMatchObject({
      contentType: "text/plain",
      text: "plain notes\nsecond line 中文",
    });
    for (const path of ["/no-type-pdf", "/no-type-png"])
      await expect(fetcher.fetch(`http://site.test:${port}${path}`), path).rejects.toMatchObject({
        code: "SEARCH_FETCH_FAILED",
        message: "the page was sent without a content type and is not text",
      });
  });

  it("decodes by a byte order mark, the header, a <meta> late in a long head, or as GB18030 when nothing is declared", async () => {
    for (const path of [
      "/gbk-late-meta",
      "/gbk-header",
      "/gbk-pragma",
      "/gbk-undeclared",
      "/utf16le-bom",
      "/utf16be-bom",
    ])
      expect(await text(path), path).toBe(NEWS_TEXT);
  });

  it("decodes a traditional Chinese page in Big5 that declares no charset, not as GB18030", async () => {
    const page = await local().fetch(`http://site.test:${port}/big5-undeclared`);
    expect(page.text).toContain(`<title>${BIG5_TITLE}</title>`);
    expect(extractMainText(page.text, page.contentType, 300_000)).toBe(BIG5_NEWS_TEXT);
  });

  it("refuses text that stays undecodable rather than passing replacement characters or another encoding read as GB18030 on", async () => {
    for (const path of ["/cp1251-undeclared", "/euc-jp-undeclared"])
      await expect(local().fetch(`http://site.test:${port}${path}`), path).rejects.toMatchObject({
        code: "SEARCH_FETCH_FAILED",
        message: expect.stringMatching(
          /^the page's text could not be decoded: \d+ of its \d+ non-ASCII characters are not valid utf-8$/,
        ),
      });
  });
});
