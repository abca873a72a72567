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

const server = new ReplayServer((request, response) => {
  const path = request.url;
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
    await expect(fetcher.fetch(`${base}/big`)).rejects.toThrow(/100000-byte limit/);
    const started = performance.now();
    await expect(fetcher.fetch(`${base}/slow`)).rejects.toMatchObject({ code: "SEARCH_FETCH_FAILED" });
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
