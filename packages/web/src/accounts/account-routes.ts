import { foldName } from "@hearth/contracts";
import { type HearthConfig, HearthError } from "@hearth/core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { serializeCookie } from "../auth/cookies.js";
import { oidcSettings } from "../auth/oidc-provider.js";
import { authenticate, CSRF_COOKIE, currentUser, SESSION_COOKIE } from "../auth/route-access.js";
import type { ContentFilter } from "../chat/content-filter.js";
import type { SettingsStore } from "../settings/settings-store.js";
import type { WebDatabase } from "../storage/open-database.js";
import {
  createApiKey,
  createSession,
  createUser,
  endSession,
  findUserByName,
  listApiKeys,
  revokeApiKey,
  setPassword,
} from "./account-store.js";
import type { LoginThrottle } from "./login-throttle.js";
import { DUMMY_HASH, verifyPassword } from "./password-hash.js";

/** A user name and password as sign-up and sign-in take them (an administrator's new account too). */
export const credentials = z.strictObject({
  username: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(1024),
});

interface Deps {
  db: WebDatabase;
  config: HearthConfig;
  settings: SettingsStore;
  throttle: LoginThrottle;
  /** The input filter a new user name is held to: others see it (a share's owner, a group's members). */
  contentFilter: Pick<ContentFilter, "checkFields">;
  /**
   * Where a single sign-on session, ended here, is ended at the provider too (its ID token given):
   * undefined when the provider names no end_session_endpoint, or single sign-on is off.
   */
  ssoSignOutUrl?: (request: FastifyRequest, idToken: string) => Promise<string | undefined>;
}

export function isSecureRequest(request: FastifyRequest, config: HearthConfig): boolean {
  if (config.web.secureCookies === "always") return true;
  if (config.web.secureCookies === "never") return false;
  // Behind a trusted proxy Fastify reads X-Forwarded-Proto (the proxy's own, last, entry), as it
  // reads the client's address from X-Forwarded-For: both come from the same trusted hop.
  return request.protocol === "https";
}

/**
 * Starts a session for a signed-in account and sets its cookies: the session's (HttpOnly) and the
 * CSRF token's (readable, sent back in a header). Password and single sign-on alike; a single
 * sign-on's session keeps the provider's ID token (`idToken`), for signing out there.
 */
export async function startSession(
  reply: FastifyReply,
  request: FastifyRequest,
  deps: Pick<Deps, "db" | "config">,
  userId: string,
  idToken?: string,
) {
  const session = await createSession(deps.db, userId, deps.config.web.sessionHours, idToken);
  const secure = isSecureRequest(request, deps.config);
  const maxAgeSeconds = deps.config.web.sessionHours * 3600;
  reply.header("set-cookie", [
    serializeCookie(SESSION_COOKIE, session.token, { httpOnly: true, secure, maxAgeSeconds }),
    serializeCookie(CSRF_COOKIE, session.csrfToken, { httpOnly: false, secure, maxAgeSeconds }),
  ]);
  return session;
}

/**
 * Whether user name and password sign in here: always without single sign-on; with it, unless
 * web.oidc.passwordLogin is false (then administrators still may, for when the provider is down).
 */
function passwordLoginOpen(config: HearthConfig): boolean {
  return !oidcSettings(config.web.oidc) || config.web.oidc.passwordLogin;
}

