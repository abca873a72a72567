import type { Memory } from "@hearth/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import {
  createApiKey,
  parseSse,
  type Session,
  setFilterWords,
  signUp,
} from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";

const HEADING = "About the user (what they asked you to remember):";

/** Memory over the browser API, and in the chats of its user, on each database. */
describe.each(dialects)("memory on %s", (dialect) => {
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  /** The first account: the administrator. */
  let admin: Session;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story"], delayMs: 1 });
    web = await startWeb({ modelUrl: model.url }, {}, dialect);
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    admin = await signUp(web.app, `${dialect}-admin`);
  });
  afterAll(async () => {
    await web.close();
    await model.close();
  });

  let users = 0;
  const newUser = () => signUp(web.app, `${dialect}-user-${++users}`);
  const add = (session: Session, content: unknown) =>
    web.app.inject({ method: "POST", url: "/api/memories", headers: session.headers, payload: { content } });
  const added = async (session: Session, content: string) => {
    const response = await add(session, content);
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as Memory;
  };
  const edit = (session: Session, id: string, content: string) =>
    web.app.inject({
      method: "PATCH",
      url: `/api/memories/${id}`,
      headers: session.headers,
      payload: { content },
    });
  const remove = (session: Session, id: string) =>
    web.app.inject({ method: "DELETE", url: `/api/memories/${id}`, headers: session.headers });
  const clear = (session: Session) =>
    web.app.inject({ method: "DELETE", url: "/api/memories", headers: session.headers });
  const list = async (session: Session) => {
    const response = await web.app.inject({ url: "/api/memories", headers: session.headers });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as { memories: Memory[]; maxChars: number; maxCount: number };
  };
  const contents = async (session: Session) => (await list(session)).memories.map((m) => m.content);
  const codeOf = (response: { statusCode: number; json(): unknown }) => [
    response.statusCode,
    (response.json() as { error: { code: string } }).error.code,
  ];
  const turnOn = async (session: Session, memory: boolean) => {
    const response = await web.app.inject({
      method: "PUT",
      url: "/api/account/preferences",
      headers: session.headers,
      payload: { memory },
    });
    expect(response.json()).toMatchObject({ memory });
  };

  it("keeps a user's memories to them: added, listed newest first, changed, deleted one by one or all", async () => {
    const alice = await newUser();
    const bob = await newUser();
    expect(await list(alice)).toEqual({ memories: [], maxChars: 1000, maxCount: 100 });
    const go = await added(alice, "  I work in Go  ");
    expect(go).toMatchObject({ content: "I work in Go", createdAt: go.updatedAt });
    await added(alice, "Answer in Chinese");
    // A memory is one line of the prompt: its line breaks are kept as spaces.
    const team = await added(alice, "My team\n  is called\r\nAtlas");
    expect(team.content).toBe("My team is called Atlas");
    expect(await contents(alice)).toEqual(["My team is called Atlas", "Answer in Chinese", "I work in Go"]);

    // Changed in place: it keeps its place in the list.
    const changed = await edit(alice, go.id, "I work in Go and Rust");
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({
      id: go.id,
      content: "I work in Go and Rust",
      createdAt: go.createdAt,
    });
    expect(await contents(alice)).toEqual([
      "My team is called Atlas",
      "Answer in Chinese",
      "I work in Go and Rust",
    ]);

    // Another user's memory is one that never was, to an administrator too; theirs are their own.
    await added(bob, "Bob likes tea");
    expect(await contents(bob)).toEqual(["Bob likes tea"]);
    for (const response of [
      await edit(bob, go.id, "taken over"),
      await remove(bob, go.id),
      await edit(admin, go.id, "taken over"),
      await remove(admin, go.id),
      await remove(alice, "no-such-memory"),
    ]) {
      expect(codeOf(response)).toEqual([404, "MEMORY_NOT_FOUND"]);
      expect(response.body).not.toContain("Go");
    }

    expect((await remove(alice, team.id)).statusCode).toBe(204);
    expect(codeOf(await remove(alice, team.id))).toEqual([404, "MEMORY_NOT_FOUND"]);
    expect(await contents(alice)).toEqual(["Answer in Chinese", "I work in Go and Rust"]);
    // Clear all: every one of hers, none of Bob's.
    const cleared = await clear(alice);
    expect([cleared.statusCode, cleared.json()]).toEqual([200, { deleted: 2 }]);
    expect(await contents(alice)).toEqual([]);
    expect(await contents(bob)).toEqual(["Bob likes tea"]);
  });

  it("refuses an empty memory, one over 1,000 characters, a blocked word, and a 101st", async () => {
    const carol = await newUser();
    for (const [content, issue] of [
      ["   ", "too_small"],
      ["x".repeat(1001), "too_big"],
      // Counted as every Hearth text limit is: an emoji is two characters.
      [`${"x".repeat(999)}😀`, "too_big"],
      [42, "invalid_type"],
    ] as const) {
      const response = await add(carol, content);
      expect(codeOf(response), String(content).slice(0, 20)).toEqual([400, "INVALID_REQUEST"]);
      expect(response.json().error.details.issues[0]).toMatchObject({ path: "content", code: issue });
    }
    await setFilterWords(web.app, admin, ["forbidden"]);
    try {
      const blocked = await add(carol, "I like forbidden things");
      expect(codeOf(blocked)).toEqual([422, "CONTENT_BLOCKED"]);
    } finally {
      await setFilterWords(web.app, admin, []);
    }
    expect(await contents(carol)).toEqual([]);
    // At the limits: 1,000 characters, and 100 memories.
    const longest = await added(carol, "x".repeat(1000));
    for (let n = 2; n <= 100; n++) await added(carol, `Fact ${n}`);
    const full = await add(carol, "One too many");
    expect(codeOf(full)).toEqual([409, "MEMORY_LIMIT_REACHED"]);
    expect(full.json().error.message).toContain("100");
    const { memories } = await list(carol);
    expect(memories).toHaveLength(100);
    expect(memories[0]!.content).toBe("Fact 100");
    // Deleting one makes room for another.
    expect((await remove(carol, longest.id)).statusCode).toBe(204);
    await added(carol, "One more");
    expect(codeOf(await add(carol, "And another"))).toEqual([409, "MEMORY_LIMIT_REACHED"]);
    const changed = await edit(carol, memories[0]!.id, "y".repeat(1001));
    expect(codeOf(changed)).toEqual([400, "INVALID_REQUEST"]);
  });

  it("opens to no API key, and a user's memories go with their account", async () => {
    const dan = await newUser();
    await added(dan, "Dan's secret");
    const key = await createApiKey(web.app, dan);
    const byKey = await web.app.inject({ url: "/api/memories", headers: { authorization: `Bearer ${key}` } });
    expect(byKey.statusCode).toBe(401);
    const deleted = await web.app.inject({
      method: "DELETE",
      url: `/api/admin/users/${dan.userId}`,
      headers: admin.headers,
    });
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(
      await web.db.selectFrom("memories").where("user_id", "=", dan.userId).selectAll().execute(),
    ).toEqual([]);
  });

  describe("in chats", () => {
    const newChat = async (session: Session, payload: Record<string, unknown> = {}) => {
      const response = await web.app.inject({
        method: "POST",
        url: "/api/conversations",
        headers: session.headers,
        payload,
      });
      expect(response.statusCode, response.body).toBe(201);
      return (response.json() as { id: string }).id;
    };
    /** A turn of the conversation (a message, or regenerate), its answer read to the end; what the model was sent. */
    const turn = async (session: Session, id: string, content?: string) => {
      const response = await fetch(`${url}/api/conversations/${id}/${content ? "messages" : "regenerate"}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...session.headers },
        body: JSON.stringify({ model: "tiny-story", ...(content ? { content } : {}) }),
      });
      const parts = parseSse(await response.text());
      expect(response.status, JSON.stringify(parts)).toBe(200);
      expect(parts.at(-1), JSON.stringify(parts)).toMatchObject({ type: "finish" });
      return model.requests.at(-1)!.messages;
    };

    it("adds the memories to the system prompt of the user's chats while memory is on, and only then", async () => {
      const erin = await newUser();
      await web.app.inject({
        method: "PUT",
        url: "/api/account/preferences",
        headers: erin.headers,
        payload: { instructions: "Be brief." },
      });
      await added(erin, "I work in Go");
      await added(erin, "Answer in Chinese");
      // Off until the user turns it on.
      expect(
        (await web.app.inject({ url: "/api/account/preferences", headers: erin.headers })).json(),
      ).toMatchObject({ memory: false });
      const chat = await newChat(erin);
      expect((await turn(erin, chat, "Which language?"))[0]).toEqual({
        role: "system",
        content: "Be brief.",
      });

      await turnOn(erin, true);
      const remembered = `Be brief.\n\n${HEADING}\n- Answer in Chinese\n- I work in Go`;
      expect(await turn(erin, chat, "And now?")).toEqual([
        { role: "system", content: remembered },
        { role: "user", content: "Which language?" },
        expect.objectContaining({ role: "assistant" }),
        { role: "user", content: "And now?" },
      ]);
      // A regenerated answer too, and a chat without a system prompt gets the block alone.
      expect((await turn(erin, chat))[0]).toEqual({ role: "system", content: remembered });
      const plain = await newChat(erin, { systemPrompt: null });
      expect(await turn(erin, plain, "Hi")).toEqual([
        { role: "system", content: `${HEADING}\n- Answer in Chinese\n- I work in Go` },
        { role: "user", content: "Hi" },
      ]);

      // A temporary chat keeps to itself: no memories go into it.
      const temporary = await newChat(erin, { temporary: true });
      expect(await turn(erin, temporary, "Hi")).toEqual([
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ]);
      // The public API's callers write their own prompts: none added there.
      const key = await createApiKey(web.app, erin);
      const v1 = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: "tiny-story", messages: [{ role: "user", content: "plain" }] }),
      });
      expect(v1.status).toBe(200);
      await v1.text();
      expect(model.requests.at(-1)!.messages).toEqual([{ role: "user", content: "plain" }]);
      // Another user's chats never get them, memory on or not.
      const frank = await newUser();
      await turnOn(frank, true);
      expect(await turn(frank, await newChat(frank), "Who am I?")).toEqual([
        { role: "user", content: "Who am I?" },
      ]);

      // Edited and deleted memories are sent as they are now; turned off, none.
      const [chinese] = (await list(erin)).memories;
      await edit(erin, chinese!.id, "Answer in formal Chinese");
      expect((await turn(erin, plain, "Again"))[0]!.content).toBe(
        `${HEADING}\n- Answer in formal Chinese\n- I work in Go`,
      );
      await turnOn(erin, false);
      expect((await turn(erin, plain, "Off?"))[0]).toEqual({ role: "user", content: "Hi" });
    });

    it("refuses a turn whose memories hold a word blocked since they were saved, as a system prompt's", async () => {
      const gina = await newUser();
      await added(gina, "I like pineapple");
      await turnOn(gina, true);
      const chat = await newChat(gina);
      await setFilterWords(web.app, admin, ["pineapple"]);
      try {
        const response = await fetch(`${url}/api/conversations/${chat}/messages`, {
          method: "POST",
          headers: { "content-type": "application/json", ...gina.headers },
          body: JSON.stringify({ model: "tiny-story", content: "Hello" }),
        });
        expect(response.status).toBe(422);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe("CONTENT_BLOCKED");
      } finally {
        await setFilterWords(web.app, admin, []);
      }
    });
  });
});

describe("memory in a small context", () => {
  let model: FakeModelService;
  let web: WebHarness;

  beforeAll(async () => {
    // A model of 2,048 tokens, a token every four characters: all the memories below would overflow it.
    model = await startFakeModelService({
      models: ["tiny-story"],
      delayMs: 1,
      context: { tokens: 2048, count: (text) => Math.ceil(text.length / 4) },
    });
    web = await startWeb({ modelUrl: model.url });
  });
  afterAll(async () => {
    await web.close();
    await model.close();
  });

  it("sends the newest memories that fit, leaving the others out rather than failing the turn, and says so", async () => {
    const url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    const hana = await signUp(web.app, "hana");
    const facts = Array.from({ length: 12 }, (_, n) => `Fact ${n}: ${"detail ".repeat(127)}`.trim());
    for (const content of facts) {
      const response = await web.app.inject({
        method: "POST",
        url: "/api/memories",
        headers: hana.headers,
        payload: { content },
      });
      expect(response.statusCode, response.body).toBe(201);
    }
    await web.app.inject({
      method: "PUT",
      url: "/api/account/preferences",
      headers: hana.headers,
      payload: { memory: true },
    });
    const id = (
      (
        await web.app.inject({
          method: "POST",
          url: "/api/conversations",
          headers: hana.headers,
          payload: {},
        })
      ).json() as { id: string }
    ).id;
    const response = await fetch(`${url}/api/conversations/${id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...hana.headers },
      body: JSON.stringify({ model: "tiny-story", content: "What do you know about me?" }),
    });
    const parts = parseSse(await response.text());
    expect(parts.at(-1), JSON.stringify(parts)).toMatchObject({ type: "finish" });
    const [system, question] = model.requests.at(-1)!.messages;
    expect(question).toEqual({ role: "user", content: "What do you know about me?" });
    const lines = system!.content.split("\n");
    expect(lines[0]).toBe(HEADING);
    // The newest first, as many as fit: some, not all.
    const sent = lines.slice(1);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThan(facts.length);
    expect(sent).toEqual(
      facts
        .slice()
        .reverse()
        .slice(0, sent.length)
        .map((fact) => `- ${fact}`),
    );
    // And the answer says so, under it.
    expect(parts.filter((part) => part.type === "warning")).toEqual([
      { type: "warning", code: "memories-trimmed" },
    ]);
  });
});
