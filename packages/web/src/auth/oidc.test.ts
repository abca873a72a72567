import { PassThrough } from "node:stream";
import { createLogger } from "@hearth/core";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { type FakeOidcProvider, startFakeOidcProvider } from "../../test/support/fake-oidc-provider.js";
import { type Session, sessionFrom, signIn, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { sameOriginPath } from "./oidc-routes.js";

/**
 * One SSO sign-in as a browser makes it: /api/auth/oidc/start, the provider's authorization
 * endpoint (which sends it straight back), the callback with the cookie start set. `tamper` changes
 * the callback's URL or cookie on the way.
 */
async function ssoSignIn(
  web: WebHarness,
  options: {
    returnTo?: string;
    tamper?: (callback: URL, cookie: string) => { url: URL; cookie: string };
  } = {},
): Promise<{ response: LightMyRequestResponse; location: string; session?: Session }> {
  const start = await web.app.inject({
    url: `/api/auth/oidc/start${options.returnTo ? `?returnTo=${encodeURIComponent(options.returnTo)}` : ""}`,
  });
  if (start.statusCode !== 302) throw new Error(`start answered ${start.statusCode} ${start.body}`);
  const location = String(start.headers.location);
  if (location.startsWith("/")) return { response: start, location };
  const pending = [start.headers["set-cookie"]].flat().find((c) => c?.startsWith("hearth_oidc="));
  let cookie = pending!.split(";")[0]!;
  const authorize = await fetch(location, { redirect: "manual" });
  let callback = new URL(authorize.headers.get("location")!);
  if (options.tamper) ({ url: callback, cookie } = options.tamper(callback, cookie));
  const response = await web.app.inject({
    url: `${callback.pathname}${callback.search}`,
    headers: { cookie },
  });
  const to = String(response.headers.location);
  const signedIn = [response.headers["set-cookie"]]
    .flat()
    .some((c) => c?.startsWith("hearth_session=") && !c.includes("Max-Age=0"));
  if (!signedIn) return { response, location: to };
  const me = await web.app.inject({
    url: "/api/auth/session",
    headers: sessionFrom(response.headers["set-cookie"], "").headers,
  });
  return { response, location: to, session: sessionFrom(response.headers["set-cookie"], me.json().user.id) };
}

describe.each(dialects)("single sign-on with OpenID Connect on %s", (dialect) => {
  let model: FakeModelService;
  let provider: FakeOidcProvider;
  let log: string[];
  const open: WebHarness[] = [];

  /** A web service with SSO against the fake provider, its log captured (debug and up). */
  async function web(oidc: Record<string, unknown> = {}, settings: Record<string, unknown> = {}) {
    const destination = new PassThrough();
    destination.on("data", (chunk: Buffer) => log.push(chunk.toString()));
    const harness = await startWeb(
      { modelUrl: model.url },
      {
        oidc: {
          issuer: provider.issuer,
          clientId: provider.clientId,
          clientSecret: provider.clientSecret,
          ...oidc,
        },
        ...settings,
      },
      dialect,
      { logger: createLogger({ level: "trace", destination }) },
    );
    open.push(harness);
    return harness;
  }

  beforeAll(async () => {
    log = [];
    model = await startFakeModelService();
    provider = await startFakeOidcProvider();
  });
  afterEach(async () => {
    for (const harness of open.splice(0)) await harness.close();
    provider.reset();
    provider.tokenRequests.length = 0;
    provider.authorizeRequests.length = 0;
    provider.userinfoRequests.length = 0;
    provider.idTokens.length = 0;
    provider.endSessionRequests.length = 0;
  });
  afterAll(async () => {
    await provider.close();
    await model.close();
  });

  it("signs a new user in: the first account is made (an admin on an empty Hearth), with a working session, and reused the next time", async () => {
    const hearth = await web();
    const info = await hearth.app.inject({ url: "/api/auth/session" });
    expect(info.json()).toMatchObject({ sso: { buttonLabel: null }, passwordLogin: true, user: null });

    const first = await ssoSignIn(hearth, { returnTo: "/c/abc?x=1" });
    expect(first.location).toBe("/c/abc?x=1");
    // The browser was sent to the provider with state, nonce and PKCE S256, for the scopes set.
    const asked = provider.authorizeRequests[0]!;
    expect(asked.get("code_challenge_method")).toBe("S256");
    expect(asked.get("scope")).toBe("openid email profile");
    expect(asked.get("redirect_uri")).toBe("http://localhost:80/api/auth/oidc/callback");
    expect(asked.get("state")?.length).toBeGreaterThan(30);
    expect(asked.get("nonce")?.length).toBeGreaterThan(30);
    // The code was exchanged with client_secret_basic and the PKCE verifier.
    expect(provider.tokenRequests[0]!.authorization).toMatch(/^Basic /);
    expect(provider.tokenRequests[0]!.form.get("client_secret")).toBeNull();
    expect(provider.tokenRequests[0]!.form.get("code_verifier")).toBeTruthy();
    // The session cookie is the one a password sign-in sets, and the session works.
    const cookies = [first.response.headers["set-cookie"]].flat().join("\n");
    expect(cookies).toMatch(/hearth_session=[^;]+; Path=\/; Max-Age=\d+; SameSite=Lax; HttpOnly/);
    expect(cookies).toMatch(/hearth_oidc=; Path=\/; Max-Age=0/);
    const me = await hearth.app.inject({ url: "/api/auth/session", headers: first.session!.headers });
    expect(me.json().user).toMatchObject({ username: "alice", role: "admin", sso: true, hasPassword: false });
    const conversation = await hearth.app.inject({
      method: "POST",
      url: "/api/conversations",
      headers: first.session!.headers,
      payload: {},
    });
    expect(conversation.statusCode).toBe(201);
    // An account without a password: no password sign-in, no password change.
    const password = await hearth.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: { username: "alice", password: "correct horse battery" },
    });
    expect([password.statusCode, password.json().error.code]).toEqual([401, "INVALID_CREDENTIALS"]);
    const change = await hearth.app.inject({
      method: "POST",
      url: "/api/account/password",
      headers: first.session!.headers,
      payload: { currentPassword: "anything", newPassword: "correct horse battery" },
    });
    expect([change.statusCode, change.json().error.code]).toEqual([409, "PASSWORD_NOT_SET"]);

    // The second sign-in of the same subject (whatever its name now) reuses the account.
    provider.behaviour.claims = { ...provider.behaviour.claims, preferred_username: "alice.new" };
    const second = await ssoSignIn(hearth);
    expect(second.location).toBe("/");
    expect(second.session!.userId).toBe(first.session!.userId);
    const users = await hearth.app.inject({ url: "/api/admin/users", headers: second.session!.headers });
    expect(users.json().users).toEqual([expect.objectContaining({ username: "alice", sso: true })]);
    const audit = await hearth.app.inject({ url: "/api/admin/audit", headers: second.session!.headers });
    const actions = JSON.stringify(audit.json());
    expect(actions).toContain("user.sso-sign-in");
    expect(actions).toContain('"via":"sso"');
  });

  it("takes only a path of this site to return to", () => {
    expect(sameOriginPath("/c/1?q=2")).toBe("/c/1?q=2");
    // A Location header holds ASCII only: a link written by hand with Chinese or a space in it
    // (the page sends its address encoded) is encoded, its %-escapes kept, not a 500 after sign-in.
    expect(sameOriginPath("/knowledge?q=年假 2")).toBe("/knowledge?q=%E5%B9%B4%E5%81%87%202");
    expect(sameOriginPath("/c/%E7%9F%A5")).toBe("/c/%E7%9F%A5");
    for (const bad of [
      "//evil.example/x",
      "https://evil.example/",
      "/\\evil.example",
      "c/1",
      "/a\nb",
      undefined,
    ])
      expect(sameOriginPath(bad)).toBe("/");
  });

  it("verifies ES256 tokens, and uses client_secret_post when discovery lists only that", async () => {
    const hearth = await web();
    provider.behaviour.alg = "ES256";
    provider.behaviour.authMethods = ["client_secret_post"];
    const signedIn = await ssoSignIn(hearth);
    expect(signedIn.session).toBeDefined();
    expect(provider.tokenRequests[0]!.authorization).toBeUndefined();
    expect(provider.tokenRequests[0]!.form.get("client_secret")).toBe(provider.clientSecret);
  });

  it("refuses each broken sign-in with its code, starts no session and audits it (when this browser started one)", async () => {
    const hearth = await web();
    await signUp(hearth.app, "root");
    const cases: Array<[string, () => void, Parameters<typeof ssoSignIn>[1]?]> = [
      [
        "OIDC_STATE_MISMATCH",
        () => {},
        {
          tamper: (url, cookie) => {
            url.searchParams.set("state", "forged");
            return { url, cookie };
          },
        },
      ],
      ["OIDC_STATE_MISMATCH", () => {}, { tamper: (url) => ({ url, cookie: "" }) }],
      [
        "OIDC_TOKEN_INVALID",
        () => {
          provider.behaviour.override = { nonce: "another sign-in's" };
        },
      ],
      [
        "OIDC_TOKEN_INVALID",
        () => {
          provider.behaviour.override = { aud: "another-client" };
        },
      ],
      [
        "OIDC_TOKEN_INVALID",
        () => {
          provider.behaviour.override = { iss: "http://127.0.0.1:1/realms/x" };
        },
      ],
      [
        "OIDC_TOKEN_INVALID",
        () => {
          provider.behaviour.override = { exp: Math.floor(Date.now() / 1000) - 120 };
        },
      ],
      [
        "OIDC_TOKEN_INVALID",
        () => {
          provider.behaviour.forgeSignature = true;
        },
      ],
      [
        "OIDC_PROVIDER_UNAVAILABLE",
        () => {
          provider.behaviour.tokenDown = true;
        },
      ],
      [
        "OIDC_PROVIDER_REFUSED",
        () => {},
        {
          tamper: (url, cookie) => {
            url.searchParams.delete("code");
            url.searchParams.set("error", "access_denied");
            return { url, cookie };
          },
        },
      ],
    ];
    for (const [code, arrange, options] of cases) {
      provider.reset();
      arrange();
      const result = await ssoSignIn(hearth, options);
      expect([result.location, result.session], code).toEqual([`/?signInError=${code}`, undefined]);
      expect(String(result.response.headers["set-cookie"])).not.toContain("hearth_session=");
    }
    const root = await signIn(hearth.app, "root");
    const users = await hearth.app.inject({ url: "/api/admin/users", headers: root.headers });
    expect(users.json().users.map((u: { username: string }) => u.username)).toEqual(["root"]);
    const audit = await hearth.app.inject({
      url: "/api/admin/audit?action=user.sso-sign-in-failed",
      headers: root.headers,
    });
    // Each refused for its own reason, as the log of failed sign-ins says; a callback without a
    // sign-in started in that browser (no pending cookie: anyone's request) is refused unaudited.
    expect(
      audit
        .json()
        .entries.map((entry: { details: { code: string; reason?: string } }) =>
          [entry.details.code, entry.details.reason].filter(Boolean).join(": "),
        )
        .reverse(),
    ).toEqual([
      "OIDC_STATE_MISMATCH",
      "OIDC_TOKEN_INVALID: its nonce is not this sign-in's",
      "OIDC_TOKEN_INVALID: it was issued to another client",
      "OIDC_TOKEN_INVALID: it was issued by http://127.0.0.1:1/realms/x",
      "OIDC_TOKEN_INVALID: it has expired",
      "OIDC_TOKEN_INVALID: its signature does not verify",
      "OIDC_PROVIDER_UNAVAILABLE",
      "OIDC_PROVIDER_REFUSED: access_denied",
    ]);
  });

  it("refuses a discovery document whose endpoints are off the issuer's origin", async () => {
    const hearth = await web();
    provider.behaviour.foreignJwks = true;
    const start = await hearth.app.inject({ url: "/api/auth/oidc/start" });
    expect(start.headers.location).toBe("/?signInError=OIDC_DISCOVERY_INVALID");
    expect(log.join("")).toContain("is not on the issuer's origin");
  });

  it("makes accounts as web.signup says: approval leaves them pending, closed refuses them", async () => {
    const approval = await web({}, { signup: "approval" });
    await signUp(approval.app, "root");
    const pending = await ssoSignIn(approval);
    expect([pending.location, pending.session]).toEqual(["/?signInError=ACCOUNT_PENDING", undefined]);
    const root = await signIn(approval.app, "root");
    const users = await approval.app.inject({ url: "/api/admin/users", headers: root.headers });
    const alice = users.json().users.find((u: { username: string }) => u.username === "alice");
    expect(alice).toMatchObject({ status: "pending", sso: true });
    // Still pending at the next try; once approved, it signs in.
    expect((await ssoSignIn(approval)).location).toBe("/?signInError=ACCOUNT_PENDING");
    await approval.app.inject({
      method: "PATCH",
      url: `/api/admin/users/${alice.id}`,
      headers: root.headers,
      payload: { status: "active" },
    });
    expect((await ssoSignIn(approval)).session?.userId).toBe(alice.id);
    // Disabled: refused again.
    await approval.app.inject({
      method: "PATCH",
      url: `/api/admin/users/${alice.id}`,
      headers: root.headers,
      payload: { status: "disabled" },
    });
    expect((await ssoSignIn(approval)).location).toBe("/?signInError=ACCOUNT_DISABLED");

    const closed = await web({}, { signup: "closed" });
    await signUp(closed.app, "root");
    expect((await ssoSignIn(closed)).location).toBe("/?signInError=SIGNUP_CLOSED");
  });

  it("links to the local account named by the email only with mergeByEmail and a verified address", async () => {
    for (const [mergeByEmail, verified, linked] of [
      [true, true, true],
      [true, false, false],
      [false, true, false],
    ] as const) {
      const hearth = await web({ mergeByEmail });
      const local = await signUp(hearth.app, "alice@example.cn");
      provider.reset({
        sub: `sub-${mergeByEmail}-${verified}`,
        email: "ALICE@example.cn",
        email_verified: verified,
      });
      const result = await ssoSignIn(hearth);
      expect(result.session, `${mergeByEmail} ${verified}`).toBeDefined();
      expect(result.session!.userId === local.userId, `${mergeByEmail} ${verified}`).toBe(linked);
      if (!linked) {
        // An account of its own, named after the address's local part: the local one is untouched.
        const me = await hearth.app.inject({ url: "/api/auth/session", headers: result.session!.headers });
        expect(me.json().user).toMatchObject({ username: "ALICE", role: "user", sso: true });
      }
      // The local account keeps its password either way.
      expect((await signIn(hearth.app, "alice@example.cn")).userId).toBe(local.userId);
      if (linked) {
        // Another of the provider's users given the same address later gets an account of its own.
        provider.reset({ sub: "someone-else", email: "alice@example.cn", email_verified: true });
        const other = await ssoSignIn(hearth);
        expect(other.session!.userId).not.toBe(local.userId);
      }
      await hearth.close();
      open.splice(open.indexOf(hearth), 1);
    }
  });

  it("gives a new account a free name: a local account of the same name is never taken over", async () => {
    const hearth = await web();
    const local = await signUp(hearth.app, "alice");
    provider.reset({ sub: "s-2", preferred_username: "alice", name: "Alice Wang" });
    const result = await ssoSignIn(hearth);
    expect(result.session!.userId).not.toBe(local.userId);
    const me = await hearth.app.inject({ url: "/api/auth/session", headers: result.session!.headers });
    expect(me.json().user.username).toBe("Alice_Wang");
    provider.reset({ sub: "s-3", name: "王小明" });
    const chinese = await ssoSignIn(hearth);
    const zh = await hearth.app.inject({ url: "/api/auth/session", headers: chinese.session!.headers });
    expect(zh.json().user.username).toBe("王小明");
  });

  it("with passwordLogin false refuses password sign-in and sign-up except to administrators", async () => {
    const hearth = await web({ passwordLogin: false });
    // The first account of an empty Hearth may still be made with a password.
    const root = await signUp(hearth.app, "root");
    const user = await hearth.app.inject({
      method: "POST",
      url: "/api/admin/users",
      headers: root.headers,
      payload: { username: "bob", password: "correct horse battery" },
    });
    expect(user.statusCode).toBe(201);
    const bob = await hearth.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: { username: "bob", password: "correct horse battery" },
    });
    expect([bob.statusCode, bob.json().error.code]).toEqual([403, "PASSWORD_LOGIN_DISABLED"]);
    expect(String(bob.headers["set-cookie"] ?? "")).not.toContain("hearth_session=");
    const signup = await hearth.app.inject({
      method: "POST",
      url: "/api/auth/signup",
      payload: { username: "carol", password: "correct horse battery" },
    });
    expect([signup.statusCode, signup.json().error.code]).toEqual([403, "PASSWORD_LOGIN_DISABLED"]);
    // The administrator keeps password sign-in (the provider may be down).
    expect((await signIn(hearth.app, "root")).userId).toBe(root.userId);
    const info = await hearth.app.inject({ url: "/api/auth/session" });
    expect(info.json()).toMatchObject({ passwordLogin: false, sso: { buttonLabel: null } });
  });

  /** Makes the named groups as the administrator; their ids by name. */
  async function makeGroups(hearth: WebHarness, admin: Session, names: string[]) {
    const ids: Record<string, string> = {};
    for (const name of names) {
      const made = await hearth.app.inject({
        method: "POST",
        url: "/api/admin/groups",
        headers: admin.headers,
        payload: { name },
      });
      expect(made.statusCode).toBe(201);
      ids[name] = made.json().id;
    }
    return ids;
  }

  /** The names of the groups an account is in, sorted. */
  async function groupsOf(hearth: WebHarness, admin: Session, userId: string) {
    const groups = (await hearth.app.inject({ url: "/api/admin/groups", headers: admin.headers })).json()
      .groups as Array<{ name: string; userIds: string[] }>;
    return groups
      .filter((group) => group.userIds.includes(userId))
      .map((group) => group.name)
      .sort();
  }

  /** The session's account as the service sees it now (null: not signed in). */
  async function me(hearth: WebHarness, session: Session) {
    return (await hearth.app.inject({ url: "/api/auth/session", headers: session.headers })).json().user as {
      role: string;
    } | null;
  }

  it("with syncGroups makes an SSO account's groups those the claim names, at every sign-in, audited", async () => {
    const hearth = await web({ syncGroups: true });
    const root = await signUp(hearth.app, "root");
    const ids = await makeGroups(hearth, root, ["Engineering", "ＨＲ", "Sales", "Leave"]);
    // Names match without regard to case or width; names of no Hearth group are left out (never made).
    provider.reset({ sub: "u-9", preferred_username: "mei", groups: ["engineering", "hr", "Ghosts"] });
    const first = await ssoSignIn(hearth);
    const mei = first.session!.userId;
    expect(await groupsOf(hearth, root, mei)).toEqual(["Engineering", "ＨＲ"]);
    const groups = (await hearth.app.inject({ url: "/api/admin/groups", headers: root.headers })).json()
      .groups;
    expect(groups.map((group: { name: string }) => group.name).sort()).toEqual([
      "Engineering",
      "Leave",
      "Sales",
      "ＨＲ",
    ]);

    // An administrator's change lasts until the next sign-in, which adds and removes as the claim says.
    await hearth.app.inject({
      method: "PUT",
      url: `/api/admin/groups/${ids.Sales}/members`,
      headers: root.headers,
      payload: { userIds: [mei] },
    });
    provider.behaviour.claims = { ...provider.behaviour.claims, groups: "Engineering" };
    await ssoSignIn(hearth);
    expect(await groupsOf(hearth, root, mei)).toEqual(["Engineering"]);

    // Keycloak's group paths: by the whole path without its slash, and by the last segment.
    provider.behaviour.claims = { ...provider.behaviour.claims, groups: ["/Company/Leave", "/sales"] };
    await ssoSignIn(hearth);
    expect(await groupsOf(hearth, root, mei)).toEqual(["Leave", "Sales"]);

    // A token without the claim: in no group.
    const { groups: _gone, ...withoutGroups } = provider.behaviour.claims;
    provider.behaviour.claims = withoutGroups;
    await ssoSignIn(hearth);
    expect(await groupsOf(hearth, root, mei)).toEqual([]);
    expect(log.join("")).toContain("sso_groups_claim_missing");

    // Each group whose members changed is audited, by the account, via SSO, naming the member.
    const audit = await hearth.app.inject({
      url: "/api/admin/audit?action=group.members-change",
      headers: root.headers,
    });
    const entries = (
      audit.json().entries as Array<{ actorId: string; targetName: string; details: Record<string, unknown> }>
    )
      .filter((entry) => entry.details.via === "sso")
      .reverse();
    expect(entries.every((entry) => entry.actorId === mei)).toBe(true);
    expect(
      entries.map((entry) => [
        entry.targetName,
        entry.details.membersAdded ?? [],
        entry.details.membersRemoved ?? [],
      ]),
    ).toEqual([
      ["Engineering", ["mei"], []],
      ["ＨＲ", ["mei"], []],
      ["ＨＲ", [], ["mei"]],
      ["Sales", [], ["mei"]],
      ["Engineering", [], ["mei"]],
      ["Sales", ["mei"], []],
      ["Leave", ["mei"], []],
      ["Sales", [], ["mei"]],
      ["Leave", [], ["mei"]],
    ]);
    // The administrators' page is told SSO sets groups (not roles).
    const users = await hearth.app.inject({ url: "/api/admin/users", headers: root.headers });
    expect(users.json().ssoSync).toEqual({ groups: true, roles: false });
  });

  it("reads the groups from a nested claim (Keycloak's realm_access.roles) and from a namespaced one", async () => {
    for (const [groupsClaim, claims] of [
      ["realm_access.roles", { realm_access: { roles: ["hearth-users", "offline_access"] } }],
      ["https://hearth.example.cn/groups", { "https://hearth.example.cn/groups": ["hearth-users"] }],
    ] as const) {
      const hearth = await web({ syncGroups: true, groupsClaim });
      const root = await signUp(hearth.app, "root");
      await makeGroups(hearth, root, ["hearth-users", "others"]);
      provider.reset({ sub: `n-${groupsClaim}`, preferred_username: "nested", ...claims });
      const signedIn = await ssoSignIn(hearth);
      expect(await groupsOf(hearth, root, signedIn.session!.userId), groupsClaim).toEqual(["hearth-users"]);
    }
  });

  it("asks the UserInfo endpoint for groups an ID token lacks, only while groups are used", async () => {
    const hearth = await web({ syncGroups: true });
    const root = await signUp(hearth.app, "root");
    await makeGroups(hearth, root, ["Engineering", "Sales"]);
    provider.reset({ sub: "u-20", preferred_username: "zhao" });
    provider.behaviour.userinfo = { groups: ["/Engineering"] };
    const first = await ssoSignIn(hearth);
    const zhao = first.session!.userId;
    expect(await groupsOf(hearth, root, zhao)).toEqual(["Engineering"]);
    // With the access token the token endpoint gave.
    expect(provider.userinfoRequests).toEqual([expect.stringMatching(/^Bearer [0-9a-f]{32}$/)]);
    // The ID token's claim wins, and UserInfo is not asked then.
    provider.behaviour.claims = { ...provider.behaviour.claims, groups: ["Sales"] };
    await ssoSignIn(hearth);
    expect(await groupsOf(hearth, root, zhao)).toEqual(["Sales"]);
    expect(provider.userinfoRequests).toHaveLength(1);
    // An answer for another subject is refused, and changes nothing.
    provider.reset({ sub: "u-20", preferred_username: "zhao" });
    provider.behaviour.userinfo = { sub: "someone-else", groups: ["Engineering"] };
    expect((await ssoSignIn(hearth)).location).toBe("/?signInError=OIDC_TOKEN_INVALID");
    expect(await groupsOf(hearth, root, zhao)).toEqual(["Sales"]);
    // Without groups in use (no syncGroups, no adminGroups), UserInfo is never asked.
    const plain = await web();
    provider.reset({ sub: "u-21", preferred_username: "qian" });
    provider.userinfoRequests.length = 0;
    expect((await ssoSignIn(plain)).session).toBeDefined();
    expect(provider.userinfoRequests).toEqual([]);
  });

  it("never calls a UserInfo endpoint off the issuer's origin: the token without the claim means no groups", async () => {
    const hearth = await web({ syncGroups: true });
    const root = await signUp(hearth.app, "root");
    await makeGroups(hearth, root, ["Engineering"]);
    provider.reset({ sub: "u-22", preferred_username: "sun" });
    provider.behaviour.userinfo = "foreign";
    const signedIn = await ssoSignIn(hearth);
    expect(signedIn.session).toBeDefined();
    expect(provider.userinfoRequests).toEqual([]);
    expect(await groupsOf(hearth, root, signedIn.session!.userId)).toEqual([]);
  });

  it("without syncGroups leaves an SSO account's groups as administrators set them", async () => {
    const hearth = await web();
    const root = await signUp(hearth.app, "root");
    const ids = await makeGroups(hearth, root, ["Engineering", "Sales"]);
    provider.reset({ sub: "u-10", preferred_username: "li", groups: ["Engineering"] });
    const li = (await ssoSignIn(hearth)).session!.userId;
    expect(await groupsOf(hearth, root, li)).toEqual([]);
    await hearth.app.inject({
      method: "PUT",
      url: `/api/admin/groups/${ids.Sales}/members`,
      headers: root.headers,
      payload: { userIds: [li] },
    });
    await ssoSignIn(hearth);
    expect(await groupsOf(hearth, root, li)).toEqual(["Sales"]);
    const users = await hearth.app.inject({ url: "/api/admin/users", headers: root.headers });
    expect(users.json().ssoSync).toEqual({ groups: false, roles: false });
  });

  it("with adminGroups promotes and demotes at each sign-in, at once for every session of the account, audited", async () => {
    const hearth = await web({ adminGroups: ["/Hearth/Admins", "hearth-admin"] });
    const root = await signUp(hearth.app, "root");
    // A configured path is matched by the whole path only: another branch's Admins is not it.
    provider.reset({ sub: "u-11", preferred_username: "wang", groups: ["/Sales/Admins", "Admins"] });
    const notYet = await ssoSignIn(hearth);
    expect(await me(hearth, notYet.session!)).toMatchObject({ role: "user" });
    provider.behaviour.claims = { ...provider.behaviour.claims, groups: ["/hearth/admins"] };
    const first = await ssoSignIn(hearth);
    expect(await me(hearth, first.session!)).toMatchObject({ role: "admin" });
    provider.behaviour.claims = { ...provider.behaviour.claims, groups: ["staff"] };
    // The earlier session has been used as an administrator (its account is in the auth cache).
    expect(
      (await hearth.app.inject({ url: "/api/admin/users", headers: first.session!.headers })).statusCode,
    ).toBe(200);
    const second = await ssoSignIn(hearth);
    expect(await me(hearth, second.session!)).toMatchObject({ role: "user" });
    for (const session of [first.session!, second.session!]) {
      const refused = await hearth.app.inject({ url: "/api/admin/users", headers: session.headers });
      expect([refused.statusCode, refused.json().error.code]).toEqual([403, "ADMIN_REQUIRED"]);
    }
    provider.behaviour.claims = { ...provider.behaviour.claims, groups: ["HEARTH-ADMIN"] };
    const third = await ssoSignIn(hearth);
    expect(await me(hearth, third.session!)).toMatchObject({ role: "admin" });
    expect(
      (await hearth.app.inject({ url: "/api/admin/users", headers: first.session!.headers })).statusCode,
    ).toBe(200);
    const audit = await hearth.app.inject({
      url: "/api/admin/audit?action=user.role-change",
      headers: root.headers,
    });
    expect(
      audit
        .json()
        .entries.map((entry: { actorName: string; targetName: string; details: Record<string, unknown> }) => [
          entry.actorName,
          entry.targetName,
          entry.details.from,
          entry.details.to,
          entry.details.via,
        ])
        .reverse(),
    ).toEqual([
      ["wang", "wang", "user", "admin", "sso"],
      ["wang", "wang", "admin", "user", "sso"],
      ["wang", "wang", "user", "admin", "sso"],
    ]);
    // A local (password) administrator is never touched: root stays one.
    expect(await me(hearth, root)).toMatchObject({ role: "admin" });
    expect(
      (await hearth.app.inject({ url: "/api/admin/users", headers: root.headers })).json().ssoSync,
    ).toEqual({
      groups: false,
      roles: true,
    });
  });

  it("with adminGroups keeps the last active administrator one, and leaves a pending account pending", async () => {
    const hearth = await web({ adminGroups: ["admins"] }, { signup: "approval" });
    // The first account of an empty Hearth is an administrator, whatever the claim says; it stays one.
    provider.reset({ sub: "u-12", preferred_username: "first", groups: ["staff"] });
    const first = await ssoSignIn(hearth);
    expect(await me(hearth, first.session!)).toMatchObject({ role: "admin" });
    const again = await ssoSignIn(hearth);
    expect(await me(hearth, again.session!)).toMatchObject({ role: "admin" });
    expect(log.join("")).toContain("sso_last_admin_kept");
    const signIns = await hearth.app.inject({
      url: "/api/admin/audit?action=user.sso-sign-in",
      headers: again.session!.headers,
    });
    expect(signIns.json().entries[0].details).toMatchObject({ keptLastAdmin: true });
    const roleChanges = await hearth.app.inject({
      url: "/api/admin/audit?action=user.role-change",
      headers: again.session!.headers,
    });
    expect(roleChanges.json().entries).toEqual([]);

    // A new account waiting for approval gets its role from the claim, and still waits.
    provider.reset({ sub: "u-13", preferred_username: "second", groups: ["admins"] });
    expect((await ssoSignIn(hearth)).location).toBe("/?signInError=ACCOUNT_PENDING");
    const users = (
      await hearth.app.inject({ url: "/api/admin/users", headers: again.session!.headers })
    ).json().users as Array<{ id: string; username: string; role: string; status: string }>;
    const second = users.find((user) => user.username === "second")!;
    expect(second).toMatchObject({ role: "admin", status: "pending" });
    // Approved, it is a second administrator: the first may now be demoted by its claim.
    await hearth.app.inject({
      method: "PATCH",
      url: `/api/admin/users/${second.id}`,
      headers: again.session!.headers,
      payload: { status: "active" },
    });
    provider.reset({ sub: "u-12", preferred_username: "first", groups: ["staff"] });
    const demoted = await ssoSignIn(hearth);
    expect(await me(hearth, demoted.session!)).toMatchObject({ role: "user" });
  });

  it("says SSO is off without issuer and client id, and never logs the client secret", async () => {
    const off = await startWeb({ modelUrl: model.url }, { oidc: { passwordLogin: false } }, dialect);
    open.push(off);
    const info = await off.app.inject({ url: "/api/auth/session" });
    // Without SSO, password sign-in stays on whatever passwordLogin says: nobody is locked out.
    expect(info.json()).toMatchObject({ sso: null, passwordLogin: true });
    const start = await off.app.inject({ url: "/api/auth/oidc/start" });
    expect(start.headers.location).toBe("/?signInError=OIDC_NOT_CONFIGURED");
    // Anyone may call these: without SSO they leave nothing in the audit log.
    const callback = await off.app.inject({ url: "/api/auth/oidc/callback?code=x&state=y" });
    expect(callback.headers.location).toBe("/?signInError=OIDC_NOT_CONFIGURED");
    const root = await signUp(off.app, "root");
    const audit = await off.app.inject({ url: "/api/admin/audit", headers: root.headers });
    expect(audit.json().entries.map((entry: { action: string }) => entry.action)).toEqual(["user.signup"]);

    const hearth = await web({ buttonLabel: "Sign in with Keycloak" });
    expect((await hearth.app.inject({ url: "/api/auth/session" })).json().sso).toEqual({
      buttonLabel: "Sign in with Keycloak",
    });
    expect((await ssoSignIn(hearth)).session).toBeDefined();
    provider.behaviour.forgeSignature = true;
    expect((await ssoSignIn(hearth)).location).toBe("/?signInError=OIDC_TOKEN_INVALID");
    provider.behaviour.forgeSignature = false;
    provider.behaviour.tokenDown = true;
    expect((await ssoSignIn(hearth)).location).toBe("/?signInError=OIDC_PROVIDER_UNAVAILABLE");
    const logged = log.join("");
    expect(logged).toContain("SSO sign-in failed");
    expect(logged).toContain("signed in with SSO");
    expect(logged).not.toContain(provider.clientSecret);
    expect(logged).not.toContain(Buffer.from(`hearth:${provider.clientSecret}`).toString("base64"));
  });
  it("signs an SSO session out at the provider too (RP-Initiated Logout), a password session as before", async () => {
    provider.behaviour.endSession = true;
    const hearth = await web();
    const { session } = await ssoSignIn(hearth);
    const idToken = provider.idTokens.at(-1)!;
    const out = await hearth.app.inject({
      method: "POST",
      url: "/api/auth/logout",
      headers: session!.headers,
    });
    expect(out.statusCode, out.body).toBe(200);
    expect(out.headers["cache-control"]).toBe("no-store");
    const to = new URL((out.json() as { endSessionUrl: string }).endSessionUrl);
    expect(`${to.origin}${to.pathname}`).toBe(`${provider.issuer}/protocol/openid-connect/logout`);
    expect(Object.fromEntries(to.searchParams)).toEqual({
      id_token_hint: idToken,
      client_id: provider.clientId,
      post_logout_redirect_uri: "http://localhost:80/",
    });
    // Hearth's session ended at once, whatever the browser does next.
    expect(
      (await hearth.app.inject({ url: "/api/auth/session", headers: session!.headers })).json().user,
    ).toBeNull();
    // The provider ends its own and sends the browser back to Hearth's sign-in page.
    const back = await fetch(to, { redirect: "manual" });
    expect([back.status, back.headers.get("location")]).toEqual([302, "http://localhost:80/"]);
    expect(provider.endSessionRequests).toHaveLength(1);
    // The ID token is in no log line.
    expect(log.join("")).not.toContain(idToken);

    // A password session's sign-out is as it was: 204, nothing more.
    await signUp(hearth.app, "local-user");
    const local = await signIn(hearth.app, "local-user");
    const plain = await hearth.app.inject({
      method: "POST",
      url: "/api/auth/logout",
      headers: local.headers,
    });
    expect([plain.statusCode, plain.body]).toEqual([204, ""]);
  });

  it("signs an SSO session out of Hearth alone when the provider names no end_session_endpoint", async () => {
    const hearth = await web();
    const { session } = await ssoSignIn(hearth);
    const out = await hearth.app.inject({
      method: "POST",
      url: "/api/auth/logout",
      headers: session!.headers,
    });
    expect([out.statusCode, out.body]).toEqual([204, ""]);
    expect(
      (await hearth.app.inject({ url: "/api/auth/session", headers: session!.headers })).json().user,
    ).toBeNull();
  });
});
