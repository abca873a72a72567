import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createApiKey,
  parseSse,
  type Session,
  sendInNewConversation,
  signUp,
} from "../../packages/web/test/support/web-client.js";
import type { WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type RealModelStand, startRealModelStand } from "../support/real-model-stand.js";

/**
 * A chat over the real model service (a tiny GGUF, context 256, its inference cache holding every
 * answer: `deterministicOnly: false`): a prompt that does not fit reaches the user with the model
 * service's own code and is stored as failed; a repeated question is a cache hit, a regenerated one
 * is asked anew.
 */
describe("a chat over the real model service", () => {
  let stand: RealModelStand;
  let web: WebHarness;
  let url: string;
  let user: Session;
  /** The tiny model as the web service lists it. */
  let modelId: string;

  beforeAll(async () => {
    stand = await startRealModelStand("chat", { cache: { deterministicOnly: false } });
    web = stand.web;
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    user = await signUp(web.app, "reader");
    const models = (await web.app.inject({ url: "/api/models", headers: user.headers })).json() as {
      models: Array<{ id: string }>;
    };
    modelId = models.models[0]!.id;
  });
  afterAll(async () => {
    await stand?.close();
  });

  it("answers a prompt longer than the context with CONTEXT_OVERFLOW and its message", async () => {
    const { conversationId: id, response } = await sendInNewConversation(web.app, url, user, {
      model: modelId,
      content: "once upon a time ".repeat(400),
    });
    const parts = parseSse(await response.text());
    const failure = parts.find((part) => part.type === "error");
    expect(failure).toMatchObject({ code: "CONTEXT_OVERFLOW", message: expect.stringMatching(/context/i) });
    const stored = (
      await web.app.inject({ url: `/api/conversations/${id}`, headers: user.headers })
    ).json() as {
      messages: Array<{ role: string; status: string }>;
    };
    expect(stored.messages.at(-1)).toMatchObject({ role: "assistant", status: "error" });
  });

  it("answers a repeated question from the cache, and a regenerated one anew", async () => {
    const message = { model: modelId, content: "Once upon a time" };
    const finishOf = async (response: Response) =>
      parseSse(await response.text()).find((part) => part.type === "finish") as { cached: boolean };

    expect(await finishOf((await sendInNewConversation(web.app, url, user, message)).response)).toMatchObject(
      {
        cached: false,
      },
    );
    const again = await sendInNewConversation(web.app, url, user, message);
    expect(await finishOf(again.response)).toMatchObject({ cached: true });

    const regenerated = await fetch(`${url}/api/conversations/${again.conversationId}/regenerate`, {
      method: "POST",
      headers: { "content-type": "application/json", ...user.headers },
      body: JSON.stringify({ model: message.model }),
    });
    expect(await finishOf(regenerated)).toMatchObject({ cached: false });
  });

  it("leaves out older messages its tokenizer finds too long, learning by how much, rather than failing", async () => {
    // The tiny model's vocabulary spends three tokens on a Han character, where one is estimated: this
    // history looks like ~150 tokens of the 256-token context and is ~400.
    const messages = [
      {
        role: "user",
        content:
          "从前有一个小女孩，她住在森林旁边的一座小房子里，每天早上都提着木桶去河边打水，路上会和遇到的每一只小鸟打招呼。",
      },
      {
        role: "assistant",
        content:
          "她有一只小狗，小狗每天都跟着她一起去河边，在草地上追蝴蝶玩耍，累了就躺在树荫下睡觉，直到太阳下山才回家。",
      },
      { role: "user", content: "后来发生了什么？" },
    ];
    const key = await createApiKey(web.app, user, "history");
    const answered = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: modelId, messages, max_tokens: 8 }),
    });
    expect(answered.status).toBe(200);
    const answer = (await answered.json()) as { usage: { prompt_tokens: number } };
    // Only what fits was sent: the latest question, not the whole history.
    expect(answer.usage.prompt_tokens).toBeLessThan(100);

    // The scale learned serves the next request at once, on the web UI's own chat route too.
    const chat = await fetch(`${url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", ...user.headers },
      body: JSON.stringify({
        model: modelId,
        messages: [...messages, { role: "user", content: "然后呢？" }],
      }),
    });
    const parts = parseSse(await chat.text());
    expect(parts.find((part) => part.type === "error")).toBeUndefined();
    expect(parts.at(-1)).toMatchObject({ type: "finish" });
  });

  it("streams what OpenAI would to a client that did not ask for usage, and still counts the tokens", async () => {
    const key = await createApiKey(web.app, user, "usage");
    const stream = async (extra: Record<string, unknown>) => {
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: modelId,
          messages: [{ role: "user", content: "Once upon a time" }],
          stream: true,
          max_tokens: 5,
          temperature: 0.5,
          ...extra,
        }),
      });
      return parseSse(await response.text()) as Array<{ choices: unknown[]; usage?: unknown }>;
    };
    // Not asked: every chunk has a choice (scripts read `chunk.choices[0]`) and none says usage.
    const plain = await stream({});
    expect(plain.length).toBeGreaterThan(1);
    expect(plain.every((chunk) => chunk.choices.length === 1 && !("usage" in chunk))).toBe(true);
    // Asked: OpenAI's last chunk with no choices and the usage.
    const asked = await stream({ stream_options: { include_usage: true } });
    expect(asked.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: expect.any(Number) } });
    const promptTokens = (asked.at(-1)!.usage as { prompt_tokens: number }).prompt_tokens;
    // Both are counted at the model's own count (the same prompt twice).
    const usage = (await web.app.inject({ url: "/api/admin/usage", headers: user.headers })).json() as {
      usage: Array<{ apiKeyName: string | null; requests: number; promptTokens: number }>;
    };
    expect(usage.usage.find((row) => row.apiKeyName === "usage")).toMatchObject({
      requests: 2,
      promptTokens: 2 * promptTokens,
    });
  });

  it("writes its sources chunk as the model's own chunks: the model's served name, usage: null when asked", async () => {
    const key = await createApiKey(web.app, user, "sources");
    const stream = async (extra: Record<string, unknown>) => {
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({
          // Without its tag: the model service serves it as tiny:latest.
          model: "tiny",
          messages: [{ role: "user", content: "Once upon a time" }],
          stream: true,
          max_tokens: 5,
          // No search service answers here: the warning saying so comes in the sources chunk.
          web_search: "on",
          ...extra,
        }),
      });
      return parseSse(await response.text()) as Array<{ id: string; model: string; usage?: unknown }>;
    };
    for (const includeUsage of [false, true]) {
      const chunks = await stream(includeUsage ? { stream_options: { include_usage: true } } : {});
      expect(chunks[0]).toMatchObject({
        id: "hearth-sources",
        choices: [],
        hearth: { warnings: [expect.any(String)] },
      });
      expect(chunks.length).toBeGreaterThan(2);
      expect(new Set(chunks.map((chunk) => chunk.model))).toEqual(new Set([modelId]));
      if (includeUsage) {
        expect(chunks.slice(0, -1).map((chunk) => chunk.usage)).toEqual(chunks.slice(0, -1).map(() => null));
        expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: expect.any(Number) });
      } else expect(chunks.filter((chunk) => "usage" in chunk)).toEqual([]);
    }
  });
});
