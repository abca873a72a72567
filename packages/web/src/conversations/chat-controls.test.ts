import {
  CHAT_CONTROL_NAMES,
  type ChatControls,
  DEFAULT_CHAT_CONTROLS,
} from "@hearth/contracts/chat-controls";
import { beforeAll, describe, expect, it } from "vitest";
import { useConversationStand } from "../../test/support/conversation-stand.js";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { parseSse, type Session, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";

/** The fields of a model request that carry the Chat controls, as the model service's OpenAI API names them. */
const SENT_CONTROLS = [
  "temperature",
  "top_p",
  "top_k",
  "min_p",
  "max_tokens",
  "seed",
  "frequency_penalty",
  "presence_penalty",
  "repeat_penalty",
] as const;

describe.each(dialects)("chat controls on %s", (dialect) => {
  const stand = useConversationStand(dialect);
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  let alice: Session;
  let bob: Session;
  beforeAll(() => {
    ({ model, web, url, alice, bob } = stand);
  });

  const inject = (session: Session, method: "GET" | "POST" | "PATCH", path: string, payload?: unknown) =>
    web.app.inject({
      method,
      url: path,
      headers: session.headers,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  const create = async (session: Session, payload: Record<string, unknown> = {}) => {
    const response = await inject(session, "POST", "/api/conversations", payload);
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as { id: string } & ChatControls;
  };
  const controlsOf = async (session: Session, id: string): Promise<ChatControls> => {
    const conversation = (await inject(session, "GET", `/api/conversations/${id}`)).json() as ChatControls;
    return Object.fromEntries(
      CHAT_CONTROL_NAMES.map((name) => [name, conversation[name]]),
    ) as unknown as ChatControls;
  };
  /** A turn streamed to its end; the model request it made. */
  const turn = async (id: string, path: "messages" | "regenerate", payload: Record<string, unknown>) => {
    const before = model.requests.length;
    const response = await fetch(`${url}/api/conversations/${id}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...alice.headers },
      body: JSON.stringify({ model: "tiny-story", ...payload }),
    });
    expect(response.status).toBe(200);
    const parts = parseSse(await response.text());
    expect(parts.at(-1)).toMatchObject({ type: "finish" });
    expect(model.requests.length).toBe(before + 1);
    const sent = model.requests.at(-1)!;
    return Object.fromEntries(SENT_CONTROLS.map((field) => [field, sent[field]]));
  };

  it("sets, keeps, and clears a conversation's controls, without moving it up the list", async () => {
    const { id } = await create(alice);
    expect(await controlsOf(alice, id)).toEqual(DEFAULT_CHAT_CONTROLS);
    const before = (await inject(alice, "GET", `/api/conversations/${id}`)).json() as { updatedAt: string };
    const tuned = {
      temperature: 0,
      topP: 0.9,
      topK: 40,
      minP: 0.05,
      maxTokens: 256,
      seed: 42,
      frequencyPenalty: 0.7,
      presencePenalty: -0.3,
      repeatPenalty: 1.1,
    };
    const set = await inject(alice, "PATCH", `/api/conversations/${id}`, tuned);
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject(tuned);
    expect(set.json().updatedAt).toBe(before.updatedAt);
    // Read back exactly (PostgreSQL's float4 would read 0.9 as 0.899999976, 0.05 as 0.0500000007).
    expect(await controlsOf(alice, id)).toEqual(tuned);
    // Only what is given changes; null is back to the model's own.
    await inject(alice, "PATCH", `/api/conversations/${id}`, {
      temperature: 1.25,
      seed: null,
      presencePenalty: null,
      minP: null,
    });
    expect(await controlsOf(alice, id)).toEqual({
      ...tuned,
      temperature: 1.25,
      seed: null,
      presencePenalty: null,
      minP: null,
    });
    // Other changes leave them as they are.
    await inject(alice, "PATCH", `/api/conversations/${id}`, { title: "Tuned" });
    expect(await controlsOf(alice, id)).toMatchObject({ temperature: 1.25, maxTokens: 256 });
    const reset = await inject(alice, "PATCH", `/api/conversations/${id}`, DEFAULT_CHAT_CONTROLS);
    expect(reset.statusCode).toBe(200);
    expect(await controlsOf(alice, id)).toEqual(DEFAULT_CHAT_CONTROLS);
  });

  it("refuses values out of range with INVALID_REQUEST naming the field and its range", async () => {
    const { id } = await create(alice, { temperature: 0.5 });
    const refused: Array<[Record<string, unknown>, string, string]> = [
      [{ temperature: 2.5 }, "temperature", "from 0 to 2"],
      [{ temperature: -0.1 }, "temperature", "from 0 to 2"],
      [{ temperature: "hot" }, "temperature", "from 0 to 2"],
      [{ topP: 1.5 }, "topP", "from 0 to 1"],
      [{ maxTokens: 0 }, "maxTokens", "a whole number from 1 to 131072"],
      [{ maxTokens: 12.5 }, "maxTokens", "a whole number from 1 to 131072"],
      [{ maxTokens: 131_073 }, "maxTokens", "a whole number from 1 to 131072"],
      [{ seed: -1 }, "seed", "a whole number from 0 to 2147483647"],
      [{ seed: 2 ** 31 }, "seed", "a whole number from 0 to 2147483647"],
      [{ seed: 1.5 }, "seed", "a whole number from 0 to 2147483647"],
      [{ frequencyPenalty: 2.5 }, "frequencyPenalty", "a number from -2 to 2"],
      [{ frequencyPenalty: "less" }, "frequencyPenalty", "a number from -2 to 2"],
      [{ presencePenalty: -2.1 }, "presencePenalty", "a number from -2 to 2"],
      [{ topK: -1 }, "topK", "a whole number from 0 to 1000"],
      [{ topK: 40.5 }, "topK", "a whole number from 0 to 1000"],
      [{ topK: 1001 }, "topK", "a whole number from 0 to 1000"],
      [{ minP: 1.5 }, "minP", "a number from 0 to 1"],
      [{ minP: -0.05 }, "minP", "a number from 0 to 1"],
      [{ repeatPenalty: 0 }, "repeatPenalty", "a number above 0 and at most 2"],
      [{ repeatPenalty: 2.5 }, "repeatPenalty", "a number above 0 and at most 2"],
      [{ repeatPenalty: "1.1" }, "repeatPenalty", "a number above 0 and at most 2"],
    ];
    for (const [body, field, rule] of refused) {
      const answer = await inject(alice, "PATCH", `/api/conversations/${id}`, body);
      expect(answer.statusCode, JSON.stringify(body)).toBe(400);
      const error = answer.json().error as { code: string; message: string; details: { issues: unknown[] } };
      expect(error.code).toBe("INVALID_REQUEST");
      expect(error.message).toContain(`${field}: ${field} must be`);
      expect(error.message).toContain(rule);
      expect(error.details.issues[0]).toMatchObject({ path: field });
    }
    // Nothing changed; a new chat with a bad value is not made.
    expect(await controlsOf(alice, id)).toEqual({ ...DEFAULT_CHAT_CONTROLS, temperature: 0.5 });
    const count = async () =>
      ((await inject(alice, "GET", "/api/conversations")).json() as { conversations: unknown[] })
        .conversations.length;
    const listed = await count();
    const bad = await inject(alice, "POST", "/api/conversations", { maxTokens: 0 });
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, "INVALID_REQUEST"]);
    expect(await count()).toBe(listed);
  });

  it("keeps another user's conversation out of reach: 404 whatever the body", async () => {
    const { id } = await create(alice, { seed: 7 });
    for (const body of [{ seed: 8 }, { seed: -1 }]) {
      const answer = await inject(bob, "PATCH", `/api/conversations/${id}`, body);
      expect([answer.statusCode, answer.json().error.code]).toEqual([404, "CONVERSATION_NOT_FOUND"]);
    }
    expect((await controlsOf(alice, id)).seed).toBe(7);
  });

  it("sends each control with every turn: send, regenerate, edit and resend; none when at the model's own", async () => {
    const { id } = await create(alice, {
      temperature: 0,
      topP: 0.5,
      topK: 20,
      minP: 0.1,
      maxTokens: 64,
      seed: 1234,
      frequencyPenalty: 1.2,
      presencePenalty: -2,
      repeatPenalty: 1.15,
    });
    const sent = {
      temperature: 0,
      top_p: 0.5,
      top_k: 20,
      min_p: 0.1,
      max_tokens: 64,
      seed: 1234,
      frequency_penalty: 1.2,
      presence_penalty: -2,
      repeat_penalty: 1.15,
    };
    expect(await turn(id, "messages", { content: "Name a colour." })).toEqual(sent);
    expect(await turn(id, "regenerate", {})).toEqual(sent);
    // Changed between turns: the next turn sends the new values.
    await inject(alice, "PATCH", `/api/conversations/${id}`, {
      temperature: 1.5,
      maxTokens: 2048,
      frequencyPenalty: 0.5,
      topK: 0,
      repeatPenalty: 0.9,
    });
    const changed = {
      ...sent,
      temperature: 1.5,
      max_tokens: 2048,
      frequency_penalty: 0.5,
      top_k: 0,
      repeat_penalty: 0.9,
    };
    const userMessage = (
      (await inject(alice, "GET", `/api/conversations/${id}`)).json() as {
        messages: Array<{ id: string; role: string }>;
      }
    ).messages.find((m) => m.role === "user")!;
    expect(await turn(id, "messages", { content: "Name a fruit.", editMessageId: userMessage.id })).toEqual(
      changed,
    );
    expect(await turn(id, "messages", { content: "And a tree?" })).toEqual(changed);
    // Back to the model's own: nothing is sent for them.
    await inject(alice, "PATCH", `/api/conversations/${id}`, DEFAULT_CHAT_CONTROLS);
    const none = {
      temperature: undefined,
      top_p: undefined,
      top_k: undefined,
      min_p: undefined,
      max_tokens: undefined,
      seed: undefined,
      frequency_penalty: undefined,
      presence_penalty: undefined,
      repeat_penalty: undefined,
    };
    expect(await turn(id, "messages", { content: "And a bird?" })).toEqual(none);
    expect(await turn(id, "regenerate", {})).toEqual(none);
  });

  it("leaves out a cap at or past the model's whole context, which the model service would refuse", async () => {
    const small = await startFakeModelService({
      models: ["tiny-story"],
      context: { tokens: 4096, count: (text) => Math.ceil(text.length / 4) + 4 },
    });
    const other = await startWeb({ modelUrl: small.url }, {}, dialect);
    try {
      const otherUrl = await other.app.listen({ host: "127.0.0.1", port: 0 });
      const carol = await signUp(other.app, "carol");
      const ask = async (maxTokens: number) => {
        const made = await other.app.inject({
          method: "POST",
          url: "/api/conversations",
          headers: carol.headers,
          payload: { maxTokens, temperature: 0 },
        });
        const response = await fetch(`${otherUrl}/api/conversations/${made.json().id}/messages`, {
          method: "POST",
          headers: { "content-type": "application/json", ...carol.headers },
          body: JSON.stringify({ model: "tiny-story", content: "Write a long story." }),
        });
        const parts = parseSse(await response.text());
        return { parts, sent: small.requests.at(-1)! };
      };
      // Under the context: sent as set.
      expect((await ask(4095)).sent).toMatchObject({ max_tokens: 4095, temperature: 0 });
      // At or past it: the turn is answered (no CONTEXT_OVERFLOW), the answer running to the room left.
      for (const cap of [4096, 100_000]) {
        const { parts, sent } = await ask(cap);
        expect(
          parts.some((part) => part.type === "error"),
          JSON.stringify(parts),
        ).toBe(false);
        expect(parts.at(-1)).toMatchObject({ type: "finish" });
        expect(sent.max_tokens).toBeUndefined();
        expect(sent.temperature).toBe(0);
      }
    } finally {
      await other.close();
      await small.close();
    }
  });

  it("starts a chat with its assistant's temperature unless the request sets its own", async () => {
    const made = await inject(alice, "POST", "/api/assistants", {
      name: `Careful ${dialect}`,
      model: "tiny-story",
      temperature: 0.3,
    });
    expect(made.statusCode, made.body).toBe(201);
    const assistantId = (made.json() as { id: string }).id;
    expect(await create(alice, { assistantId })).toMatchObject({
      ...DEFAULT_CHAT_CONTROLS,
      temperature: 0.3,
    });
    expect(await create(alice, { assistantId, temperature: 1, maxTokens: 100 })).toMatchObject({
      temperature: 1,
      maxTokens: 100,
    });
    expect(await create(alice, { assistantId, temperature: null })).toMatchObject(DEFAULT_CHAT_CONTROLS);
  });

  it("keeps the controls in JSON and Markdown exports, and takes them back on import", async () => {
    const set = { temperature: 0, topK: 40, maxTokens: 300, frequencyPenalty: 0.4, repeatPenalty: 1.05 };
    const { id } = await create(alice, { title: "Tuned chat", ...set });
    await turn(id, "messages", { content: "Hello" });
    const json = await inject(alice, "GET", `/api/conversations/${id}/export?format=json`);
    expect(json.json()).toMatchObject({ ...DEFAULT_CHAT_CONTROLS, ...set });
    // By their API names, in the panel's order.
    const lines =
      "- temperature: 0\n- top_k: 40\n- max_tokens: 300\n- frequency_penalty: 0.4\n- repeat_penalty: 1.05\n";
    const markdown = await inject(alice, "GET", `/api/conversations/${id}/export?format=markdown`);
    expect(markdown.body).toContain(`## Chat controls\n\n${lines}`);
    expect(markdown.body).not.toContain("top_p");
    expect(markdown.body).not.toContain("min_p");
    expect(markdown.body).not.toContain("presence_penalty");
    const zh = await inject(alice, "GET", `/api/conversations/${id}/export?format=markdown&lang=zh-CN`);
    expect(zh.body).toContain(`## 对话参数\n\n${lines}`);

    const imported = await inject(bob, "POST", "/api/conversations/import", json.json());
    expect(imported.statusCode, imported.body).toBe(200);
    const copy = (imported.json() as { conversations: Array<{ id: string }> }).conversations[0]!;
    expect(await controlsOf(bob, copy.id)).toEqual({ ...DEFAULT_CHAT_CONTROLS, ...set });

    // Open WebUI's Advanced Params: those Hearth has, in range, are kept; the rest are the model's own.
    const openWebUi = await inject(bob, "POST", "/api/conversations/import", {
      title: "From Open WebUI",
      chat: {
        models: ["llama3:8b"],
        params: {
          system: "Be brief.",
          temperature: 0.2,
          top_p: 0.8,
          max_tokens: 0,
          seed: 99,
          frequency_penalty: 0.3,
          presence_penalty: 3,
          top_k: 50,
          min_p: 1.5,
          repeat_penalty: 1.1,
          mirostat: 2,
        },
        messages: [
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Hello" },
        ],
      },
    });
    expect(openWebUi.statusCode, openWebUi.body).toBe(200);
    const owui = (openWebUi.json() as { conversations: Array<{ id: string }> }).conversations[0]!;
    expect(await controlsOf(bob, owui.id)).toEqual({
      temperature: 0.2,
      topP: 0.8,
      topK: 50,
      minP: null,
      maxTokens: null,
      seed: 99,
      frequencyPenalty: 0.3,
      presencePenalty: null,
      repeatPenalty: 1.1,
    });
    expect((await inject(bob, "GET", `/api/conversations/${owui.id}`)).json()).toMatchObject({
      systemPrompt: "Be brief.",
    });
  });
});
