import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeKnowledge, startFakeKnowledgeAndSearch } from "../../test/support/fake-knowledge-search.js";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { createApiKey, parseSse, type Session, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { ConversationStore } from "./conversation-store.js";

interface Share {
  id: string;
  url: string;
  createdAt: string;
  messageCount: number;
}

interface Shared {
  id: string;
  title: string;
  ownerName: string;
  sharedAt: string;
  messages: Array<{
    role: string;
    content: string;
    reasoning: string | null;
    status: string;
    finishReason: string | null;
    citations: Array<{ n: number; kind: string; title: string; url: string; snippet?: string }>;
    createdAt: string;
  }>;
}

/**
 * Share links: a conversation's owner shares a read-only snapshot of it with the other signed-in
 * users of the instance, who read it and may continue it as a conversation of their own.
 */
describe.each(dialects)("conversation share links on %s", (dialect) => {
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;
  let url: string;
  let admin: Session;
  let alice: Session;
  let bob: Session;
  let store: ConversationStore;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story"] });
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb(
      { modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url },
      {},
      dialect,
    );
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    admin = await signUp(web.app, "admin");
    alice = await signUp(web.app, "alice");
    bob = await signUp(web.app, "bob");
    store = new ConversationStore(web.db);
  });
  afterAll(async () => {
    await web?.close();
    await services?.close();
    await model?.close();
  });

  /** A conversation of alice's holding a question and its answer, with a system prompt of its own. */
  const aliceConversation = async (title = "Sourdough") => {
    const created = await store.create(alice.userId, {
      title,
      systemPrompt: "You are alice's private baking coach.",
      createdAt: "2026-03-01T09:00:00.000Z",
    });
    await store.append(created.id, {
      role: "user",
      content: "How often do I feed a starter?",
      status: "done",
      model: null,
      createdAt: "2026-03-01T09:00:00.000Z",
    });
    await store.append(created.id, {
      role: "assistant",
      content: "Once a day at room temperature.",
      reasoning: "A starter kept warm eats quickly.",
      status: "done",
      model: "tiny-story",
      createdAt: "2026-03-01T09:00:05.000Z",
    });
    return created.id;
  };
  const share = (session: Session, id: string) =>
    web.app.inject({ method: "POST", url: `/api/conversations/${id}/share`, headers: session.headers });
  const unshare = (session: Session, id: string) =>
    web.app.inject({ method: "DELETE", url: `/api/conversations/${id}/share`, headers: session.headers });
  const read = (session: Session | undefined, shareId: string) =>
    web.app.inject({ url: `/api/shares/${shareId}`, ...(session ? { headers: session.headers } : {}) });
  const copy = (session: Session, shareId: string) =>
    web.app.inject({ method: "POST", url: `/api/shares/${shareId}/copy`, headers: session.headers });
  const setShareLinks = async (mode: "off" | "signed-in") => {
    const response = await web.app.inject({
      method: "PATCH",
      url: "/api/admin/settings",
      headers: admin.headers,
      payload: { shareLinks: mode },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ shareLinks: mode });
  };

  it("shares a snapshot another signed-in user reads: messages, reasoning, the owner's name, no system prompt", async () => {
    const id = await aliceConversation();
    const created = await share(alice, id);
    expect(created.statusCode).toBe(201);
    const link = created.json() as Share;
    expect(link.messageCount).toBe(2);
    expect(Date.parse(link.createdAt)).not.toBeNaN();
    // At least 128 random bits in base64url, nothing of the conversation's id in it.
    expect(link.id).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(link.id).not.toContain(id.slice(0, 8));
    expect(link.url).toBe(`http://localhost:80/s/${link.id}`);

    // The owner's conversation says it is shared, and where.
    const conversation = (
      await web.app.inject({ url: `/api/conversations/${id}`, headers: alice.headers })
    ).json() as { share: Share & { open: boolean } };
    expect(conversation.share).toEqual({ ...link, open: true });

    const response = await read(bob, link.id);
    expect(response.statusCode).toBe(200);
    const shared = response.json() as Shared;
    expect(shared).toMatchObject({ id: link.id, title: "Sourdough", ownerName: "alice" });
    expect(shared.sharedAt).toBe(link.createdAt);
    expect(shared.messages).toEqual([
      expect.objectContaining({
        role: "user",
        content: "How often do I feed a starter?",
        reasoning: null,
        citations: [],
        createdAt: "2026-03-01T09:00:00.000Z",
      }),
      expect.objectContaining({
        role: "assistant",
        content: "Once a day at room temperature.",
        reasoning: "A starter kept warm eats quickly.",
        status: "done",
        createdAt: "2026-03-01T09:00:05.000Z",
      }),
    ]);
    // The conversation's own system prompt stays the owner's, as do its id and the owner's account.
    expect(response.body).not.toContain("baking coach");
    expect(response.body).not.toContain(id);
    expect(response.body).not.toContain(alice.userId);
  });

  it("shows what was shared, not what came after, until the owner updates the same link", async () => {
    const id = await aliceConversation();
    const first = (await share(alice, id)).json() as Share;
    await store.append(id, {
      role: "user",
      content: "And in the fridge?",
      status: "done",
      model: null,
    });
    const before = (await read(bob, first.id)).json() as Shared;
    expect(before.messages.map((m) => m.content)).not.toContain("And in the fridge?");
    expect(before.messages).toHaveLength(2);

    const updated = await share(alice, id);
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ id: first.id, messageCount: 3 });
    const after = (await read(bob, first.id)).json() as Shared;
    expect(after.messages.map((m) => m.content).at(-1)).toBe("And in the fridge?");
  });

  it("waits for an answer being written before sharing, and shows a failed answer without its error", async () => {
    const id = await aliceConversation();
    const writing = await store.append(id, {
      role: "assistant",
      content: "Half an",
      status: "streaming",
      model: null,
    });
    const refused = await share(alice, id);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ error: { code: "ANSWER_IN_PROGRESS" } });
    await store.finishMessage(writing.id, {
      content: "Half an",
      reasoning: null,
      status: "error",
      error: "upstream http://10.0.0.7:11434 broke",
      errorCode: "UPSTREAM_ERROR",
    });
    const link = (await share(alice, id)).json() as Share;
    const response = await read(bob, link.id);
    expect((response.json() as Shared).messages.at(-1)).toMatchObject({
      content: "Half an",
      status: "interrupted",
    });
    expect(response.body).not.toContain("10.0.0.7");
  });

  it("says an answer was cut off at the length limit, in the share and in the reader's copy of it", async () => {
    const id = await aliceConversation();
    const long = await store.append(id, { role: "assistant", content: "", status: "streaming", model: null });
    await store.finishMessage(long.id, {
      content: "First, mix the flour and",
      reasoning: null,
      status: "done",
      finishReason: "length",
    });
    const link = (await share(alice, id)).json() as Share;
    const shared = (await read(bob, link.id)).json() as Shared;
    expect(shared.messages.map((m) => [m.role, m.finishReason])).toEqual([
      ["user", null],
      ["assistant", null],
      ["assistant", "length"],
    ]);
    const copyId = ((await copy(bob, link.id)).json() as { id: string }).id;
    const mine = (
      await web.app.inject({ url: `/api/conversations/${copyId}`, headers: bob.headers })
    ).json() as Shared;
    expect(mine.messages.at(-1)).toMatchObject({
      content: "First, mix the flour and",
      status: "done",
      finishReason: "length",
    });
  });

  it("answers a revoked link exactly as one that never existed", async () => {
    const id = await aliceConversation();
    const link = (await share(alice, id)).json() as Share;
    expect((await unshare(alice, id)).statusCode).toBe(204);
    const revoked = await read(bob, link.id);
    const never = await read(bob, "AAAAAAAAAAAAAAAAAAAAAAAA");
    expect(revoked.statusCode).toBe(404);
    expect(revoked.json()).toMatchObject({ error: { code: "SHARE_NOT_FOUND" } });
    expect(revoked.body).toBe(never.body);
    expect((await copy(bob, link.id)).statusCode).toBe(404);
    // The owner's conversation is no longer shared; stopping again changes nothing.
    expect(
      (await web.app.inject({ url: `/api/conversations/${id}`, headers: alice.headers })).json(),
    ).toMatchObject({ share: null });
    expect((await unshare(alice, id)).statusCode).toBe(204);
    // Sharing again makes a new link: the revoked one stays dead.
    const again = (await share(alice, id)).json() as Share;
    expect(again.id).not.toBe(link.id);
    expect((await read(bob, link.id)).statusCode).toBe(404);
  });

  it("lets only the owner share or stop sharing; anyone signed in reads; not anonymous callers nor API keys", async () => {
    const id = await aliceConversation();
    const link = (await share(alice, id)).json() as Share;
    for (const other of [bob, admin]) {
      for (const response of [await share(other, id), await unshare(other, id)]) {
        expect(response.statusCode).toBe(404);
        expect(response.json()).toMatchObject({ error: { code: "CONVERSATION_NOT_FOUND" } });
      }
      expect((await read(other, link.id)).statusCode).toBe(200);
    }
    expect((await read(bob, link.id)).statusCode).toBe(200);
    expect((await read(undefined, link.id)).statusCode).toBe(401);
    const anonymousCopy = await web.app.inject({ method: "POST", url: `/api/shares/${link.id}/copy` });
    expect(anonymousCopy.statusCode).toBe(401);
    const key = await createApiKey(web.app, bob);
    const withKey = await web.app.inject({
      url: `/api/shares/${link.id}`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(withKey.statusCode).toBe(401);
    // A write needs the CSRF token, as every conversation write does.
    const noCsrf = await web.app.inject({
      method: "POST",
      url: `/api/shares/${link.id}/copy`,
      headers: { cookie: bob.cookie },
    });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json()).toMatchObject({ error: { code: "CSRF_TOKEN_INVALID" } });
  });

  it("refuses new links while an administrator has share links off, and hides the existing ones until on again", async () => {
    const id = await aliceConversation();
    const link = (await share(alice, id)).json() as Share;
    const other = await aliceConversation("Not shared yet");
    await setShareLinks("off");
    try {
      const refused = await share(alice, other);
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ error: { code: "SHARING_DISABLED" } });
      const hidden = await read(bob, link.id);
      expect(hidden.statusCode).toBe(404);
      expect(hidden.body).toBe((await read(bob, "AAAAAAAAAAAAAAAAAAAAAAAA")).body);
      expect((await copy(bob, link.id)).statusCode).toBe(404);
      // The owner is told the link does not open now.
      expect(
        (await web.app.inject({ url: `/api/conversations/${id}`, headers: alice.headers })).json(),
      ).toMatchObject({ share: { id: link.id, open: false } });
    } finally {
      await setShareLinks("signed-in");
    }
    // Not deleted: the same link opens again.
    expect((await read(bob, link.id)).statusCode).toBe(200);
    // The administrator's change is audited as any settings change is.
    const changes = await web.db
      .selectFrom("audit_log")
      .select("details")
      .where("action", "=", "settings.change")
      .orderBy("id")
      .execute();
    expect(changes.map((entry) => JSON.parse(entry.details!).changes)).toEqual(
      expect.arrayContaining([
        { shareLinks: { from: "signed-in", to: "off" } },
        { shareLinks: { from: "off", to: "signed-in" } },
      ]),
    );
  });

  it("continues a shared conversation as the reader's own: a copy with the messages and their times", async () => {
    const id = await aliceConversation("Bread");
    const link = (await share(alice, id)).json() as Share;
    const copied = await copy(bob, link.id);
    expect(copied.statusCode).toBe(201);
    const { id: copyId, title } = copied.json() as { id: string; title: string };
    expect(title).toBe("Bread");
    expect(copyId).not.toBe(id);
    const mine = await web.app.inject({ url: `/api/conversations/${copyId}`, headers: bob.headers });
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toMatchObject({
      title: "Bread",
      systemPrompt: null,
      share: null,
      messages: [
        { role: "user", content: "How often do I feed a starter?", createdAt: "2026-03-01T09:00:00.000Z" },
        {
          role: "assistant",
          content: "Once a day at room temperature.",
          reasoning: "A starter kept warm eats quickly.",
          createdAt: "2026-03-01T09:00:05.000Z",
        },
      ],
    });
    const listed = (await web.app.inject({ url: "/api/conversations", headers: bob.headers })).json() as {
      conversations: Array<{ id: string }>;
    };
    expect(listed.conversations.map((c) => c.id)).toContain(copyId);
    // Bob's copy is his alone: alice does not reach it, and her conversation is as it was.
    expect(
      (await web.app.inject({ url: `/api/conversations/${copyId}`, headers: alice.headers })).statusCode,
    ).toBe(404);
    const hers = (
      await web.app.inject({ url: `/api/conversations/${id}`, headers: alice.headers })
    ).json() as {
      messages: unknown[];
    };
    expect(hers.messages).toHaveLength(2);
  });

  it("ends the link with its conversation, and with its owner's account (closed while it is disabled)", async () => {
    const id = await aliceConversation();
    const link = (await share(alice, id)).json() as Share;
    const deleted = await web.app.inject({
      method: "DELETE",
      url: `/api/conversations/${id}`,
      headers: alice.headers,
    });
    expect(deleted.statusCode).toBe(204);
    expect((await read(bob, link.id)).statusCode).toBe(404);

    const carol = await signUp(web.app, `carol-${dialect}`);
    const hers = await store.create(carol.userId, { title: "Carol's" });
    await store.append(hers.id, { role: "user", content: "hello", status: "done", model: null });
    const carolLink = (await share(carol, hers.id)).json() as Share;
    expect((await read(bob, carolLink.id)).statusCode).toBe(200);
    // While her account is disabled the link does not open; enabled again, it does.
    const setStatus = async (status: string) =>
      expect(
        (
          await web.app.inject({
            method: "PATCH",
            url: `/api/admin/users/${carol.userId}`,
            headers: admin.headers,
            payload: { status },
          })
        ).statusCode,
      ).toBe(200);
    await setStatus("disabled");
    expect((await read(bob, carolLink.id)).statusCode).toBe(404);
    await setStatus("active");
    expect((await read(bob, carolLink.id)).statusCode).toBe(200);
    const removed = await web.app.inject({
      method: "DELETE",
      url: `/api/admin/users/${carol.userId}`,
      headers: admin.headers,
    });
    expect(removed.statusCode).toBe(204);
    expect((await read(bob, carolLink.id)).statusCode).toBe(404);
    expect(
      await web.db.selectFrom("conversation_shares").select("id").where("id", "=", carolLink.id).execute(),
    ).toEqual([]);
  });

  it("audits sharing and stopping it, never the content", async () => {
    const id = await aliceConversation("Secret recipe");
    const link = (await share(alice, id)).json() as Share;
    await share(alice, id);
    await unshare(alice, id);
    const entries = await web.db
      .selectFrom("audit_log")
      .selectAll()
      .where("target", "=", id)
      .orderBy("id")
      .execute();
    expect(
      entries.map((entry) => [entry.action, entry.actor_name, JSON.parse(entry.details ?? "null")]),
    ).toEqual([
      ["conversation.share", "alice", { messageCount: 2, updated: false }],
      ["conversation.share", "alice", { messageCount: 2, updated: true }],
      ["conversation.share-revoke", "alice", null],
    ]);
    const text = JSON.stringify(entries);
    expect(text).not.toContain("Secret recipe");
    expect(text).not.toContain("starter");
    expect(text).not.toContain(link.id);
  });

  it("keeps a citation's passage, while its document stays behind its knowledge base's access", async () => {
    const base = (
      await web.app.inject({
        method: "POST",
        url: "/api/knowledge-bases",
        headers: alice.headers,
        payload: { name: "board-minutes" },
      })
    ).json() as { id: string };
    const form = new FormData();
    form.append(
      "file",
      new Blob(["Vacation days for the board: 40."], { type: "text/plain" }),
      "minutes.txt",
    );
    const uploaded = await fetch(`${url}/api/knowledge-bases/${base.id}/documents`, {
      method: "POST",
      headers: alice.headers,
      body: form,
    });
    expect(uploaded.status).toBe(202);
    const id = (await store.create(alice.userId, {})).id;
    const turn = await fetch(`${url}/api/conversations/${id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...alice.headers },
      body: JSON.stringify({ model: "tiny-story", content: "Vacation days?", knowledgeBaseIds: [base.id] }),
    });
    expect(parseSse(await turn.text()).at(-1)).toMatchObject({ type: "finish" });
    const link = (await share(alice, id)).json() as Share;

    const shared = (await read(bob, link.id)).json() as Shared;
    const [citation] = shared.messages[1]!.citations;
    expect(citation).toMatchObject({ kind: "document", title: "minutes.txt" });
    expect(citation!.snippet).toContain("Vacation days for the board: 40.");
    // The document itself opens for those who may read the base, and for no one else.
    const file = citation!.url.split("#")[0]!;
    expect(file).toMatch(new RegExp(`^/api/knowledge-bases/${base.id}/documents/[^/]+/file$`));
    const forBob = await web.app.inject({ url: file, headers: bob.headers });
    expect(forBob.statusCode).toBe(404);
    expect(forBob.body).not.toContain("board: 40");
    const passages = await web.app.inject({
      url: file.replace(/\/file$/, "/passages"),
      headers: bob.headers,
    });
    expect(passages.statusCode).toBe(404);
    expect((await web.app.inject({ url: file, headers: alice.headers })).statusCode).toBe(200);
  });
});
