import { beforeAll, describe, expect, it } from "vitest";
import { useConversationStand } from "../../test/support/conversation-stand.js";
import type { FakeModelService } from "../../test/support/fake-model-service.js";
import { parseSse, type Session } from "../../test/support/web-client.js";
import { dialects, type WebHarness } from "../../test/support/web-harness.js";
import { ConversationStore } from "./conversation-store.js";

interface Message {
  id: string;
  role: "user" | "assistant";
  content: string;
  status: string;
  finishReason: string | null;
  model: string | null;
}

/** The answer the fake model gives "a long story" (its words, then what it was told). */
const LONG_STORY = "Hello from the model. You said: a long story";

/**
 * Continue (ChatGPT's "Continue generating"): the model goes on with the conversation's last answer,
 * cut off at the length limit, stopped or interrupted, from where it ends, and the same stored
 * answer grows; it streams and stops as a turn does, and is metered as one.
 */
describe.each(dialects)("continuing an answer on %s", (dialect) => {
  const stand = useConversationStand(dialect);
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  let alice: Session;
  let bob: Session;
  let store: ConversationStore;
  beforeAll(() => {
    ({ model, web, url, alice, bob } = stand);
    store = new ConversationStore(web.db);
  });

  const create = async () =>
    (
      (
        await web.app.inject({
          method: "POST",
          url: "/api/conversations",
          headers: alice.headers,
          payload: {},
        })
      ).json() as { id: string }
    ).id;
  const messages = async (id: string) =>
    (
      (await web.app.inject({ url: `/api/conversations/${id}`, headers: alice.headers })).json() as {
        messages: Message[];
      }
    ).messages;
  const continueAnswer = (id: string, payload: unknown = { model: "tiny-story" }, session = alice) =>
    web.app.inject({
      method: "POST",
      url: `/api/conversations/${id}/continue`,
      headers: session.headers,
      payload: payload as Record<string, unknown>,
    });
  /** A conversation of alice's whose answer the model cut off at the length limit. */
  const cutOff = async () => {
    const id = await create();
    model.options.finishReason = "length";
    try {
      await stand.turn(id, "messages", { content: "a long story" });
    } finally {
      model.options.finishReason = undefined;
    }
    return id;
  };
  /** Alice's usage so far: requests and completion tokens. */
  const usage = async () => {
    const report = (await web.app.inject({ url: "/api/admin/usage", headers: alice.headers })).json() as {
      usage: Array<{ username: string; requests: number; completionTokens: number }>;
    };
    const mine = report.usage.filter((row) => row.username === "alice");
    return {
      requests: mine.reduce((sum, row) => sum + row.requests, 0),
      completionTokens: mine.reduce((sum, row) => sum + row.completionTokens, 0),
    };
  };

  it("goes on with an answer cut off at the length limit, in the same message, streamed and metered as a turn", async () => {
    const id = await cutOff();
    const [, answer] = await messages(id);
    expect(answer).toMatchObject({ content: LONG_STORY, status: "done", finishReason: "length" });
    const before = await usage();

    const parts = await stand.turn(id, "continue");
    expect(parts[0]).toEqual({ type: "message-start", messageId: answer!.id, conversationId: id });
    expect(parts.filter((part) => part.type === "text-delta").map((part) => part.text)).toEqual([
      " and",
      " so",
      " on.",
    ]);
    expect(parts.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
    // The model was asked to go on from the answer: the chat ends with it, as it stands.
    expect(model.requests.at(-1)!.messages.slice(-2)).toEqual([
      { role: "user", content: "a long story" },
      { role: "assistant", content: LONG_STORY },
    ]);
    // The same answer, grown; the conversation holds no other message.
    expect((await messages(id)).map((m) => [m.id, m.role, m.content, m.status, m.finishReason])).toEqual([
      [expect.any(String), "user", "a long story", "done", null],
      [answer!.id, "assistant", `${LONG_STORY} and so on.`, "done", "stop"],
    ]);
    // Counted as any turn: one request, the tokens the model reported (its three words).
    expect(await usage()).toEqual({
      requests: before.requests + 1,
      completionTokens: before.completionTokens + 3,
    });
  });

  it("goes on again with a continuation cut off in its turn, and with an answer the user stopped", async () => {
    const id = await cutOff();
    model.options.finishReason = "length";
    try {
      await stand.turn(id, "continue");
    } finally {
      model.options.finishReason = undefined;
    }
    expect((await messages(id)).at(-1)).toMatchObject({ finishReason: "length" });
    await stand.turn(id, "continue");
    expect((await messages(id)).at(-1)).toMatchObject({
      content: `${LONG_STORY} and so on. and so on.`,
      status: "done",
      finishReason: "stop",
    });

    const stopped = await create();
    await store.append(stopped, { role: "user", content: "count to ten", status: "done", model: null });
    const half = await store.append(stopped, {
      role: "assistant",
      content: "",
      status: "streaming",
      model: null,
    });
    await store.finishMessage(half.id, { content: "one, two", reasoning: null, status: "stopped" });
    await stand.turn(stopped, "continue");
    expect((await messages(stopped)).at(-1)).toMatchObject({
      id: half.id,
      content: "one, two and so on.",
      status: "done",
      finishReason: "stop",
      // Written by the model that went on with it.
      model: "tiny-story",
    });
  });

  /** A continuation of alice's, read as it streams. */
  const streamContinuation = async (id: string) => {
    const response = await fetch(`${url}/api/conversations/${id}/continue`, {
      method: "POST",
      headers: { "content-type": "application/json", ...alice.headers },
      body: JSON.stringify({ model: "tiny-story" }),
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    return {
      async until(text: string) {
        while (!seen.includes(text)) {
          const { done, value } = await reader.read();
          if (done) throw new Error(`the continuation ended before "${text}": ${seen}`);
          seen += decoder.decode(value, { stream: true });
        }
      },
      async parts() {
        for (let part = await reader.read(); !part.done; part = await reader.read())
          seen += decoder.decode(part.value, { stream: true });
        return parseSse(seen);
      },
    };
  };

  it("stops a continuation where its stream is, the answer kept with what it added; continued again, it runs on", async () => {
    const id = await cutOff();
    model.options.delayMs = 20;
    try {
      model.options.continuation = Array.from({ length: 200 }, (_, i) => ` c${i}`);
      const first = await streamContinuation(id);
      await first.until(" c2");
      const stop = await web.app.inject({
        method: "POST",
        url: `/api/conversations/${id}/stop`,
        headers: alice.headers,
        payload: {},
      });
      expect(stop.json()).toEqual({ stopped: true });
      expect((await first.parts()).some((part) => part.type === "finish")).toBe(false);
      const stopped = (await messages(id)).at(-1)!;
      expect(stopped.status).toBe("stopped");
      expect(stopped.content.startsWith(`${LONG_STORY} c0 c1 c2`)).toBe(true);
      expect(stopped.content).not.toContain("c199");

      // Stopped from another replica (marked on the answer, which its writer reads every second).
      model.options.continuation = Array.from({ length: 200 }, (_, i) => ` d${i}`);
      const second = await streamContinuation(id);
      await second.until(" d2");
      await store.requestStop(id);
      expect((await second.parts()).some((part) => part.type === "finish")).toBe(false);
      const stoppedAgain = (await messages(id)).at(-1)!;
      expect(stoppedAgain.status).toBe("stopped");
      expect(stoppedAgain.content.startsWith(`${stopped.content} d0 d1 d2`)).toBe(true);

      // Continued once more, it runs to its end: those Stops were for the continuations before.
      model.options.continuation = Array.from({ length: 60 }, (_, i) => ` e${i}`);
      await stand.turn(id, "continue");
      const whole = (await messages(id)).at(-1)!;
      expect(whole).toMatchObject({ status: "done", finishReason: "stop" });
      expect(whole.content.startsWith(stoppedAgain.content)).toBe(true);
      expect(whole.content.endsWith(" e58 e59")).toBe(true);
    } finally {
      model.options.continuation = undefined;
      model.options.delayMs = undefined;
    }
  });

  it("leaves the answer as it was when the continuation adds nothing (the model refused it)", async () => {
    const id = await cutOff();
    const before = await messages(id);
    model.options.refusal = { status: 503, code: "MODEL_BUSY", message: "the model is busy" };
    try {
      const parts = await stand.turn(id, "continue");
      expect(parts.at(-1)).toMatchObject({ type: "error" });
    } finally {
      model.options.refusal = undefined;
    }
    expect(await messages(id)).toEqual(before);
    // And it can still be continued.
    await stand.turn(id, "continue");
    expect((await messages(id)).at(-1)).toMatchObject({
      content: `${LONG_STORY} and so on.`,
      status: "done",
    });
  });

  it("refuses what is not an answer to go on with, another user's conversation, a bad body and an answer being written", async () => {
    const refusal = async (id: string, payload?: unknown, session?: Session) => {
      const response = await continueAnswer(id, payload, session);
      return [response.statusCode, response.json().error.code];
    };
    // A whole answer, a failed one with nothing in it, a question without an answer, an empty chat.
    const whole = await create();
    await stand.turn(whole, "messages", { content: "short" });
    expect(await refusal(whole)).toEqual([409, "ANSWER_NOT_CONTINUABLE"]);
    const failed = await create();
    await store.append(failed, { role: "user", content: "why", status: "done", model: null });
    const empty = await store.append(failed, {
      role: "assistant",
      content: "",
      status: "streaming",
      model: null,
    });
    await store.finishMessage(empty.id, {
      content: "",
      reasoning: null,
      status: "error",
      error: "the model is busy",
      errorCode: "MODEL_BUSY",
    });
    expect(await refusal(failed)).toEqual([409, "ANSWER_NOT_CONTINUABLE"]);
    const question = await create();
    await store.append(question, { role: "user", content: "hello?", status: "done", model: null });
    expect(await refusal(question)).toEqual([409, "ANSWER_NOT_CONTINUABLE"]);
    expect(await refusal(await create())).toEqual([409, "ANSWER_NOT_CONTINUABLE"]);

    const id = await cutOff();
    const before = await messages(id);
    expect(await refusal(id, { model: "tiny-story" }, bob)).toEqual([404, "CONVERSATION_NOT_FOUND"]);
    for (const body of [{}, { model: "" }, { model: "tiny-story", extra: true }])
      expect(await refusal(id, body), JSON.stringify(body)).toEqual([400, "INVALID_REQUEST"]);
    // An answer written now (another tab's), after the cut-off one: not continued beside it.
    const writing = await store.append(id, {
      role: "assistant",
      content: "",
      status: "streaming",
      model: null,
    });
    expect(await refusal(id)).toEqual([409, "ANSWER_IN_PROGRESS"]);
    await store.truncateFrom(id, writing.seq);
    expect(await messages(id)).toEqual(before);
  });
});
