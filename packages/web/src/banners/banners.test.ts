import type { ActiveBanner, Banner } from "@hearth/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { type Session, setFilterWords, signIn, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { BannerStore } from "./banner-store.js";

const HOUR = 3_600_000;
const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

/** Announcement banners over the browser API, on each database. */
describe.each(dialects)("announcement banners on %s", (dialect) => {
  let model: FakeModelService;
  let web: WebHarness;
  /** The first account: the administrator. */
  let admin: Session;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story"], delayMs: 1 });
    web = await startWeb({ modelUrl: model.url }, {}, dialect);
    admin = await signUp(web.app, `${dialect}-admin`);
  });
  afterAll(async () => {
    await web.close();
    await model.close();
  });

  let users = 0;
  const newUser = () => signUp(web.app, `${dialect}-user-${++users}`);
  const create = (session: Session, payload: Record<string, unknown>) =>
    web.app.inject({ method: "POST", url: "/api/admin/banners", headers: session.headers, payload });
  const made = async (payload: Record<string, unknown>) => {
    const response = await create(admin, payload);
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as Banner;
  };
  const patch = (id: string, payload: Record<string, unknown>) =>
    web.app.inject({ method: "PATCH", url: `/api/admin/banners/${id}`, headers: admin.headers, payload });
  const shown = async (session: Session) => {
    const response = await web.app.inject({ url: "/api/banners", headers: session.headers });
    expect(response.statusCode, response.body).toBe(200);
    return (response.json() as { banners: ActiveBanner[] }).banners;
  };
  const dismiss = (session: Session, id: string) =>
    web.app.inject({ method: "POST", url: `/api/banners/${id}/dismiss`, headers: session.headers });
  const clear = async () => {
    for (const banner of (await new BannerStore(web.db).list()).map((b) => b.id))
      await web.app.inject({ method: "DELETE", url: `/api/admin/banners/${banner}`, headers: admin.headers });
  };

  it("lets only administrators manage banners, and audits each change", async () => {
    await clear();
    const user = await newUser();
    const refused = await create(user, { text: "Planted" });
    expect([refused.statusCode, refused.json().error.code]).toEqual([403, "ADMIN_REQUIRED"]);
    expect((await web.app.inject({ url: "/api/admin/banners", headers: user.headers })).statusCode).toBe(403);

    const banner = await made({ text: "Maintenance tonight 22:00, chats may stop", type: "warning" });
    expect(banner).toMatchObject({ type: "warning", dismissible: true, startsAt: null, endsAt: null });
    for (const [method, payload] of [
      ["PATCH", { text: "taken over" }],
      ["DELETE", undefined],
    ] as const) {
      const response = await web.app.inject({
        method,
        url: `/api/admin/banners/${banner.id}`,
        headers: user.headers,
        ...(payload ? { payload } : {}),
      });
      expect([response.statusCode, response.json().error.code], method).toEqual([403, "ADMIN_REQUIRED"]);
    }
    expect((await patch(banner.id, { type: "error", dismissible: false })).json()).toMatchObject({
      type: "error",
      dismissible: false,
      text: "Maintenance tonight 22:00, chats may stop",
    });
    const deleted = await web.app.inject({
      method: "DELETE",
      url: `/api/admin/banners/${banner.id}`,
      headers: admin.headers,
    });
    expect(deleted.statusCode).toBe(204);
    expect(await shown(user)).toEqual([]);

    const entries = await web.db
      .selectFrom("audit_log")
      .select(["action", "actor_name", "target", "details"])
      .where("action", "like", "banner.%")
      .orderBy("id")
      .execute();
    expect(entries.map((entry) => [entry.action, entry.actor_name, entry.target])).toEqual([
      ["banner.create", `${dialect}-admin`, banner.id],
      ["banner.change", `${dialect}-admin`, banner.id],
      ["banner.delete", `${dialect}-admin`, banner.id],
    ]);
    expect(JSON.parse(entries[1]!.details!)).toEqual({
      type: { from: "warning", to: "error" },
      dismissible: { from: true, to: false },
    });
  });

  it("refuses bad bodies with INVALID_REQUEST, an unknown banner with BANNER_NOT_FOUND, a blocked word with CONTENT_BLOCKED", async () => {
    await clear();
    for (const payload of [
      {},
      { text: "   " },
      { text: "x".repeat(501) },
      { text: "two\nlines" },
      { text: "ok", type: "critical" },
      { text: "ok", dismissible: "yes" },
      { text: "ok", startsAt: "tonight" },
      { text: "ok", startsAt: at(HOUR), endsAt: at(-HOUR) },
      { text: "ok", colour: "red" },
    ]) {
      const response = await create(admin, payload);
      expect([response.statusCode, response.json().error.code], JSON.stringify(payload)).toEqual([
        400,
        "INVALID_REQUEST",
      ]);
    }
    // An end moved before the stored start is refused too.
    const banner = await made({ text: "Window", startsAt: at(HOUR) });
    const backwards = await patch(banner.id, { endsAt: at(-HOUR) });
    expect([backwards.statusCode, backwards.json().error.code]).toEqual([400, "INVALID_REQUEST"]);
    expect(backwards.json().error.details.issues[0].path).toBe("endsAt");

    const missing = "00000000-0000-0000-0000-000000000000";
    for (const response of [
      await patch(missing, { text: "x" }),
      await web.app.inject({
        method: "DELETE",
        url: `/api/admin/banners/${missing}`,
        headers: admin.headers,
      }),
      await dismiss(admin, missing),
    ])
      expect([response.statusCode, response.json().error.code]).toEqual([404, "BANNER_NOT_FOUND"]);

    await setFilterWords(web.app, admin, ["机密"]);
    try {
      const blocked = await create(admin, { text: "本周机密文件已更新" });
      expect([blocked.statusCode, blocked.json().error.code]).toEqual([422, "CONTENT_BLOCKED"]);
      const edited = await patch(banner.id, { text: "机密" });
      expect([edited.statusCode, edited.json().error.code]).toEqual([422, "CONTENT_BLOCKED"]);
    } finally {
      await setFilterWords(web.app, admin, []);
    }
    expect((await new BannerStore(web.db).list()).map((b) => b.text)).toEqual(["Window"]);
  });

  it("shows every signed-in user the banners in their time window, in the administrators' order", async () => {
    await clear();
    const user = await newUser();
    const now = await made({ text: "Now, until an hour from now", startsAt: at(-HOUR), endsAt: at(HOUR) });
    await made({ text: "From an hour from now", startsAt: at(HOUR) });
    await made({ text: "Ended an hour ago", endsAt: at(-HOUR) });
    const always = await made({ text: "The HR knowledge base was updated", type: "success" });
    expect((await shown(user)).map((b) => b.text)).toEqual([
      "Now, until an hour from now",
      "The HR knowledge base was updated",
    ]);
    // Times with an offset are taken as the moment they name.
    const store = new BannerStore(web.db);
    const later = await made({ text: "Beijing evening", startsAt: "2030-01-01T20:00:00+08:00" });
    expect(later.startsAt).toBe("2030-01-01T12:00:00.000Z");
    expect((await store.active(user.userId, new Date("2030-01-01T11:59:59Z"))).map((b) => b.text)).toEqual([
      "From an hour from now",
      "The HR knowledge base was updated",
    ]);
    expect((await store.active(user.userId, new Date("2030-01-01T12:00:00Z"))).map((b) => b.text)).toEqual([
      "From an hour from now",
      "The HR knowledge base was updated",
      "Beijing evening",
    ]);

    const all = (await store.list()).map((b) => b.id);
    const reordered = await web.app.inject({
      method: "PUT",
      url: "/api/admin/banners/order",
      headers: admin.headers,
      payload: { ids: [...all].reverse() },
    });
    expect(reordered.statusCode, reordered.body).toBe(200);
    expect((await shown(user)).map((b) => b.id)).toEqual([always.id, now.id]);
    // An order that leaves one out (another administrator added it meanwhile) is refused.
    const partial = await web.app.inject({
      method: "PUT",
      url: "/api/admin/banners/order",
      headers: admin.headers,
      payload: { ids: all.slice(1) },
    });
    expect([partial.statusCode, partial.json().error.code]).toEqual([400, "INVALID_REQUEST"]);
  });

  it("keeps a dismissed banner closed for that user alone, on every device, until its text is edited", async () => {
    await clear();
    const wang = await newUser();
    const li = await newUser();
    const notice = await made({ text: "维护今晚 22:00", type: "info" });
    const stays = await made({ text: "Read the usage policy", dismissible: false });
    const closed = await dismiss(wang, notice.id);
    expect(closed.statusCode).toBe(204);
    expect((await shown(wang)).map((b) => b.id)).toEqual([stays.id]);
    // Another session of Wang's (another device) does not show it either; Li still sees it.
    const wangElsewhere = await signIn(web.app, `${dialect}-user-${users - 1}`);
    expect((await shown(wangElsewhere)).map((b) => b.id)).toEqual([stays.id]);
    expect((await shown(li)).map((b) => b.id)).toEqual([notice.id, stays.id]);
    // Closing it again changes nothing; one that may not be closed is refused.
    expect((await dismiss(wang, notice.id)).statusCode).toBe(204);
    const refused = await dismiss(li, stays.id);
    expect([refused.statusCode, refused.json().error.code]).toEqual([409, "BANNER_NOT_DISMISSIBLE"]);

    // A change of its type or window keeps it closed; an edit of its text brings it back.
    await patch(notice.id, { type: "warning" });
    expect((await shown(wang)).map((b) => b.id)).toEqual([stays.id]);
    await patch(notice.id, { text: "维护改到明晚 22:00" });
    expect(await shown(wang)).toEqual([
      { id: notice.id, text: "维护改到明晚 22:00", type: "warning", dismissible: true, revision: 2 },
      { id: stays.id, text: "Read the usage policy", type: "info", dismissible: false, revision: 1 },
    ]);
    // A text edited after the user's page read it is not closed unseen: closing names the text shown.
    const seen = (await shown(wang)).find((b) => b.id === notice.id)!;
    await patch(notice.id, { text: "维护取消" });
    const late = await web.app.inject({
      method: "POST",
      url: `/api/banners/${notice.id}/dismiss`,
      headers: wang.headers,
      payload: { revision: seen.revision },
    });
    expect(late.statusCode, late.body).toBe(204);
    expect((await shown(wang)).map((b) => b.text)).toEqual(["维护取消", "Read the usage policy"]);
    // Closing the text now shown closes it; a revision not yet written closes only the present one.
    for (const revision of [3, 99]) {
      const closedNow = await web.app.inject({
        method: "POST",
        url: `/api/banners/${notice.id}/dismiss`,
        headers: wang.headers,
        payload: { revision },
      });
      expect(closedNow.statusCode, closedNow.body).toBe(204);
      expect((await shown(wang)).map((b) => b.id)).toEqual([stays.id]);
    }
    await patch(notice.id, { text: "维护改到下周" });
    expect((await shown(wang)).map((b) => b.text)).toEqual(["维护改到下周", "Read the usage policy"]);
    const bad = await web.app.inject({
      method: "POST",
      url: `/api/banners/${notice.id}/dismiss`,
      headers: wang.headers,
      payload: { revision: "2" },
    });
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, "INVALID_REQUEST"]);
    // A user's dismissals go with their account.
    expect((await dismiss(li, notice.id)).statusCode).toBe(204);
    const deleted = await web.app.inject({
      method: "DELETE",
      url: `/api/admin/users/${li.userId}`,
      headers: admin.headers,
    });
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(await web.db.selectFrom("banner_dismissals").select("user_id").execute()).toEqual([
      { user_id: wang.userId },
    ]);
  });
});

