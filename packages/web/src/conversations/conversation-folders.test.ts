import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { parseSse, type Session, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";

interface Listed {
  id: string;
  title: string;
  pinned: boolean;
  folderId: string | null;
  archivedAt: string | null;
}
interface Page {
  conversations: Listed[];
  next?: { updatedAt: string; id: string; pinned: boolean };
}
interface Folder {
  id: string;
  name: string;
  conversationCount: number;
}

/** Archived chats and folders, over the browser API, on each database. */
describe.each(dialects)("archive and folders on %s", (dialect) => {
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  /** The first account: the administrator. */
  let admin: Session;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story"], delayMs: 1 });
    web = await startWeb({ modelUrl: model.url }, {}, dialect);
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    admin = await signUp(web.app, `${dialect}-admin`);
  });
  afterAll(async () => {
    await web.close();
    await model.close();
  });

  let users = 0;
  /** A new account of its own for each test: its list holds only what the test made. */
  const newUser = () => signUp(web.app, `${dialect}-user-${++users}`);

  /** A conversation titled `title`, its latest activity on day `day` of January 2026. */
  const conversation = async (session: Session, title: string, day = 1) => {
    const { id } = (
      await web.app.inject({
        method: "POST",
        url: "/api/conversations",
        headers: session.headers,
        payload: { title },
      })
    ).json() as { id: string };
    await web.db
      .updateTable("conversations")
      .set({ updated_at: `2026-01-${String(day).padStart(2, "0")}T00:00:00.000Z` })
      .where("id", "=", id)
      .execute();
    return id;
  };
  const patch = (session: Session, id: string, payload: Record<string, unknown>) =>
    web.app.inject({ method: "PATCH", url: `/api/conversations/${id}`, headers: session.headers, payload });
  const list = async (session: Session, query = "") => {
    const response = await web.app.inject({ url: `/api/conversations?${query}`, headers: session.headers });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as Page;
  };
  const titles = async (session: Session, query = "") =>
    (await list(session, query)).conversations.map((c) => c.title);
  /** Every page of a list, `limit` at a time. */
  const allPages = async (session: Session, query: string, limit: number) => {
    const seen: string[] = [];
    let cursor = "";
    for (let page = 0; page < 20; page++) {
      const answer = await list(session, `limit=${limit}&${query}${cursor}`);
      seen.push(...answer.conversations.map((c) => c.title));
      if (!answer.next) break;
      cursor = `&${new URLSearchParams({
        afterUpdatedAt: answer.next.updatedAt,
        afterId: answer.next.id,
        afterPinned: String(answer.next.pinned),
      })}`;
    }
    return seen;
  };
  const folders = async (session: Session) =>
    (
      (await web.app.inject({ url: "/api/folders", headers: session.headers })).json() as {
        folders: Folder[];
      }
    ).folders;
  const createFolder = (session: Session, name: unknown) =>
    web.app.inject({ method: "POST", url: "/api/folders", headers: session.headers, payload: { name } });
  const folderId = async (session: Session, name: string) => {
    const response = await createFolder(session, name);
    expect(response.statusCode, response.body).toBe(201);
    return (response.json() as Folder).id;
  };

  it("archives a conversation out of the list and its search, into the archived list, and back", async () => {
    const alice = await newUser();
    const older = await conversation(alice, "Sourdough starter", 1);
    const archived = await conversation(alice, "Sourdough taxes", 2);
    await conversation(alice, "Garden plan", 3);

    const archiving = await patch(alice, archived, { archived: true });
    expect(archiving.statusCode).toBe(200);
    const archivedAt = archiving.json().archivedAt as string;
    expect(Date.parse(archivedAt)).not.toBeNaN();
    // Archiving is no activity: its place by its latest activity is kept.
    expect(archiving.json()).toMatchObject({ updatedAt: "2026-01-02T00:00:00.000Z" });

    expect(await titles(alice)).toEqual(["Garden plan", "Sourdough starter"]);
    expect(await titles(alice, "q=sourdough")).toEqual(["Sourdough starter"]);
    expect(await titles(alice, "archived=true")).toEqual(["Sourdough taxes"]);
    expect(await titles(alice, "archived=true&q=TAXES")).toEqual(["Sourdough taxes"]);
    expect(await titles(alice, "archived=true&q=garden")).toEqual([]);
    expect((await list(alice, "archived=true")).conversations[0]).toMatchObject({ id: archived, archivedAt });

    // Opened by its address it is there as ever, saying it is archived; archiving it again keeps the time.
    const opened = await web.app.inject({ url: `/api/conversations/${archived}`, headers: alice.headers });
    expect(opened.statusCode).toBe(200);
    expect(opened.json()).toMatchObject({ title: "Sourdough taxes", archivedAt });
    expect((await patch(alice, archived, { archived: true })).json()).toMatchObject({ archivedAt });

    // A message sent to it is answered, and it stays archived (as Open WebUI keeps it).
    const sent = await fetch(`${url}/api/conversations/${archived}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...alice.headers },
      body: JSON.stringify({ model: "tiny-story", content: "how much flour?" }),
    });
    expect(sent.status).toBe(200);
    expect(parseSse(await sent.text()).some((part) => part.type === "finish")).toBe(true);
    expect(await titles(alice, "archived=true")).toEqual(["Sourdough taxes"]);
    expect(await titles(alice)).toEqual(["Garden plan", "Sourdough starter"]);

    // Unarchived, it is back in the list, in its place by its latest activity (the new turn's).
    const back = await patch(alice, archived, { archived: false });
    expect(back.json()).toMatchObject({ archivedAt: null });
    expect(await titles(alice)).toEqual(["Sourdough taxes", "Garden plan", "Sourdough starter"]);
    expect(await titles(alice, "archived=true")).toEqual([]);

    // An archived conversation is deleted as any other.
    await patch(alice, older, { archived: true });
    const removed = await web.app.inject({
      method: "DELETE",
      url: `/api/conversations/${older}`,
      headers: alice.headers,
    });
    expect(removed.statusCode).toBe(204);
    expect(await titles(alice, "archived=true")).toEqual([]);
    expect(await titles(alice)).toEqual(["Sourdough taxes", "Garden plan"]);
  });

  it("pages the archived list, the latest first, none repeated or skipped; pinned ones archive too", async () => {
    const alice = await newUser();
    for (let day = 1; day <= 5; day++) await conversation(alice, `chat ${day}`, day);
    const all = await list(alice);
    // A pinned one is archived with the rest, and the archive lists it by its activity alone.
    await patch(alice, all.conversations.find((c) => c.title === "chat 2")!.id, { pinned: true });
    for (const item of all.conversations) await patch(alice, item.id, { archived: true });
    const order = ["chat 5", "chat 4", "chat 3", "chat 2", "chat 1"];
    for (const limit of [1, 2, 3, 200])
      expect(await allPages(alice, "archived=true", limit), `limit ${limit}`).toEqual(order);
    expect(await titles(alice)).toEqual([]);
  });

  it("archives all of a user's conversations in one request, and no one else's", async () => {
    const alice = await newUser();
    const bob = await newUser();
    await conversation(alice, "one", 1);
    const filed = await conversation(alice, "two", 2);
    await patch(alice, filed, { folderId: await folderId(alice, "Work"), pinned: true });
    await conversation(bob, "bob's", 1);
    const done = await web.app.inject({
      method: "POST",
      url: "/api/conversations/archive-all",
      headers: alice.headers,
      payload: {},
    });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toEqual({ archived: 2 });
    expect(await titles(alice)).toEqual([]);
    expect(await titles(alice, "archived=true")).toEqual(["two", "one"]);
    // The folder's count is of the conversations in the list; the archived one keeps its folder.
    expect(await folders(alice)).toMatchObject([{ name: "Work", conversationCount: 0 }]);
    expect((await list(alice, "archived=true")).conversations[0]).toMatchObject({
      folderId: expect.any(String),
    });
    expect(await titles(bob)).toEqual(["bob's"]);
  });

  it("creates, lists, renames and refuses folders: a name unique per user whatever its case or width", async () => {
    const alice = await newUser();
    const bob = await newUser();
    const work = await createFolder(alice, "  Work  ");
    expect(work.statusCode).toBe(201);
    expect(work.json()).toMatchObject({ name: "Work", conversationCount: 0 });
    await folderId(alice, "Recipes");

    for (const taken of ["work", "WORK", "Ｗｏｒｋ"]) {
      const again = await createFolder(alice, taken);
      expect([again.statusCode, again.json().error.code], taken).toEqual([409, "FOLDER_NAME_TAKEN"]);
    }
    // Another user's names are theirs.
    expect((await createFolder(bob, "Work")).statusCode).toBe(201);

    for (const wrong of ["", "   ", "x".repeat(101), "Wo\u0000rk", 7]) {
      const refused = await createFolder(alice, wrong);
      expect([refused.statusCode, refused.json().error.code], JSON.stringify(wrong)).toEqual([
        400,
        "INVALID_REQUEST",
      ]);
    }
    expect((await createFolder(alice, "文".repeat(100))).statusCode).toBe(201);

    const id = (work.json() as Folder).id;
    const rename = (name: string) =>
      web.app.inject({
        method: "PATCH",
        url: `/api/folders/${id}`,
        headers: alice.headers,
        payload: { name },
      });
    const taken = await rename("RECIPES");
    expect([taken.statusCode, taken.json().error.code]).toEqual([409, "FOLDER_NAME_TAKEN"]);
    // Its own name in another case is its own.
    expect((await rename("WORK")).json()).toMatchObject({ id, name: "WORK" });
    expect((await rename("Projects")).json()).toMatchObject({ id, name: "Projects" });
    expect((await folders(alice)).map((folder) => folder.name)).toEqual([
      "Projects",
      "Recipes",
      "文".repeat(100),
    ]);
    // The name is free again once renamed away.
    expect((await createFolder(alice, "work")).statusCode).toBe(201);
  });

  it("moves conversations into folders and out, lists one folder's or the unfiled ones, and counts them", async () => {
    const alice = await newUser();
    const work = await folderId(alice, "Work");
    const home = await folderId(alice, "Home");
    const report = await conversation(alice, "Quarterly report", 1);
    const garden = await conversation(alice, "Garden plan", 2);
    await conversation(alice, "Loose thoughts", 3);

    const moved = await patch(alice, report, { folderId: work });
    expect(moved.statusCode).toBe(200);
    // Moving is no activity: its place by its latest activity is kept.
    expect(moved.json()).toMatchObject({ folderId: work, updatedAt: "2026-01-01T00:00:00.000Z" });
    await patch(alice, garden, { folderId: home });

    expect(await titles(alice, `folderId=${work}`)).toEqual(["Quarterly report"]);
    expect(await titles(alice, "folderId=none")).toEqual(["Loose thoughts"]);
    // Without the filter (and in search) every folder's are found.
    expect(await titles(alice)).toEqual(["Loose thoughts", "Garden plan", "Quarterly report"]);
    expect(await titles(alice, "q=report")).toEqual(["Quarterly report"]);
    expect(await titles(alice, `folderId=${home}&q=report`)).toEqual([]);
    expect(await folders(alice)).toMatchObject([
      { name: "Home", conversationCount: 1 },
      { name: "Work", conversationCount: 1 },
    ]);
    // From one folder to another, then out of any.
    await patch(alice, garden, { folderId: work });
    expect(await titles(alice, `folderId=${work}`)).toEqual(["Garden plan", "Quarterly report"]);
    const out = await patch(alice, garden, { folderId: null });
    expect(out.json()).toMatchObject({ folderId: null });
    expect(await titles(alice, "folderId=none")).toEqual(["Loose thoughts", "Garden plan"]);
    // An archived one leaves its folder's list and count, and comes back to it.
    await patch(alice, report, { archived: true });
    expect(await titles(alice, `folderId=${work}`)).toEqual([]);
    expect(await titles(alice, `folderId=${work}&archived=true`)).toEqual(["Quarterly report"]);
    expect((await folders(alice)).find((f) => f.id === work)).toMatchObject({ conversationCount: 0 });
    await patch(alice, report, { archived: false });
    expect(await titles(alice, `folderId=${work}`)).toEqual(["Quarterly report"]);

    const empty = await patch(alice, report, {});
    expect([empty.statusCode, empty.json().error.code]).toEqual([400, "INVALID_REQUEST"]);
    const unknown = await patch(alice, report, { folderId: "no-such-folder" });
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, "FOLDER_NOT_FOUND"]);
  });

  it("answers another user's folder as one that never was (404), wherever its id is used", async () => {
    const alice = await newUser();
    const mallory = await newUser();
    const work = await folderId(alice, "Work");
    const report = await conversation(alice, "Quarterly report", 1);
    await patch(alice, report, { folderId: work });
    const own = await conversation(mallory, "mine", 1);

    const attempts = [
      await patch(mallory, own, { folderId: work }),
      await web.app.inject({ url: `/api/conversations?folderId=${work}`, headers: mallory.headers }),
      await web.app.inject({
        method: "PATCH",
        url: `/api/folders/${work}`,
        headers: mallory.headers,
        payload: { name: "Mine now" },
      }),
      // Ownership comes before the body: a wrong one says nothing of the folder either.
      await web.app.inject({
        method: "PATCH",
        url: `/api/folders/${work}`,
        headers: mallory.headers,
        payload: {},
      }),
      await web.app.inject({
        method: "DELETE",
        url: `/api/folders/${work}?withConversations=true`,
        headers: mallory.headers,
      }),
    ];
    for (const response of attempts) {
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe("FOLDER_NOT_FOUND");
      expect(response.body).not.toContain("Quarterly");
    }
    const never = await web.app.inject({
      method: "DELETE",
      url: "/api/folders/no-such",
      headers: alice.headers,
    });
    expect(never.json().error).toMatchObject({ code: "FOLDER_NOT_FOUND" });
    // Nothing of alice's changed; mallory's list shows none of her folders.
    expect(await folders(alice)).toMatchObject([{ id: work, name: "Work", conversationCount: 1 }]);
    expect(await titles(alice, `folderId=${work}`)).toEqual(["Quarterly report"]);
    expect(await folders(mallory)).toEqual([]);
    expect((await list(mallory)).conversations).toMatchObject([{ id: own, folderId: null }]);
  });

  it("deletes a folder keeping its conversations in the list, or with them when asked", async () => {
    const alice = await newUser();
    const kept = await folderId(alice, "Kept");
    const dropped = await folderId(alice, "Dropped");
    const a = await conversation(alice, "kept one", 1);
    const b = await conversation(alice, "kept two", 2);
    const c = await conversation(alice, "dropped one", 3);
    const d = await conversation(alice, "dropped but archived", 4);
    for (const id of [a, b]) await patch(alice, id, { folderId: kept });
    for (const id of [c, d]) await patch(alice, id, { folderId: dropped });
    await patch(alice, d, { archived: true });
    const send = await fetch(`${url}/api/conversations/${c}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...alice.headers },
      body: JSON.stringify({ model: "tiny-story", content: "a message to keep a record of" }),
    });
    await send.text();

    const plain = await web.app.inject({
      method: "DELETE",
      url: `/api/folders/${kept}`,
      headers: alice.headers,
    });
    expect(plain.statusCode).toBe(204);
    // Its conversations are back in the main list, none lost.
    expect(await titles(alice, "folderId=none")).toEqual(["kept two", "kept one"]);
    expect((await folders(alice)).map((f) => f.name)).toEqual(["Dropped"]);

    const withThem = await web.app.inject({
      method: "DELETE",
      url: `/api/folders/${dropped}?withConversations=true`,
      headers: alice.headers,
    });
    expect(withThem.statusCode).toBe(204);
    expect(await folders(alice)).toEqual([]);
    expect(
      (await web.app.inject({ url: `/api/conversations/${c}`, headers: alice.headers })).statusCode,
    ).toBe(404);
    expect(
      await web.db.selectFrom("messages").select("id").where("conversation_id", "=", c).execute(),
    ).toEqual([]);
    // Its deletion is audited as a conversation's is.
    expect(
      await web.db
        .selectFrom("audit_log")
        .select("target")
        .where("action", "=", "conversation.delete")
        .where("target", "=", c)
        .execute(),
    ).toHaveLength(1);
    // The archived one, which the folder's count did not show, is kept in the archive, unfiled.
    expect((await list(alice, "archived=true")).conversations).toMatchObject([
      { id: d, title: "dropped but archived", folderId: null },
    ]);
    expect(await titles(alice)).toEqual(["kept two", "kept one"]);
  });

  it("exports a conversation's folder by name, and an import files it in the folder of that name", async () => {
    const alice = await newUser();
    const bob = await newUser();
    const work = await folderId(alice, "Work notes");
    const id = await conversation(alice, "Standup", 1);
    await patch(alice, id, { folderId: work });
    await fetch(`${url}/api/conversations/${id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...alice.headers },
      body: JSON.stringify({ model: "tiny-story", content: "notes for today" }),
    }).then((response) => response.text());
    const exported = JSON.parse(
      (await web.app.inject({ url: `/api/conversations/${id}/export?format=json`, headers: alice.headers }))
        .body,
    ) as Record<string, unknown>;
    expect(exported).toMatchObject({ folder: "Work notes", folderId: work, archivedAt: null });

    const importAs = async (session: Session, body: unknown) => {
      const response = await web.app.inject({
        method: "POST",
        url: "/api/conversations/import",
        headers: session.headers,
        payload: body as Record<string, unknown>,
      });
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as { imported: number; conversations: Array<{ id: string }> };
    };
    // Into an account without the folder: it is made, once for the two conversations naming it.
    const imported = await importAs(bob, [exported, { ...exported, title: "Standup 2" }]);
    expect(imported.imported).toBe(2);
    const [bobs] = await folders(bob);
    expect(bobs).toMatchObject({ name: "Work notes", conversationCount: 2 });
    expect(await titles(bob, `folderId=${bobs!.id}`)).toEqual(
      expect.arrayContaining(["Standup", "Standup 2"]),
    );
    // Into one that has it under another case: that folder is used, not a second one.
    await importAs(alice, { ...exported, folder: "WORK NOTES", title: "Standup again" });
    expect(await folders(alice)).toMatchObject([{ id: work, name: "Work notes", conversationCount: 2 }]);
    // A folder name no folder may have (too long, blank) leaves it unfiled.
    await importAs(alice, [
      { ...exported, folder: "x".repeat(101), title: "too long" },
      { ...exported, folder: "  ", title: "blank" },
    ]);
    expect(await titles(alice, "folderId=none")).toEqual(expect.arrayContaining(["too long", "blank"]));
    expect(await folders(alice)).toHaveLength(1);
  });

  it("deletes an account's folders with its conversations", async () => {
    const leaving = await newUser();
    const work = await folderId(leaving, "Work");
    const id = await conversation(leaving, "filed", 1);
    await patch(leaving, id, { folderId: work });
    const deleted = await web.app.inject({
      method: "DELETE",
      url: `/api/admin/users/${leaving.userId}`,
      headers: admin.headers,
    });
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(
      await web.db.selectFrom("folders").select("id").where("user_id", "=", leaving.userId).execute(),
    ).toEqual([]);
    expect(await web.db.selectFrom("conversations").select("id").where("id", "=", id).execute()).toEqual([]);
  });
});
