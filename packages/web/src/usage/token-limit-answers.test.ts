import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { createApiKey, parseSse, type Session, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";

/** The group's limit: 60 tokens a minute, prompt and answer together. */
const TOKENS_PER_MINUTE = 60;

/**
 * A token limit bounds each answer, not only the requests after it: an answer is cut at what the
 * limit leaves after its prompt, ending as any answer cut at max_tokens does ("length"), and a
 * request whose prompt leaves nothing is refused with 429 QUOTA_EXCEEDED.
 */
describe.each(dialects)("token limits bound an answer on %s", (dialect) => {
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  let admin: Session;
  let sales: string;

  beforeAll(async () => {
    // A model that would answer in 60 words (a token each), unless max_tokens stops it sooner.
    model = await startFakeModelService({
      models: ["tiny-story"],
      words: Array.from({ length: 60 }, (_, i) => ` w${i}`),
    });
    web = await startWeb({ modelUrl: model.url }, {}, dialect);
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    admin = await signUp(web.app, "admin");
    const created = await web.app.inject({
      method: "POST",
      url: "/api/admin/groups",
      headers: admin.headers,
      payload: { name: "sales" },
    });
    sales = (created.json() as { id: string }).id;
    const limited = await web.app.inject({
      method: "PATCH",
      url: "/api/admin/settings",
      headers: admin.headers,
      payload: { groupLimits: { [sales]: { tokensPerMinute: TOKENS_PER_MINUTE } } },
    });
    expect(limited.statusCode).toBe(200);
  });
  afterAll(async () => {
    await web.close();
    await model.close();
  });

  /** A new member of sales. */
  const member = async (name: string): Promise<Session> => {
    const session = await signUp(web.app, name);
    await web.app.inject({
      method: "PUT",
      url: `/api/admin/groups/${sales}/members`,
      headers: admin.headers,
      payload: { userIds: [session.userId] },
    });
    return session;
  };
  /** The user's tokens in the usage report: prompt and answer together. */
  const tokensOf = async (username: string) => {
    const report = (await web.app.inject({ url: "/api/admin/usage", headers: admin.headers })).json() as {
      usage: Array<{ username: string; promptTokens: number; completionTokens: number }>;
    };
    return report.usage
      .filter((row) => row.username === username)
      .reduce((sum, row) => sum + row.promptTokens + row.completionTokens, 0);
  };

  it("cuts a /v1 answer to what the limit leaves after the prompt, ending with length, then refuses", async () => {
    const client = new OpenAI({
      apiKey: await createApiKey(web.app, await member("gina"), "gina-key"),
      baseURL: `${url}/v1`,
      maxRetries: 0,
    });
    const answer = await client.chat.completions.create({
      model: "tiny-story",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 400,
    });
    expect(answer.choices[0]?.finish_reason).toBe("length");
    expect(answer.usage!.completion_tokens).toBeGreaterThan(0);
    expect(answer.usage!.prompt_tokens + answer.usage!.completion_tokens).toBeLessThanOrEqual(
      TOKENS_PER_MINUTE,
    );
    expect(await tokensOf("gina")).toBeLessThanOrEqual(TOKENS_PER_MINUTE);
    // What is left cannot hold the prompt and an answer: refused before the model is asked.
    const asked = model.requests.length;
    await expect(
      client.chat.completions.create({
        model: "tiny-story",
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 400,
      }),
    ).rejects.toMatchObject({ status: 429, code: "QUOTA_EXCEEDED" });
    expect(model.requests.length).toBe(asked);
  });

  it("cuts a streamed /v1 answer and a text completion the same way", async () => {
    const client = new OpenAI({
      apiKey: await createApiKey(web.app, await member("hank"), "k"),
      baseURL: `${url}/v1`,
      maxRetries: 0,
    });
    const stream = await client.chat.completions.create({
      model: "tiny-story",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const finishes: Array<string | null | undefined> = [];
    for await (const chunk of stream) finishes.push(chunk.choices[0]?.finish_reason);
    expect(finishes.filter(Boolean)).toEqual(["length"]);

    const completer = new OpenAI({
      apiKey: await createApiKey(web.app, await member("ivy"), "k"),
      baseURL: `${url}/v1`,
      maxRetries: 0,
    });
    const completion = await completer.completions.create({
      model: "tiny-story",
      prompt: "def fibonacci(n):",
      max_tokens: 400,
    });
    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(completion.usage!.prompt_tokens + completion.usage!.completion_tokens).toBeLessThanOrEqual(
      TOKENS_PER_MINUTE,
    );
  });

  it("cuts the answer of a chat that is not stored (POST /api/chat) the same way", async () => {
    const lee = await member("lee");
    const response = await fetch(`${url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", ...lee.headers },
      body: JSON.stringify({ model: "tiny-story", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(200);
    expect(parseSse(await response.text()).at(-1)).toMatchObject({ type: "finish", finishReason: "length" });
    expect(await tokensOf("lee")).toBeLessThanOrEqual(TOKENS_PER_MINUTE);
  });

  it("refuses a prompt that alone leaves no room for an answer, saying so, and counts nothing", async () => {
    // The openai SDK as a client uses it, retries and all (maxRetries 2): told that retrying cannot
    // help (x-should-retry: false, no Retry-After), it fails after its one request, at once, rather
    // than waiting a Retry-After twice over.
    const sent = countingFetch();
    const client = new OpenAI({
      apiKey: await createApiKey(web.app, await member("jo"), "k"),
      baseURL: `${url}/v1`,
      fetch: sent.fetch,
    });
    const outcome = await within(
      5000,
      client.chat.completions.create({
        model: "tiny-story",
        messages: [{ role: "user", content: "tell me a long story about the sea and its ships ".repeat(3) }],
      }),
    );
    expect(outcome).toMatchObject({
      failed: {
        status: 429,
        code: "QUOTA_EXCEEDED",
        error: expect.objectContaining({
          message: expect.stringMatching(/prompt alone/),
          // The chat tells the user to shorten it, not when the quota resets: waiting does not help.
          details: expect.objectContaining({ reason: "prompt-too-long" }),
        }),
      },
    });
    expect(sent.answers).toHaveLength(1);
    expect(sent.answers[0]!.headers.get("x-should-retry")).toBe("false");
    expect(sent.answers[0]!.headers.get("retry-after")).toBeNull();
    const details = (outcome as { failed: { error: { details: Record<string, unknown> } } }).failed.error
      .details;
    expect(details).not.toHaveProperty("resetAt");
    expect(await tokensOf("jo")).toBe(0);
  });

  it("tells an SDK client not to wait for a reset hours away, keeping Retry-After and resetAt", async () => {
    const daily = (
      await web.app.inject({
        method: "POST",
        url: "/api/admin/groups",
        headers: admin.headers,
        payload: { name: "one-a-day" },
      })
    ).json() as { id: string };
    await web.app.inject({
      method: "PATCH",
      url: "/api/admin/settings",
      headers: admin.headers,
      payload: {
        groupLimits: { [sales]: { tokensPerMinute: TOKENS_PER_MINUTE }, [daily.id]: { requestsPerDay: 1 } },
      },
    });
    const pia = await signUp(web.app, "pia");
    await web.app.inject({
      method: "PUT",
      url: `/api/admin/groups/${daily.id}/members`,
      headers: admin.headers,
      payload: { userIds: [pia.userId] },
    });
    const sent = countingFetch();
    const client = new OpenAI({
      apiKey: await createApiKey(web.app, pia, "k"),
      baseURL: `${url}/v1`,
      fetch: sent.fetch,
    });
    const ask = () =>
      client.chat.completions.create({ model: "tiny-story", messages: [{ role: "user", content: "hi" }] });
    await ask();
    // The day's one request is used: the SDK would sleep the whole Retry-After (about a day) twice.
    const outcome = await within(5000, ask());
    expect(outcome).toMatchObject({ failed: { status: 429, code: "QUOTA_EXCEEDED" } });
    expect(sent.answers).toHaveLength(2);
    const refused = sent.answers[1]!;
    expect(refused.headers.get("x-should-retry")).toBe("false");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(23 * 3600);
    expect(
      (outcome as { failed: { error: { details: Record<string, unknown> } } }).failed.error.details,
    ).toHaveProperty("resetAt");
  });

  it("says in a conversation's stream that the prompt alone is too long, with the error's details", async () => {
    const noor = await member("noor");
    const conversation = await web.app.inject({
      method: "POST",
      url: "/api/conversations",
      headers: noor.headers,
      payload: {},
    });
    const id = (conversation.json() as { id: string }).id;
    const response = await fetch(`${url}/api/conversations/${id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...noor.headers },
      body: JSON.stringify({
        model: "tiny-story",
        content: "tell me a long story about the sea and its ships ".repeat(3),
      }),
    });
    // Refused once the turn was taken (the stream began): the error part carries what the JSON
    // answer of /v1 does, so the chat says to shorten the message rather than that the quota is used up.
    const parts = parseSse(await response.text());
    expect(parts[0]).toMatchObject({ type: "message-start" });
    expect(parts.at(-1)).toMatchObject({
      type: "error",
      code: "QUOTA_EXCEEDED",
      details: { reason: "prompt-too-long", window: "minute" },
    });
    expect((parts.at(-1) as { details: Record<string, unknown> }).details).not.toHaveProperty("resetAt");
    expect(await tokensOf("noor")).toBe(0);
  });

  it("sends no day's allowance as max_tokens to a model whose context is unknown", async () => {
    // The stand-in reports no context, as an OpenAI-compatible upstream does: a max_tokens of the
    // 200,000 tokens a day leaves would be past most models' context, refused by the runtime or OpenAI.
    const daily = (
      await web.app.inject({
        method: "POST",
        url: "/api/admin/groups",
        headers: admin.headers,
        payload: { name: "daily" },
      })
    ).json() as { id: string };
    await web.app.inject({
      method: "PATCH",
      url: "/api/admin/settings",
      headers: admin.headers,
      payload: {
        groupLimits: {
          [sales]: { tokensPerMinute: TOKENS_PER_MINUTE },
          [daily.id]: { tokensPerDay: 200_000 },
        },
      },
    });
    const mia = await signUp(web.app, "mia");
    await web.app.inject({
      method: "PUT",
      url: `/api/admin/groups/${daily.id}/members`,
      headers: admin.headers,
      payload: { userIds: [mia.userId] },
    });
    const client = new OpenAI({
      apiKey: await createApiKey(web.app, mia, "k"),
      baseURL: `${url}/v1`,
      maxRetries: 0,
    });
    const answer = await client.chat.completions.create({
      model: "tiny-story",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(answer.choices[0]?.finish_reason).toBe("stop");
    expect(model.requests.at(-1)?.max_tokens).toBeUndefined();
    // A length asked for is kept, as the limit leaves more.
    await client.chat.completions.create({
      model: "tiny-story",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 30,
    });
    expect(model.requests.at(-1)?.max_tokens).toBe(30);

    const conversation = await web.app.inject({
      method: "POST",
      url: "/api/conversations",
      headers: mia.headers,
      payload: {},
    });
    const id = (conversation.json() as { id: string }).id;
    const response = await fetch(`${url}/api/conversations/${id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...mia.headers },
      body: JSON.stringify({ model: "tiny-story", content: "hi" }),
    });
    expect(parseSse(await response.text()).at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
    expect(model.requests.at(-1)?.max_tokens).toBeUndefined();
  });

  it("cuts a conversation's answer in the chat, stored as cut off at the length limit", async () => {
    const kim = await member("kim");
    const conversation = await web.app.inject({
      method: "POST",
      url: "/api/conversations",
      headers: kim.headers,
      payload: {},
    });
    const id = (conversation.json() as { id: string }).id;
    const send = async (content: string) => {
      const response = await fetch(`${url}/api/conversations/${id}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", ...kim.headers },
        body: JSON.stringify({ model: "tiny-story", content }),
      });
      return parseSse(await response.text());
    };
    const parts = await send("hi");
    expect(parts.at(-1)).toMatchObject({ type: "finish", finishReason: "length" });
    const stored = (
      await web.app.inject({ url: `/api/conversations/${id}`, headers: kim.headers })
    ).json() as { messages: Array<{ role: string; finishReason: string | null }> };
    expect(stored.messages.at(-1)).toMatchObject({ role: "assistant", finishReason: "length" });
    expect(await tokensOf("kim")).toBeLessThanOrEqual(TOKENS_PER_MINUTE);
    // The next turn's prompt (the conversation so far) leaves nothing: it says the quota is used up.
    expect(await send("and then?")).toContainEqual(
      expect.objectContaining({ type: "error", code: "QUOTA_EXCEEDED" }),
    );
    expect(await tokensOf("kim")).toBeLessThanOrEqual(TOKENS_PER_MINUTE);
  });
});

/** A fetch for the openai SDK that keeps every answer it got (each request the SDK sent). */
function countingFetch() {
  const answers: Response[] = [];
  return {
    answers,
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const response = await fetch(input, init);
      answers.push(response);
      return response;
    },
  };
}

/** How `promise` ended within `ms`: its value, its error, or "still waiting" (an SDK sleeping to retry). */
async function within(ms: number, promise: Promise<unknown>) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"still waiting">((resolve) => {
    timer = setTimeout(() => resolve("still waiting"), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ value }),
        (failed: unknown) => ({ failed }),
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