/** Replicas on one PostgreSQL database: a banner written on one is read on the other at once. */
describe.skipIf(!dialects.includes("postgres"))("announcement banners across replicas", () => {
  let model: FakeModelService;
  let first: WebHarness;
  let second: WebHarness;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story"], delayMs: 1 });
    first = await startWeb({ modelUrl: model.url }, {}, "postgres");
    second = await startWeb({ modelUrl: model.url }, {}, "postgres", { replicaOf: first });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await model.close();
  });

  it("shows a banner created, edited and deleted on one replica to a user of the other", async () => {
    const admin = await signUp(first.app, "replica-admin");
    const user = await signUp(second.app, "replica-user");
    const read = async () =>
      (
        (await second.app.inject({ url: "/api/banners", headers: user.headers })).json() as {
          banners: ActiveBanner[];
        }
      ).banners.map((banner) => banner.text);
    const created = await first.app.inject({
      method: "POST",
      url: "/api/admin/banners",
      headers: admin.headers,
      payload: { text: "Maintenance tonight" },
    });
    const { id } = created.json() as Banner;
    expect(await read()).toEqual(["Maintenance tonight"]);
    await first.app.inject({
      method: "PATCH",
      url: `/api/admin/banners/${id}`,
      headers: admin.headers,
      payload: { text: "Maintenance moved to tomorrow" },
    });
    expect(await read()).toEqual(["Maintenance moved to tomorrow"]);
    await first.app.inject({ method: "DELETE", url: `/api/admin/banners/${id}`, headers: admin.headers });
    expect(await read()).toEqual([]);
  });
});
