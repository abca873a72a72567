import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENGINE_FIXTURES, EXPECTED_DATE, EXPECTED_HITS } from "../../test/engine-fixtures.js";
import { ReplayServer, sendJson } from "../../test/replay-server.js";
import { createProvider } from "./create-provider.js";
import { ProviderCallError } from "./provider-call-error.js";

// One contract suite over every search engine adapter, each against a local server replaying that
// engine's documented answers (STYLE.md: hono's common.case.test.ts).
describe.each(ENGINE_FIXTURES)("provider contract: $type", (fixture) => {
  let reply: { status: number; body: unknown; headers?: Record<string, string> } = {
    status: 200,
    body: fixture.ok,
  };
  const server = new ReplayServer((_request, response) =>
    sendJson(response, reply.status, reply.body, reply.headers),
  );
  const search = (freshness?: "week") =>
    createProvider(fixture.config(server.url))
      .search({ query: "node 20", limit: 10, freshness, signal: AbortSignal.timeout(5000) })
      .then((answer) => answer.hits);

  beforeAll(async () => {
    await server.start();
  });
  afterAll(async () => {
    await server.close();
  });

  it("returns the engine's results in order, as plain text, with the API key sent where the engine expects it", async () => {
    reply = { status: 200, body: fixture.ok };
    const hits = await search();
    expect(hits.map(({ url, title, snippet }) => ({ url, title, snippet }))).toEqual(EXPECTED_HITS);
    expect(hits[0]!.publishedAt).toBe(EXPECTED_DATE);
    const request = server.requests.at(-1)!;
    expect(new URL(request.url, server.url).pathname).toBe(fixture.path);
    expect(decodeURIComponent(`${request.url} ${request.body}`.replace(/\+/g, " "))).toContain("node 20");
    if (fixture.keyAt?.startsWith("query:")) {
      expect(new URL(request.url, server.url).searchParams.get(fixture.keyAt.slice(6))).toBe(
        "test-key-0123456789",
      );
    } else if (fixture.keyAt) {
      expect(String(request.headers[fixture.keyAt])).toContain("test-key-0123456789");
    }
  });

  it("asks the engine for recent results in its own spelling", async () => {
    reply = { status: 200, body: fixture.ok };
    await search("week");
    const request = server.requests.at(-1)!;
    expect(decodeURIComponent(`${request.url} ${request.body}`)).toContain(fixture.freshnessWeek);
  });

  it("reports the engine's rate-limit reply as rate-limited, with its retry delay when given", async () => {
    reply = fixture.rateLimited;
    const error = await search().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderCallError);
    expect((error as ProviderCallError).rateLimited).toBe(true);
    // Engines' own reset headers are read by their adapters (brave-provider.test.ts).
    const header = fixture.rateLimited.headers?.["retry-after"];
    if (header) expect((error as ProviderCallError).retryAfterMs).toBe(Number(header) * 1000);
  });

  it("reports the engine's error reply with its message and never the API key", async () => {
    reply = fixture.error;
    const error = (await search().catch((caught: unknown) => caught)) as ProviderCallError;
    expect(error).toBeInstanceOf(ProviderCallError);
    expect(error.rateLimited).toBe(false);
    expect(error.message).toContain(fixture.error.message);
    expect(error.message).not.toContain("test-key-0123456789");
  });

  it("reads an answer that starts with a UTF-8 byte order mark", async () => {
    reply = { status: 200, body: `\ufeff${JSON.stringify(fixture.ok)}` };
    expect((await search()).map(({ url }) => url)).toEqual(EXPECTED_HITS.map(({ url }) => url));
  });

  it("turns malformed JSON and an unexpected shape into provider errors", async () => {
    reply = { status: 200, body: '{"results": [' };
    await expect(search()).rejects.toThrow(/malformed JSON/);
    reply = {
      status: 200,
      body: { results: "not a list", webPages: 3, web: 1, organic: 2, items: 4, references: 5, data: 6 },
    };
    await expect(search()).rejects.toBeInstanceOf(ProviderCallError);
  });
});
