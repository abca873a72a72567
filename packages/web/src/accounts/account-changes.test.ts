import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeKnowledge, startFakeKnowledgeAndSearch } from "../../test/support/fake-knowledge-search.js";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { createApiKey, type Session, signIn, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { openDatabase } from "../storage/open-database.js";
import { createAdminAccount } from "./account-admin.js";

/**
 * User names that differ only in case, the rule for passwords, a user changing their own
 * password, and the admin's user changes and deletion: what a user of the accounts notices.
 */
describe.each(dialects)("account rules on %s", (dialect) => {
  let model: FakeModelService;
  let knowledge: FakeKnowledge;
  let web: WebHarness;
  let admin: Session;

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    web.app.inject({ method: "POST", url, payload: payload as object, headers });

  beforeAll(async () => {
    model = await startFakeModelService();
    knowledge = await startFakeKnowledgeAndSearch();
    web = await startWeb({ modelUrl: model.url, knowledgeUrl: knowledge.url }, {}, dialect);
    admin = await signUp(web.app, "admin");
    await signUp(web.app, "alice");
    await signUp(web.app, "bob");
  });
  afterAll(async () => {
    await web?.close();
    await model?.close();
    await knowledge?.close();
  });

  it("refuses a user name that differs from an existing one only in case or width", async () => {
    for (const username of ["ADMIN", "Alice", "BOB", "Bob", "ａｌｉｃｅ"]) {
      const response = await post("/api/auth/signup", { username, password: "correct horse battery" });
      expect(response.statusCode, username).toBe(409);
      expect(response.json().error.code).toBe("USERNAME_TAKEN");
    }
    const { users } = (await web.app.inject({ url: "/api/admin/users", headers: admin.headers })).json() as {
      users: Array<{ username: string }>;
    };
    expect(users.map((u) => u.username).sort()).toEqual(["admin", "alice", "bob"]);
  });

  it("keeps the spelling typed at sign-up and signs in by any case of it", async () => {
    const carol = await signUp(web.app, "CarolW");
    for (const spelling of ["CarolW", "carolw", "CAROLW"]) {
      const session = await signIn(web.app, spelling);
      expect(session.userId).toBe(carol.userId);
    }
    const me = await web.app.inject({ url: "/api/auth/session", headers: carol.headers });
    expect(me.json().user.username).toBe("CarolW");
  });

  it("refuses a password of only spaces at sign-up", async () => {
    for (const password of ["        ", " \t \u3000     "]) {
      const response = await post("/api/auth/signup", { username: "spacey", password });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe("WEAK_PASSWORD");
    }
  });

  it("answers 400 INVALID_REQUEST to an admin's user change with nothing in it", async () => {
    const response = await web.app.inject({
      method: "PATCH",
      url: `/api/admin/users/${admin.userId}`,
      headers: admin.headers,
      payload: {},
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().error.code).toBe("INVALID_REQUEST");
  });

  it("lets a user change their own password, ending their other sessions", async () => {
    const dave = await signUp(web.app, "dave", "first password 1");
    const laptop = await signIn(web.app, "dave", "first password 1");
    const change = (session: Session, currentPassword: string, newPassword: string) =>
      post("/api/account/password", { currentPassword, newPassword }, session.headers);

    const wrong = await change(dave, "not my password", "second password 2");
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error.code).toBe("CURRENT_PASSWORD_WRONG");
    const blank = await change(dave, "first password 1", "         ");
    expect(blank.json().error.code).toBe("WEAK_PASSWORD");

    const changed = await change(dave, "first password 1", "second password 2");
    expect(changed.statusCode, changed.body).toBe(204);
    // This session goes on; the laptop's has ended.
    expect((await web.app.inject({ url: "/api/conversations", headers: dave.headers })).statusCode).toBe(200);
    const ended = await web.app.inject({ url: "/api/conversations", headers: laptop.headers });
    expect(ended.json().error.code).toBe("SESSION_EXPIRED");
    const old = await post("/api/auth/login", { username: "dave", password: "first password 1" });
    expect(old.json().error.code).toBe("INVALID_CREDENTIALS");
    await signIn(web.app, "Dave", "second password 2");

    const audit = (await web.app.inject({ url: "/api/admin/audit", headers: admin.headers })).json() as {
      entries: Array<{ action: string; actorName: string }>;
    };
    expect(audit.entries).toContainEqual(
      expect.objectContaining({ action: "user.password-change", actorName: "dave" }),
    );
  });

  it("throttles guesses at the current password like sign-ins", async () => {
    const erin = await signUp(web.app, "erin");
    for (let i = 0; i < 5; i++)
      await post(
        "/api/account/password",
        { currentPassword: `guess ${i}`, newPassword: "new password 99" },
        erin.headers,
      );
    const throttled = await post(
      "/api/account/password",
      { currentPassword: "correct horse battery", newPassword: "new password 99" },
      erin.headers,
    );
    expect(throttled.statusCode).toBe(429);
    expect(throttled.json().error.code).toBe("LOGIN_THROTTLED");
    // The same budget as sign-in, under any spelling of the name.
    const login = await post("/api/auth/login", { username: "ERIN", password: "correct horse battery" });
    expect(login.statusCode).toBe(429);
  });

  it("lets an admin add an active account that signs in at once, even with sign-up closed", async () => {
    const member = await signIn(web.app, "alice");
    const group = await post("/api/admin/groups", { name: "staff" }, admin.headers);
    const groupId = (group.json() as { id: string }).id;
    const setSignup = (signup: string) =>
      web.app.inject({
        method: "PATCH",
        url: "/api/admin/settings",
        headers: admin.headers,
        payload: { signup },
      });
    expect((await setSignup("closed")).statusCode).toBe(200);
    try {
      const add = (payload: object, headers = admin.headers) => post("/api/admin/users", payload, headers);
      const created = await add({ username: "Gina", password: "gina password 1", groupIds: [groupId] });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).toMatchObject({
        username: "Gina",
        role: "user",
        status: "active",
        groupIds: [groupId],
      });
      const gina = await signIn(web.app, "gina", "gina password 1");
      expect((await web.app.inject({ url: "/api/conversations", headers: gina.headers })).statusCode).toBe(
        200,
      );
      const made = await add({ username: "hank", password: "hank password 1", role: "admin" });
      expect(made.json()).toMatchObject({ role: "admin", status: "active" });
      const hank = await signIn(web.app, "hank", "hank password 1");
      expect((await web.app.inject({ url: "/api/admin/users", headers: hank.headers })).statusCode).toBe(200);

      // Sign-up's rules, with sign-up's codes; the field a rule is about is named.
      const taken = await add({ username: "GINA", password: "another password" });
      expect([taken.statusCode, taken.json().error.code]).toEqual([409, "USERNAME_TAKEN"]);
      const weak = await add({ username: "ivan", password: "short" });
      expect([weak.statusCode, weak.json().error.code]).toEqual([400, "WEAK_PASSWORD"]);
      const badName = await add({ username: "a b", password: "a good password" });
      expect(badName.json().error).toMatchObject({
        code: "INVALID_REQUEST",
        details: { issues: [{ path: "username", message: "2 to 64 letters, digits or _ . @ -" }] },
      });
      const noGroup = await add({ username: "ivan", password: "a good password", groupIds: ["nope"] });
      expect(noGroup.json().error.code).toBe("GROUP_NOT_FOUND");
      const refused = await add({ username: "ivan", password: "a good password" }, member.headers);
      expect([refused.statusCode, refused.json().error.code]).toEqual([403, "ADMIN_REQUIRED"]);
      // None of the refused ones was created.
      expect(await signIn(web.app, "ivan", "a good password").catch(() => "refused")).toBe("refused");

      const audit = await web.app.inject({
        url: "/api/admin/audit?action=user.create",
        headers: admin.headers,
      });
      expect(audit.body).not.toContain("password 1");
      expect(audit.json().entries).toEqual([
        expect.objectContaining({
          actorName: "admin",
          targetName: "hank",
          details: { role: "admin", status: "active" },
        }),
        expect.objectContaining({
          actorName: "admin",
          targetName: "Gina",
          details: expect.objectContaining({ role: "user", groups: ["staff"] }),
        }),
      ]);
    } finally {
      await setSignup("open");
    }
  });

  it("lets an admin reset a user's password: the old one is refused, the new one signs in, the user's sessions end", async () => {
    const jo = await signUp(web.app, "jo", "jo password 1");
    const phone = await signIn(web.app, "jo", "jo password 1");
    const key = await createApiKey(web.app, jo);
    const reset = (id: string, password: string, headers = admin.headers) =>
      post(`/api/admin/users/${id}/password`, { password }, headers);

    const weak = await reset(jo.userId, "       ");
    expect(weak.json().error.code).toBe("WEAK_PASSWORD");
    const refused = await reset(jo.userId, "taken over 1", phone.headers);
    expect([refused.statusCode, refused.json().error.code]).toEqual([403, "ADMIN_REQUIRED"]);
    const self = await reset(admin.userId, "my new password");
    expect([self.statusCode, self.json().error.code]).toEqual([403, "FORBIDDEN"]);
    const nobody = await reset("no-such-user", "a good password");
    expect([nobody.statusCode, nobody.json().error.code]).toEqual([404, "USER_NOT_FOUND"]);

    const done = await reset(jo.userId, "jo password 2");
    expect(done.statusCode, done.body).toBe(204);
    for (const session of [jo, phone]) {
      const ended = await web.app.inject({ url: "/api/conversations", headers: session.headers });
      expect(ended.json().error.code).toBe("SESSION_EXPIRED");
    }
    const old = await post("/api/auth/login", { username: "jo", password: "jo password 1" });
    expect(old.json().error.code).toBe("INVALID_CREDENTIALS");
    await signIn(web.app, "jo", "jo password 2");
    // API keys are credentials of their own: they stay (an admin revokes them under Keys).
    const models = await web.app.inject({ url: "/v1/models", headers: { authorization: `Bearer ${key}` } });
    expect(models.statusCode).toBe(200);
    // The admin who reset it is still signed in.
    expect((await web.app.inject({ url: "/api/admin/users", headers: admin.headers })).statusCode).toBe(200);

    const audit = await web.app.inject({
      url: "/api/admin/audit?action=user.password-reset",
      headers: admin.headers,
    });
    expect(audit.body).not.toContain("jo password");
    expect(audit.json().entries).toEqual([
      expect.objectContaining({ actorName: "admin", targetName: "jo", details: null }),
    ]);
  });

  it("deletes a user for an admin, passing their knowledge bases to that admin, but not the admin's own account", async () => {
    const frank = await signUp(web.app, "frank");
    await web.db
      .insertInto("knowledge_bases")
      .values({ id: "kb-frank", owner_id: frank.userId, visibility: "private", created_at: "2026-01-01" })
      .execute();
    const self = await web.app.inject({
      method: "DELETE",
      url: `/api/admin/users/${admin.userId}`,
      headers: admin.headers,
    });
    expect(self.statusCode).toBe(403);
    expect(self.json().error.code).toBe("FORBIDDEN");
    // Its bases' names are the knowledge service's: while it fails, nothing is deleted nor moved.
    knowledge.knowledgeBaseError = { status: 503, code: "DATABASE_UNAVAILABLE", message: "store failed" };
    try {
      const refused = await web.app.inject({
        method: "DELETE",
        url: `/api/admin/users/${frank.userId}`,
        headers: admin.headers,
      });
      expect(refused.statusCode).toBe(502);
      expect(refused.json().error.code).toBe("UPSTREAM_ERROR");
    } finally {
      knowledge.knowledgeBaseError = undefined;
    }
    expect(
      await web.db.selectFrom("knowledge_bases").select("owner_id").where("id", "=", "kb-frank").execute(),
    ).toEqual([{ owner_id: frank.userId }]);
    expect(
      await web.db.selectFrom("users").select("id").where("id", "=", frank.userId).execute(),
    ).toHaveLength(1);
    const deleted = await web.app.inject({
      method: "DELETE",
      url: `/api/admin/users/${frank.userId}`,
      headers: admin.headers,
    });
    expect(deleted.statusCode).toBe(204);
    expect(
      await web.db.selectFrom("knowledge_bases").select("owner_id").where("id", "=", "kb-frank").execute(),
    ).toEqual([{ owner_id: admin.userId }]);
    // The name is free again.
    await signUp(web.app, "Frank");
  });
});

describe("hearth users create-admin", () => {
  it("refuses a password of only spaces, for a new admin and for an existing account's reset, and finds the account by any case", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-create-admin-"));
    try {
      const config = loadConfig({
        env: {},
        cwd: dataDir,
        overrides: { dataDir, logLevel: "silent" } as never,
      });
      await expect(
        createAdminAccount(config, { username: "root", password: "        " }),
      ).rejects.toMatchObject({
        code: "WEAK_PASSWORD",
      });
      const created = await createAdminAccount(config, { username: "root", password: "good password 1" });
      expect(created.created).toBe(true);
      await expect(
        createAdminAccount(config, { username: "ROOT", password: "          " }),
      ).rejects.toMatchObject({
        code: "WEAK_PASSWORD",
      });
      const reset = await createAdminAccount(config, { username: "ROOT", password: "good password 2" });
      expect(reset).toEqual({ id: created.id, username: "root", created: false });
      const db = await openDatabase(config);
      try {
        expect(await db.selectFrom("users").select("username").execute()).toEqual([{ username: "root" }]);
      } finally {
        await db.destroy();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
