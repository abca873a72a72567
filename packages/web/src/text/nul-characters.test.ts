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
      { code: "INVALID_REQUEST", message: expect.stringMatching(/^messages\.0\.content: /) },
    ]);

    const conversations = (await web.app.inject({ url: "/api/conversations", headers: alice.headers })).json()
      .conversations;
    expect(conversations.map((c: { id: string }) => c.id)).toEqual([conversationId]);
    const groups = (await web.app.inject({ url: "/api/admin/groups", headers: alice.headers })).json().groups;
    expect(groups).toEqual([]);
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
