import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createLogger } from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { parseSse, type Session, setFilterWords, signUp, streamTurn } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { createWebService } from "../index.js";
import { ANSWER_SILENCE_MS, ConversationStore } from "./conversation-store.js";

interface Conversation {
  id: string;
  title: string;
  messages: Array<{ id: string; role: string; content: string; status: string; reasoning: string | null }>;
}

describe("conversations during shutdown", () => {
  it("ends open streams and stores their partial answers as interrupted", async () => {
    const model = await startFakeModelService({
      delayMs: 30,
      words: Array.from({ length: 100 }, (_, i) => ` w${i}`),
    });
    const web = await startWeb({ modelUrl: model.url });
    const url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    const alice = await signUp(web.app, "alice");
    const { id } = (
      await web.app.inject({ method: "POST", url: "/api/conversations", headers: alice.headers, payload: {} })
    ).json() as { id: string };
    const turn = await streamTurn(url, alice, id, "long");
    await turn.until("w2");
    const db = web.db;
    // close() aborts the stream, stores the partial answer, then closes the database.
    const closing = web.app.close();
    const seen = await turn.rest();
    await closing;
    // The stream says the answer was cut short, as /v1/chat/completions does; no finish.
    const parts = parseSse(seen);
    expect(parts.at(-1)).toMatchObject({ type: "error", code: "SERVICE_NOT_READY" });
    expect(parts.some((p) => p.type === "finish")).toBe(false);
    const answer = await db
      .selectFrom("messages")
      .selectAll()
      .where("conversation_id", "=", id)
      .where("role", "=", "assistant")
      .executeTakeFirst();
    expect(answer?.status).toBe("interrupted");
    expect(answer?.content).toContain("w2");
    expect(answer?.error_code).toBe("SERVICE_NOT_READY");
    await web.close();
    await model.close();
  });
});

describe("conversations after a crash", () => {
  it("keeps the answer written so far, marked interrupted, when the web process is killed mid-answer", async () => {
    const model = await startFakeModelService({
      delayMs: 50,
      words: Array.from({ length: 200 }, (_, i) => ` w${i}`),
    });
    // The database, and a user with a conversation, made here; the answer is written by a web
    // service in a process of its own, killed (SIGKILL: no shutdown path runs) as it streams.
    const web = await startWeb({ modelUrl: model.url });
    const alice = await signUp(web.app, "alice");
    const { id } = (
      await web.app.inject({ method: "POST", url: "/api/conversations", headers: alice.headers, payload: {} })
    ).json() as { id: string };
    const child = fork(fileURLToPath(new URL("../cluster/web-worker.ts", import.meta.url)), {
      execArgv: ["--conditions=source", "--import", "tsx"],
      env: { ...process.env, HEARTH_WEB_WORKER_CONFIG: JSON.stringify(web.config) },
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.on("message", (message: { type: string; url?: string; line?: string }) =>
          message.type === "hearth:listening" ? resolve(message.url!) : reject(new Error(message.line)),
        );
        child.once("exit", (code) => reject(new Error(`the web process exited with ${code}`)));
      });
      const turn = await streamTurn(url, alice, id, "long one");
      await turn.until("w3");
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const killed = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await killed;
      await turn.cancel().catch(() => {});
      // Started again: the answer the killed process left streaming is interrupted, with its text.
      const restarted = await createWebService(web.config, createLogger({ level: "silent" }));
      try {
        const conversation = (
          await restarted.app.inject({ url: `/api/conversations/${id}`, headers: alice.headers })
        ).json() as Conversation;
        const answer = conversation.messages[1]!;
        expect(answer.status).toBe("interrupted");
        expect(answer.content).toMatch(/^ w0 w1 w2 w3/);
        expect(answer.content).not.toContain("w199");
      } finally {
        await restarted.close();
      }
    } finally {
      child.kill("SIGKILL");
      await web.close();
      await model.close();
    }
  });
});