/** Sign-up, sign-in, sign-out, the session probe and the user's own API keys. */
export function registerAccountRoutes(app: FastifyInstance, deps: Deps) {
  const { db } = deps;
  const sso = oidcSettings(deps.config.web.oidc)
    ? { buttonLabel: deps.config.web.oidc.buttonLabel ?? null }
    : null;

  app.get("/api/auth/session", { config: { access: "public" } }, async (request) => {
    const signup = await deps.settings.signupMode();
    let user: FastifyRequest["user"];
    try {
      await authenticate(request, db);
      user = request.user;
    } catch {
      user = undefined;
    }
    // One query for what the page shows of the signed-in account (whether it has a password to
    // change, whether it came from single sign-on); with no one signed in, whether there is any
    // account yet (the first one made becomes the administrator).
    const account = user
      ? await db
          .selectFrom("users")
          .select((eb) => [
            "password_hash",
            eb
              .exists(
                eb.selectFrom("external_identities").select("user_id").whereRef("user_id", "=", "users.id"),
              )
              .as("sso"),
          ])
          .where("id", "=", user.id)
          .executeTakeFirst()
      : undefined;
    const anyAccount = user
      ? true
      : (await db.selectFrom("users").select("id").limit(1).executeTakeFirst()) !== undefined;
    return {
      user: user
        ? {
            id: user.id,
            username: user.username,
            role: user.role,
            // An account made by single sign-on has no password to change (Settings says so).
            hasPassword: !!account?.password_hash,
            sso: !!account?.sso,
          }
        : null,
      signup,
      firstUser: !anyAccount,
      // Single sign-on: null when off; the button's configured text (null: the UI's own words).
      sso,
      passwordLogin: passwordLoginOpen(deps.config),
    };
  });

  app.post("/api/auth/signup", { config: { access: "public" } }, async (request, reply) => {
    const body = credentials.parse(request.body);
    if (!passwordLoginOpen(deps.config)) {
      // With password sign-in off, accounts come from single sign-on; the first one of an empty
      // Hearth may still be made here (or with `hearth users create-admin`).
      const users = await db
        .selectFrom("users")
        .select((eb) => eb.fn.countAll<number>().as("count"))
        .executeTakeFirstOrThrow();
      if (Number(users.count) > 0)
        throw new HearthError("PASSWORD_LOGIN_DISABLED", "Accounts are made by signing in with SSO here");
    }
    await deps.contentFilter.checkFields({ username: body.username });
    const created = await createUser(db, { ...body, signup: await deps.settings.signupMode() });
    if (created.status !== "active")
      return reply.code(202).send({
        user: { id: created.id, username: created.username, role: created.role },
        status: created.status,
      });
    await startSession(reply, request, deps, created.id);
    return reply.code(201).send({
      user: { id: created.id, username: created.username, role: created.role },
      status: created.status,
    });
  });

  app.post("/api/auth/login", { config: { access: "public" } }, async (request, reply) => {
    const body = credentials.parse(request.body);
    // Keyed by the folded name, as the account is found: "Alice" and "ALICE" share one budget.
    const attempt = { username: foldName(body.username), address: request.ip };
    const wait = deps.throttle.retryAfterSeconds(attempt);
    if (wait > 0)
      throw new HearthError("LOGIN_THROTTLED", `Too many failed sign-ins; try again in ${wait} s`, {
        retryAfterSeconds: wait,
      });
    const user = await findUserByName(db, body.username);
    const ok = await verifyPassword(body.password, user?.password_hash ?? DUMMY_HASH);
    if (!user || !ok) {
      deps.throttle.fail(attempt);
      // One warn line per failed sign-in, for fail2ban and the like (docs/security.md): the client's
      // address (behind web.trustProxy, the one the proxy saw) and the name tried, never the password.
      request.log.warn(
        { event: "sign_in_failed", address: request.ip, username: body.username },
        "sign-in failed",
      );
      throw new HearthError("INVALID_CREDENTIALS", "The user name or password is wrong");
    }
    if (user.status === "pending")
      throw new HearthError("ACCOUNT_PENDING", "Your account waits for an administrator's approval");
    if (user.status === "disabled")
      throw new HearthError("ACCOUNT_DISABLED", "Your account has been disabled");
    deps.throttle.succeed(attempt);
    if (user.role !== "admin" && !passwordLoginOpen(deps.config))
      throw new HearthError("PASSWORD_LOGIN_DISABLED", "Sign in with SSO here; password sign-in is off");
    await startSession(reply, request, deps, user.id);
    return { user: { id: user.id, username: user.username, role: user.role } };
  });

  /**
   * Ends the session: 204, or, for a single sign-on session whose provider has an
   * end_session_endpoint, 200 `{endSessionUrl}`, where the page sends the browser to end its
   * session at the provider too (which sends it back to the sign-in page).
   */
  app.post("/api/auth/logout", { config: { access: "user" } }, async (request, reply) => {
    const ended = request.sessionToken ? await endSession(db, request.sessionToken) : undefined;
    const secure = isSecureRequest(request, deps.config);
    reply.header("set-cookie", [
      serializeCookie(SESSION_COOKIE, "", { httpOnly: true, secure, maxAgeSeconds: 0 }),
      serializeCookie(CSRF_COOKIE, "", { httpOnly: false, secure, maxAgeSeconds: 0 }),
    ]);
    const endSessionUrl =
      ended?.idToken && deps.ssoSignOutUrl ? await deps.ssoSignOutUrl(request, ended.idToken) : undefined;
    if (endSessionUrl) {
      // It holds the ID token: for this browser only, never kept by a cache.
      reply.header("cache-control", "no-store");
      return { endSessionUrl };
    }
    return reply.code(204).send();
  });

  /**
   * The signed-in user changes their own password: the current one is checked (failures count
   * against the same throttle as sign-in), the new one follows the sign-up rule, and every other
   * session of the account ends; this one stays signed in. API keys are left as they are.
   */
  app.post("/api/account/password", { config: { access: "user" } }, async (request, reply) => {
    const user = currentUser(request);
    const body = z
      .strictObject({
        currentPassword: z.string().min(1).max(1024),
        newPassword: z.string().max(1024),
      })
      .parse(request.body);
    const attempt = { username: foldName(user.username), address: request.ip };
    const wait = deps.throttle.retryAfterSeconds(attempt);
    if (wait > 0)
      throw new HearthError("LOGIN_THROTTLED", `Too many wrong passwords; try again in ${wait} s`, {
        retryAfterSeconds: wait,
      });
    const row = await db
      .selectFrom("users")
      .select("password_hash")
      .where("id", "=", user.id)
      .executeTakeFirstOrThrow();
    if (row.password_hash === "")
      throw new HearthError("PASSWORD_NOT_SET", "This account signs in with SSO and has no password");
    if (!(await verifyPassword(body.currentPassword, row.password_hash))) {
      deps.throttle.fail(attempt);
      throw new HearthError("CURRENT_PASSWORD_WRONG", "The current password is wrong");
    }
    deps.throttle.succeed(attempt);
    await setPassword(db, {
      userId: user.id,
      password: body.newPassword,
      ...(request.sessionToken ? { keepSessionToken: request.sessionToken } : {}),
      audit: { actorId: user.id, action: "user.password-change" },
    });
    return reply.code(204).send();
  });

  app.get("/api/account/api-keys", { config: { access: "user" } }, async (request) => {
    return { keys: await listApiKeys(db, currentUser(request).id) };
  });

  app.post("/api/account/api-keys", { config: { access: "user" } }, async (request, reply) => {
    const user = currentUser(request);
    const body = z.strictObject({ name: z.string().trim().min(1).max(100) }).parse(request.body);
    return reply.code(201).send(await createApiKey(db, user.id, body.name));
  });

  app.delete("/api/account/api-keys/:id", { config: { access: "user" } }, async (request, reply) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    await revokeApiKey(db, { userId: user.id, keyId: id, actorId: user.id });
    return reply.code(204).send();
  });
}
