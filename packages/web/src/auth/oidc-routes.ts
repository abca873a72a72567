import { type HearthConfig, HearthError } from "@hearth/core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { isSecureRequest, startSession } from "../accounts/account-routes.js";
import { audit } from "../audit/audit-log.js";
import type { SettingsStore } from "../settings/settings-store.js";
import type { WebDatabase } from "../storage/open-database.js";
import type { AuthCache } from "./auth-cache.js";
import { readCookie, serializeCookie } from "./cookies.js";
import { accountForIdentity } from "./oidc-accounts.js";
import { applySsoAccess } from "./oidc-groups.js";
import { OidcProvider, oidcSettings, randomToken } from "./oidc-provider.js";
import { requestOrigin } from "./request-origin.js";

/** The pending sign-in's cookie: state, nonce and PKCE verifier, for 10 minutes. */
const OIDC_COOKIE = "hearth_oidc";
const PENDING_SECONDS = 600;
export const OIDC_CALLBACK_PATH = "/api/auth/oidc/callback";

const pendingSchema = z.object({
  state: z.string().min(1),
  nonce: z.string().min(1),
  verifier: z.string().min(1),
  returnTo: z.string(),
  redirectUri: z.string(),
});
type Pending = z.infer<typeof pendingSchema>;

interface Deps {
  db: WebDatabase;
  config: HearthConfig;
  settings: SettingsStore;
  /** Cleared when a sign-in changed the account's groups or role (this process and its peers). */
  authCache?: AuthCache;
}

/**
 * Where a sign-in returns to: a path of this site (not `//host`, not `/\host`, no control
 * characters), else the start page. Anything but printable ASCII (Chinese, a space) is
 * percent-encoded, as a redirect's Location header must be; escapes already there are kept.
 */
export function sameOriginPath(value: unknown): string {
  if (typeof value !== "string" || value.length > 2000) return "/";
  if (!value.startsWith("/") || value.startsWith("//") || /[\\\u0000-\u001f\u007f]/u.test(value)) return "/";
  return value.replace(/[^\u0021-\u007e]/gu, (character) => {
    try {
      return encodeURIComponent(character);
    } catch {
      return ""; // a lone surrogate: no character at all
    }
  });
}

/** The sign-in page with an error's code, which it shows translated. */
function signInPage(code: string): string {
  return `/?signInError=${encodeURIComponent(code)}`;
}

