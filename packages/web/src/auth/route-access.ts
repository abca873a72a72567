import { type HearthConfig, HearthError } from "@hearth/core";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type CurrentUser, findApiKey, findSession, loadCurrentUser } from "../accounts/account-store.js";
import type { WebDatabase } from "../storage/open-database.js";
import type { AuthCache } from "./auth-cache.js";
import { readCookie } from "./cookies.js";

/**
 * Who may call a route, declared on every route as `config: { access }`:
 * - public: anyone (sign-in, sign-up, the UI's files)
 * - user: a signed-in, active account (session cookie with CSRF token, or an API key on /v1/)
 * - admin: an administrator
 * Ownership (your conversation, a knowledge base shared with your group) is checked by the route
 * itself, which answers 404 for what you may not see. A conversation's share link is `user`: only
 * its owner shares it or stops sharing it (/api/conversations/{id}/share), and any signed-in user
 * reads and copies it (/api/shares/{shareId}); no API key opens either (share-routes.ts).
 */
export type Access = "public" | "user" | "admin";

export const SESSION_COOKIE = "hearth_session";
export const CSRF_COOKIE = "hearth_csrf";

declare module "fastify" {
  interface FastifyContextConfig {
    access?: Access;
    /**
     * A browser route that also takes an API key (`Authorization: Bearer`), as /v1/ does: routes
     * that read a knowledge base, which the public API points its clients to (the knowledge bases it
     * may ground in, a knowledge citation's document file) or scripts use (a base's retrieval
     * test). The key's user is held to the same permissions as in the UI.
     */
    apiKey?: boolean;
  }
  interface FastifyRequest {
    user: CurrentUser | undefined;
    apiKeyId: string | undefined;
    sessionToken: string | undefined;
  }
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Every /api/ and /v1/ route must declare its access; registering one without fails at start-up. */
export function requireAccessDeclarations(
  app: FastifyInstance,
  routes: Array<{ method: string; url: string; access: Access; apiKey?: boolean }>,
) {
  app.addHook("onRoute", (route) => {
    if (!route.url.startsWith("/api/") && !route.url.startsWith("/v1/")) return;
    const config = route.config as { access?: Access; apiKey?: boolean } | undefined;
    const access = config?.access;
    if (!access) throw new Error(`route ${String(route.method)} ${route.url} declares no access`);
    for (const method of [route.method].flat())
      if (method !== "HEAD")
        routes.push({ method, url: route.url, access, ...(config?.apiKey ? { apiKey: true } : {}) });
  });
}

export function registerAccessControl(
  app: FastifyInstance,
  db: WebDatabase,
  _config: HearthConfig,
  cache: AuthCache,
) {
  cache.register(app);
  app.decorateRequest("user", undefined);
  app.decorateRequest("apiKeyId", undefined);
  app.decorateRequest("sessionToken", undefined);

  app.addHook("preHandler", async (request) => {
    const access = request.routeOptions.config?.access;
    if (!access || access === "public") return;
    await authenticate(request, db, cache);
    if (!request.user) throw new HearthError("UNAUTHORIZED", "Sign in first");
    if (access === "admin" && request.user.role !== "admin")
      throw new HearthError("ADMIN_REQUIRED", "Only administrators may do this");
  });
}

export async function authenticate(
  request: FastifyRequest,
  db: WebDatabase,
  cache?: AuthCache,
): Promise<void> {
  const authorization = request.headers.authorization;
  const takesKey = request.url.startsWith("/v1/") || request.routeOptions.config?.apiKey === true;
  if (authorization && takesKey) {
    const key = authorization.replace(/^Bearer\s+/i, "").trim();
    const lookup = async () => {
      const found = await findApiKey(db, key);
      return found ? { found, user: await loadCurrentUser(db, found.userId) } : undefined;
    };
    const entry = cache ? await cache.get(`key:${key}`, lookup) : await lookup();
    const found = entry?.found;
    const user = entry?.user;
    if (!found) throw new HearthError("API_KEY_INVALID", "The API key is unknown or has been revoked");
    if (!user) throw new HearthError("API_KEY_INVALID", "The API key's account is not active");
    request.user = user;
    request.apiKeyId = found.id;
    return;
  }
  const token = readCookie(request.headers.cookie, SESSION_COOKIE);
  if (!token) return;
  // Cached like API keys (sign-out and account changes clear the cache); the expiry is checked on
  // every request, and an entry past it is looked up afresh, which deletes the expired session.
  const lookup = async () => {
    const session = await findSession(db, token);
    return {
      session,
      user: session && !session.expired ? await loadCurrentUser(db, session.userId) : undefined,
    };
  };
  let entry = cache ? await cache.get(`session:${token}`, lookup) : await lookup();
  if (entry.session && !entry.session.expired && entry.session.expiresAt <= Date.now())
    entry = await lookup();
  const { session, user } = entry;
  if (!session) throw new HearthError("SESSION_EXPIRED", "The sign-in has ended; sign in again");
  if (session.expired) throw new HearthError("SESSION_EXPIRED", "The sign-in has expired; sign in again");
  // Double submit: the token is in a readable cookie and must come back in a header, which another
  // site cannot set. Compared against the value stored with the session.
  if (UNSAFE.has(request.method) && request.headers["x-csrf-token"] !== session.csrfToken) {
    throw new HearthError(
      "CSRF_TOKEN_INVALID",
      "The request's CSRF token is missing or wrong; reload the page",
    );
  }
  if (!user) throw new HearthError("SESSION_EXPIRED", "The account is no longer active");
  request.user = user;
  request.sessionToken = token;
}

/** The signed-in user of a route declared `user` or `admin`. */
export function currentUser(request: FastifyRequest): CurrentUser {
  if (!request.user) throw new HearthError("UNAUTHORIZED", "Sign in first");
  return request.user;
}
