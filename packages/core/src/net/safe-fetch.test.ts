import { createServer, type IncomingHttpHeaders } from "node:http";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FetchFailure, type Resolver, SafeFetchError, SafeFetcher } from "./safe-fetch.js";

const seen: IncomingHttpHeaders[] = [];
let connections = 0;
const server = createServer((request, response) => {
  seen.push(request.headers);
  const url = new URL(request.url ?? "/", "http://x");
  const big = "a".repeat(50_000);
  switch (url.pathname) {
    case "/plain":
      response.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      return response.end("hello");
    case "/gzip":
      response.writeHead(200, { "content-type": "text/plain", "content-encoding": "gzip" });
      return response.end(gzipSync(big));
    case "/deflate":
      response.writeHead(200, { "content-type": "text/plain", "content-encoding": "deflate" });
      return response.end(deflateSync(big));
    case "/br":
      response.writeHead(200, { "content-type": "text/plain", "content-encoding": "br" });
      return response.end(brotliCompressSync(big));
    case "/declared":
      response.writeHead(200, { "content-type": "text/plain", "content-length": "999999" });
      return response.write("a"); // the fetcher hangs up on the declared length
    case "/long":
      response.writeHead(200, { "content-type": "text/plain", "content-length": "300000" });
      return response.end("b".repeat(300_000));
    case "/long-gzip":
      response.writeHead(200, { "content-type": "text/plain", "content-encoding": "gzip" });
      return response.end(gzipSync("c".repeat(300_000)));
    case "/no-type":
      response.writeHead(200);
      return response.end("<p>untyped</p>");
    case "/redirect":
      response.writeHead(302, { location: url.searchParams.get("to") ?? "/plain" });
      return response.end();
    case "/no-location":
      response.writeHead(302);
      return response.end();
    case "/image":
      response.writeHead(200, { "content-type": "image/png" });
      return response.end("png");
    case "/slow":
      return; // never answers
    default:
      response.writeHead(500);
      return response.end();
  }
});
server.on("connection", () => connections++);
let port = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function tableResolver(table: Record<string, string[]>): Resolver & { questions: string[] } {
  const questions: string[] = [];
  const resolver: Resolver = async (hostname) => {
    questions.push(hostname);
    const answer = table[hostname];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return answer.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolver, { questions });
}

const limits = { maxBytes: 100_000, timeoutMs: 1000, maxRedirects: 2 };

/** The failure a fetch ended with (undefined when it succeeded). */
function failureOf(promise: Promise<unknown>): Promise<FetchFailure | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => {
      if (error instanceof SafeFetchError) return error.failure;
      throw error;
    },
  );
}