/** The pending sign-in kept in the browser, or undefined when missing or unreadable. */
function readPending(request: FastifyRequest): Pending | undefined {
  const raw = readCookie(request.headers.cookie, OIDC_COOKIE);
  if (!raw) return undefined;
  try {
    const parsed = pendingSchema.safeParse(JSON.parse(Buffer.from(raw, "base64url").toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Single sign-on with OpenID Connect (authorization code with PKCE S256): /api/auth/oidc/start
 * sends the browser to the provider, /api/auth/oidc/callback takes it back, checks the ID token,
 * finds or makes the account (oidc-accounts.ts) and starts a session as a password sign-in does.
 * Both are public and answer with redirects: a failure goes to the sign-in page with its code.
 * Returns where a single sign-on session's sign-out sends the browser (the account routes' logout).
 */
export function registerOidcRoutes(app: FastifyInstance, deps: Deps) {
  const settings = oidcSettings(deps.config.web.oidc);
  const provider = settings ? new OidcProvider(settings) : undefined;

  const pendingCookie = (request: FastifyRequest, value: string, maxAgeSeconds: number) =>
    serializeCookie(OIDC_COOKIE, value, {
      httpOnly: true,
      secure: isSecureRequest(request, deps.config),
      maxAgeSeconds,
    });

  /**
   * To the sign-in page with the error's code; logged, and audited while SSO is configured and the
   * browser had started a sign-in (a callback no sign-in of this browser's began, anyone's request,
   * would otherwise fill the audit log).
   */
  const fail = async (
    request: FastifyRequest,
    reply: FastifyReply,
    error: unknown,
    issuer?: string,
    started = true,
  ) => {
    const known = error instanceof HearthError;
    const code = known ? error.code : "INTERNAL_ERROR";
    if (known)
      request.log.warn(
        { event: "sso_sign_in_failed", code, address: request.ip, reason: error.message },
        "SSO sign-in failed",
      );
    else request.log.error({ err: error, event: "sso_sign_in_failed" }, "SSO sign-in failed");
    if (!settings || !started) return reply.redirect(signInPage(code), 302);
    try {
      await audit(deps.db, {
        actorId: null,
        action: "user.sso-sign-in-failed",
        details: {
          code,
          // Why, in a few words (`its nonce is not this sign-in's`): never a token nor a code.
          ...(known && typeof error.details?.reason === "string" ? { reason: error.details.reason } : {}),
          ...(issuer ? { issuer } : {}),
          address: request.ip,
        },
      });
    } catch (auditError) {
      request.log.error({ err: auditError }, "could not audit a failed SSO sign-in");
    }
    return reply.redirect(signInPage(code), 302);
  };

  app.get("/api/auth/oidc/start", { config: { access: "public" } }, async (request, reply) => {
    if (!provider)
      return fail(request, reply, new HearthError("OIDC_NOT_CONFIGURED", "Single sign-on is not configured"));
    const { returnTo } = request.query as { returnTo?: unknown };
    const pending: Pending = {
      state: randomToken(),
      nonce: randomToken(),
      verifier: randomToken(),
      returnTo: sameOriginPath(returnTo),
      // The address the browser used, as the provider must send it back (behind a proxy, with
      // web.trustProxy, the scheme and host it was reached by).
      redirectUri: `${requestOrigin(request)}${OIDC_CALLBACK_PATH}`,
    };
    let location: string;
    try {
      location = await provider.authorizationUrl(pending);
    } catch (error) {
      return fail(request, reply, error, settings?.issuer);
    }
    reply.header(
      "set-cookie",
      pendingCookie(request, Buffer.from(JSON.stringify(pending)).toString("base64url"), PENDING_SECONDS),
    );
    reply.header("cache-control", "no-store");
    return reply.redirect(location, 302);
  });

  app.get(OIDC_CALLBACK_PATH, { config: { access: "public" } }, async (request, reply) => {
    // The pending sign-in serves once, whatever happens next.
    reply.header("set-cookie", pendingCookie(request, "", 0));
    reply.header("cache-control", "no-store");
    if (!provider || !settings)
      return fail(request, reply, new HearthError("OIDC_NOT_CONFIGURED", "Single sign-on is not configured"));
    const query = z
      .object({
        state: z.string().max(500).optional(),
        code: z.string().max(4000).optional(),
        error: z.string().max(200).optional(),
      })
      .safeParse(request.query);
    const pending = readPending(request);
    try {
      if (!query.success || !pending || !query.data.state || query.data.state !== pending.state)
        throw new HearthError(
          "OIDC_STATE_MISMATCH",
          "The SSO sign-in came back without the state it was started with; start it again",
        );
      if (query.data.error || !query.data.code)
        throw new HearthError(
          "OIDC_PROVIDER_REFUSED",
          `The identity provider refused the sign-in: ${query.data.error ?? "no code"}`,
          { details: { reason: query.data.error ?? "no code" } },
        );
      const { claims, idToken } = await provider.signIn({
        code: query.data.code,
        redirectUri: pending.redirectUri,
        verifier: pending.verifier,
        nonce: pending.nonce,
      });
      const account = await accountForIdentity(deps.db, claims, {
        signup: await deps.settings.signupMode(),
        mergeByEmail: deps.config.web.oidc.mergeByEmail,
      });
      // Groups and role as the provider says now, at every sign-in (a pending or disabled account's
      // too, so approving it later gives it what its groups give; its status is left alone).
      const access = await applySsoAccess(deps.db, {
        userId: account.userId,
        issuer: claims.issuer,
        values: claims.groups,
        options: deps.config.web.oidc,
        log: request.log,
      });
      // The account's other sessions and API keys (here and in the other processes) see it at once.
      if (access.changed) deps.authCache?.clear();
      if (account.status === "pending")
        throw new HearthError("ACCOUNT_PENDING", "The account waits for an administrator's approval");
      if (account.status === "disabled")
        throw new HearthError("ACCOUNT_DISABLED", "The account has been disabled");
      // Its cookies join the one ending the pending sign-in (Fastify appends set-cookie).
      await startSession(reply, request, deps, account.userId, idToken);
      await audit(deps.db, {
        actorId: account.userId,
        action: "user.sso-sign-in",
        target: account.userId,
        details: {
          issuer: claims.issuer,
          ...(account.outcome !== "existing" ? { outcome: account.outcome } : {}),
          ...(access.keptLastAdmin ? { keptLastAdmin: true } : {}),
        },
      });
      request.log.info({ event: "sso_sign_in", userId: account.userId }, "signed in with SSO");
      return reply.redirect(pending.returnTo, 302);
    } catch (error) {
      return fail(request, reply, error, settings.issuer, pending !== undefined);
    }
  });

  /**
   * The provider's end_session_endpoint for a single sign-on session's ID token, returning the
   * browser to the sign-in page at the address it used (as the sign-in's redirect_uri is built).
   */
  return {
    ssoSignOutUrl: async (request: FastifyRequest, idToken: string) =>
      provider?.endSessionUrl({ idToken, postLogoutRedirectUri: `${requestOrigin(request)}/` }),
  };
}
