import { searchProviderSchema } from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReplayServer, sendJson } from "../../test/replay-server.js";
import { createProvider } from "./create-provider.js";

const EMPTY: Record<string, unknown> = {
  "/null": { status: "ok", total: 0, data: { hits: null } },
  "/absent": { status: "ok", total: 0, data: {} },
};

const server = new ReplayServer((request, response) =>
  sendJson(
    response,
    200,
    EMPTY[request.url.split("?")[0]!] ?? {
      payload: { items: [{ t: "First", u: "https://one.example.com/", d: "2024-05-01" }, { t: "No URL" }] },
    },
  ),
);
beforeAll(async () => {
  await server.start();
});
afterAll(async () => {
  await server.close();
});

describe("custom JSON provider", () => {
  it("fills a POST body template (numbers stay numbers) and reads results by path", async () => {
    const provider = createProvider(
      searchProviderSchema.parse({
        id: "corp",
        type: "custom",
        url: `${server.url}/v2/find`,
        method: "POST",
        apiKey: "corp-key",
        headers: { authorization: "Bearer {apiKey}" },
        body: {
          search: { text: "{query}", size: "{limit}", range: "{freshness}" },
          tags: ["web", "{query}"],
        },
        freshnessValues: { month: "30d" },
        response: { results: "payload.items", title: "t", url: "u", publishedAt: "d" },
      }),
    );
    const { hits } = await provider.search({
      query: '油价 "today"',
      limit: 7,
      freshness: "month",
      signal: AbortSignal.timeout(2000),
    });
    const request = server.requests.at(-1)!;
    expect(JSON.parse(request.body)).toEqual({
      search: { text: '油价 "today"', size: 7, range: "30d" },
      tags: ["web", '油价 "today"'],
    });
    expect(request.headers.authorization).toBe("Bearer corp-key");
    expect(hits[0]).toEqual({
      url: "https://one.example.com/",
      title: "First",
      snippet: "",
      publishedAt: "2024-05-01T00:00:00.000Z",
    });
    expect(hits[1]!.url).toBe(""); // dropped later by ranking, never a crash
  });

  it("reads a null or left-out last key of the results path as no results, not an error", async () => {
    for (const path of ["/null", "/absent"]) {
      const provider = createProvider(
        searchProviderSchema.parse({
          id: "corp",
          type: "custom",
          url: `${server.url}${path}?q={query}`,
          response: { results: "data.hits", title: "t", url: "u" },
        }),
      );
      await expect(
        provider.search({ query: "q", limit: 5, signal: AbortSignal.timeout(2000) }),
      ).resolves.toEqual({ hits: [] });
    }
  });

  it("reports a missing results path as a provider error", async () => {
    const provider = createProvider(
      searchProviderSchema.parse({
        id: "corp",
        type: "custom",
        url: `${server.url}/x?q={query}`,
        response: { results: "data.hits", title: "t", url: "u" },
      }),
    );
    await expect(
      provider.search({ query: "q", limit: 5, signal: AbortSignal.timeout(2000) }),
    ).rejects.toThrow(/no list at "data.hits"/);
  });
});
