import { z } from "zod";
import { host, httpUrl, port, postgresUrl } from "./fields.js";
import { sensitiveWordsSection } from "./sensitive-words-section.js";

/**
 * Single sign-on with OpenID Connect (docs/web.md, "Single sign-on"): on when `issuer` and
 * `clientId` are both set. The only outbound calls are to the issuer's discovery document and to
 * the token, JWKS and (for a groups claim the ID token lacks) UserInfo endpoints it names, which
 * must be on the issuer's origin.
 */
export const oidcSection = z.strictObject({
  /** The provider's issuer URL; its discovery document is `<issuer>/.well-known/openid-configuration`. */
  issuer: httpUrl.optional(),
  /** The client (application) id registered with the provider. */
  clientId: z.string().min(1).optional(),
  /** The client's secret (or HEARTH_OIDC_CLIENT_SECRET); never logged. Unset for a public client. */
  clientSecret: z.string().min(1).optional(),
  /** Scopes asked for; `openid` is added when missing. */
  scopes: z.string().min(1).default("openid email profile"),
  /** The sign-in button's text; unset: "Sign in with SSO" in the user's language. */
  buttonLabel: z.string().trim().min(1).max(80).optional(),
  /**
   * Whether the sign-in page offers user name and password. False (with SSO on) refuses password
   * sign-in and sign-up except to administrators, who keep it for when the provider is down.
   */
  passwordLogin: z.boolean().default(true),
  /**
   * Link a first SSO sign-in to the local account whose user name is the provider's email address,
   * when the provider says `email_verified: true`; off: such a sign-in gets an account of its own.
   */
  mergeByEmail: z.boolean().default(false),
  /**
   * The ID token's claim that lists the user's groups (or roles): a name, or a dotted path into a
   * nested claim (Keycloak's realm roles: `realm_access.roles`). Strings, or a list of them; a
   * Keycloak group path `/HR/Leave` names the group `HR/Leave` and `Leave`.
   */
  groupsClaim: z.string().trim().min(1).max(200).default("groups"),
  /**
   * At each SSO sign-in, make the account's memberships exactly the Hearth groups the claim names
   * (names matched without regard to case or width). Hearth never creates groups from the claim.
   */
  syncGroups: z.boolean().default(false),
  /**
   * Groups (or roles) of the claim whose members are administrators: at each SSO sign-in the
   * account becomes admin when the claim names one, else user (the last active administrator is
   * kept). Empty: SSO leaves roles alone.
   */
  adminGroups: z.array(z.string().trim().min(1).max(200)).default([]),
});

export type OidcConfig = z.infer<typeof oidcSection>;

export const webSection = z.strictObject({
  host: host.default("0.0.0.0"),
  port: port.default(8080),
  /** Largest request body the web service accepts, in bytes. */
  bodyLimitBytes: z
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  /**
   * Largest conversation import (POST /api/conversations/import, a file's JSON or ChatGPT's ZIP),
   * in bytes, and the most a ZIP's conversations.json may unpack to: exports of a whole history are
   * larger than a chat request.
   */
  importLimitBytes: z
    .number()
    .int()
    .positive()
    .default(50 * 1024 * 1024),
  /**
   * Seconds a request may take to arrive, headers and body (a document upload relayed to the
   * knowledge service, a conversation import); one still arriving then is answered 408
   * REQUEST_TIMEOUT. Answers, streams included, are not timed.
   */
  requestTimeoutSeconds: z.number().int().positive().default(3600),
  /** postgres://… to keep users and conversations in PostgreSQL; unset: SQLite at <dataDir>/web.sqlite. */
  databaseUrl: postgresUrl.optional(),
  /** Who may create an account (the first account always may, and becomes admin); admins can change it. */
  signup: z.enum(["open", "approval", "closed"]).default("open"),
  /**
   * Who may open a conversation's share link (/s/{id}): "signed-in", any signed-in user of the
   * instance; "off", nobody (no new links; existing ones answer 404 until turned on again). The
   * default of the run-time setting administrators change (settings.shareLinks).
   */
  shareLinks: z.enum(["off", "signed-in"]).default("signed-in"),
  /** Secure cookies: "auto" sets them when the request came over TLS (X-Forwarded-Proto from a trusted proxy). */
  secureCookies: z.enum(["auto", "always", "never"]).default("auto"),
  /** Trust X-Forwarded-* from a reverse proxy (nginx in deploy/). */
  trustProxy: z.boolean().default(false),
  /** How long a sign-in lasts, in hours. */
  sessionHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(24 * 7),
  /** Processes serving the web port (node:cluster); 1 serves from the calling process. */
  workers: z.number().int().min(1).max(64).default(1),
  /**
   * How long a temporary chat (kept out of the list and its search) outlives its last
   * message when its user did not leave it in the app (a tab closed), in hours; leaving it deletes it.
   */
  temporaryChatHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24),
  /** Longest chat message accepted, in characters. */
  maxMessageChars: z.number().int().min(1).max(10_000_000).default(100_000),
  /**
   * Sensitive-word lists for chat input and model output, besides the words administrators edit at
   * run time (settings.filter); the same shape as search.filter (docs/sensitive-words.md).
   */
  filter: sensitiveWordsSection.prefault({}),
  /** Single sign-on with OpenID Connect; off unless issuer and clientId are set. */
  oidc: oidcSection.prefault({}),
});
