import { beforeAll, describe, expect, it } from "vitest";
import { useConversationStand } from "../../test/support/conversation-stand.js";
import type { FakeModelService } from "../../test/support/fake-model-service.js";
import { type Session, signUp } from "../../test/support/web-client.js";
import { dialects, type WebHarness } from "../../test/support/web-harness.js";
import { ConversationStore, MAX_STORED_VERSIONS } from "./conversation-store.js";

interface Message {
  id: string;
  seq: number;
  role: "user" | "assistant";
  content: string;
  status: string;
  versions?: { index: number; count: number };
}

/**
 * Message versions: an edit and resend, or a regeneration, keeps what it replaces as a version of
 * the conversation at that place ("‹ 1 / 2 ›" under the message), which the user switches back to;
 * the conversation goes on from the version shown, and only that path is sent to the model,
 * exported, shared and searched.
 */
describe.each(dialects)("message versions on %s", (dialect) => {
  const stand = useConversationStand(dialect);
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  let alice: Session;
  let bob: Session;
  beforeAll(() => {
    ({ model, web, url, alice, bob } = stand);
  });

  const create = async (session: Session = alice) =>
    (
      (
        await web.app.inject({
          method: "POST",
          url: "/api/conversations",
          headers: session.headers,
          payload: {},
        })
      ).json() as { id: string }
    ).id;
  const send = (id: string, payload: Record<string, unknown>) => stand.turn(id, "messages", payload);
  const regenerate = (id: string) => stand.turn(id, "regenerate");
  const messages = async (id: string, session: Session = alice) =>
    (
      (await web.app.inject({ url: `/api/conversations/${id}`, headers: session.headers })).json() as {
        messages: Message[];
      }
    ).messages;
  const switchTo = (id: string, body: unknown, session: Session = alice) =>
    web.app.inject({
      method: "POST",
      url: `/api/conversations/${id}/versions`,
      headers: session.headers,
      payload: body as Record<string, unknown>,
    });
  /** The path shown: each message's text, and its version where it begins several. */
  const shown = async (id: string) =>
    (await messages(id)).map((m) =>
      m.versions ? [m.content, `${m.versions.index}/${m.versions.count}`] : m.content,
    );
  /** What the model was sent last (its user and assistant turns). */
  const sent = () => model.requests.at(-1)!.messages.map((m) => m.content);
  const storedVersions = async (id: string) =>
    Number(
      (
        await web.db
          .selectFrom("message_versions")
          .select((eb) => eb.fn.countAll().as("n"))
          .where("conversation_id", "=", id)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it("keeps the message an edit replaces, and what followed it, as version 1; switches back and forth; goes on from the version shown", async () => {
    const id = await create();
    await send(id, { content: "one" });
    await send(id, { content: "two" });
    const [first] = await messages(id);
    await send(id, { content: "one, edited", editMessageId: first!.id });
    expect(await shown(id)).toEqual([["one, edited", "2/2"], "Hello from the model. You said: one, edited"]);
    // Version 1: the message as it was, and everything that followed it.
    const edited = (await messages(id))[0]!;
    const back = await switchTo(id, { seq: edited.seq, index: 1 });
    expect(back.statusCode).toBe(200);
    const old = [
      ["one", "1/2"],
      "Hello from the model. You said: one",
      "two",
      "Hello from the model. You said: two",
    ];
    expect(
      (back.json() as { messages: Message[] }).messages.map((m) =>
        m.versions ? [m.content, `${m.versions.index}/${m.versions.count}`] : m.content,
      ),
    ).toEqual(old);
    expect(await shown(id)).toEqual(old);
    // The next turn goes on from the version shown: exactly that path is sent to the model.
    await send(id, { content: "three" });
    expect(sent()).toEqual([
      "one",
      "Hello from the model. You said: one",
      "two",
      "Hello from the model. You said: two",
      "three",
    ]);
    // And back to version 2, which goes on from there; version 1 keeps its third turn.
    await switchTo(id, { seq: (await messages(id))[0]!.seq, index: 2 });
    expect(await shown(id)).toEqual([["one, edited", "2/2"], "Hello from the model. You said: one, edited"]);
    await send(id, { content: "after the edit" });
    expect(sent()).toEqual(["one, edited", "Hello from the model. You said: one, edited", "after the edit"]);
    await switchTo(id, { seq: (await messages(id))[0]!.seq, index: 1 });
    expect((await messages(id)).map((m) => m.content)).toEqual([
      "one",
      "Hello from the model. You said: one",
      "two",
      "Hello from the model. You said: two",
      "three",
      "Hello from the model. You said: three",
    ]);
    // Showing the version shown changes nothing.
    expect((await switchTo(id, { seq: (await messages(id))[0]!.seq, index: 1 })).statusCode).toBe(200);
    expect(await storedVersions(id)).toBe(1);
  });

  it("keeps the answer a regeneration replaces as a version; the next turn goes on from the one shown", async () => {
    const id = await create();
    model.options.words = ["First", " take."];
    try {
      await send(id, { content: "tell me" });
    } finally {
      model.options.words = undefined;
    }
    await regenerate(id);
    expect(await shown(id)).toEqual(["tell me", ["Hello from the model. You said: tell me", "2/2"]]);
    await regenerate(id);
    const answer = (await messages(id))[1]!;
    expect(answer.versions).toEqual({ index: 3, count: 3 });
    await switchTo(id, { seq: answer.seq, index: 1 });
    expect(await shown(id)).toEqual(["tell me", ["First take. You said: tell me", "1/3"]]);
    await send(id, { content: "go on" });
    expect(sent()).toEqual(["tell me", "First take. You said: tell me", "go on"]);
  });

  it("puts the previous answer back when a regeneration or an edit fails or is stopped; the versions stay as they were", async () => {
    const id = await create();
    await send(id, { content: "keep me" });
    await regenerate(id);
    const before = await shown(id);
    expect(before).toEqual(["keep me", ["Hello from the model. You said: keep me", "2/2"]]);
    model.options.models = ["another"];
    try {
      expect((await regenerate(id)).at(-1)).toMatchObject({ type: "error" });
      expect(await shown(id)).toEqual(before);
      const [question] = await messages(id);
      const edited = await send(id, { content: "changed", editMessageId: question!.id });
      expect(edited.at(-1)).toMatchObject({ type: "error" });
      expect(await shown(id)).toEqual(before);
    } finally {
      model.options.models = ["tiny-story"];
    }
    // Stopped mid-answer: the same.
    model.options.delayMs = 30;
    model.options.words = Array.from({ length: 200 }, (_, i) => ` w${i}`);
    try {
      const response = await fetch(`${url}/api/conversations/${id}/regenerate`, {
        method: "POST",
        headers: { "content-type": "application/json", ...alice.headers },
        body: JSON.stringify({ model: "tiny-story" }),
      });
      const reader = response.body!.getReader();
      let seen = "";
      const decoder = new TextDecoder();
      while (!seen.includes("w2")) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`the answer ended before w2: ${seen}`);
        seen += decoder.decode(value, { stream: true });
      }
      // While it is written, no version is switched.
      const answer = (await messages(id))[1]!;
      const refused = await switchTo(id, { seq: answer.seq, index: 1 });
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({ error: { code: "ANSWER_IN_PROGRESS" } });
      await web.app.inject({
        method: "POST",
        url: `/api/conversations/${id}/stop`,
        headers: alice.headers,
        payload: {},
      });
      while (!(await reader.read()).done);
    } finally {
      model.options.delayMs = undefined;
      model.options.words = undefined;
    }
    expect(await shown(id)).toEqual(before);
    expect(await storedVersions(id)).toBe(1);
  });

  it("keeps the versions within a version: they go and come back with it", async () => {
    const id = await create();
    await send(id, { content: "a" });
    await send(id, { content: "b" });
    // Two versions of the second question...
    const b = (await messages(id))[2]!;
    await send(id, { content: "b2", editMessageId: b.id });
    expect(await shown(id)).toEqual([
      "a",
      "Hello from the model. You said: a",
      ["b2", "2/2"],
      "Hello from the model. You said: b2",
    ]);
    // ... and two of the first: the second question's versions go with the first version.
    await send(id, { content: "a2", editMessageId: (await messages(id))[0]!.id });
    expect(await shown(id)).toEqual([["a2", "2/2"], "Hello from the model. You said: a2"]);
    await switchTo(id, { seq: (await messages(id))[0]!.seq, index: 1 });
    expect(await shown(id)).toEqual([
      ["a", "1/2"],
      "Hello from the model. You said: a",
      ["b2", "2/2"],
      "Hello from the model. You said: b2",
    ]);
    await switchTo(id, { seq: (await messages(id))[2]!.seq, index: 1 });
    expect(await shown(id)).toEqual([
      ["a", "1/2"],
      "Hello from the model. You said: a",
      ["b", "1/2"],
      "Hello from the model. You said: b",
    ]);
    await send(id, { content: "c" });
    expect(sent()).toEqual([
      "a",
      "Hello from the model. You said: a",
      "b",
      "Hello from the model. You said: b",
      "c",
    ]);
  });

  it("refuses another user's conversation (404), a seq not shown (404) and a version it does not have (400)", async () => {
    const id = await create();
    await send(id, { content: "q" });
    await regenerate(id);
    const answer = (await messages(id))[1]!;
    const others = await switchTo(id, { seq: answer.seq, index: 1 }, bob);
    expect(others.statusCode).toBe(404);
    expect(others.json()).toMatchObject({ error: { code: "CONVERSATION_NOT_FOUND" } });
    const unknown = await switchTo(id, { seq: 99, index: 1 });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: "MESSAGE_NOT_FOUND" } });
    for (const index of [0, 3, -1]) {
      const response = await switchTo(id, { seq: answer.seq, index });
      expect(response.statusCode, String(index)).toBe(400);
      expect(response.json()).toMatchObject({
        error: { code: "VERSION_OUT_OF_RANGE", details: { count: 2 } },
      });
    }
    // A message with no other version has only version 1.
    expect((await switchTo(id, { seq: (await messages(id))[0]!.seq, index: 2 })).statusCode).toBe(400);
    const malformed = await switchTo(id, { seq: "one", index: 1 });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ error: { code: "INVALID_REQUEST" } });
    expect(await shown(id)).toEqual(["q", ["Hello from the model. You said: q", "2/2"]]);
  });

  it("exports, shares and searches only the path shown", async () => {
    const id = await create();
    // Titled, so that the title is not the first message's.
    await web.app.inject({
      method: "PATCH",
      url: `/api/conversations/${id}`,
      headers: alice.headers,
      payload: { title: "Animals" },
    });
    await send(id, { content: "zebra question" });
    await send(id, { content: "giraffe question", editMessageId: (await messages(id))[0]!.id });
    const json = JSON.parse(
      (await web.app.inject({ url: `/api/conversations/${id}/export?format=json`, headers: alice.headers }))
        .body,
    ) as { messages: Array<Record<string, unknown>> };
    expect(json.messages.map((m) => m.content)).toEqual([
      "giraffe question",
      "Hello from the model. You said: giraffe question",
    ]);
    expect(json.messages[0]).not.toHaveProperty("versions");
    const markdown = (
      await web.app.inject({ url: `/api/conversations/${id}/export`, headers: alice.headers })
    ).body;
    expect(markdown).toContain("giraffe");
    expect(markdown).not.toContain("zebra");
    const search = async (q: string) =>
      (
        (await web.app.inject({ url: `/api/conversations?q=${q}`, headers: alice.headers })).json() as {
          conversations: Array<{ id: string }>;
        }
      ).conversations.map((c) => c.id);
    expect(await search("giraffe")).toContain(id);
    expect(await search("zebra")).not.toContain(id);
    const shared = await web.app.inject({
      method: "POST",
      url: `/api/conversations/${id}/share`,
      headers: alice.headers,
    });
    const link = (shared.json() as { id: string }).id;
    const read = (await web.app.inject({ url: `/api/shares/${link}`, headers: bob.headers })).json() as {
      messages: Array<Record<string, unknown>>;
    };
    expect(read.messages.map((m) => m.content)).toEqual([
      "giraffe question",
      "Hello from the model. You said: giraffe question",
    ]);
    // Switched, the path shown is what is exported, found and shared (once shared again).
    await switchTo(id, { seq: (await messages(id))[0]!.seq, index: 1 });
    expect(await search("zebra")).toContain(id);
    expect(await search("giraffe")).not.toContain(id);
    await web.app.inject({ method: "POST", url: `/api/conversations/${id}/share`, headers: alice.headers });
    const again = (await web.app.inject({ url: `/api/shares/${link}`, headers: bob.headers })).json() as {
      messages: Array<Record<string, unknown>>;
    };
    expect(again.messages.map((m) => m.content)).toEqual([
      "zebra question",
      "Hello from the model. You said: zebra question",
    ]);
  });

  it("deletes a conversation's versions with it, and with its owner's account", async () => {
    const id = await create();
    await send(id, { content: "q" });
    await regenerate(id);
    expect(await storedVersions(id)).toBe(1);
    expect(
      (await web.app.inject({ method: "DELETE", url: `/api/conversations/${id}`, headers: alice.headers }))
        .statusCode,
    ).toBe(204);
    expect(await storedVersions(id)).toBe(0);
    // The account: carol's conversation goes with her, its versions too.
    const carol = await signUp(web.app, `carol-${dialect}`);
    const hers = await create(carol);
    for (const path of ["messages", "regenerate"]) {
      const response = await fetch(`${url}/api/conversations/${hers}/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...carol.headers },
        body: JSON.stringify({ model: "tiny-story", ...(path === "messages" ? { content: "q" } : {}) }),
      });
      await response.text();
    }
    expect(await storedVersions(hers)).toBe(1);
    // alice signed up first: the administrator.
    const removed = await web.app.inject({
      method: "DELETE",
      url: `/api/admin/users/${carol.userId}`,
      headers: alice.headers,
    });
    expect(removed.statusCode).toBe(204);
    expect(await storedVersions(hers)).toBe(0);
  });

  it(`keeps at most ${MAX_STORED_VERSIONS} versions a conversation, deleting the oldest, never the path shown`, async () => {
    const id = await create();
    const store = new ConversationStore(web.db);
    await store.append(id, { role: "user", content: "q", status: "done", model: null });
    // A minute apart: the versions' order is their first message's time, which a fast loop would tie.
    const answer = (n: number) =>
      store.append(id, {
        role: "assistant",
        content: `answer ${n}`,
        status: "done",
        model: "tiny-story",
        createdAt: new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString(),
      });
    await answer(0);
    for (let n = 1; n <= MAX_STORED_VERSIONS + 5; n++) {
      await store.setAside(id, 2);
      await answer(n);
    }
    const shownNow = await messages(id);
    expect(shownNow.map((m) => m.content)).toEqual(["q", `answer ${MAX_STORED_VERSIONS + 5}`]);
    expect(shownNow[1]!.versions).toEqual({ index: MAX_STORED_VERSIONS + 1, count: MAX_STORED_VERSIONS + 1 });
    expect(await storedVersions(id)).toBe(MAX_STORED_VERSIONS);
    // The oldest went: version 1 is now the sixth answer.
    await switchTo(id, { seq: 2, index: 1 });
    expect((await messages(id))[1]!.content).toBe("answer 5");
  });
});
