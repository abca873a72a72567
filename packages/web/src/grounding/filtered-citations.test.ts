import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeKnowledge, startFakeKnowledgeAndSearch } from "../../test/support/fake-knowledge-search.js";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import {
  createApiKey,
  parseSse,
  type Session,
  setFilterWords,
  signUp,
} from "../../test/support/web-client.js";
import { startWeb, type WebHarness } from "../../test/support/web-harness.js";

interface Cited {
  n: number;
  kind: string;
  title: string;
  snippet?: string;
}

/**
 * What an answer shows of its sources (their titles and snippets) is held to the output filter as
 * the answer is: a document or a web page holding a listed word is cited with the word masked, in
 * the conversation's `sources` event, its stored citations, a share of it, and /v1's
 * `hearth.citations`, streamed or not.
 */
describe("citations under the output filter", () => {
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;
  let url: string;
  let alice: Session;
  let bob: Session;
  let apiKey: string;
  let handbook: string;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story"] });
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb({ modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url });
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    alice = await signUp(web.app, "alice");
    bob = await signUp(web.app, "bob");
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
    const text = "At hearth every employee gets 25 vacation days a year.";
    form.append("file", new Blob([text], { type: "text/plain" }), "hearth-rules.txt");
    const uploaded = await fetch(`${url}/api/knowledge-bases/${handbook}/documents`, {
      method: "POST",
      headers: alice.headers,
      body: form,
    });
    expect(uploaded.status).toBe(202);
    // An administrator's word (a block list's): the question never holds it, the sources do, and
    // the search stand-in's page is titled "Hearth news".
    await setFilterWords(web.app, alice, ["hearth"]);
  });
  afterAll(async () => {
    await web?.close();
    await services?.close();
    await model?.close();
  });

  const question = "How many vacation days do we get?";
  const expected: Array<Partial<Cited>> = [
    {
      kind: "document",
      title: "******-rules.txt",
      snippet: "At ****** every employee gets 25 vacation days a year.",
    },
    { kind: "web", title: "****** news" },
  ];
  const shown = (citations: Cited[] | undefined) =>
    (citations ?? []).map(({ kind, title, snippet }) =>
      kind === "web" ? { kind, title } : { kind, title, snippet },
    );

  it("masks the word in the sources event, the stored citations and a share of the conversation", async () => {
    const { id } = (
      await web.app.inject({ method: "POST", url: "/api/conversations", headers: alice.headers, payload: {} })
    ).json() as { id: string };
    const response = await fetch(`${url}/api/conversations/${id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...alice.headers },
      body: JSON.stringify({
        model: "tiny-story",
        content: question,
        knowledgeBaseIds: [handbook],
        search: "on",
      }),
    });
    expect(response.status).toBe(200);
    const parts = parseSse(await response.text());
    const sources = parts.find((part) => part.type === "sources")?.citations as Cited[] | undefined;
    expect(shown(sources)).toEqual(expected);
    // The model read the sources as they are: its answer is what the filter masks.
    expect(model.requests.at(-1)!.messages[0]!.content).toContain("At hearth every employee");

    const stored = (
      await web.app.inject({ url: `/api/conversations/${id}`, headers: alice.headers })
    ).json() as { messages: Array<{ role: string; citations: Cited[] | null }> };
    expect(shown(stored.messages.at(-1)?.citations ?? undefined)).toEqual(expected);

    const share = await web.app.inject({
      method: "POST",
      url: `/api/conversations/${id}/share`,
      headers: alice.headers,
    });
    expect(share.statusCode).toBe(201);
    const shared = (
      await web.app.inject({
        url: `/api/shares/${(share.json() as { id: string }).id}`,
        headers: bob.headers,
      })
    ).json() as { messages: Array<{ citations: Cited[] | null }> };
    expect(shown(shared.messages.at(-1)?.citations ?? undefined)).toEqual(expected);
  });

  it("masks the word in /v1's hearth.citations, streamed and not", async () => {
    const ask = (stream: boolean) =>
      fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({
          model: "tiny-story",
          messages: [{ role: "user", content: question }],
          knowledge_base_ids: [handbook],
          web_search: "on",
          stream,
        }),
      });
    const plain = (await (await ask(false)).json()) as { hearth?: { citations: Cited[] } };
    expect(shown(plain.hearth?.citations)).toEqual(expected);

    const chunks = parseSse(await (await ask(true)).text());
    const sources = chunks.find((chunk) => chunk.id === "hearth-sources") as
      | { hearth: { citations: Cited[] } }
      | undefined;
    expect(shown(sources?.hearth.citations)).toEqual(expected);
  });
});
