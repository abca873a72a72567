import { describe, expect, it } from "vitest";
import { useConversationStand } from "../../test/support/conversation-stand.js";
import { parseSse, type Session } from "../../test/support/web-client.js";
import { dialects } from "../../test/support/web-harness.js";

/**
 * The knowledge bases chosen for a conversation are kept with it, so that it opens with them on
 * another device (or once the tab that chose them is closed): those sent with a turn, and those
 * ticked before one (in a new chat, or the conversation open); a base its user may no longer read is
 * not given back.
 */
describe.each(dialects)("a conversation's chosen knowledge bases on %s", (dialect) => {
  const stand = useConversationStand(dialect, { knowledgeAndSearch: true });

  const inject = (
    session: Session,
    method: "GET" | "POST" | "PATCH" | "PUT",
    path: string,
    payload?: unknown,
  ) =>
    stand.web.app.inject({
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
    const response = await fetch(`${stand.url}/api/conversations/${id}/${path}`, {
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
    const handbook = await base(stand.alice, "handbook");
    const policies = await base(stand.alice, "policies");
    const id = await conversation(stand.alice);
    expect(await chosen(stand.alice, id)).toBeNull();

    await turn(stand.alice, id, "messages", { knowledgeBaseIds: [handbook, policies] });
    expect(await chosen(stand.alice, id)).toEqual([handbook, policies]);
    // A turn sent without the field (an API client's) leaves the choice as it was.
    await turn(stand.alice, id, "messages", {});
    expect(await chosen(stand.alice, id)).toEqual([handbook, policies]);
    await turn(stand.alice, id, "regenerate", { knowledgeBaseIds: [policies] });
    expect(await chosen(stand.alice, id)).toEqual([policies]);

    // Ticked in the picker before the next turn: kept as well, without moving the chat up the list.
    const before = (await inject(stand.alice, "GET", `/api/conversations/${id}`)).json() as {
      updatedAt: string;
    };
    const patched = await inject(stand.alice, "PATCH", `/api/conversations/${id}`, {
      chosenKnowledgeBaseIds: [handbook],
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ chosenKnowledgeBaseIds: [handbook], updatedAt: before.updatedAt });
    expect(await chosen(stand.alice, id)).toEqual([handbook]);
    // Unticked: none, which is not "never chosen".
    await inject(stand.alice, "PATCH", `/api/conversations/${id}`, { chosenKnowledgeBaseIds: [] });
    expect(await chosen(stand.alice, id)).toEqual([]);

    // A branch keeps its source's choice.
    await inject(stand.alice, "PATCH", `/api/conversations/${id}`, { chosenKnowledgeBaseIds: [policies] });
    const branched = await inject(stand.alice, "POST", `/api/conversations/${id}/branch`, { seq: 1 });
    expect(branched.statusCode, branched.body).toBe(201);
    expect(await chosen(stand.alice, (branched.json() as { id: string }).id)).toEqual([policies]);
  });

  it("keeps the web search mode of a chat (one started without an assistant too), given back and exported", async () => {
    const webSearch = async (id: string) => {
      const response = await inject(stand.alice, "GET", `/api/conversations/${id}`);
      expect(response.statusCode, response.body).toBe(200);
      return (response.json() as { webSearch: string | null }).webSearch;
    };
    const id = await conversation(stand.alice);
    expect(await webSearch(id)).toBeNull();
    await turn(stand.alice, id, "messages", { search: "on" });
    expect(await webSearch(id)).toBe("on");
    // A turn sent without it (an API client's) leaves it as it was.
    await turn(stand.alice, id, "messages", {});
    expect(await webSearch(id)).toBe("on");
    await turn(stand.alice, id, "regenerate", { search: "auto" });
    expect(await webSearch(id)).toBe("auto");
    const exported = await inject(stand.alice, "GET", `/api/conversations/${id}/export?format=json`);
    expect((exported.json() as { webSearch: string | null }).webSearch).toBe("auto");

    // Chosen in the chat before the next turn: kept, without moving it up the list.
    const before = (await inject(stand.alice, "GET", `/api/conversations/${id}`)).json() as {
      updatedAt: string;
    };
    const patched = await inject(stand.alice, "PATCH", `/api/conversations/${id}`, { webSearch: "off" });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ webSearch: "off", updatedAt: before.updatedAt });
    expect(
      (await inject(stand.alice, "PATCH", `/api/conversations/${id}`, { webSearch: "sometimes" })).statusCode,
    ).toBe(400);

    // Chosen in a new chat before its first message; a branch keeps its source's.
    const chosenFirst = await conversation(stand.alice, { webSearch: "on" });
    expect(await webSearch(chosenFirst)).toBe("on");
    await turn(stand.alice, chosenFirst, "messages", { search: "on" });
    const branched = await inject(stand.alice, "POST", `/api/conversations/${chosenFirst}/branch`, {
      seq: 1,
    });
    expect(branched.statusCode, branched.body).toBe(201);
    expect(await webSearch((branched.json() as { id: string }).id)).toBe("on");
  });

  it("counts a base named more than once once, towards the limit of 20 ids too", async () => {
    const handbook = await base(stand.alice, "handbook twice");
    const repeated = Array.from({ length: 21 }, () => handbook);
    const id = await conversation(stand.alice, { chosenKnowledgeBaseIds: repeated });
    expect(await chosen(stand.alice, id)).toEqual([handbook]);
    await turn(stand.alice, id, "messages", { knowledgeBaseIds: repeated });
    expect(await chosen(stand.alice, id)).toEqual([handbook]);
    const patched = await inject(stand.alice, "PATCH", `/api/conversations/${id}`, {
      chosenKnowledgeBaseIds: repeated,
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ chosenKnowledgeBaseIds: [handbook] });
    // 21 different ids are still too many.
    const many = await inject(stand.alice, "PATCH", `/api/conversations/${id}`, {
      chosenKnowledgeBaseIds: Array.from({ length: 21 }, (_, i) => `kb_${i}`),
    });
    expect([many.statusCode, many.json().error.details.issues[0]]).toEqual([
      400,
      expect.objectContaining({ path: "chosenKnowledgeBaseIds", code: "too_big", maximum: 20 }),
    ]);
  });

  it("does not give back a base its user can no longer read, nor keep one they never could", async () => {
    const shared = await base(stand.alice, "everyone", "public");
    const secret = await base(stand.alice, "board");
    const id = await conversation(stand.bob, { chosenKnowledgeBaseIds: [secret, shared] });
    expect(await chosen(stand.bob, id)).toEqual([shared]);
    await turn(stand.bob, id, "messages", { knowledgeBaseIds: [shared, secret] });
    expect(await chosen(stand.bob, id)).toEqual([shared]);
    const patched = await inject(stand.bob, "PATCH", `/api/conversations/${id}`, {
      chosenKnowledgeBaseIds: [secret, shared, "no-such-base"],
    });
    expect(patched.json()).toMatchObject({ chosenKnowledgeBaseIds: [shared] });

    // No longer shared with stand.bob: his conversation no longer names it.
    const unshared = await inject(stand.alice, "PUT", `/api/knowledge-bases/${shared}/access`, {
      visibility: "private",
    });
    expect(unshared.statusCode, unshared.body).toBe(200);
    expect(await chosen(stand.bob, id)).toEqual([]);
  });
});