describe("SafeFetcher", () => {
  it("connects to the address its lookup checked: one DNS question per connection, the host kept", async () => {
    const resolver = tableResolver({ "pinned.test": ["127.0.0.1"] });
    const fetcher = new SafeFetcher({ ...limits, allowPrivateRanges: ["127.0.0.1/32"], resolver });
    const fetched = await fetcher.fetch(`http://pinned.test:${port}/plain`);
    expect(fetched.body.toString()).toBe("hello");
    expect(fetched.contentType).toBe("text/plain; charset=utf-8");
    expect(resolver.questions).toEqual(["pinned.test"]);
    expect(seen.at(-1)?.host).toBe(`pinned.test:${port}`);
  });

  it("opens a new connection for every fetch, so every fetch resolves and checks again", async () => {
    const resolver = tableResolver({ "pinned.test": ["127.0.0.1"] });
    const fetcher = new SafeFetcher({ ...limits, allowPrivateRanges: ["127.0.0.1/32"], resolver });
    const before = connections;
    await fetcher.fetch(`http://pinned.test:${port}/plain`);
    await fetcher.fetch(`http://pinned.test:${port}/plain`);
    expect(connections - before).toBe(2);
    expect(resolver.questions).toEqual(["pinned.test", "pinned.test"]);
  });

  it("refuses a name when any of its addresses is refused, and a refused literal, before connecting", async () => {
    const resolver = tableResolver({ "mixed.test": ["127.0.0.1", "10.0.0.7"] });
    const fetcher = new SafeFetcher({ ...limits, allowPrivateRanges: ["127.0.0.1/32"], resolver });
    const before = seen.length;
    expect(await failureOf(fetcher.fetch(`http://mixed.test:${port}/plain`))).toMatchObject({
      kind: "blocked",
      host: "mixed.test",
      address: "10.0.0.7",
      range: "private",
    });
    expect(await failureOf(new SafeFetcher(limits).fetch(`http://[::1]:${port}/plain`))).toMatchObject({
      kind: "blocked",
      host: "[::1]",
      range: "loopback",
    });
    expect(
      await failureOf(fetcher.fetch(`http://127.0.0.1:${port}/redirect?to=http://[::ffff:a9fe:a9fe]/`)),
    ).toMatchObject({ kind: "blocked", range: "linkLocal (embedded in ipv4Mapped)" });
    expect(seen.length).toBe(before + 1); // only the redirecting answer
  });

  it("decodes gzip, deflate and br bodies and holds the decoded bytes to maxBytes", async () => {
    const fetcher = new SafeFetcher({ ...limits, allowPrivateRanges: ["127.0.0.1/32"] });
    for (const path of ["/gzip", "/deflate", "/br"]) {
      const fetched = await fetcher.fetch(`http://127.0.0.1:${port}${path}`);
      expect(fetched.body.toString(), path).toBe("a".repeat(50_000));
    }
    const small = new SafeFetcher({ ...limits, maxBytes: 10_000, allowPrivateRanges: ["127.0.0.1/32"] });
    expect(await failureOf(small.fetch(`http://127.0.0.1:${port}/gzip`))).toEqual({
      kind: "too-large",
      url: new URL(`http://127.0.0.1:${port}/gzip`),
    });
  });

  it("keeps the first maxBytes of a longer body when asked to truncate, declared or compressed", async () => {
    const fetcher = new SafeFetcher({
      ...limits,
      maxBytes: 10_000,
      oversize: "truncate",
      allowPrivateRanges: ["127.0.0.1/32"],
    });
    for (const [path, letter] of [
      ["/long", "b"],
      ["/long-gzip", "c"],
    ] as const) {
      const fetched = await fetcher.fetch(`http://127.0.0.1:${port}${path}`);
      expect(fetched.body.toString(), path).toBe(letter.repeat(10_000));
      expect(fetched.truncated, path).toBe(true);
    }
    const whole = await fetcher.fetch(`http://127.0.0.1:${port}/plain`);
    expect(whole).toMatchObject({ truncated: false });
    expect(whole.body.toString()).toBe("hello");
    // The default refuses it, as the knowledge service's URL ingestion needs.
    const refusing = new SafeFetcher({ ...limits, maxBytes: 10_000, allowPrivateRanges: ["127.0.0.1/32"] });
    expect(await failureOf(refusing.fetch(`http://127.0.0.1:${port}/long`))).toMatchObject({
      kind: "too-large",
      declared: 300_000,
    });
  });

  it("accepts an answer without a content type only when told to", async () => {
    const options = { ...limits, allowPrivateRanges: ["127.0.0.1/32"], contentTypes: ["text/"] };
    const url = `http://127.0.0.1:${port}/no-type`;
    expect(await failureOf(new SafeFetcher(options).fetch(url))).toMatchObject({
      kind: "content-type",
      contentType: "",
    });
    const sniffing = new SafeFetcher({ ...options, acceptMissingContentType: true });
    expect((await sniffing.fetch(url)).body.toString()).toBe("<p>untyped</p>");
    expect(await failureOf(sniffing.fetch(`http://127.0.0.1:${port}/image`))).toMatchObject({
      kind: "content-type",
    });
  });

  it("reports each other failure for the calling service to word", async () => {
    const resolver = tableResolver({ "empty.test": [] });
    const fetcher = new SafeFetcher({
      ...limits,
      allowPrivateRanges: ["127.0.0.1/32"],
      resolver,
      contentTypes: ["text/"],
      refuseCredentials: true,
    });
    const base = `http://127.0.0.1:${port}`;
    const cases: Array<[string, Partial<FetchFailure> & { kind: FetchFailure["kind"] }]> = [
      ["not a url", { kind: "invalid-url" }],
      ["file:///etc/passwd", { kind: "scheme" }],
      [`${base}/redirect?to=${encodeURIComponent("ftp://example.com/")}`, { kind: "scheme" }],
      [`http://user:secret@127.0.0.1:${port}/plain`, { kind: "credentials" }],
      [`http://missing.test:${port}/`, { kind: "unresolved", host: "missing.test" }],
      [`http://empty.test:${port}/`, { kind: "unresolved", host: "empty.test" }],
      [`${base}/no-location`, { kind: "no-location", status: 302 }],
      [`${base}/redirect?to=${encodeURIComponent("http://[bad/")}`, { kind: "invalid-redirect" }],
      [`${base}/redirect?to=${encodeURIComponent("/redirect?to=/redirect")}`, { kind: "too-many-redirects" }],
      [`${base}/missing`, { kind: "status", status: 500 }],
      [`${base}/image`, { kind: "content-type", contentType: "image/png" }],
      [`${base}/declared`, { kind: "too-large", declared: 999_999 }],
      [`http://127.0.0.1:1/`, { kind: "no-answer", aborted: false }],
      [`${base}/slow`, { kind: "no-answer", aborted: true }],
    ];
    for (const [url, failure] of cases)
      expect(await failureOf(fetcher.fetch(url)), url).toMatchObject(failure);
    expect(
      (await failureOf(fetcher.fetch(`http://missing.test:${port}/`))) as { cause?: { code?: string } },
    ).toMatchObject({ cause: { code: "ENOTFOUND" } });
    expect(await failureOf(fetcher.fetch(`http://empty.test:${port}/`))).not.toHaveProperty("cause");
  });
});
