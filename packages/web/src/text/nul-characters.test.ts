import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { createApiKey, type Session, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { type ImportFilter, importConversations } from "../conversations/conversation-import.js";
import { ConversationStore } from "../conversations/conversation-store.js";

/** A sensitive-word filter with no word listed: lets every conversation through as it is. */
const noFilter: ImportFilter = {
  checkFields: async () => {},
  checkInputs: async () => {},
  maskOutput: async (text) => text,
};

/**
 * A NUL character (U+0000) in what a client sends: PostgreSQL stores no text holding one (SQLite
 * does), so the web service refuses it on both, as a field of the request, before anything is
 * stored; an import, data from another system, has it taken out instead.
 */
describe.each(dialects)("text holding a NUL character on %s", (dialect) => {
  let model: FakeModelService;
  let web: WebHarness;
  let alice: Session;
  let apiKey: string;
  let conversationId: string;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story"] });
    web = await startWeb({ modelUrl: model.url }, {}, dialect);
    alice = await signUp(web.app, "alice");
    apiKey = await createApiKey(web.app, alice);
    conversationId = (
      await web.app.inject({ method: "POST", url: "/api/conversations", headers: alice.headers, payload: {} })
    ).json().id;
  });
  afterAll(async () => {
    await web?.close();
    await model?.close();
  });

  it("refuses it in any text sent to the API with 400 INVALID_REQUEST naming the field, storing nothing", async () => {
    const refused: Array<[string, string, Record<string, unknown> | undefined, string]> = [
      ["POST", "/api/conversations", { title: "t\u0000x" }, "title"],
      ["PATCH", `/api/conversations/${conversationId}`, { systemPrompt: "be\u0000brief" }, "systemPrompt"],
      [
        "POST",
        `/api/conversations/${conversationId}/messages`,
        { content: "hello\u0000", model: "tiny-story" },
        "content",
      ],
      ["GET", "/api/conversations?q=a%00b", undefined, "q"],
      ["GET", "/api/conversations/a%00b", undefined, "id"],
      ["POST", "/api/account/api-keys", { name: "key\u0000" }, "name"],
      ["POST", "/api/admin/groups", { name: "group\u0000" }, "name"],
      ["PATCH", "/api/admin/settings", { filter: { words: ["ok", "bad\u0000word"] } }, "filter.words.1"],
      ["POST", "/api/admin/users", { username: "bob\u0000", password: "correct horse battery" }, "username"],
    ];
    for (const [method, url, payload, path] of refused) {
      const response = await web.app.inject({
        method: method as "GET",
        url,
        headers: alice.headers,
        ...(payload ? { payload } : {}),
      });
      expect([response.statusCode, response.json().error], `${method} ${url}`).toEqual([
        400,
        expect.objectContaining({
          code: "INVALID_REQUEST",
          details: { issues: [expect.objectContaining({ path, code: "nul_character" })] },
        }),
      ]);
    }
    // Before sign-in too: a new account's name.
    const signup = await web.app.inject({
      method: "POST",
      url: "/api/auth/signup",
      payload: { username: "carol\u0000", password: "correct horse battery" },
    });
    expect([signup.statusCode, signup.json().error.code]).toEqual([400, "INVALID_REQUEST"]);
    // The public API says so in OpenAI's shape, naming the field.
    const chat = await web.app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      headers: { authorization: `Bearer ${apiKey}` },
      payload: { model: "tiny-story", messages: [{ role: "user", content: "hi\u0000" }] },
    });
    expect([chat.statusCode, chat.json().error]).toMatchObject([
      400,
      // The field as `param` names it.
      { code: "INVALID_REQUEST", message: expect.stringMatching(/^messages\[0\]\.content: /) },
    ]);

    const conversations = (await web.app.inject({ url: "/api/conversations", headers: alice.headers })).json()
      .conversations;
    expect(conversations.map((c: { id: string }) => c.id)).toEqual([conversationId]);
    const groups = (await web.app.inject({ url: "/api/admin/groups", headers: alice.headers })).json().groups;
    expect(groups).toEqual([]);
  });

  it("refuses a lone UTF-16 surrogate the same way (no Unicode character, invalid UTF-8 once stored), keeping pairs", async () => {
    // JSON.parse keeps the escape "\ud800" as a lone surrogate, which SQLite would store as the
    // bytes ED A0 80 (invalid UTF-8), and Node's UTF-8 would make U+FFFD on the way to PostgreSQL.
    expect(JSON.parse('"\\ud800"')).toBe("\ud800");
    const refused: Array<[string, string, Record<string, unknown>, string]> = [
      ["PATCH", `/api/conversations/${conversationId}`, { title: "\ud800" }, "title"],
      ["POST", "/api/conversations", { title: "low \udc00 alone" }, "title"],
      [
        "POST",
        `/api/conversations/${conversationId}/messages`,
        { content: "surrogate \ud83d here", model: "tiny-story" },
        "content",
      ],
      ["POST", "/api/account/api-keys", { name: "key\udfff" }, "name"],
      ["PATCH", "/api/admin/settings", { filter: { words: ["ok", "bad\ud800word"] } }, "filter.words.1"],
      ["POST", "/api/conversations", { "key\ud800": "x" }, "key\ud800"],
    ];
    for (const [method, url, payload, path] of refused) {
      const response = await web.app.inject({
        method: method as "POST",
        url,
        headers: alice.headers,
        payload,
      });
      expect([response.statusCode, response.json().error], `${method} ${url} ${path}`).toEqual([
        400,
        expect.objectContaining({
          code: "INVALID_REQUEST",
          message: expect.stringMatching(/lone UTF-16 surrogate/),
          details: { issues: [expect.objectContaining({ path, code: "lone_surrogate" })] },
        }),
      ]);
    }
    const chat = await web.app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      headers: { authorization: `Bearer ${apiKey}` },
      payload: { model: "tiny-story", messages: [{ role: "user", content: "surrogate \ud83d here" }] },
    });
    expect([chat.statusCode, chat.json().error]).toMatchObject([
      400,
      { code: "INVALID_REQUEST", message: expect.stringMatching(/lone UTF-16 surrogate/) },
    ]);
    const stored = (
      await web.app.inject({ url: `/api/conversations/${conversationId}`, headers: alice.headers })
    ).json();
    expect(stored.title).not.toContain("\ud800");
    expect(stored.messages).toEqual([]);
    // A pair (an emoji, sent escaped) is a character as any other.
    const paired = await web.app.inject({
      method: "PATCH",
      url: `/api/conversations/${conversationId}`,
      headers: { ...alice.headers, "content-type": "application/json" },
      payload: '{"title":"ok \\ud83d\\ude00"}',
    });
    expect([paired.statusCode, paired.json().title]).toEqual([200, "ok \u{1F600}"]);
  });

  it("imports a file holding NUL characters whole, with them taken out, and audits it", async () => {
    const response = await web.app.inject({
      method: "POST",
      url: "/api/conversations/import",
      headers: { ...alice.headers, "content-type": "application/json" },
      payload: JSON.stringify([
        { title: "first", messages: [{ role: "user", content: "fine" }] },
        {
          title: "second\u0000",
          systemPrompt: "be\u0000brief",
          messages: [
            { role: "user", content: "a\u0000b" },
            { role: "assistant", content: "c\u0000d", model: "m\u0000" },
          ],
        },
      ]),
    });
    expect(response.statusCode).toBe(200);
    const answer = response.json() as {
      imported: number;
      conversations: Array<{ id: string; title: string }>;
    };
    expect(answer.imported).toBe(2);
    expect(answer.conversations.map((c) => c.title)).toEqual(["first", "second"]);
    const second = (
      await web.app.inject({
        url: `/api/conversations/${answer.conversations[1]!.id}`,
        headers: alice.headers,
      })
    ).json();
    expect(second).toMatchObject({ systemPrompt: "bebrief" });
    expect(
      second.messages.map((m: { content: string; model: string | null }) => [m.content, m.model]),
    ).toEqual([
      ["ab", null],
      ["cd", "m"],
    ]);
    const audited = await web.db
      .selectFrom("audit_log")
      .select("details")
      .where("action", "=", "conversation.import")
      .execute();
    expect(audited.map((entry) => JSON.parse(entry.details!))).toEqual([
      { format: "hearth", imported: 2, skipped: 0 },
    ]);
  });

  it("imports a file holding lone surrogates whole, each replaced with U+FFFD", async () => {
    const response = await web.app.inject({
      method: "POST",
      url: "/api/conversations/import",
      headers: { ...alice.headers, "content-type": "application/json" },
      payload: JSON.stringify([{ title: "lone\ud800", messages: [{ role: "user", content: "a\udc00b" }] }]),
    });
    expect(response.statusCode).toBe(200);
    const [imported] = response.json().conversations as Array<{ id: string; title: string }>;
    expect(imported!.title).toBe("lone\ufffd");
    const conversation = (
      await web.app.inject({ url: `/api/conversations/${imported!.id}`, headers: alice.headers })
    ).json();
    expect(conversation.messages.map((m: { content: string }) => m.content)).toEqual(["a\ufffdb"]);
  });

  it.runIf(dialect === "postgres")(
    "skips a conversation the database refuses as data, saying so, and stores the others",
    async () => {
      // Past the request's check (importConversations called as is): PostgreSQL refuses the text.
      const result = await importConversations(
        new ConversationStore(web.db),
        alice.userId,
        [
          { title: "refused", messages: [{ role: "user", content: "a\u0000b" }] },
          { title: "kept", messages: [{ role: "user", content: "fine" }] },
        ],
        10_000,
        noFilter,
      );
      expect(result).toMatchObject({
        imported: 1,
        skipped: 1,
        conversations: [{ title: "kept" }],
        skippedConversations: [{ index: 0, title: "refused", reason: "unstorable" }],
      });
      const titles = (
        await web.app.inject({ url: "/api/conversations?q=refused", headers: alice.headers })
      ).json().conversations;
      expect(titles).toEqual([]);
    },
  );
});
