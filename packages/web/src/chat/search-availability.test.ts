import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeKnowledge, startFakeKnowledgeAndSearch } from "../../test/support/fake-knowledge-search.js";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { createApiKey, parseSse, type Session, signUp } from "../../test/support/web-client.js";
import { startWeb, type WebHarness } from "../../test/support/web-harness.js";

/**
 * Web search with no engine configured (the search service answers as the real one does then):
 * the UI is told, a turn that asks for search anyway says why it has no web results (chat and
 * public API), and "auto" spends no model call deciding queries.
 */
describe("web search with no search engine configured", () => {
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;
  let url: string;
  let alice: Session;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story"] });
    services = await startFakeKnowledgeAndSearch();
    services.noProviders = true;
    web = await startWeb({ modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url });
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    alice = await signUp(web.app, "alice");
  });
  afterAll(async () => {
    await web.close();
    await services.close();
    await model.close();
  });

  const turn = async (search: "on" | "auto") => {
    const { id } = (
      await web.app.inject({ method: "POST", url: "/api/conversations", headers: alice.headers, payload: {} })
    ).json() as { id: string };
    const response = await fetch(`${url}/api/conversations/${id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...alice.headers },
      body: JSON.stringify({ model: "tiny-story", content: "latest hearth release?", search }),
    });
    return parseSse(await response.text());
  };

  it("tells the UI that web search is not configured", async () => {
    const status = await web.app.inject({ url: "/api/search/status", headers: alice.headers });
    expect(status.json()).toEqual({ configured: false });
  });

  it("answers a turn that asks for search with a warning naming the cause, and asks no engine", async () => {
    const searches = services.searches.length;
    const parts = await turn("on");
    expect(parts.filter((p) => p.type === "warning")).toEqual([
      { type: "warning", code: "search-not-configured" },
    ]);
    expect(parts.at(-1)).toMatchObject({ type: "finish" });
    expect(services.searches.length).toBe(searches);
  });

  it("spends no model call deciding queries in auto mode", async () => {
    const before = model.requests.length;
    const parts = await turn("auto");
    expect(parts.filter((p) => p.type === "warning")).toEqual([
      { type: "warning", code: "search-not-configured" },
    ]);
    // One request: the answer itself, no non-streamed "which queries?" call before it.
    expect(model.requests.slice(before).map((r) => r.stream)).toEqual([true]);
  });

  it("says so in the public API's answer, streamed or not", async () => {
    const key = await createApiKey(web.app, alice);
    const ask = (stream: boolean) =>
      fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "tiny-story",
          messages: [{ role: "user", content: "news?" }],
          stream,
          web_search: "on",
        }),
      });
    const plain = (await (await ask(false)).json()) as { hearth?: { warnings?: string[] } };
    expect(plain.hearth?.warnings).toEqual(["search-not-configured"]);
    const chunks = parseSse(await (await ask(true)).text()) as Array<{ id?: string; hearth?: unknown }>;
    expect(chunks[0]).toMatchObject({
      id: "hearth-sources",
      hearth: { warnings: ["search-not-configured"] },
    });
  });
});
