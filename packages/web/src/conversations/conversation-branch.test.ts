import { beforeAll, describe, expect, it } from "vitest";
import { useConversationStand } from "../../test/support/conversation-stand.js";
import type { FakeModelService } from "../../test/support/fake-model-service.js";
import type { Session } from "../../test/support/web-client.js";
import { dialects, type WebHarness } from "../../test/support/web-harness.js";

interface Message {
  seq: number;
  role: "user" | "assistant";
  content: string;
  status: string;
  finishReason: string | null;
  versions?: { index: number; count: number };
}

interface Conversation {
  title: string;
  model: string | null;
  systemPrompt: string | null;
  temperature: number | null;
  maxTokens: number | null;
  messages: Message[];
}

/**
 * Branch in new chat: a new conversation of the user's that holds another's messages as shown up to
 * a message, with its model, system prompt and Chat controls, first in the list; the conversation
 * branched from is left as it was, and the branch goes on on its own.
 */
describe.each(dialects)("branching a conversation on %s", (dialect) => {
  const stand = useConversationStand(dialect);
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  let alice: Session;
  let bob: Session;
  beforeAll(() => {
    ({ model, web, url, alice, bob } = stand);
  });

  const create = async (payload: Record<string, unknown> = {}) =>
    (
      (
        await web.app.inject({ method: "POST", url: "/api/conversations", headers: alice.headers, payload })
      ).json() as { id: string }
    ).id;
  const send = (id: string, content: string) => stand.turn(id, "messages", { content });
  const read = async (id: string, session: Session = alice) =>
    (
      await web.app.inject({ url: `/api/conversations/${id}`, headers: session.headers })
    ).json() as Conversation;
  const branch = (id: string, payload: Record<string, unknown>, session: Session = alice) =>
    web.app.inject({
      method: "POST",
      url: `/api/conversations/${id}/branch`,
      headers: session.headers,
      payload,
    });

  it("copies the messages shown up to the one chosen, with the model, system prompt and Chat controls, into a new chat first in the list", async () => {
    const id = await create({
      model: "tiny-story",
      systemPrompt: "Answer briefly.",
      temperature: 0.2,
      maxTokens: 300,
    });
    await send(id, "one");
    await send(id, "two");
    const source = await read(id);
    const firstAnswer = source.messages[1]!;
    const answered = await branch(id, { seq: firstAnswer.seq, title: "Branch of one" });
    expect(answered.statusCode).toBe(201);
    const { id: branchId, title } = answered.json() as { id: string; title: string };
    expect(title).toBe("Branch of one");
    const copy = await read(branchId);
    expect(copy).toMatchObject({
      title: "Branch of one",
      model: "tiny-story",
      systemPrompt: "Answer briefly.",
      temperature: 0.2,
      maxTokens: 300,
    });
    expect(copy.messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ["user", "one", "done"],
      ["assistant", "Hello from the model. You said: one", "done"],
    ]);
    // The chat branched from is as it was; the branch is the user's latest chat.
    expect((await read(id)).messages).toHaveLength(4);
    const list = (await web.app.inject({ url: "/api/conversations", headers: alice.headers })).json() as {
      conversations: Array<{ id: string }>;
    };
    expect(list.conversations[0]!.id).toBe(branchId);
    // It goes on on its own: the model is sent the branch's history only, with its system prompt.
    await send(branchId, "three");
    expect(model.requests.at(-1)!.messages.map((m) => m.content)).toEqual([
      "Answer briefly.",
      "one",
      "Hello from the model. You said: one",
      "three",
    ]);
    expect((await read(id)).messages).toHaveLength(4);
  });

  it("keeps the version shown of a regenerated answer, and takes the title of the chat without one given", async () => {
    const id = await create({ model: "tiny-story" });
    await send(id, "pick a colour");
    const regenerated = await fetch(`${url}/api/conversations/${id}/regenerate`, {
      method: "POST",
      headers: { "content-type": "application/json", ...alice.headers },
      body: JSON.stringify({ model: "tiny-story" }),
    });
    await regenerated.text();
    const shown = await read(id);
    expect(shown.messages[1]!.versions).toEqual({ index: 2, count: 2 });
    const answered = await branch(id, { seq: shown.messages[1]!.seq });
    const copy = await read((answered.json() as { id: string }).id);
    expect(copy.title).toBe(shown.title);
    expect(copy.messages.map((m) => m.content)).toEqual(shown.messages.map((m) => m.content));
    // A branch starts with one version of each message.
    expect(copy.messages.every((m) => m.versions === undefined)).toBe(true);
  });

  it("keeps an answer cut off at the length limit so in the branch", async () => {
    const id = await create({ model: "tiny-story" });
    model.options.finishReason = "length";
    try {
      await send(id, "a long story");
    } finally {
      model.options.finishReason = undefined;
    }
    const answer = (await read(id)).messages[1]!;
    expect(answer.finishReason).toBe("length");
    const copy = await read(((await branch(id, { seq: answer.seq })).json() as { id: string }).id);
    expect(copy.messages.map((m) => [m.role, m.status, m.finishReason])).toEqual([
      ["user", "done", null],
      ["assistant", "done", "length"],
    ]);
  });

  it("refuses another user's conversation as not found, a seq it does not show, bad bodies and a temporary chat", async () => {
    const id = await create({ model: "tiny-story" });
    await send(id, "mine");
    const before = (await web.app.inject({ url: "/api/conversations", headers: bob.headers })).json() as {
      conversations: unknown[];
    };
    const stranger = await branch(id, { seq: 0 }, bob);
    expect([stranger.statusCode, stranger.json().error.code]).toEqual([404, "CONVERSATION_NOT_FOUND"]);
    const after = (await web.app.inject({ url: "/api/conversations", headers: bob.headers })).json() as {
      conversations: unknown[];
    };
    expect(after.conversations).toHaveLength(before.conversations.length);
    const missing = await branch(id, { seq: 99 });
    expect([missing.statusCode, missing.json().error.code]).toEqual([404, "MESSAGE_NOT_FOUND"]);
    for (const body of [{}, { seq: -1 }, { seq: "1" }, { seq: 1, title: "" }, { seq: 1, extra: true }]) {
      const refused = await branch(id, body);
      expect([refused.statusCode, refused.json().error.code], JSON.stringify(body)).toEqual([
        400,
        "INVALID_REQUEST",
      ]);
    }
    const temporary = await create({ model: "tiny-story", temporary: true });
    await send(temporary, "gone soon");
    const kept = await branch(temporary, { seq: 1 });
    expect([kept.statusCode, kept.json().error.code]).toEqual([409, "CONVERSATION_TEMPORARY"]);
  });
});
