import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Session, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { audit } from "./audit-log.js";

interface Entry {
  id: number;
  action: string;
  actorName: string | null;
  targetName: string | null;
  details: Record<string, unknown> | null;
}
interface Page {
  entries: Entry[];
  next: number | null;
}

/** The audit log as an administrator reads it: every entry reachable a page at a time, filtered, named. */
describe.each(dialects)("the audit log on %s", (dialect) => {
  let web: WebHarness;
  let admin: Session;
  let alice: Session;
  const read = async (query: string) =>
    web.app.inject({ url: `/api/admin/audit${query}`, headers: admin.headers });

  beforeAll(async () => {
    web = await startWeb({ modelUrl: "http://127.0.0.1:9" }, {}, dialect);
    admin = await signUp(web.app, "admin");
    alice = await signUp(web.app, "alice");
    // 1,200 entries: more than the largest page.
    for (let n = 0; n < 1200; n++)
      await audit(web.db, { actorId: alice.userId, action: "conversation.delete", target: `c${n}` });
  });
  afterAll(async () => {
    await web?.close();
  });

  it("pages through every entry with the next cursor, none twice, newest first", async () => {
    const seen: number[] = [];
    let before: number | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const response = await read(`?limit=500${before === null ? "" : `&before=${before}`}`);
      expect(response.statusCode).toBe(200);
      const page = response.json() as Page;
      seen.push(...page.entries.map((e) => e.id));
      before = page.next;
      if (before === null) break;
    }
    expect(before).toBeNull();
    // Two sign-ups and the 1,200 entries.
    expect(seen).toHaveLength(1202);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
  });

  it("filters by action and by actor (name or id)", async () => {
    const signups = (await read("?action=user.signup")).json() as Page;
    expect(signups.entries.map((e) => e.actorName).sort()).toEqual(["admin", "alice"]);
    expect(signups.next).toBeNull();
    const byName = (await read("?actor=alice&limit=1000")).json() as Page;
    expect(byName.entries).toHaveLength(1000);
    expect(byName.entries.every((e) => e.actorName === "alice")).toBe(true);
    const byId = (await read(`?actor=${alice.userId}&action=user.signup`)).json() as Page;
    expect(byId.entries).toHaveLength(1);
  });

  it("refuses unknown parameters and bad values rather than ignoring them", async () => {
    for (const query of ["?offset=10", "?limit=1001", "?before=abc", "?before=0", "?limit=0"]) {
      const response = await read(query);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().error.code, query).toBe("INVALID_REQUEST");
    }
  });

  it("never holds the credentials of a model pulled from a URL", async () => {
    await web.app.inject({
      method: "POST",
      url: "/api/admin/models/pull",
      headers: admin.headers,
      payload: { model: "http://mirror-user:Pa55word@mirror.internal/m.gguf?token=T0KEN#part" },
    });
    // The model service does not answer here: the pull is recorded as failed.
    const [entry] = ((await read("?action=model.pull-failed")).json() as Page).entries as Array<
      Entry & { target: string }
    >;
    expect(entry!.target).toBe("http://[redacted]@mirror.internal/m.gguf?[redacted]#part");
  });

  it("records settings changes with their values, and names the groups and users in details", async () => {
    const patch = (payload: object) =>
      web.app.inject({ method: "PATCH", url: "/api/admin/settings", headers: admin.headers, payload });
    expect((await patch({ signup: "approval", userLimits: { requestsPerDay: 50 } })).statusCode).toBe(200);
    expect(
      (await patch({ filter: { words: ["alpha", "beta"], applyToInput: true, applyToOutput: false } }))
        .statusCode,
    ).toBe(200);
    const settings = (await read("?action=settings.change")).json() as Page;
    expect(settings.entries[1]?.details).toMatchObject({
      changes: {
        signup: { from: "open", to: "approval" },
        userLimits: { from: {}, to: { requestsPerDay: 50 } },
      },
    });
    const filter = settings.entries[0]?.details;
    expect(filter).toMatchObject({
      changes: { filter: { wordsAdded: 2, wordsRemoved: 0, applyToOutput: { from: true, to: false } } },
    });
    // The words themselves are not copied into the log.
    expect(JSON.stringify(filter)).not.toContain("alpha");

    const group = (
      await web.app.inject({
        method: "POST",
        url: "/api/admin/groups",
        headers: admin.headers,
        payload: { name: "staff" },
      })
    ).json() as { id: string };
    await web.app.inject({
      method: "PUT",
      url: `/api/admin/groups/${group.id}/members`,
      headers: admin.headers,
      payload: { userIds: [alice.userId] },
    });
    await web.app.inject({
      method: "PUT",
      url: "/api/admin/models/tiny/access",
      headers: admin.headers,
      payload: { groupIds: [group.id] },
    });
    const members = (await read("?action=group.members-change")).json() as Page;
    expect(members.entries[0]?.details).toMatchObject({ userIds: [alice.userId], users: ["alice"] });
    const access = (await read("?action=model.access-change")).json() as Page;
    expect(access.entries[0]?.details).toMatchObject({ groupIds: [group.id], groups: ["staff"] });
  });

  it("records only what a settings save changed, group limits by the group's name, and no no-op save", async () => {
    const patch = (payload: object) =>
      web.app.inject({ method: "PATCH", url: "/api/admin/settings", headers: admin.headers, payload });
    const group = (
      await web.app.inject({
        method: "POST",
        url: "/api/admin/groups",
        headers: admin.headers,
        payload: { name: "interns" },
      })
    ).json() as { id: string };
    const settings = (await web.app.inject({ url: "/api/admin/settings", headers: admin.headers })).json();
    const count = async () => ((await read("?action=settings.change")).json() as Page).entries.length;
    const saves = await count();
    // The settings form sends every key: saving it unchanged is no event.
    expect((await patch(settings)).statusCode).toBe(200);
    expect(await count()).toBe(saves);
    // One group's limit changed among everything the form sends.
    const groupLimits = { ...settings.groupLimits, [group.id]: { requestsPerMinute: 5 } };
    expect((await patch({ ...settings, groupLimits })).statusCode).toBe(200);
    const entry = ((await read("?action=settings.change")).json() as Page).entries[0];
    expect(entry?.details).toEqual({
      keys: ["groupLimits"],
      changes: { groupLimits: { from: { interns: {} }, to: { interns: { requestsPerMinute: 5 } } } },
    });
  });

  it("keeps the names of a model's groups in its access change after the group is deleted", async () => {
    const group = (
      await web.app.inject({
        method: "POST",
        url: "/api/admin/groups",
        headers: admin.headers,
        payload: { name: "short-lived" },
      })
    ).json() as { id: string };
    await web.app.inject({
      method: "PUT",
      url: "/api/admin/models/small/access",
      headers: admin.headers,
      payload: { groupIds: [group.id] },
    });
    await web.app.inject({
      method: "DELETE",
      url: `/api/admin/groups/${group.id}?force=true`,
      headers: admin.headers,
    });
    const access = (await read("?action=model.access-change")).json() as Page;
    expect(access.entries[0]?.details).toMatchObject({ groupIds: [group.id], groups: ["short-lived"] });
  });
});
