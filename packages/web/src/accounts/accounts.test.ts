import { PassThrough } from "node:stream";
import { createLogger } from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { createApiKey, type Session, signIn, signUp } from "../../test/support/web-client.js";
import { dialects, postgresAvailable, startWeb, type WebHarness } from "../../test/support/web-harness.js";

if (!postgresAvailable)
  console.warn("PostgreSQL at 127.0.0.1:5432 is not reachable: account tests run on SQLite only");

describe.each(dialects)("accounts, sessions and API keys on %s", (dialect) => {
  let model: FakeModelService;
  let web: WebHarness;
  let admin: Session;

  beforeAll(async () => {
    model = await startFakeModelService();
    web = await startWeb({ modelUrl: model.url }, {}, dialect);
    admin = await signUp(web.app, "admin");
  });
  afterAll(async () => {
    await web.close();
    await model.close();
  });

  it("makes the first account admin and later ones users; passwords are stored as scrypt hashes", async () => {
    const session = await web.app.inject({ url: "/api/auth/session", headers: admin.headers });
    expect(session.json()).toMatchObject({ user: { username: "admin", role: "admin" } });
    const user = await signUp(web.app, "user1");
    const me = await web.app.inject({ url: "/api/auth/session", headers: user.headers });
    expect(me.json()).toMatchObject({ user: { username: "user1", role: "user" } });
  });

  it("tells a signed-out visitor whether any account exists yet, and a signed-in one whether theirs has a password", async () => {
    const fresh = await startWeb({ modelUrl: model.url }, {}, dialect);
    try {
      const probe = async (headers?: Record<string, string>) =>
        (await fresh.app.inject({ url: "/api/auth/session", ...(headers ? { headers } : {}) })).json();
      expect(await probe()).toMatchObject({ user: null, firstUser: true });
      const first = await signUp(fresh.app, "first");
      expect(await probe()).toMatchObject({ user: null, firstUser: false });
      expect(await probe(first.headers)).toMatchObject({
        user: { username: "first", role: "admin", hasPassword: true, sso: false },
        firstUser: false,
      });
    } finally {
      await fresh.close();
    }
  });

  it("refuses a user name outside the rule with the rule, naming the field", async () => {
    for (const username of ["John Smith", "bad name!", "a"]) {
      const response = await web.app.inject({
        method: "POST",
        url: "/api/auth/signup",
        payload: { username, password: "correct horse battery" },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({
        code: "INVALID_REQUEST",
        message: "username: 2 to 64 letters, digits or _ . @ -",
        details: { issues: [{ path: "username" }] },
      });
    }
  });

  it("refuses a user name mixing look-alike scripts (Cyrillic а in alice), keeps one script or Latin with CJK", async () => {
    await signUp(web.app, "alice");
    const signup = (username: string) =>
      web.app.inject({
        method: "POST",
        url: "/api/auth/signup",
        payload: { username, password: "correct horse battery" },
      });
    // Cyrillic а, Greek ο, Armenian օ among Latin letters: each looks like the Latin name.
    for (const username of ["\u0430lice", "b\u03bfb", "b\u0585b2", "Ωmega", "алиса_smith"]) {
      const response = await signup(username);
      expect([response.statusCode, response.json().error], username).toEqual([
        400,
        expect.objectContaining({
          code: "INVALID_REQUEST",
          details: { issues: [expect.objectContaining({ path: "username", code: "mixed_scripts" })] },
        }),
      ]);
    }
    // An administrator's new account is held to it too.
    const created = await web.app.inject({
      method: "POST",
      url: "/api/admin/users",
      headers: admin.headers,
      payload: { username: "\u0430dmin2", password: "correct horse battery" },
    });
    expect([created.statusCode, created.json().error.details.issues[0].code]).toEqual([400, "mixed_scripts"]);
    // One script, whichever; Latin beside Chinese, Japanese or Korean; digits and _ . @ - with any.
    for (const username of [
      "张wei",
      "王小明",
      "Σοφία",
      "пётр_1",
      "たなか太郎",
      "kim민준",
      "李.li@corp",
      "José",
    ])
      expect((await signup(username)).statusCode, username).toBe(201);
  });

  it("sets HttpOnly SameSite session cookies and a readable CSRF cookie", async () => {
    const response = await web.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: { username: "admin", password: "correct horse battery" },
    });
    const cookies = [response.headers["set-cookie"]].flat() as string[];
    const session = cookies.find((c) => c.startsWith("hearth_session="))!;
    expect(session).toContain("HttpOnly");
    expect(session).toContain("SameSite=Lax");
    expect(session).not.toContain("Secure");
    expect(cookies.find((c) => c.startsWith("hearth_csrf="))).not.toContain("HttpOnly");
  });

  it("marks cookies Secure behind a TLS-terminating proxy it trusts", async () => {
    const behindProxy = await startWeb({ modelUrl: model.url }, { trustProxy: true }, dialect);
    try {
      const payload = { username: "tls-user", password: "correct horse battery" };
      const plain = await behindProxy.app.inject({ method: "POST", url: "/api/auth/signup", payload });
      expect(plain.statusCode, plain.body).toBe(201);
      expect(String([plain.headers["set-cookie"]].flat()[0])).not.toContain("Secure");
      const tls = await behindProxy.app.inject({
        method: "POST",
        url: "/api/auth/login",
        headers: { "x-forwarded-proto": "https" },
        payload,
      });
      for (const cookie of [tls.headers["set-cookie"]].flat() as string[])
        expect(cookie).toContain("; Secure");
    } finally {
      await behindProxy.close();
    }
  });

  it("behind a trusted proxy, throttles failed sign-ins per client address, not the proxy's", async () => {
    const behindProxy = await startWeb({ modelUrl: model.url }, { trustProxy: true }, dialect);
    try {
      await signUp(behindProxy.app, "office-user");
      const attempt = (username: string, forwardedFor: string, password = "wrong password!") =>
        behindProxy.app.inject({
          method: "POST",
          url: "/api/auth/login",
          // As nginx sends it: what the client claimed, then the address nginx saw.
          headers: { "x-forwarded-for": forwardedFor },
          payload: { username, password },
        });
      // One client guesses at many names until its address is throttled...
      for (let i = 0; i < 30; i++) await attempt(`guess${i}`, "203.0.113.9");
      expect((await attempt("guess-more", "203.0.113.9")).statusCode).toBe(429);
      // ...and cannot dodge that by claiming another address in front of the proxy's entry.
      expect((await attempt("guess-more", "198.51.100.1, 203.0.113.9")).statusCode).toBe(429);
      // Everyone else, coming through the same proxy, still signs in.
      const other = await attempt("office-user", "198.51.100.7", "correct horse battery");
      expect(other.statusCode, other.body).toBe(200);
    } finally {
      await behindProxy.close();
    }
  });

  it("logs each failed sign-in at warn with the name tried and the client's address, never the password", async () => {
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on("data", (chunk: Buffer) => lines.push(...chunk.toString("utf8").split("\n").filter(Boolean)));
    const logger = createLogger({ level: "info", destination: stream });
    const behindProxy = await startWeb({ modelUrl: model.url }, { trustProxy: true }, dialect, { logger });
    try {
      await signUp(behindProxy.app, "li.wei");
      const response = await behindProxy.app.inject({
        method: "POST",
        url: "/api/auth/login",
        // A client's own claim, then the address nginx saw: only the latter is believed.
        headers: { "x-forwarded-for": "198.51.100.1, 203.0.113.77" },
        payload: { username: "li.wei", password: "Not-The-Password-42" },
      });
      expect(response.statusCode).toBe(401);
      await new Promise((resolve) => setImmediate(resolve));
      const failed = lines.filter((line) => line.includes('"event":"sign_in_failed"'));
      expect(failed).toHaveLength(1);
      // The fixed order a fail2ban filter matches (docs/deployment.md).
      expect(failed[0]).toContain('"event":"sign_in_failed","address":"203.0.113.77","username":"li.wei"');
      expect(JSON.parse(failed[0]!)).toMatchObject({ level: 40, msg: "sign-in failed" });
      expect(lines.join("\n")).not.toContain("Not-The-Password-42");
    } finally {
      await behindProxy.close();
    }
  });

  it("keeps counting an address's failures when an account holder signs in from it between guesses", async () => {
    const behindProxy = await startWeb({ modelUrl: model.url }, { trustProxy: true }, dialect);
    try {
      await signUp(behindProxy.app, "sprayer");
      const attempt = (username: string, password = "wrong password!") =>
        behindProxy.app.inject({
          method: "POST",
          url: "/api/auth/login",
          headers: { "x-forwarded-for": "203.0.113.10" },
          payload: { username, password },
        });
      // Guessing at other accounts, with the guesser's own sign-in in between...
      for (let i = 0; i < 29; i++) expect((await attempt(`colleague${i}`)).statusCode).toBe(401);
      expect((await attempt("sprayer", "correct horse battery")).statusCode).toBe(200);
      expect((await attempt("colleague29")).statusCode).toBe(401);
      // ...still uses up the address's budget.
      expect((await attempt("colleague30")).statusCode).toBe(429);
    } finally {
      await behindProxy.close();
    }
  });

  it("refuses a wrong password, then throttles repeated failures with Retry-After", async () => {
    await signUp(web.app, "victim");
    const attempt = () =>
      web.app.inject({
        method: "POST",
        url: "/api/auth/login",
        payload: { username: "victim", password: "wrong password!" },
      });
    const first = await attempt();
    expect(first.statusCode).toBe(401);
    expect(first.json().error.code).toBe("INVALID_CREDENTIALS");
    for (let i = 0; i < 4; i++) await attempt();
    const throttled = await attempt();
    expect(throttled.statusCode).toBe(429);
    expect(throttled.json().error.code).toBe("LOGIN_THROTTLED");
    expect(Number(throttled.headers["retry-after"])).toBeGreaterThan(0);
    // Even the right password waits until the window passes.
    const right = await web.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: { username: "victim", password: "correct horse battery" },
    });
    expect(right.statusCode).toBe(429);
  });

  it("refuses a missing or forged CSRF token on state-changing requests", async () => {
    const missing = await web.app.inject({
      method: "POST",
      url: "/api/conversations",
      headers: { cookie: admin.cookie },
      payload: {},
    });
    expect(missing.statusCode).toBe(403);
    expect(missing.json().error.code).toBe("CSRF_TOKEN_INVALID");
    const forged = await web.app.inject({
      method: "POST",
      url: "/api/conversations",
      headers: { cookie: admin.cookie, "x-csrf-token": "forged-token" },
      payload: {},
    });
    expect(forged.json().error.code).toBe("CSRF_TOKEN_INVALID");
    const list = await web.app.inject({ url: "/api/conversations", headers: { cookie: admin.cookie } });
    expect(list.statusCode).toBe(200);
  });

  it("ends expired sessions and signed-out sessions", async () => {
    const user = await signIn(web.app, "user1");
    await web.app.inject({ method: "POST", url: "/api/auth/logout", headers: user.headers });
    const after = await web.app.inject({ url: "/api/conversations", headers: user.headers });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe("SESSION_EXPIRED");

    const again = await signIn(web.app, "user1");
    // Expire every session of user1 directly in the database.
    await expireSessions(web, again.userId);
    const expired = await web.app.inject({ url: "/api/conversations", headers: again.headers });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.code).toBe("SESSION_EXPIRED");
  });

  it("creates API keys shown once, stores only a hash, and refuses revoked keys", async () => {
    const created = await web.app.inject({
      method: "POST",
      url: "/api/account/api-keys",
      headers: admin.headers,
      payload: { name: "script" },
    });
    expect(created.statusCode).toBe(201);
    const { key, id } = created.json() as { key: string; id: string };
    expect(key).toMatch(/^hk-/);
    const list = await web.app.inject({ url: "/api/account/api-keys", headers: admin.headers });
    expect(JSON.stringify(list.json())).not.toContain(key);
    const models = await web.app.inject({ url: "/v1/models", headers: { authorization: `Bearer ${key}` } });
    expect(models.statusCode).toBe(200);
    const revoke = () =>
      web.app.inject({ method: "DELETE", url: `/api/account/api-keys/${id}`, headers: admin.headers });
    expect((await revoke()).statusCode).toBe(204);
    // Revoked once: there is no such active key any more (the route itself exists).
    const again = await revoke();
    expect([again.statusCode, again.json().error.code]).toEqual([404, "API_KEY_NOT_FOUND"]);
    const revoked = await web.app.inject({ url: "/v1/models", headers: { authorization: `Bearer ${key}` } });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().error.code).toBe("API_KEY_INVALID");
    const audit = await web.app.inject({ url: "/api/admin/audit", headers: admin.headers });
    const entries = (audit.json() as { entries: Array<{ action: string }> }).entries;
    expect(entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(["api-key.create", "api-key.revoke", "user.signup"]),
    );
    // The owner's own revoke is recorded as an administrator's is: on the owner, naming the key.
    expect(entries.find((e) => e.action === "api-key.revoke")).toMatchObject({
      target: admin.userId,
      targetName: "admin",
      details: { keyId: id, name: "script", prefix: key.slice(0, 10) },
    });
    expect(JSON.stringify(audit.json())).not.toContain(key);
  });

  it("follows the sign-up mode: approval leaves accounts pending, closed refuses them", async () => {
    await web.app.inject({
      method: "PATCH",
      url: "/api/admin/settings",
      headers: admin.headers,
      payload: { signup: "approval" },
    });
    const pending = await web.app.inject({
      method: "POST",
      url: "/api/auth/signup",
      payload: { username: "waiting", password: "long enough pw" },
    });
    expect(pending.statusCode).toBe(202);
    const login = await web.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: { username: "waiting", password: "long enough pw" },
    });
    expect(login.json().error.code).toBe("ACCOUNT_PENDING");
    await web.app.inject({
      method: "PATCH",
      url: "/api/admin/settings",
      headers: admin.headers,
      payload: { signup: "closed" },
    });
    const closed = await web.app.inject({
      method: "POST",
      url: "/api/auth/signup",
      payload: { username: "nobody", password: "long enough pw" },
    });
    expect(closed.json().error.code).toBe("SIGNUP_CLOSED");
    const weak = await web.app.inject({
      method: "POST",
      url: "/api/auth/signup",
      payload: { username: "x1", password: "short" },
    });
    expect(weak.statusCode).toBe(400);
    await web.app.inject({
      method: "PATCH",
      url: "/api/admin/settings",
      headers: admin.headers,
      payload: { signup: "open" },
    });
  });

  it("lets an admin change a role (audited) but never demote the last admin", async () => {
    const users = (await web.app.inject({ url: "/api/admin/users", headers: admin.headers })).json() as {
      users: Array<{ id: string; username: string }>;
    };
    const user1 = users.users.find((u) => u.username === "user1")!;
    const promote = await web.app.inject({
      method: "PATCH",
      url: `/api/admin/users/${user1.id}`,
      headers: admin.headers,
      payload: { role: "admin" },
    });
    expect(promote.statusCode).toBe(200);
    const demoteSelf = await web.app.inject({
      method: "PATCH",
      url: `/api/admin/users/${admin.userId}`,
      headers: admin.headers,
      payload: { role: "user" },
    });
    expect(demoteSelf.statusCode).toBe(200);
    const demoteLast = await web.app.inject({
      method: "PATCH",
      url: `/api/admin/users/${user1.id}`,
      headers: (await signIn(web.app, "user1")).headers,
      payload: { role: "user" },
    });
    expect(demoteLast.json().error.code).toBe("LAST_ADMIN");
    const audit = (
      await web.app.inject({ url: "/api/admin/audit", headers: (await signIn(web.app, "user1")).headers })
    ).json() as { entries: Array<{ action: string; target: string }> };
    expect(audit.entries.filter((e) => e.action === "user.role-change").length).toBe(2);
  });

  it("keeps the names in the audit log after the account or group is deleted", async () => {
    // user1 is the admin now (the test above).
    const boss = await signIn(web.app, "user1");
    const leaver = await signUp(web.app, "leaver");
    await createApiKey(web.app, leaver, "before leaving");
    const group = (
      await web.app.inject({
        method: "POST",
        url: "/api/admin/groups",
        headers: boss.headers,
        payload: { name: "short-lived" },
      })
    ).json() as { id: string };
    for (const url of [`/api/admin/users/${leaver.userId}`, `/api/admin/groups/${group.id}`]) {
      expect((await web.app.inject({ method: "DELETE", url, headers: boss.headers })).statusCode).toBe(204);
    }
    const { entries } = (await web.app.inject({ url: "/api/admin/audit", headers: boss.headers })).json() as {
      entries: Array<{ action: string; actorName: string | null; targetName: string | null }>;
    };
    expect(entries.find((e) => e.action === "user.delete")).toMatchObject({
      actorName: "user1",
      targetName: "leaver",
    });
    expect(entries.find((e) => e.action === "group.delete")).toMatchObject({ targetName: "short-lived" });
    expect(entries.find((e) => e.action === "api-key.create" && e.actorName === "leaver")).toBeDefined();
  });
});

