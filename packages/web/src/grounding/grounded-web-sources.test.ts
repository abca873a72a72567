import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeKnowledge, startFakeKnowledgeAndSearch } from "../../test/support/fake-knowledge-search.js";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { createApiKey, parseSse, type Session, signUp } from "../../test/support/web-client.js";
import { startWeb, type WebHarness } from "../../test/support/web-harness.js";

/**
 * A turn grounded in a knowledge base and the web together, on a model with a small context: both
 * kinds of source reach the model and the Sources list, and what had to be left out is said; a web
 * search that failed says why.
 */
describe("an answer grounded in a knowledge base and the web at once", () => {
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;
  let url: string;
  let alice: Session;
  let handbook: string;
  let apiKey: string;

  /** A paragraph of about 2,000 characters (a 512-token passage), naming vacation days. */
  const paragraph = (n: number) =>
    `Vacation days, section ${n}: ${"employees accrue leave monthly and carry it over. ".repeat(40)}`.trim();

  beforeAll(async () => {
    // A 2,048-token context, counted as the web service estimates English text (or less).
    model = await startFakeModelService({
      models: ["tiny-story"],
      context: { tokens: 2048, count: (text) => Math.ceil(text.length / 4) },
    });
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb({ modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url });
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    alice = await signUp(web.app, "alice");
    apiKey = await createApiKey(web.app, alice);
    handbook = (
      (
        await web.app.inject({
          method: "POST",
          url: "/api/knowledge-bases",
          headers: alice.headers,
          payload: { name: "handbook" },
        })
      ).json() as { id: string }
    ).id;
    const form = new FormData();
    const text = [1, 2, 3, 4, 5].map(paragraph).join("\n\n");
    form.append("file", new Blob([text], { type: "text/plain" }), "handbook.txt");
    const uploaded = await fetch(`${url}/api/knowledge-bases/${handbook}/documents`, {
      method: "POST",
      headers: alice.headers,
      body: form,
    });
    expect(uploaded.status).toBe(202);
  });
  afterEach(() => {
    services.searchError = undefined;
    services.searchProviders = undefined;
  });
  afterAll(async () => {
    await web.close();
    await services.close();
    await model.close();
  });

  const turn = async (search: "on" | "off", knowledgeBaseIds = [handbook]) => {
    const { id } = (
      await web.app.inject({ method: "POST", url: "/api/conversations", headers: alice.headers, payload: {} })
    ).json() as { id: string };
    const response = await fetch(`${url}/api/conversations/${id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...alice.headers },
      body: JSON.stringify({
        model: "tiny-story",
        content: "How many vacation days do we get?",
        knowledgeBaseIds,
        search,
      }),
    });
    expect(response.status).toBe(200);
    return parseSse(await response.text());
  };
  const sources = (parts: Array<Record<string, unknown>>) =>
    (parts.find((part) => part.type === "sources")?.citations ?? []) as Array<{
      n: number;
      kind: string;
      title: string;
    }>;
  const warnings = (parts: Array<Record<string, unknown>>) => parts.filter((part) => part.type === "warning");

  it("gives the web results room beside the passages, numbered by rank in turn, and says what was left out", async () => {
    const parts = await turn("on");
    const cited = sources(parts);
    expect(cited.map((citation) => citation.kind)).toEqual(["document", "web", "document"]);
    expect(cited.map((citation) => citation.n)).toEqual([1, 2, 3]);
    expect(cited[1]?.title).toBe("Hearth news");
    // The model saw the web result under the number the Sources list gives it.
    const prompt = model.requests.at(-1)!.messages[0]!.content;
    expect(prompt).toContain('<source id="2" title="Hearth news (https://example.org/hearth-news)">');
    expect(warnings(parts)).toEqual([
      { type: "warning", code: "sources-trimmed", leftOut: { knowledge: 3, web: 0 } },
    ]);
    expect(parts.at(-1)).toMatchObject({ type: "finish" });
  });

  it("says when passages alone were left out for lack of room", async () => {
    const parts = await turn("off");
    expect(sources(parts).map((citation) => citation.kind)).toEqual(["document", "document"]);
    expect(warnings(parts)).toEqual([
      { type: "warning", code: "sources-trimmed", leftOut: { knowledge: 3, web: 0 } },
    ]);
  });

  it("says that the search engines are rate-limiting, and for how long, when web search failed so", async () => {
    services.searchError = {
      status: 429,
      code: "SEARCH_RATE_LIMITED",
      retryAfter: "30",
      details: { providers: [{ id: "fake", status: "rate-limited", latencyMs: 0 }] },
    };
    const parts = await turn("on", []);
    expect(warnings(parts)).toEqual([
      {
        type: "warning",
        code: "search-unavailable",
        errorCode: "SEARCH_RATE_LIMITED",
        reason: "rate-limited",
        retryAfterSeconds: 30,
      },
    ]);
  });

  it("says that the search engines did not answer in time", async () => {
    services.searchError = {
      status: 502,
      code: "SEARCH_ALL_PROVIDERS_FAILED",
      details: {
        providers: [
          { id: "fake", status: "timeout", latencyMs: 5000, error: "no answer within 5000 ms" },
          { id: "other", status: "timeout", latencyMs: 5000, error: "no answer within 5000 ms" },
        ],
      },
    };
    expect(warnings(await turn("on", []))).toEqual([
      {
        type: "warning",
        code: "search-unavailable",
        errorCode: "SEARCH_ALL_PROVIDERS_FAILED",
        reason: "timeout",
      },
    ]);
  });

  it("says that some search engines failed when the web results come from the others", async () => {
    services.searchProviders = [
      { id: "fake", status: "ok", latencyMs: 1, results: 1 },
      { id: "bing", status: "error", latencyMs: 3, error: "HTTP 401" },
    ];
    const parts = await turn("on", []);
    expect(sources(parts).map((citation) => citation.title)).toEqual(["Hearth news"]);
    expect(warnings(parts)).toEqual([{ type: "warning", code: "search-partial" }]);
  });

  it("follows the same rule on /v1/chat/completions, with the warnings' details beside their codes", async () => {
    const ask = async (body: Record<string, unknown>) => {
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({
          model: "tiny-story",
          messages: [{ role: "user", content: "How many vacation days do we get?" }],
          ...body,
        }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as {
        hearth?: {
          citations: Array<{ n: number; kind: string }>;
          warnings?: string[];
          warningDetails?: Record<string, unknown>;
        };
      };
    };
    const grounded = await ask({ knowledge_base_ids: [handbook], web_search: "on" });
    expect(grounded.hearth?.citations.map((citation) => citation.kind)).toEqual([
      "document",
      "web",
      "document",
    ]);
    expect(grounded.hearth?.warnings).toEqual(["sources-trimmed"]);
    expect(grounded.hearth?.warningDetails).toEqual({
      "sources-trimmed": { leftOut: { knowledge: 3, web: 0 } },
    });

    services.searchError = { status: 429, code: "SEARCH_RATE_LIMITED", retryAfter: "12" };
    const limited = await ask({ web_search: "on" });
    expect(limited.hearth?.warnings).toEqual(["search-unavailable"]);
    expect(limited.hearth?.warningDetails).toEqual({
      "search-unavailable": {
        errorCode: "SEARCH_RATE_LIMITED",
        reason: "rate-limited",
        retryAfterSeconds: 12,
      },
    });
  });
});
