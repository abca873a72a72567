import type { AnswerFeedback, FeedbackReport } from "@hearth/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import {
  newConversation,
  parseSse,
  type Session,
  setFilterWords,
  signUp,
} from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { ConversationStore, deleteConversationRows } from "../conversations/conversation-store.js";
import { FeedbackStore } from "./feedback-store.js";

interface Message {
  id: string;
  seq: number;
  role: "user" | "assistant";
  content: string;
  versions?: { index: number; count: number };
  feedback?: AnswerFeedback;
}

/**
 * Answer feedback over the browser API, on each database: a user's thumbs up or down on the answers
 * of their own conversations, with a comment, and the administrators' report of it.
 */
describe.each(dialects)("answer feedback on %s", (dialect) => {
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  /** The first account: the administrator. */
  let admin: Session;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story", "deep-thought"], delayMs: 1 });
    web = await startWeb({ modelUrl: model.url }, {}, dialect);
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    admin = await signUp(web.app, `${dialect}-admin`);
  });
  afterAll(async () => {
    await web?.close();
    await model?.close();
  });

  let users = 0;
  const newUser = () => signUp(web.app, `${dialect}-user-${++users}`);
  const turn = async (session: Session, id: string, path: "messages" | "regenerate", body: object) => {
    const response = await fetch(`${url}/api/conversations/${id}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...session.headers },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    parseSse(await response.text());
  };
  const send = (session: Session, id: string, content: string, with_ = "tiny-story") =>
    turn(session, id, "messages", { model: with_, content });
  /** A conversation of `session`'s with one answered message; its id. */
  const answered = async (session: Session, content = "What is a hearth?", with_ = "tiny-story") => {
    const id = await newConversation(web.app, session);
    await send(session, id, content, with_);
    return id;
  };
  const messages = async (session: Session, id: string) => {
    const response = await web.app.inject({ url: `/api/conversations/${id}`, headers: session.headers });
    expect(response.statusCode, response.body).toBe(200);
    return (response.json() as { messages: Message[] }).messages;
  };
  const rate = (session: Session, id: string, seq: number | string, payload: unknown) =>
    web.app.inject({
      method: "PUT",
      url: `/api/conversations/${id}/messages/${seq}/feedback`,
      headers: session.headers,
      payload: payload as Record<string, unknown>,
    });
  const unrate = (session: Session, id: string, seq: number | string) =>
    web.app.inject({
      method: "DELETE",
      url: `/api/conversations/${id}/messages/${seq}/feedback`,
      headers: session.headers,
    });
  const stored = async (conversationId: string) =>
    web.db.selectFrom("message_feedback").selectAll().where("conversation_id", "=", conversationId).execute();
  const report = async (query = "") => {
    const response = await web.app.inject({ url: `/api/admin/feedback${query}`, headers: admin.headers });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as FeedbackReport;
  };

  it("rates an answer up, changes it to down with a comment, takes it back; the conversation shows each", async () => {
    const alice = await newUser();
    const id = await answered(alice);
    const [, answer] = await messages(alice, id);
    expect(answer).toMatchObject({ role: "assistant", seq: 2 });
    expect(answer!.feedback).toBeUndefined();

    const up = await rate(alice, id, 2, { rating: "up" });
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json()).toEqual({ rating: "up", comment: null, ratedAt: expect.any(String) });
    expect((await messages(alice, id))[1]!.feedback).toEqual(up.json());

    // Changed: the rating and the comment replace what was there (white space at its ends dropped).
    const down = await rate(alice, id, 2, { rating: "down", comment: "  Too vague; 没有回答问题。 " });
    expect(down.statusCode, down.body).toBe(200);
    const shown = await messages(alice, id);
    expect(shown[1]!.feedback).toMatchObject({ rating: "down", comment: "Too vague; 没有回答问题。" });
    expect(shown[0]!.feedback).toBeUndefined();
    // One row an answer, recording what the report needs.
    expect(await stored(id)).toEqual([
      {
        message_id: answer!.id,
        conversation_id: id,
        user_id: alice.userId,
        model: "tiny-story",
        seq: 2,
        version_index: null,
        version_count: null,
        rating: "down",
        comment: "Too vague; 没有回答问题。",
        answer_start: answer!.content,
        rated_at: down.json().ratedAt,
      },
    ]);
    // A blank comment is none.
    expect((await rate(alice, id, 2, { rating: "down", comment: "   " })).json()).toMatchObject({
      comment: null,
    });

    expect((await unrate(alice, id, 2)).statusCode).toBe(204);
    expect((await messages(alice, id))[1]!.feedback).toBeUndefined();
    expect(await stored(id)).toEqual([]);
    // Safe to repeat.
    expect((await unrate(alice, id, 2)).statusCode).toBe(204);
  });

  it("hides another user's conversation as a 404, an administrator's attempt too, whatever the request holds", async () => {
    const alice = await newUser();
    const bob = await newUser();
    const id = await answered(alice);
    await rate(alice, id, 2, { rating: "up", comment: "kept" });
    for (const session of [bob, admin]) {
      for (const response of [
        await rate(session, id, 2, { rating: "down" }),
        await rate(session, id, 2, { rating: "bogus" }),
        await rate(session, id, "x", {}),
        await unrate(session, id, 2),
      ]) {
        expect([response.statusCode, response.json().error.code]).toEqual([404, "CONVERSATION_NOT_FOUND"]);
      }
    }
    expect((await messages(alice, id))[1]!.feedback).toMatchObject({ rating: "up", comment: "kept" });
  });

  it("refuses bad requests with stable codes, storing nothing", async () => {
    const alice = await newUser();
    const id = await answered(alice);
    const refused = async (seq: number | string, payload: unknown) => {
      const response = await rate(alice, id, seq, payload);
      const { code, details } = response.json().error;
      return [response.statusCode, code, details?.issues?.[0]?.path ?? details?.words];
    };
    expect(await refused(2, { rating: "meh" })).toEqual([400, "INVALID_REQUEST", "rating"]);
    expect(await refused(2, {})).toEqual([400, "INVALID_REQUEST", "rating"]);
    expect(await refused(2, { rating: "up", stars: 5 })).toEqual([400, "INVALID_REQUEST", ""]);
    expect(await refused(2, { rating: "up", comment: 42 })).toEqual([400, "INVALID_REQUEST", "comment"]);
    expect(await refused("two", { rating: "up" })).toEqual([400, "INVALID_REQUEST", "seq"]);
    // Counted as every Hearth text limit is: 1,000 characters fit, one more is too many (an emoji counts two).
    expect((await rate(alice, id, 2, { rating: "down", comment: "x".repeat(1000) })).statusCode).toBe(200);
    const long = await rate(alice, id, 2, { rating: "down", comment: `${"x".repeat(999)}😀` });
    expect([long.statusCode, long.json().error.details.issues[0]]).toMatchObject([
      400,
      { path: "comment", code: "too_big", maximum: 1000 },
    ]);
    // The user's message is not an answer; a seq the conversation does not show is none either.
    expect(await refused(1, { rating: "up" })).toEqual([404, "MESSAGE_NOT_FOUND", undefined]);
    expect(await refused(9, { rating: "up" })).toEqual([404, "MESSAGE_NOT_FOUND", undefined]);
    expect((await unrate(alice, id, 1)).json().error.code).toBe("MESSAGE_NOT_FOUND");
    // A comment is held to the sensitive-word filter on user input.
    await setFilterWords(web.app, admin, ["机密"]);
    try {
      expect(await refused(2, { rating: "down", comment: "它泄露了机密" })).toEqual([
        422,
        "CONTENT_BLOCKED",
        ["机密"],
      ]);
      // A rating without a comment has nothing to check.
      expect((await rate(alice, id, 2, { rating: "up" })).statusCode).toBe(200);
    } finally {
      await setFilterWords(web.app, admin, []);
    }
    expect((await stored(id)).map((row) => [row.rating, row.comment])).toEqual([["up", null]]);
    // An answer being written is rated once it ends.
    await web.db
      .updateTable("messages")
      .set({ status: "streaming", heartbeat_at: new Date().toISOString() })
      .where("conversation_id", "=", id)
      .where("seq", "=", 2)
      .execute();
    expect(await refused(2, { rating: "down" })).toEqual([409, "ANSWER_IN_PROGRESS", undefined]);
  });

  it("keeps a rating with its answer when a regeneration sets it aside as a version, recording which version was rated", async () => {
    const alice = await newUser();
    const id = await answered(alice);
    await rate(alice, id, 2, { rating: "down", comment: "wrong" });
    await turn(alice, id, "regenerate", { model: "deep-thought" });
    const [, second] = await messages(alice, id);
    expect(second).toMatchObject({ versions: { index: 2, count: 2 } });
    // The new answer is not rated; the one set aside keeps its rating.
    expect(second!.feedback).toBeUndefined();
    expect((await rate(alice, id, second!.seq, { rating: "up" })).statusCode).toBe(200);
    const back = await web.app.inject({
      method: "POST",
      url: `/api/conversations/${id}/versions`,
      headers: alice.headers,
      payload: { seq: second!.seq, index: 1 },
    });
    const first = (back.json() as { messages: Message[] }).messages[1]!;
    expect(first).toMatchObject({ versions: { index: 1, count: 2 }, feedback: { rating: "down" } });
    expect((await messages(alice, id))[1]!.feedback).toMatchObject({ rating: "down", comment: "wrong" });
    expect(
      (await stored(id)).map((row) => [row.model, row.rating, row.version_index, row.version_count]).sort(),
    ).toEqual([
      ["deep-thought", "up", 2, 2],
      ["tiny-story", "down", null, null],
    ]);
  });

  it("answers a rating whose conversation is deleted as it is stored as the conversation's absence", async () => {
    const alice = await newUser();
    const id = await answered(alice);
    // The conversation goes between the answer's lookup and the rating's row, as another tab's
    // deletion could.
    const conversations = new ConversationStore(web.db);
    const versionsOf = conversations.versionsOf.bind(conversations);
    conversations.versionsOf = async (conversationId, shown) => {
      const versions = await versionsOf(conversationId, shown);
      await web.db.transaction().execute((trx) => deleteConversationRows(trx, [conversationId]));
      return versions;
    };
    await expect(
      new FeedbackStore(conversations).rate(alice.userId, id, 2, { rating: "down", comment: null }),
    ).rejects.toMatchObject({ code: "CONVERSATION_NOT_FOUND" });
    expect(await stored(id)).toEqual([]);
  });

  it("deletes a conversation's ratings with it: alone, with its folder, with its owner's account", async () => {
    const alice = await newUser();
    const alone = await answered(alice);
    const filed = await answered(alice);
    const kept = await answered(alice);
    for (const id of [alone, filed, kept]) await rate(alice, id, 2, { rating: "up", comment: "ok" });
    expect(
      (await web.app.inject({ method: "DELETE", url: `/api/conversations/${alone}`, headers: alice.headers }))
        .statusCode,
    ).toBe(204);
    expect(await stored(alone)).toEqual([]);
    const folder = (
      await web.app.inject({
        method: "POST",
        url: "/api/folders",
        headers: alice.headers,
        payload: { name: "Old" },
      })
    ).json() as { id: string };
    await web.app.inject({
      method: "PATCH",
      url: `/api/conversations/${filed}`,
      headers: alice.headers,
      payload: { folderId: folder.id },
    });
    const dropped = await web.app.inject({
      method: "DELETE",
      url: `/api/folders/${folder.id}?withConversations=true`,
      headers: alice.headers,
    });
    expect(dropped.statusCode).toBe(204);
    expect(await stored(filed)).toEqual([]);
    expect(await stored(kept)).toHaveLength(1);
    const gone = await web.app.inject({
      method: "DELETE",
      url: `/api/admin/users/${alice.userId}`,
      headers: admin.headers,
    });
    expect(gone.statusCode).toBe(204);
    expect(await stored(kept)).toEqual([]);
  });

  it("reports the period's ratings per model with their share, the latest comments, and every rating as CSV", async () => {
    const before = await report("?days=366");
    const carol = await newUser();
    const dave = await newUser();
    const a = await answered(carol, "one", "deep-thought");
    const b = await answered(carol, "two", "deep-thought");
    const c = await answered(dave, "three", "deep-thought");
    const d = await answered(dave, "four", "tiny-story");
    const old = await answered(dave, "five", "tiny-story");
    await rate(carol, a, 2, { rating: "up" });
    await rate(carol, b, 2, { rating: "down", comment: '=HYPERLINK("http://evil")' });
    // The latest first: the next a moment later (in the same millisecond, which is later is a tie).
    await new Promise((resolve) => setTimeout(resolve, 5));
    await rate(dave, c, 2, { rating: "up", comment: "讲得很清楚" });
    await rate(dave, d, 2, { rating: "down" });
    await rate(dave, old, 2, { rating: "down", comment: "old news" });
    // Rated 40 days ago: out of a 30-day report, in a 90-day one.
    await web.db
      .updateTable("message_feedback")
      .set({ rated_at: new Date(Date.now() - 40 * 86_400_000).toISOString() })
      .where("conversation_id", "=", old)
      .execute();

    const added = (now: FeedbackReport, name: string) => {
      const after = now.models.find((m) => m.model === name) ?? { up: 0, down: 0 };
      const was = before.models.find((m) => m.model === name) ?? { up: 0, down: 0 };
      return [after.up - was.up, after.down - was.down];
    };
    const month = await report();
    expect(added(month, "deep-thought")).toEqual([2, 1]);
    expect(added(month, "tiny-story")).toEqual([0, 1]);
    const thought = month.models.find((m) => m.model === "deep-thought")!;
    expect(thought.upShare).toBeCloseTo(thought.up / (thought.up + thought.down));
    expect(added(await report("?days=90"), "tiny-story")).toEqual([0, 2]);
    // The latest comments first: who, when, which model, the rating, the comment, the answer's start.
    expect(month.comments.slice(0, 2)).toEqual([
      {
        username: `${dialect}-user-${users}`,
        ratedAt: expect.any(String),
        model: "deep-thought",
        rating: "up",
        comment: "讲得很清楚",
        answerStart: "Hello from the model. You said: three",
      },
      expect.objectContaining({ rating: "down", comment: '=HYPERLINK("http://evil")' }),
    ]);
    expect(month.comments.map((comment) => comment.comment)).not.toContain("old news");

    const csv = await web.app.inject({
      url: "/api/admin/feedback?format=csv&days=30",
      headers: admin.headers,
    });
    expect(csv.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(csv.headers["content-disposition"]).toBe('attachment; filename="hearth-feedback.csv"');
    const lines = csv.body.split("\n");
    expect(lines[0]).toBe("\uFEFFrated_at,user,model,rating,comment,seq,version,versions,answer_start");
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^"[^"]+","${dialect}-user-${users - 1}","deep-thought","down","'=HYPERLINK\\(""http://evil""\\)","2","","","Hello from the model\\. You said: two"$`,
        ),
      ),
    );
    expect(csv.body).not.toContain("old news");
    // Administrators only.
    const refused = await web.app.inject({ url: "/api/admin/feedback", headers: dave.headers });
    expect([refused.statusCode, refused.json().error.code]).toEqual([403, "ADMIN_REQUIRED"]);
    for (const query of ["days=0", "since=2026-01-01"]) {
      const bad = await web.app.inject({ url: `/api/admin/feedback?${query}`, headers: admin.headers });
      expect([bad.statusCode, bad.json().error.code], query).toEqual([400, "INVALID_REQUEST"]);
    }
  });
});