/** Two administrators changing each other at the same moment: one change goes through, never both. */
describe.each(dialects)("the last administrator, changed from two sides at once, on %s", (dialect) => {
  let model: FakeModelService;
  let web: WebHarness;

  beforeAll(async () => {
    model = await startFakeModelService();
    web = await startWeb({ modelUrl: model.url }, {}, dialect);
  });
  afterAll(async () => {
    await web.close();
    await model.close();
  });

  const activeAdmins = async () =>
    (
      await web.db
        .selectFrom("users")
        .select("username")
        .where("role", "=", "admin")
        .where("status", "=", "active")
        .execute()
    ).map((user) => user.username);

  it("leaves one administrator when two demote, disable or delete each other at once, refusing the second change", async () => {
    const ids = new Map<string, string>();
    for (const name of ["first", "second"]) ids.set(name, (await signUp(web.app, name)).userId);
    const change = (actor: Session, target: Session, how: "demote" | "disable" | "delete") =>
      web.app.inject({
        method: how === "delete" ? "DELETE" : "PATCH",
        url: `/api/admin/users/${target.userId}`,
        headers: actor.headers,
        ...(how === "delete"
          ? {}
          : { payload: how === "demote" ? { role: "user" } : { status: "disabled" } }),
      });
    let [admin, other] = ["first", "second"];
    // The deletion last: a deleted account is not made an administrator again.
    for (const [adminDoes, otherDoes] of [
      ["demote", "demote"],
      ["disable", "disable"],
      ["disable", "demote"],
      ["delete", "demote"],
    ] as const) {
      const restored = await web.app.inject({
        method: "PATCH",
        url: `/api/admin/users/${ids.get(other)}`,
        headers: (await signIn(web.app, admin)).headers,
        payload: { role: "admin", status: "active" },
      });
      expect(restored.statusCode, restored.body).toBe(200);
      expect((await activeAdmins()).sort()).toEqual(["first", "second"]);
      // Signed in afresh: disabling an account ends its sessions.
      const [a, b] = [await signIn(web.app, admin), await signIn(web.app, other)];
      // Both known to be administrators (as a page open a while would be), so that both changes
      // reach the check together rather than one after the other.
      for (const session of [a, b])
        await web.app.inject({ url: "/api/admin/users", headers: session.headers });

      const answers = await Promise.all([change(a, b, adminDoes), change(b, a, otherDoes)]);
      const round = `${adminDoes} / ${otherDoes}`;
      const [done, refused] = answers[0]!.statusCode < 300 ? answers : [answers[1]!, answers[0]!];
      expect(done!.statusCode, round).toBe(adminDoes === "delete" && done === answers[0] ? 204 : 200);
      // On PostgreSQL both reach the check together, and the second is told LAST_ADMIN. On SQLite
      // one process runs the first change to its end before it authorises the second, whose
      // actor is by then no administrator (ADMIN_REQUIRED) or signed out (disabled: SESSION_EXPIRED).
      expect(refused!.json().error.code, round).toBeOneOf(
        dialect === "postgres" ? ["LAST_ADMIN"] : ["LAST_ADMIN", "ADMIN_REQUIRED", "SESSION_EXPIRED"],
      );
      const left = await activeAdmins();
      expect(left, round).toHaveLength(1);
      if (left[0] !== admin) [admin, other] = [other, admin];
    }
  });
});

async function expireSessions(web: WebHarness, userId: string) {
  await web.db
    .updateTable("sessions")
    .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
    .where("user_id", "=", userId)
    .execute();
}