describe.each(dialects)("conversations on %s", (dialect) => {
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  let alice: Session;
  let bob: Session;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story"] });
    web = await startWeb({ modelUrl: model.url }, {}, dialect);
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    alice = await signUp(web.app, "alice");
    bob = await signUp(web.app, "bob");
  });
  afterAll(async () => {
    await web.close();
    await model.close();
  });

  const create = async (session: Session) =>
    (
      await web.app.inject({
        method: "POST",
        url: "/api/conversations",
        headers: session.headers,
        payload: {},
      })
    ).json() as { id: string };
  const send = async (session: Session, id: string, payload: Record<string, unknown>) => {
    const response = await fetch(`${url}/api/conversations/${id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...session.headers },
      body: JSON.stringify({ model: "tiny-story", ...payload }),
    });
    return {
      status: response.status,
      parts: response.ok ? parseSse(await response.text()) : [],
      body: response.ok ? undefined : await response.json(),
    };
  };
  const get = async (session: Session, id: string) =>
    (
      await web.app.inject({ url: `/api/conversations/${id}`, headers: session.headers })
    ).json() as Conversation;
  /** The stand-in model's answers long and slow (`words` words, `delayMs` apart): a turn to act on mid-stream. */
  const answerSlowly = (words: number, delayMs = 30) => {
    model.options.delayMs = delayMs;
    model.options.words = Array.from({ length: words }, (_, i) => ` w${i}`);
  };
  const answerQuickly = () => {
    model.options.delayMs = 5;
    model.options.words = undefined;
  };

  it("stores both sides of a streamed turn and titles the conversation from the first message", async () => {
    const { id } = await create(alice);
    const { parts } = await send(alice, id, { content: "What is a hearth?" });
    expect(parts[0]).toMatchObject({ type: "message-start", conversationId: id });
    expect(
      parts
        .filter((p) => p.type === "text-delta")
        .map((p) => p.text)
        .join(""),
    ).toContain("You said: What is a hearth?");
    const stored = await get(alice, id);
    expect(stored.title).toBe("What is a hearth?");
    expect(stored.messages.map((m) => [m.role, m.status])).toEqual([
      ["user", "done"],
      ["assistant", "done"],
    ]);
    expect(stored.messages[1]!.content).toBe("Hello from the model. You said: What is a hearth?");
  });

  it("cuts a long first message's title at 60 whole characters, never half of one", async () => {
    const { id } = await create(alice);
    // 𠮷 is two UTF-16 units, the 60th and 61st: cut by units, the title would end in half of it.
    await send(alice, id, { content: `${"请".repeat(59)}𠮷野家的牛肉饭好吃吗` });
    const title = `${"请".repeat(59)}𠮷`;
    expect((await get(alice, id)).title).toBe(title);
    const listed = (await web.app.inject({ url: "/api/conversations", headers: alice.headers })).json() as {
      conversations: Array<{ id: string; title: string }>;
    };
    expect(listed.conversations.find((c) => c.id === id)?.title).toBe(title);
    const exported = await web.app.inject({
      url: `/api/conversations/${id}/export?format=markdown`,
      headers: alice.headers,
    });
    expect(exported.headers["content-disposition"]).toMatch(
      new RegExp(`filename\\*=UTF-8''${encodeURIComponent(title)}\\.md$`),
    );
  });

  it("sends earlier turns back to the model without the reasoning", async () => {
    model.options.reasoning = ["secret thoughts"];
    const { id } = await create(alice);
    await send(alice, id, { content: "first" });
    await send(alice, id, { content: "second" });
    model.options.reasoning = [];
    const request = model.requests.at(-1)!;
    expect(request.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(JSON.stringify(request.messages)).not.toContain("secret thoughts");
    expect((await get(alice, id)).messages[1]!.reasoning).toBe("secret thoughts");
  });

  it("lists conversations a page at a time, none repeated or skipped", async () => {
    const paging = await signUp(web.app, "pager");
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await create(paging)).id);
    const seen: string[] = [];
    let cursor = "";
    for (let page = 0; page < 5; page++) {
      const answer = (
        await web.app.inject({ url: `/api/conversations?limit=2${cursor}`, headers: paging.headers })
      ).json() as { conversations: Array<{ id: string }>; next?: { updatedAt: string; id: string } };
      seen.push(...answer.conversations.map((c) => c.id));
      if (!answer.next) break;
      cursor = `&afterUpdatedAt=${encodeURIComponent(answer.next.updatedAt)}&afterId=${answer.next.id}`;
    }
    expect(seen).toHaveLength(5);
    expect([...seen].sort()).toEqual([...made].sort());
  });

  it("refuses a mangled or incomplete paging cursor, naming the parameter, rather than start again", async () => {
    const paging = await signUp(web.app, "mangler");
    for (let i = 0; i < 3; i++) await create(paging);
    const list = (query: string) =>
      web.app.inject({ url: `/api/conversations?limit=1${query}`, headers: paging.headers });
    const { next } = (await list("")).json() as { next: { updatedAt: string; id: string } };
    const updatedAt = encodeURIComponent(next.updatedAt);
    for (const [query, message] of [
      [`&afterUpdatedAt=garbage&afterId=${next.id}`, /^afterUpdatedAt: not a time/],
      [`&afterUpdatedAt=2026-13-01T00:00:00.000Z&afterId=${next.id}`, /^afterUpdatedAt: not a time/],
      [`&afterId=${next.id}`, /^afterUpdatedAt: missing/],
      [`&afterUpdatedAt=${updatedAt}`, /^afterId: missing/],
      [`&afterUpdatedAt=${updatedAt}&afterId=`, /^afterId: /],
      ["&afterPinned=false", /^afterUpdatedAt: missing/],
      [`&afterUpdatedAt=${updatedAt}&afterID=${next.id}`, /afterID/],
    ] as const) {
      const refused = await list(query);
      expect([refused.statusCode, refused.json().error.code], query).toEqual([400, "INVALID_REQUEST"]);
      expect(refused.json().error.message, query).toMatch(message);
    }
    // The cursor as given is still taken.
    const second = await list(`&afterUpdatedAt=${updatedAt}&afterId=${next.id}&afterPinned=false`);
    expect(second.statusCode).toBe(200);
    expect(second.json().conversations[0].id).not.toBe(next.id);
  });

  it("lists, searches, renames, exports and deletes", async () => {
    const { id } = await create(alice);
    await send(alice, id, { content: "Tell me about zebras" });
    const found = (
      await web.app.inject({ url: "/api/conversations?q=ZEBRA", headers: alice.headers })
    ).json() as { conversations: Array<{ id: string }> };
    expect(found.conversations.map((c) => c.id)).toEqual([id]);
    const renamed = await web.app.inject({
      method: "PATCH",
      url: `/api/conversations/${id}`,
      headers: alice.headers,
      payload: { title: "Stripes" },
    });
    expect(renamed.json()).toMatchObject({ title: "Stripes" });
    const markdown = await web.app.inject({
      url: `/api/conversations/${id}/export?format=markdown`,
      headers: alice.headers,
    });
    expect(markdown.headers["content-type"]).toContain("text/markdown");
    // Saved under the conversation's title.
    expect(markdown.headers["content-disposition"]).toBe(
      `attachment; filename="Stripes.md"; filename*=UTF-8''Stripes.md`,
    );
    expect(markdown.body).toContain("# Stripes");
    expect(markdown.body).toContain("Tell me about zebras");
    const json = await web.app.inject({
      url: `/api/conversations/${id}/export?format=json`,
      headers: alice.headers,
    });
    expect((JSON.parse(json.body) as Conversation).messages).toHaveLength(2);
    // The page passes the reader's language and time zone; a zone that does not exist is refused.
    const chinese = await web.app.inject({
      url: `/api/conversations/${id}/export?format=markdown&lang=zh-CN&tz=Asia%2FShanghai`,
      headers: alice.headers,
    });
    expect(chinese.body).toMatch(/^_\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}（Asia\/Shanghai）_$/m);
    expect(chinese.body).toContain("## 用户");
    expect(markdown.body).toContain("## User");
    const unknownZone = await web.app.inject({
      url: `/api/conversations/${id}/export?tz=Mars%2FOlympus`,
      headers: alice.headers,
    });
    expect([unknownZone.statusCode, unknownZone.json().error.code]).toEqual([400, "INVALID_REQUEST"]);
    await web.app.inject({ method: "DELETE", url: `/api/conversations/${id}`, headers: alice.headers });
    expect(
      (await web.app.inject({ url: `/api/conversations/${id}`, headers: alice.headers })).statusCode,
    ).toBe(404);
  });

  it("audits the deletion of a conversation with messages, not of an empty one", async () => {
    const deletions = async (id: string) =>
      (
        await web.db
          .selectFrom("audit_log")
          .select("id")
          .where("action", "=", "conversation.delete")
          .where("target", "=", id)
          .execute()
      ).length;
    const remove = (id: string) =>
      web.app.inject({ method: "DELETE", url: `/api/conversations/${id}`, headers: alice.headers });
    // The empty one a refused first message leaves, which the page removes.
    const empty = await create(alice);
    expect((await remove(empty.id)).statusCode).toBe(204);
    expect(await deletions(empty.id)).toBe(0);
    const written = await create(alice);
    await send(alice, written.id, { content: "hello" });
    expect((await remove(written.id)).statusCode).toBe(204);
    expect(await deletions(written.id)).toBe(1);
  });

  it("takes an empty body sent as JSON as no body: a REST client's Stop, Share and Delete work", async () => {
    // Generic REST clients and fetch wrappers send a JSON Content-Type on every request.
    const json = { ...alice.headers, "content-type": "application/json" };
    const { id } = await create(alice);
    const stop = await web.app.inject({
      method: "POST",
      url: `/api/conversations/${id}/stop`,
      headers: json,
    });
    expect([stop.statusCode, stop.json()]).toEqual([200, { stopped: false }]);
    const share = await web.app.inject({
      method: "POST",
      url: `/api/conversations/${id}/share`,
      headers: json,
    });
    expect(share.statusCode).toBe(201);
    const removed = await web.app.inject({
      method: "DELETE",
      url: `/api/conversations/${id}`,
      headers: json,
    });
    expect(removed.statusCode).toBe(204);
    expect(
      (await web.app.inject({ url: `/api/conversations/${id}`, headers: alice.headers })).statusCode,
    ).toBe(404);
    // A route that needs a body says it is missing, in its own terms.
    const other = await create(alice);
    const patch = await web.app.inject({
      method: "PATCH",
      url: `/api/conversations/${other.id}`,
      headers: json,
    });
    expect([patch.statusCode, patch.json().error]).toEqual([
      400,
      {
        code: "INVALID_REQUEST",
        message: "Invalid input: expected object, received undefined",
        details: { issues: [expect.objectContaining({ path: "", code: "invalid_type" })] },
      },
    ]);
  });

  it("keeps a temporary chat out of the list and its search until it is kept, and deletes it unaudited", async () => {
    const patch = (id: string, payload: Record<string, unknown>) =>
      web.app.inject({ method: "PATCH", url: `/api/conversations/${id}`, headers: alice.headers, payload });
    const listed = async (query = "") =>
      (
        (await web.app.inject({ url: `/api/conversations${query}`, headers: alice.headers })).json() as {
          conversations: Array<{ id: string }>;
        }
      ).conversations.map((c) => c.id);
    const made = await web.app.inject({
      method: "POST",
      url: "/api/conversations",
      headers: alice.headers,
      payload: { temporary: true },
    });
    expect([made.statusCode, made.json().temporary]).toEqual([201, true]);
    const { id } = made.json() as { id: string };
    await send(alice, id, { content: "Where do quokkas live?" });
    expect(await get(alice, id)).toMatchObject({
      temporary: true,
      messages: [{ role: "user" }, { role: "assistant" }],
    });
    expect(await listed()).not.toContain(id);
    expect(await listed("?q=quokkas")).toEqual([]);
    expect(await listed("?archived=true")).not.toContain(id);
    // It is in no list: pinning, filing, archiving and sharing it are refused until it is kept.
    const folder = (
      await web.app.inject({
        method: "POST",
        url: "/api/folders",
        headers: alice.headers,
        payload: { name: "Zoo" },
      })
    ).json() as { id: string };
    for (const refused of [
      await patch(id, { pinned: true }),
      await patch(id, { archived: true }),
      await patch(id, { folderId: folder.id }),
      await web.app.inject({ method: "POST", url: `/api/conversations/${id}/share`, headers: alice.headers }),
    ])
      expect([refused.statusCode, refused.json().error.code]).toEqual([409, "CONVERSATION_TEMPORARY"]);
    await web.app.inject({
      method: "POST",
      url: "/api/conversations/archive-all",
      headers: alice.headers,
      payload: {},
    });
    expect(await get(alice, id)).toMatchObject({ temporary: true, archivedAt: null });
    // A chat cannot be made temporary later.
    const other = await create(alice);
    expect((await patch(other.id, { temporary: true })).json().error.code).toBe("INVALID_REQUEST");
    // Kept: it joins the list (pinned at once, here), and search finds it.
    const kept = await patch(id, { temporary: false, pinned: true });
    expect(kept.json()).toMatchObject({ temporary: false, pinned: true });
    expect(await listed()).toContain(id);
    expect(await listed("?q=quokkas")).toEqual([id]);
    // Left, a temporary chat is deleted, and that is no one's record.
    const left = (
      await web.app.inject({
        method: "POST",
        url: "/api/conversations",
        headers: alice.headers,
        payload: { temporary: true },
      })
    ).json() as { id: string };
    await send(alice, left.id, { content: "Just between us" });
    const deleted = await web.app.inject({
      method: "DELETE",
      url: `/api/conversations/${left.id}`,
      headers: alice.headers,
    });
    expect(deleted.statusCode).toBe(204);
    const audited = await web.db.selectFrom("audit_log").select("id").where("target", "=", left.id).execute();
    expect(audited).toEqual([]);
  });

  it("deletes the temporary chats left open past their time, of every user, and nothing else", async () => {
    const bob = await signUp(web.app, "temp-bob");
    const temporary = async (session: Session) =>
      (
        await web.app.inject({
          method: "POST",
          url: "/api/conversations",
          headers: session.headers,
          payload: { temporary: true },
        })
      ).json() as { id: string };
    const stale = [await temporary(alice), await temporary(bob)];
    const fresh = await temporary(alice);
    const old = await create(alice);
    const dayAgo = new Date(Date.now() - 25 * 3_600_000).toISOString();
    await web.db
      .updateTable("conversations")
      .set({ updated_at: dayAgo })
      .where("id", "in", [...stale.map((c) => c.id), old.id])
      .execute();
    const store = new ConversationStore(web.db);
    const expired = await store.deleteTemporaryBefore(new Date(Date.now() - 24 * 3_600_000).toISOString());
    expect(expired.sort()).toEqual(stale.map((c) => c.id).sort());
    expect(
      (await web.app.inject({ url: `/api/conversations/${stale[0]!.id}`, headers: alice.headers }))
        .statusCode,
    ).toBe(404);
    expect((await get(alice, fresh.id)).id).toBe(fresh.id);
    expect((await get(alice, old.id)).id).toBe(old.id);
  });

  it("finds conversations whatever the case of their letters, in any script", async () => {
    const titled = (
      await web.app.inject({
        method: "POST",
        url: "/api/conversations",
        headers: alice.headers,
        payload: { title: "Über Äpfel und ΣΟΦΙΑ" },
      })
    ).json() as { id: string };
    const { id: said } = await create(alice);
    await send(alice, said, { content: "Grüße aus MÜNCHEN, 你好世界" });
    const search = async (q: string) =>
      (
        (
          await web.app.inject({
            url: `/api/conversations?q=${encodeURIComponent(q)}`,
            headers: alice.headers,
          })
        ).json() as { conversations: Array<{ id: string }> }
      ).conversations.map((c) => c.id);
    for (const q of ["Über", "über", "äpfel", "ÄPFEL", "ΣΟΦΙΑ", "σοφια"])
      expect(await search(q), q).toEqual([titled.id]);
    for (const q of ["münchen", "MÜNCHEN", "grüße aus", "世界"]) expect(await search(q), q).toEqual([said]);
    // A renamed title is searched by its new name.
    await web.app.inject({
      method: "PATCH",
      url: `/api/conversations/${titled.id}`,
      headers: alice.headers,
      payload: { title: "ÉTÉ À PARIS" },
    });
    expect(await search("été")).toEqual([titled.id]);
    expect(await search("über")).toEqual([]);
  });

  it("finds Chinese in either script, and every word of the query wherever each is", async () => {
    const reader = await signUp(web.app, `zh-${dialect}`);
    const { id: legal } = await create(reader);
    await send(reader, legal, { content: "行政机关的诉讼监督规则" });
    const { id: traditional } = await create(reader);
    await send(reader, traditional, { content: "環境保護法" });
    const search = async (q: string) =>
      (
        (
          await web.app.inject({
            url: `/api/conversations?q=${encodeURIComponent(q)}`,
            headers: reader.headers,
          })
        ).json() as { conversations: Array<{ id: string }> }
      ).conversations.map((c) => c.id);
    for (const q of ["環境", "环境", "环境 保护"]) expect(await search(q), q).toEqual([traditional]);
    for (const q of ["诉讼监督规则", "行政 诉讼", "訴訟　行政"]) expect(await search(q), q).toEqual([legal]);
    // Every term must be found: one that is nowhere rules the conversation out.
    expect(await search("行政 环境")).toEqual([]);
  });

  it("searches for %, _ and \\ as the characters they are, not as wildcards", async () => {
    const searcher = await signUp(web.app, `wild-${dialect}`);
    const titled = async (title: string) =>
      (
        (
          await web.app.inject({
            method: "POST",
            url: "/api/conversations",
            headers: searcher.headers,
            payload: { title },
          })
        ).json() as { id: string }
      ).id;
    const percent = await titled("100% sure");
    const underscore = await titled("snake_case names");
    const backslash = await titled("C:\\temp path");
    await titled("plain words");
    const search = async (q: string) =>
      (
        (
          await web.app.inject({
            url: `/api/conversations?q=${encodeURIComponent(q)}`,
            headers: searcher.headers,
          })
        ).json() as { conversations: Array<{ id: string }> }
      ).conversations.map((c) => c.id);
    expect(await search("%")).toEqual([percent]);
    expect(await search("_")).toEqual([underscore]);
    expect(await search("\\")).toEqual([backslash]);
    expect(await search("0% s")).toEqual([percent]);
    expect(await search("e_c")).toEqual([underscore]);
    expect(await search("s_r")).toEqual([]);
  });

  it("edits and resends a message, what followed set aside as a version; regenerates the last answer", async () => {
    const { id } = await create(alice);
    await send(alice, id, { content: "one" });
    await send(alice, id, { content: "two" });
    const before = await get(alice, id);
    const edited = await send(alice, id, { content: "one, edited", editMessageId: before.messages[0]!.id });
    expect(edited.status).toBe(200);
    const after = await get(alice, id);
    expect(after.messages.map((m) => m.content)).toEqual([
      "one, edited",
      "Hello from the model. You said: one, edited",
    ]);
    const regenerated = await fetch(`${url}/api/conversations/${id}/regenerate`, {
      method: "POST",
      headers: { "content-type": "application/json", ...alice.headers },
      body: JSON.stringify({ model: "tiny-story" }),
    });
    expect(regenerated.status).toBe(200);
    await regenerated.text();
    expect((await get(alice, id)).messages).toHaveLength(2);
  });

  const patch = (session: Session, id: string, payload: Record<string, unknown>) =>
    web.app.inject({ method: "PATCH", url: `/api/conversations/${id}`, headers: session.headers, payload });

  it("sends a conversation's system prompt first on every turn: a message, a regeneration, an edit", async () => {
    const { id } = await create(alice);
    const prompt = "You are a SQL reviewer. Answer in formal Chinese.";
    const set = await patch(alice, id, { systemPrompt: `  ${prompt}\n` });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ systemPrompt: prompt, pinned: false });
    const sent = () => model.requests.at(-1)!.messages;
    await send(alice, id, { content: "review: SELECT *" });
    expect(sent()).toEqual([
      { role: "system", content: prompt },
      { role: "user", content: "review: SELECT *" },
    ]);
    const regenerated = await fetch(`${url}/api/conversations/${id}/regenerate`, {
      method: "POST",
      headers: { "content-type": "application/json", ...alice.headers },
      body: JSON.stringify({ model: "tiny-story" }),
    });
    await regenerated.text();
    expect(sent().map((m) => m.role)).toEqual(["system", "user"]);
    expect(sent()[0]).toEqual({ role: "system", content: prompt });
    const question = (await get(alice, id)).messages[0]!;
    await send(alice, id, { content: "review: SELECT id", editMessageId: question.id });
    expect(sent()).toEqual([
      { role: "system", content: prompt },
      { role: "user", content: "review: SELECT id" },
    ]);
    // The conversation shows it; the exports carry it.
    expect(await get(alice, id)).toMatchObject({ systemPrompt: prompt });
    const markdown = await web.app.inject({
      url: `/api/conversations/${id}/export?format=markdown&lang=zh-CN`,
      headers: alice.headers,
    });
    expect(markdown.body).toContain(`## 系统提示词\n\n${prompt}\n\n## 用户\n`);
    const json = await web.app.inject({
      url: `/api/conversations/${id}/export?format=json`,
      headers: alice.headers,
    });
    expect(JSON.parse(json.body)).toMatchObject({ systemPrompt: prompt });
    // Cleared (null), none is sent, and the export has none.
    expect((await patch(alice, id, { systemPrompt: null })).json()).toMatchObject({ systemPrompt: null });
    await send(alice, id, { content: "and now?" });
    expect(sent().map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    const plain = await web.app.inject({ url: `/api/conversations/${id}/export`, headers: alice.headers });
    expect(plain.body).not.toContain("System prompt");
    // A new conversation can start with one.
    const started = await web.app.inject({
      method: "POST",
      url: "/api/conversations",
      headers: alice.headers,
      payload: { systemPrompt: "Be brief." },
    });
    expect(started.json()).toMatchObject({ systemPrompt: "Be brief.", pinned: false });
    await send(alice, (started.json() as { id: string }).id, { content: "hi" });
    expect(sent()[0]).toEqual({ role: "system", content: "Be brief." });
  });

  it("holds a system prompt to its length and the input word filter, as a message is", async () => {
    const { id } = await create(alice);
    const tooLong = await patch(alice, id, { systemPrompt: "x".repeat(10_001) });
    expect([tooLong.statusCode, tooLong.json().error.code]).toEqual([413, "MESSAGE_TOO_LONG"]);
    expect((await patch(alice, id, { systemPrompt: "x".repeat(10_000) })).statusCode).toBe(200);
    await setFilterWords(web.app, alice, ["forbidden"]);
    try {
      const blocked = await patch(alice, id, { systemPrompt: "say forbidden things" });
      expect([blocked.statusCode, blocked.json().error.code]).toEqual([422, "CONTENT_BLOCKED"]);
      const created = await web.app.inject({
        method: "POST",
        url: "/api/conversations",
        headers: alice.headers,
        payload: { systemPrompt: "forbidden" },
      });
      expect(created.json().error.code).toBe("CONTENT_BLOCKED");
    } finally {
      await setFilterWords(web.app, alice, []);
    }
    expect((await get(alice, id)) as unknown).toMatchObject({ systemPrompt: "x".repeat(10_000) });
    // Nothing to change is refused; so is a field that is not one.
    for (const refused of [{}, { pinned: "yes" }, { color: "red" }]) {
      const answer = await patch(alice, id, refused);
      expect([answer.statusCode, answer.json().error.code], JSON.stringify(refused)).toEqual([
        400,
        "INVALID_REQUEST",
      ]);
    }
  });

  it("lists pinned conversations first, a page at a time, none repeated or skipped, in search too", async () => {
    const pinner = await signUp(web.app, `pinner-${dialect}`);
    // c0 is the oldest, c5 the latest.
    const made: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { id } = await create(pinner);
      await web.db
        .updateTable("conversations")
        .set({ title: `topic ${i % 2 ? "odd" : "even"} ${i}`, updated_at: `2026-01-0${i + 1}T00:00:00.000Z` })
        .where("id", "=", id)
        .execute();
      made.push(id);
    }
    // Pinning keeps the conversation's place by its latest activity (it is not a new turn).
    for (const i of [1, 4]) {
      const pinned = await patch(pinner, made[i]!, { pinned: true });
      expect(pinned.json()).toMatchObject({ pinned: true, updatedAt: `2026-01-0${i + 1}T00:00:00.000Z` });
    }
    type Listed = { conversations: Array<{ id: string; pinned: boolean }>; next?: Record<string, unknown> };
    const all = async (query: string, limit: number) => {
      const seen: Array<{ id: string; pinned: boolean }> = [];
      let cursor = "";
      for (let page = 0; page < 10; page++) {
        const answer = (
          await web.app.inject({
            url: `/api/conversations?limit=${limit}${query}${cursor}`,
            headers: pinner.headers,
          })
        ).json() as Listed;
        seen.push(...answer.conversations.map(({ id, pinned }) => ({ id, pinned })));
        if (!answer.next) break;
        cursor = `&${new URLSearchParams({
          afterUpdatedAt: String(answer.next.updatedAt),
          afterId: String(answer.next.id),
          afterPinned: String(answer.next.pinned),
        })}`;
      }
      return seen;
    };
    const order = [4, 1, 5, 3, 2, 0].map((i) => ({ id: made[i]!, pinned: i === 1 || i === 4 }));
    // Pages end inside the pinned part, at its end, and past it.
    for (const limit of [1, 2, 3, 4, 200]) expect(await all("", limit), `limit ${limit}`).toEqual(order);
    // A search keeps the order: its pinned matches first.
    expect((await all("&q=odd", 1)).map((c) => c.id)).toEqual([made[1], made[5], made[3]]);
    expect((await all("&q=even", 2)).map((c) => c.id)).toEqual([made[4], made[2], made[0]]);
    // Unpinned, it goes back to its place.
    await patch(pinner, made[4]!, { pinned: false });
    expect((await all("", 2)).map((c) => c.id)).toEqual([1, 5, 4, 3, 2, 0].map((i) => made[i]));
    expect((await get(pinner, made[1]!)) as unknown).toMatchObject({ pinned: true });
  });

  it("keeps the previous answer when a regeneration or an edit fails, and replaces it when one completes", async () => {
    const { id } = await create(alice);
    await send(alice, id, { content: "keep me" });
    const good = (await get(alice, id)).messages;
    expect(good.map((m) => m.status)).toEqual(["done", "done"]);
    const regenerate = async () => {
      const response = await fetch(`${url}/api/conversations/${id}/regenerate`, {
        method: "POST",
        headers: { "content-type": "application/json", ...alice.headers },
        body: JSON.stringify({ model: "tiny-story" }),
      });
      return parseSse(await response.text());
    };
    const contents = async () => (await get(alice, id)).messages.map((m) => [m.role, m.content, m.status]);
    const before = await contents();
    // The model fails before answering (a model the service does not know: 404 upstream) ...
    model.options.models = ["another"];
    try {
      expect((await regenerate()).at(-1)).toMatchObject({ type: "error" });
      expect(await contents()).toEqual(before);
      // ... or mid-answer.
      model.options.models = ["tiny-story"];
      model.options.failAfterWords = 2;
      expect((await regenerate()).at(-1)).toMatchObject({ type: "error" });
      expect(await contents()).toEqual(before);
      // An edit that fails leaves the message it edits, and its answer, as they were.
      const edited = await send(alice, id, { content: "changed", editMessageId: good[0]!.id });
      expect(edited.parts.at(-1)).toMatchObject({ type: "error" });
      expect(await contents()).toEqual(before);
    } finally {
      model.options.models = ["tiny-story"];
      model.options.failAfterWords = undefined;
    }
    // One that completes replaces the answer; an edit that completes replaces the branch.
    model.options.words = ["Fresh", " words."];
    try {
      await regenerate();
      expect(await contents()).toEqual([
        ["user", "keep me", "done"],
        ["assistant", "Fresh words. You said: keep me", "done"],
      ]);
    } finally {
      model.options.words = undefined;
    }
    await send(alice, id, { content: "changed", editMessageId: good[0]!.id });
    expect(await contents()).toEqual([
      ["user", "changed", "done"],
      ["assistant", "Hello from the model. You said: changed", "done"],
    ]);
  });

  it("stores a failed answer's error code with its text, so it reads the same after a reload", async () => {
    const { id } = await create(alice);
    model.options.models = ["another"];
    try {
      const { parts } = await send(alice, id, { content: "fail before answering" });
      const failure = parts.at(-1) as { type: string; code: string; message: string };
      expect(failure).toMatchObject({ type: "error", code: expect.stringMatching(/^[A-Z_]+$/) });
      const stored = (await get(alice, id)).messages[1] as unknown as Record<string, unknown>;
      expect(stored).toMatchObject({ status: "error", error: failure.message, errorCode: failure.code });
    } finally {
      model.options.models = ["tiny-story"];
    }
    // An answer that did not fail has no code.
    await send(alice, id, { content: "fine now" });
    expect((await get(alice, id)).messages.at(-1)).toMatchObject({ status: "done", errorCode: null });
  });

  it("stores why the model ended an answer, so one cut off at the length limit reads so after a reload", async () => {
    const { id } = await create(alice);
    model.options.finishReason = "length";
    try {
      const { parts } = await send(alice, id, { content: "a long story" });
      expect(parts.at(-1)).toMatchObject({ type: "finish", finishReason: "length" });
      expect((await get(alice, id)).messages.at(-1)).toMatchObject({
        status: "done",
        finishReason: "length",
      });
    } finally {
      model.options.finishReason = undefined;
    }
    await send(alice, id, { content: "a short one" });
    expect((await get(alice, id)).messages.at(-1)).toMatchObject({ status: "done", finishReason: "stop" });
    // A question is not ended by the model.
    expect((await get(alice, id)).messages.at(-2)).toMatchObject({ role: "user", finishReason: null });
  });

  /** The completion tokens counted for alice (the administrator) so far. */
  const completionTokens = async () => {
    const report = (await web.app.inject({ url: "/api/admin/usage", headers: alice.headers })).json() as {
      usage: Array<{ username: string; completionTokens: number }>;
    };
    return report.usage.filter((u) => u.username === "alice").reduce((sum, u) => sum + u.completionTokens, 0);
  };

  it("keeps a partial answer, marked interrupted, when the client goes away", async () => {
    answerSlowly(100);
    try {
      const before = await completionTokens();
      const { id } = await create(alice);
      const turn = await streamTurn(url, alice, id, "long one");
      await turn.until("w3");
      await turn.cancel();
      await expect
        .poll(async () => (await get(alice, id)).messages[1]?.status, { timeout: 3000 })
        .toBe("interrupted");
      const answer = (await get(alice, id)).messages[1]!;
      expect(answer.content).toContain("w3");
      expect(answer.content).not.toContain("w99");
      // The model reported no usage: what was sent is counted, at about four characters a token.
      await expect
        .poll(completionTokens, { timeout: 3000 })
        .toBe(before + Math.ceil(answer.content.length / 4));
    } finally {
      answerQuickly();
    }
  });

  it("stores a Stop as stopped, ending where the stream to the user did; refuses a second turn meanwhile", async () => {
    answerSlowly(100);
    try {
      const before = await completionTokens();
      const { id } = await create(alice);
      const turn = await streamTurn(url, alice, id, "long one");
      await turn.until("w3");
      // While it is written, no second answer: not regenerated, not edited, not a new message.
      const userMessage = (await get(alice, id)).messages[0]!;
      for (const [path, payload] of [
        ["regenerate", { model: "tiny-story" }],
        ["messages", { model: "tiny-story", content: "edited", editMessageId: userMessage.id }],
        ["messages", { model: "tiny-story", content: "another" }],
      ] as const) {
        const refused = await web.app.inject({
          method: "POST",
          url: `/api/conversations/${id}/${path}`,
          headers: alice.headers,
          payload,
        });
        expect(refused.statusCode, path).toBe(409);
        expect(refused.json()).toMatchObject({ error: { code: "ANSWER_IN_PROGRESS" } });
      }
      const stop = await web.app.inject({
        method: "POST",
        url: `/api/conversations/${id}/stop`,
        headers: alice.headers,
        payload: {},
      });
      expect(stop.json()).toEqual({ stopped: true });
      const shown = parseSse(await turn.rest())
        .filter((p) => p.type === "text-delta")
        .map((p) => p.text)
        .join("");
      expect(shown).not.toContain("w99");
      const answer = (await get(alice, id)).messages[1]!;
      expect(answer.status).toBe("stopped");
      expect(answer.content).toBe(shown);
      await expect.poll(completionTokens, { timeout: 3000 }).toBe(before + Math.ceil(shown.length / 4));
      // Stopped, the conversation takes the next turn.
      answerQuickly();
      expect((await send(alice, id, { content: "next" })).status).toBe(200);
    } finally {
      answerQuickly();
    }
  });

  it("stops an answer on a Stop its writer never heard of (another replica's, the notice lost), within a second or so", async () => {
    answerSlowly(200);
    try {
      const { id } = await create(alice);
      const turn = await streamTurn(url, alice, id, "long one");
      await turn.until("w3");
      // What the stop route of a replica not writing this answer leaves in the database.
      expect(await new ConversationStore(web.db).requestStop(id)).toBe(true);
      const shown = parseSse(await turn.rest())
        .filter((p) => p.type === "text-delta")
        .map((p) => p.text)
        .join("");
      expect(shown).not.toContain("w199");
      const answer = (await get(alice, id)).messages[1]!;
      expect(answer).toMatchObject({ status: "stopped", content: shown });
    } finally {
      answerQuickly();
    }

    // The stop route marks an answer written elsewhere (no turn of it runs here).
    const { id } = await create(alice);
    await send(alice, id, { content: "hello" });
    const written = (await get(alice, id)).messages[1]!;
    const streamed = (status: "streaming" | "done") =>
      web.db
        .updateTable("messages")
        .set({ status, heartbeat_at: new Date().toISOString() })
        .where("id", "=", written.id)
        .execute();
    await streamed("streaming");
    const stop = await web.app.inject({
      method: "POST",
      url: `/api/conversations/${id}/stop`,
      headers: alice.headers,
      payload: {},
    });
    expect(stop.json()).toEqual({ stopped: true });
    const row = await web.db
      .selectFrom("messages")
      .select("stop_requested_at")
      .where("id", "=", written.id)
      .executeTakeFirstOrThrow();
    expect(row.stop_requested_at).not.toBeNull();
    await streamed("done");
  });

  it("interrupts the answers a stopped service left streaming", async () => {
    const { id } = await create(alice);
    await send(alice, id, { content: "hello" });
    const answer = (await get(alice, id)).messages[1]!;
    await web.db.updateTable("messages").set({ status: "streaming" }).where("id", "=", answer.id).execute();
    expect(
      (
        await web.app.inject({
          method: "POST",
          url: `/api/conversations/${id}/regenerate`,
          headers: alice.headers,
          payload: { model: "tiny-story" },
        })
      ).statusCode,
    ).toBe(409);
    expect(await new ConversationStore(web.db).interruptUnfinished()).toBeGreaterThanOrEqual(1);
    expect((await get(alice, id)).messages[1]!.status).toBe("interrupted");
  });

  it("no longer waits for an answer whose writer went quiet (a replica that died mid-answer), and only for that one", async () => {
    const { id } = await create(alice);
    await send(alice, id, { content: "hello" });
    const answer = (await get(alice, id)).messages[1]!;
    const store = new ConversationStore(web.db);
    const stream = (heartbeatAt: string) =>
      web.db
        .updateTable("messages")
        .set({ status: "streaming", heartbeat_at: heartbeatAt })
        .where("id", "=", answer.id)
        .execute();
    // Begun long ago, but its writer stored it a moment ago: still being written.
    await web.db
      .updateTable("messages")
      .set({ created_at: new Date(Date.now() - 2 * 60 * 60 * 1000).toISOString() })
      .where("id", "=", answer.id)
      .execute();
    await stream(new Date(Date.now() - 2000).toISOString());
    expect((await send(alice, id, { content: "still there?" })).status).toBe(409);
    expect(await store.interruptUnfinished({ abandonedOnly: true })).toBe(0);
    // Quiet for longer than ANSWER_SILENCE_MS: abandoned, whichever replica looks.
    await stream(new Date(Date.now() - ANSWER_SILENCE_MS - 1000).toISOString());
    expect(await store.interruptUnfinished({ abandonedOnly: true })).toBe(1);
    expect((await get(alice, id)).messages[1]!.status).toBe("interrupted");
    await stream(new Date(Date.now() - ANSWER_SILENCE_MS - 1000).toISOString());
    expect((await send(alice, id, { content: "still there?" })).status).toBe(200);
  });

  it("stops a conversation's answer, and the model's generation, when the conversation is deleted", async () => {
    answerSlowly(100);
    const abandoned = model.abandoned;
    try {
      const { id } = await create(alice);
      const turn = await streamTurn(url, alice, id, "long one");
      await turn.until("w3");
      const deleted = await web.app.inject({
        method: "DELETE",
        url: `/api/conversations/${id}`,
        headers: alice.headers,
      });
      expect(deleted.statusCode).toBe(204);
      const seen = await turn.rest();
      // The stream ends at once, saying why, and the model service's call is cancelled.
      expect(seen).not.toContain("w99");
      expect(parseSse(seen).at(-1)).toMatchObject({ type: "error", code: "CONVERSATION_NOT_FOUND" });
      await expect.poll(() => model.abandoned, { timeout: 3000 }).toBe(abandoned + 1);
      expect(
        (await web.app.inject({ url: `/api/conversations/${id}`, headers: alice.headers })).statusCode,
      ).toBe(404);
    } finally {
      answerQuickly();
    }
  });

  it("keeps what arrived, marked interrupted, when the model fails mid-answer", async () => {
    model.options.failAfterWords = 2;
    try {
      const { id } = await create(alice);
      const { parts } = await send(alice, id, { content: "fail please" });
      expect(parts.at(-1)).toMatchObject({ type: "error" });
      const answer = (await get(alice, id)).messages[1]!;
      expect(answer.status).toBe("interrupted");
      expect(answer.content).toBe("Hello from");
    } finally {
      model.options.failAfterWords = undefined;
    }
  });

  /** A final store of an answer that meets the database unreachable (a failover, a cut link). */
  const unreachable = () =>
    Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });

  it("stores an answer that ends while the database is briefly unreachable, then sends its finish", async () => {
    const finishMessage = vi
      .spyOn(ConversationStore.prototype, "finishMessage")
      .mockRejectedValueOnce(unreachable());
    try {
      const { id } = await create(alice);
      const { parts } = await send(alice, id, { content: "through a failover" });
      expect(parts.at(-1)).toMatchObject({ type: "finish" });
      expect(finishMessage).toHaveBeenCalledTimes(2);
      expect((await get(alice, id)).messages[1]).toMatchObject({
        status: "done",
        content: "Hello from the model. You said: through a failover",
      });
    } finally {
      finishMessage.mockRestore();
    }
  });

  it("tells the client an answer was not kept when the database stays unreachable as it ends", async () => {
    const finishMessage = vi
      .spyOn(ConversationStore.prototype, "finishMessage")
      .mockRejectedValue(unreachable());
    try {
      const before = await completionTokens();
      const { id } = await create(alice);
      // The stream ends (the response's text is read to its end) with an error, never a finish.
      const { parts } = await send(alice, id, { content: "through an outage" });
      expect(
        parts
          .filter((p) => p.type === "text-delta")
          .map((p) => p.text)
          .join(""),
      ).toBe("Hello from the model. You said: through an outage");
      expect(parts.some((p) => p.type === "finish")).toBe(false);
      expect(parts.at(-1)).toMatchObject({ type: "error", code: "DATABASE_UNAVAILABLE" });
      // Its usage is counted all the same.
      await expect.poll(completionTokens, { timeout: 3000 }).toBeGreaterThan(before);
    } finally {
      finishMessage.mockRestore();
    }
  }, 20_000);

  it("shows the answer written so far, still streaming, to a reader elsewhere", async () => {
    answerSlowly(200, 50);
    try {
      const { id } = await create(alice);
      const turn = await streamTurn(url, alice, id, "long one");
      await turn.until("w3");
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // Another device's page reads the conversation: the answer as it stood a second ago or less.
      const answer = (await get(alice, id)).messages[1]!;
      expect(answer.status).toBe("streaming");
      expect(answer.content).toMatch(/^ w0 w1 w2 w3/);
      expect(answer.content).not.toContain("w199");
      await turn.cancel();
      await expect.poll(async () => (await get(alice, id)).messages[1]!.status).toBe("interrupted");
    } finally {
      answerQuickly();
    }
  });

  it("hides one user's conversations from another (404, nothing leaked)", async () => {
    const { id } = await create(alice);
    await send(alice, id, { content: "alice's secret" });
    const list = (await web.app.inject({ url: "/api/conversations", headers: bob.headers })).json() as {
      conversations: unknown[];
    };
    expect(JSON.stringify(list)).not.toContain(id);
    for (const [method, path, payload] of [
      ["GET", `/api/conversations/${id}`, undefined],
      ["PATCH", `/api/conversations/${id}`, { title: "mine now" }],
      ["PATCH", `/api/conversations/${id}`, { pinned: true, systemPrompt: "leak the secret" }],
      ["DELETE", `/api/conversations/${id}`, undefined],
      ["GET", `/api/conversations/${id}/export`, undefined],
      ["POST", `/api/conversations/${id}/messages`, { content: "hi", model: "tiny-story" }],
      ["POST", `/api/conversations/${id}/regenerate`, { model: "tiny-story" }],
      ["POST", `/api/conversations/${id}/stop`, {}],
    ] as const) {
      const response = await web.app.inject({
        method,
        url: path,
        headers: bob.headers,
        ...(payload ? { payload } : {}),
      });
      expect(response.statusCode, `${method} ${path}`).toBe(404);
      expect(response.body).not.toContain("secret");
    }
    expect((await get(alice, id)).messages[0]!.content).toBe("alice's secret");
    expect((await get(alice, id)) as unknown).toMatchObject({ pinned: false, systemPrompt: null });
  });

  it("refuses a 10 MB message clearly and stores nothing", async () => {
    const { id } = await create(alice);
    const huge = "x".repeat(10 * 1024 * 1024);
    const response = await fetch(`${url}/api/conversations/${id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...alice.headers },
      body: JSON.stringify({ model: "tiny-story", content: huge }),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toMatch(
      /PAYLOAD_TOO_LARGE|MESSAGE_TOO_LONG/,
    );
    expect((await get(alice, id)).messages).toHaveLength(0);
    const long = await send(alice, id, { content: "y".repeat(web.config.web.maxMessageChars + 1) });
    expect(long.status).toBe(413);
    expect((long.body as { error: { code: string } }).error.code).toBe("MESSAGE_TOO_LONG");
  });
});
