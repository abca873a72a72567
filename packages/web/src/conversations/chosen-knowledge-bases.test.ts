import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeKnowledge, startFakeKnowledgeAndSearch } from "../../test/support/fake-knowledge-search.js";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { parseSse, type Session, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";

/**
 * The knowledge bases chosen for a conversation are kept with it, so that it opens with them on
 * another device (or once the tab that chose them is closed): those sent with a turn, and those
 * ticked before one (in a new chat, or the conversation open); a base its user may no longer read is
 * not given back.
 */
describe.each(dialects)("a conversation's chosen knowledge bases on %s", (dialect) => {
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;
  let url: string;
  let alice: Session;
  let bob: Session;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story"] });
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb(
      { modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url },
      {},
      dialect,
    );
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    alice = await signUp(web.app, "alice");
    bob = await signUp(web.app, "bob");
  });
  afterAll(async () => {
    await web?.close();
    await services?.close();
    await model?.close();
  });

  const inject = (
    session: Session,
    method: "GET" | "POST" | "PATCH" | "PUT",
    path: string,
    payload?: unknown,
  ) =>
    web.app.inject({
      method,
      url: path,
      headers: session.headers,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  const base = async (session: Session, name: string, visibility: "private" | "public" = "private") => {
    const response = await inject(session, "POST", "/api/knowledge-bases", { name, visibility });
    expect(response.statusCode, response.body).toBe(201);
    return (response.json() as { id: string }).id;
  };
  const conversation = async (session: Session, payload: Record<string, unknown> = {}) => {
    const response = await inject(session, "POST", "/api/conversations", payload);
    expect(response.statusCode, response.body).toBe(201);
    return (response.json() as { id: string }).id;
  };
  const chosen = async (session: Session, id: string) => {
    const response = await inject(session, "GET", `/api/conversations/${id}`);
    expect(response.statusCode, response.body).toBe(200);
    return (response.json() as { chosenKnowledgeBaseIds: string[] | null }).chosenKnowledgeBaseIds;
  };
  const turn = async (
    session: Session,
    id: string,
    path: "messages" | "regenerate",
    payload: Record<string, unknown>,
  ) => {
    const response = await fetch(`${url}/api/conversations/${id}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...session.headers },
      body: JSON.stringify({
        model: "tiny-story",
        ...(path === "messages" ? { content: "How many vacation days do we get?" } : {}),
        ...payload,
      }),
    });
    expect(response.status).toBe(200);
    expect(parseSse(await response.text()).at(-1)).toMatchObject({ type: "finish" });
  };

  it("keeps the bases sent with a turn, and those ticked before one, for the conversation opened again", async () => {
    const handbook = await base(alice, "handbook");
    const policies = await base(alice, "policies");
    const id = await conversation(alice);
    expect(await chosen(alice, id)).toBeNull();

    await turn(alice, id, "messages", { knowledgeBaseIds: [handbook, policies] });
    expect(await chosen(alice, id)).toEqual([handbook, policies]);
    // A turn sent without the field (an API client's) leaves the choice as it was.
    await turn(alice, id, "messages", {});
    expect(await chosen(alice, id)).toEqual([handbook, policies]);
    await turn(alice, id, "regenerate", { knowledgeBaseIds: [policies] });
    expect(await chosen(alice, id)).toEqual([policies]);

    // Ticked in the picker before the next turn: kept as well, without moving the chat up the list.
    const before = (await inject(alice, "GET", `/api/conversations/${id}`)).json() as { updatedAt: string };
    const patched = await inject(alice, "PATCH", `/api/conversations/${id}`, {
      chosenKnowledgeBaseIds: [handbook],
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ chosenKnowledgeBaseIds: [handbook], updatedAt: before.updatedAt });
    expect(await chosen(alice, id)).toEqual([handbook]);
    // Unticked: none, which is not "never chosen".
    await inject(alice, "PATCH", `/api/conversations/${id}`, { chosenKnowledgeBaseIds: [] });
    expect(await chosen(alice, id)).toEqual([]);

    // A branch keeps its source's choice.
    await inject(alice, "PATCH", `/api/conversations/${id}`, { chosenKnowledgeBaseIds: [policies] });
    const branched = await inject(alice, "POST", `/api/conversations/${id}/branch`, { seq: 1 });
    expect(branched.statusCode, branched.body).toBe(201);
    expect(await chosen(alice, (branched.json() as { id: string }).id)).toEqual([policies]);
  });

  it("does not give back a base its user can no longer read, nor keep one they never could", async () => {
    const shared = await base(alice, "everyone", "public");
    const secret = await base(alice, "board");
    const id = await conversation(bob, { chosenKnowledgeBaseIds: [secret, shared] });
    expect(await chosen(bob, id)).toEqual([shared]);
    await turn(bob, id, "messages", { knowledgeBaseIds: [shared, secret] });
    expect(await chosen(bob, id)).toEqual([shared]);
    const patched = await inject(bob, "PATCH", `/api/conversations/${id}`, {
      chosenKnowledgeBaseIds: [secret, shared, "no-such-base"],
    });
    expect(patched.json()).toMatchObject({ chosenKnowledgeBaseIds: [shared] });

    // No longer shared with bob: his conversation no longer names it.
    const unshared = await inject(alice, "PUT", `/api/knowledge-bases/${shared}/access`, {
      visibility: "private",
    });
    expect(unshared.statusCode, unshared.body).toBe(200);
    expect(await chosen(bob, id)).toEqual([]);
  });
});
