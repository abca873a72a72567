import { constants, createHash, createPublicKey, type JsonWebKey, randomBytes, verify } from "node:crypto";
import { describeNetworkError, HearthError, type OidcConfig } from "@hearth/core";
import { z } from "zod";
import { claimValues } from "./oidc-groups.js";

/**
 * The OpenID Connect relying party of the web service: discovery, the code exchange and the ID
 * token's checks, on Node's crypto alone. Its only outbound calls are to the configured issuer's
 * discovery document and to the token and JWKS endpoints it names, which must be on the issuer's
 * origin, and (for a groups claim the ID token lacks) to its UserInfo endpoint when that is on the
 * issuer's origin too (the authorization endpoint is only where the browser is sent).
 */

/** What a sign-in needs once it is configured (`issuer` and `clientId` set). */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  scopes: string;
  /** The claim that lists the user's groups (a dotted path for a nested one). */
  groupsClaim: string;
  /** Whether sign-ins use the groups claim (syncGroups or adminGroups): UserInfo is asked when the ID token lacks it. */
  readGroups: boolean;
}

/** The OIDC settings of the configuration, or undefined when single sign-on is off. */
export function oidcSettings(config: OidcConfig): OidcSettings | undefined {
  if (!config.issuer || !config.clientId) return undefined;
  return {
    issuer: config.issuer,
    clientId: config.clientId,
    ...(config.clientSecret ? { clientSecret: config.clientSecret } : {}),
    scopes: config.scopes,
    groupsClaim: config.groupsClaim,
    readGroups: config.syncGroups || config.adminGroups.length > 0,
  };
}

/** The discovery document's fields Hearth reads; others are ignored. */
const discoverySchema = z.object({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  jwks_uri: z.string(),
  userinfo_endpoint: z.string().nullish(),
  end_session_endpoint: z.string().nullish(),
  token_endpoint_auth_methods_supported: z.array(z.string()).nullish(),
  code_challenge_methods_supported: z.array(z.string()).nullish(),
});

export interface Discovery {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  /** How the client authenticates at the token endpoint. */
  authMethod: "client_secret_basic" | "client_secret_post" | "none";
  /** The UserInfo endpoint, when discovery names one on the issuer's origin (else it is not called). */
  userinfoEndpoint?: string;
  /** RP-Initiated Logout's end_session_endpoint, when discovery names a web address for it. */
  endSessionEndpoint?: string;
}

const tokenResponseSchema = z.object({
  id_token: z.string().min(1),
  access_token: z.string().min(1).nullish(),
});
const tokenErrorSchema = z.object({ error: z.string(), error_description: z.string().nullish() });
const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())) });
const headerSchema = z.object({ alg: z.string(), kid: z.string().nullish() });
const claimsSchema = z.object({
  iss: z.string(),
  sub: z.string().min(1).max(255),
  aud: z.union([z.string(), z.array(z.string())]),
  exp: z.number(),
  iat: z.number(),
  nonce: z.string().nullish(),
  azp: z.string().nullish(),
  email: z.string().max(320).nullish(),
  email_verified: z.union([z.boolean(), z.string()]).nullish(),
  name: z.string().nullish(),
  preferred_username: z.string().nullish(),
});

/** The ID token's claims Hearth uses, checked. */
export interface IdentityClaims {
  issuer: string;
  subject: string;
  email?: string;
  emailVerified: boolean;
  name?: string;
  preferredUsername?: string;
  /** The groups claim's strings (web.oidc.groupsClaim); undefined when the token has no such claim. */
  groups?: string[];
}

/** Signature algorithms accepted for ID tokens: RSA (PKCS#1 v1.5 and PSS) and ECDSA. */
const ALGORITHMS: Record<string, { hash: string; kty: "RSA" | "EC"; pss?: boolean }> = {
  RS256: { hash: "sha256", kty: "RSA" },
  RS384: { hash: "sha384", kty: "RSA" },
  RS512: { hash: "sha512", kty: "RSA" },
  PS256: { hash: "sha256", kty: "RSA", pss: true },
  PS384: { hash: "sha384", kty: "RSA", pss: true },
  PS512: { hash: "sha512", kty: "RSA", pss: true },
  ES256: { hash: "sha256", kty: "EC" },
  ES384: { hash: "sha384", kty: "EC" },
  ES512: { hash: "sha512", kty: "EC" },
};

/** Clocks of Hearth and the provider may differ this much (exp, iat). */
const CLOCK_SKEW_SECONDS = 60;
const FETCH_TIMEOUT_MS = 10_000;
const DISCOVERY_TTL_MS = 60 * 60_000;

function tokenInvalid(reason: string): HearthError {
  return new HearthError("OIDC_TOKEN_INVALID", `The identity provider's ID token is not valid: ${reason}`, {
    details: { reason },
  });
}

function base64urlJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

/** A random value for state, nonce or a PKCE verifier (256 bits, base64url). */
export function randomToken(): string {
  return randomBytes(32).toString("base64url");
}

/** PKCE's S256 challenge of a verifier (RFC 7636). */
export function pkceChallenge(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

function withGroups(groups: string[] | undefined): { groups?: string[] } {
  return groups ? { groups } : {};
}

/** A web address a browser may be sent to (http or https), normalised; undefined otherwise. */
function browserUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

export class OidcProvider {
  private discovery?: { value: Discovery; fetchedAt: number };
  private keys?: Array<Record<string, unknown>>;

  constructor(
    readonly settings: OidcSettings,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** The issuer without a trailing slash, as discovery URLs are built from it. */
  private get issuerBase(): string {
    return this.settings.issuer.replace(/\/+$/, "");
  }

  /** GETs or POSTs one of the provider's endpoints; unreachable or 5xx: OIDC_PROVIDER_UNAVAILABLE. */
  private async call(what: string, url: string, init?: RequestInit): Promise<Response> {
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        ...init,
        redirect: "error",
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
    } catch (error) {
      throw new HearthError(
        "OIDC_PROVIDER_UNAVAILABLE",
        `The identity provider's ${what} (${url}) did not answer: ${describeNetworkError(error)}`,
        { details: { endpoint: what } },
      );
    }
    if (response.status >= 500)
      throw new HearthError(
        "OIDC_PROVIDER_UNAVAILABLE",
        `The identity provider's ${what} (${url}) answered HTTP ${response.status}`,
        { details: { endpoint: what, status: response.status } },
      );
    return response;
  }

  private async json(what: string, url: string, response: Response): Promise<unknown> {
    try {
      return await response.json();
    } catch {
      throw new HearthError(
        "OIDC_PROVIDER_UNAVAILABLE",
        `The identity provider's ${what} (${url}) answered HTTP ${response.status} without JSON`,
        { details: { endpoint: what, status: response.status } },
      );
    }
  }

  /** An endpoint named by discovery, refused unless it is on the issuer's origin. */
  private sameOrigin(field: string, value: string): string {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new HearthError("OIDC_DISCOVERY_INVALID", `The discovery document's ${field} is not a URL`, {
        details: { field },
      });
    }
    const origin = new URL(this.settings.issuer).origin;
    if (url.origin !== origin)
      throw new HearthError(
        "OIDC_DISCOVERY_INVALID",
        `The discovery document's ${field} (${url.origin}) is not on the issuer's origin (${origin}); Hearth calls only the configured issuer`,
        { details: { field, origin: url.origin, issuerOrigin: origin } },
      );
    return url.toString();
  }

  /** The provider's discovery document, read at most once an hour (a failure is not kept). */
  async discover(): Promise<Discovery> {
    if (this.discovery && Date.now() - this.discovery.fetchedAt < DISCOVERY_TTL_MS)
      return this.discovery.value;
    const url = `${this.issuerBase}/.well-known/openid-configuration`;
    const response = await this.call("discovery document", url);
    const body = await this.json("discovery document", url, response);
    if (!response.ok)
      throw new HearthError(
        "OIDC_PROVIDER_UNAVAILABLE",
        `The identity provider's discovery document (${url}) answered HTTP ${response.status}`,
        { details: { endpoint: "discovery document", status: response.status } },
      );
    const parsed = discoverySchema.safeParse(body);
    if (!parsed.success)
      throw new HearthError(
        "OIDC_DISCOVERY_INVALID",
        `The discovery document at ${url} lacks ${parsed.error.issues.map((issue) => issue.path.join(".")).join(", ")}`,
      );
    const document = parsed.data;
    if (document.issuer.replace(/\/+$/, "") !== this.issuerBase)
      throw new HearthError(
        "OIDC_DISCOVERY_INVALID",
        `The discovery document names the issuer ${document.issuer}, not the configured ${this.settings.issuer}`,
        { details: { field: "issuer" } },
      );
    const methods = document.token_endpoint_auth_methods_supported ?? ["client_secret_basic"];
    const authMethod: Discovery["authMethod"] = !this.settings.clientSecret
      ? "none"
      : methods.includes("client_secret_basic")
        ? "client_secret_basic"
        : methods.includes("client_secret_post")
          ? "client_secret_post"
          : "client_secret_basic";
    const authorizationEndpoint = browserUrl(document.authorization_endpoint);
    if (!authorizationEndpoint)
      throw new HearthError(
        "OIDC_DISCOVERY_INVALID",
        "The discovery document's authorization_endpoint is not a URL",
        {
          details: { field: "authorization_endpoint" },
        },
      );
    // Optional, and where browsers are sent too: one that is not a web address is left unused (a
    // sign-out then ends Hearth's session alone, as without one) rather than failing sign-ins.
    const endSessionEndpoint = document.end_session_endpoint
      ? browserUrl(document.end_session_endpoint)
      : undefined;
    let userinfoEndpoint: string | undefined;
    try {
      // Optional: read only for a groups claim the ID token lacks, and never off the issuer's origin
      // (Entra ID's is Microsoft Graph's): such an endpoint is left uncalled rather than refused.
      if (document.userinfo_endpoint)
        userinfoEndpoint = this.sameOrigin("userinfo_endpoint", document.userinfo_endpoint);
    } catch {
      userinfoEndpoint = undefined;
    }
    const value: Discovery = {
      issuer: document.issuer,
      authorizationEndpoint,
      tokenEndpoint: this.sameOrigin("token_endpoint", document.token_endpoint),
      jwksUri: this.sameOrigin("jwks_uri", document.jwks_uri),
      authMethod,
      ...(userinfoEndpoint ? { userinfoEndpoint } : {}),
      ...(endSessionEndpoint ? { endSessionEndpoint } : {}),
    };
    this.discovery = { value, fetchedAt: Date.now() };
    return value;
  }

  /** The provider's authorization URL for one sign-in (the browser is sent there). */
  async authorizationUrl(input: { redirectUri: string; state: string; nonce: string; verifier: string }) {
    const discovery = await this.discover();
    const url = new URL(discovery.authorizationEndpoint);
    const scopes = this.settings.scopes.split(/\s+/).filter(Boolean);
    if (!scopes.includes("openid")) scopes.unshift("openid");
    url.searchParams.set("response_type", "code");
    url.searchParams.set("client_id", this.settings.clientId);
    url.searchParams.set("redirect_uri", input.redirectUri);
    url.searchParams.set("scope", scopes.join(" "));
    url.searchParams.set("state", input.state);
    url.searchParams.set("nonce", input.nonce);
    url.searchParams.set("code_challenge", pkceChallenge(input.verifier));
    url.searchParams.set("code_challenge_method", "S256");
    return url.toString();
  }

  /**
   * Where the browser ends its session at the provider (OpenID Connect RP-Initiated Logout 1.0),
   * when discovery names an end_session_endpoint: with the session's ID token as `id_token_hint`
   * (which tells the provider whose session and which client), `client_id`, and
   * `post_logout_redirect_uri`, where the provider sends it back (it must be registered with the
   * client). Undefined without such an endpoint, or when discovery cannot be read: Hearth's own
   * session has ended either way.
   */
  async endSessionUrl(input: {
    idToken: string;
    postLogoutRedirectUri: string;
  }): Promise<string | undefined> {
    let endpoint: string | undefined;
    try {
      endpoint = (await this.discover()).endSessionEndpoint;
    } catch {
      return undefined;
    }
    if (!endpoint) return undefined;
    const url = new URL(endpoint);
    url.searchParams.set("id_token_hint", input.idToken);
    url.searchParams.set("client_id", this.settings.clientId);
    url.searchParams.set("post_logout_redirect_uri", input.postLogoutRedirectUri);
    return url.toString();
  }

  /**
   * Exchanges the code at the token endpoint and checks the ID token it returns; the identity it
   * vouches for, and the ID token itself, which the session keeps for signing out at the provider
   * (endSessionUrl). The tokens are never logged; the access token is not kept.
   */
  async signIn(input: {
    code: string;
    redirectUri: string;
    verifier: string;
    nonce: string;
    now?: number;
  }): Promise<{ claims: IdentityClaims; idToken: string }> {
    const discovery = await this.discover();
    const form = new URLSearchParams({
      grant_type: "authorization_code",
      code: input.code,
      redirect_uri: input.redirectUri,
      code_verifier: input.verifier,
    });
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    };
    const { clientId, clientSecret } = this.settings;
    if (discovery.authMethod === "client_secret_basic" && clientSecret) {
      // RFC 6749 2.3.1: both are form-urlencoded before they are joined.
      const user = encodeURIComponent(clientId);
      const password = encodeURIComponent(clientSecret);
      headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    } else {
      form.set("client_id", clientId);
      if (discovery.authMethod === "client_secret_post" && clientSecret)
        form.set("client_secret", clientSecret);
    }
    const response = await this.call("token endpoint", discovery.tokenEndpoint, {
      method: "POST",
      headers,
      body: form.toString(),
    });
    const body = await this.json("token endpoint", discovery.tokenEndpoint, response);
    if (!response.ok) {
      const refusal = tokenErrorSchema.safeParse(body);
      const reason = refusal.success ? refusal.data.error : `HTTP ${response.status}`;
      throw new HearthError(
        "OIDC_PROVIDER_REFUSED",
        `The identity provider's token endpoint refused the code: ${reason}`,
        { details: { reason } },
      );
    }
    const tokens = tokenResponseSchema.safeParse(body);
    if (!tokens.success) throw tokenInvalid("the token endpoint's answer has no id_token");
    const claims = await this.verifyIdToken(tokens.data.id_token, {
      nonce: input.nonce,
      now: input.now ?? Date.now(),
      issuer: discovery.issuer,
    });
    const idToken = tokens.data.id_token;
    if (
      this.settings.readGroups &&
      claims.groups === undefined &&
      discovery.userinfoEndpoint &&
      tokens.data.access_token
    )
      return {
        claims: {
          ...claims,
          ...withGroups(
            await this.userinfoGroups(discovery.userinfoEndpoint, tokens.data.access_token, claims.subject),
          ),
        },
        idToken,
      };
    return { claims, idToken };
  }

  /**
   * The groups claim of the UserInfo endpoint's answer (OpenID Connect Core 5.3), for an ID token
   * without it; undefined when the answer lacks it too or is not JSON (a signed UserInfo). The
   * answer must be for the ID token's subject.
   */
  private async userinfoGroups(
    url: string,
    accessToken: string,
    subject: string,
  ): Promise<string[] | undefined> {
    const response = await this.call("UserInfo endpoint", url, {
      headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
    });
    if (!response.ok)
      throw new HearthError(
        "OIDC_PROVIDER_UNAVAILABLE",
        `The identity provider's UserInfo endpoint (${url}) answered HTTP ${response.status}`,
        { details: { endpoint: "UserInfo endpoint", status: response.status } },
      );
    if (!(response.headers.get("content-type") ?? "").includes("json")) return undefined;
    const body = await this.json("UserInfo endpoint", url, response);
    if (!body || typeof body !== "object" || Array.isArray(body)) return undefined;
    if ((body as Record<string, unknown>).sub !== subject)
      throw tokenInvalid("the UserInfo endpoint answered for another subject");
    return claimValues(body as Record<string, unknown>, this.settings.groupsClaim);
  }

  /** The provider's key set, read from its JWKS endpoint again (a key it rotated in is then known). */
  private async loadKeys(): Promise<Array<Record<string, unknown>>> {
    const { jwksUri } = await this.discover();
    const response = await this.call("JWKS endpoint", jwksUri);
    const body = await this.json("JWKS endpoint", jwksUri, response);
    const parsed = jwksSchema.safeParse(body);
    if (!response.ok || !parsed.success)
      throw new HearthError(
        "OIDC_PROVIDER_UNAVAILABLE",
        `The identity provider's JWKS endpoint (${jwksUri}) answered HTTP ${response.status} without a key set`,
        { details: { endpoint: "JWKS endpoint", status: response.status } },
      );
    this.keys = parsed.data.keys;
    return this.keys;
  }

  /**
   * What `hearth doctor` says of the provider: its discovery document read and checked, and its key
   * set read, as a sign-in would; a problem throws with its code (OIDC_PROVIDER_UNAVAILABLE,
   * OIDC_DISCOVERY_INVALID).
   */
  async check(): Promise<{ keys: number; authMethod: string }> {
    const { authMethod } = await this.discover();
    return { keys: (await this.loadKeys()).length, authMethod };
  }

  private async signingKey(header: z.infer<typeof headerSchema>) {
    const algorithm = ALGORITHMS[header.alg]!;
    const pick = (keys: Array<Record<string, unknown>>) => {
      const fitting = keys.filter(
        (key) =>
          key.kty === algorithm.kty &&
          (key.use === undefined || key.use === "sig") &&
          (key.alg === undefined || key.alg === header.alg),
      );
      if (header.kid) return fitting.find((key) => key.kid === header.kid);
      return fitting.length === 1 ? fitting[0] : undefined;
    };
    let key = this.keys ? pick(this.keys) : undefined;
    if (!key) key = pick(await this.loadKeys());
    if (!key)
      throw tokenInvalid(
        `no ${header.alg} key ${header.kid ?? ""} in the provider's JWKS`.replace("  ", " "),
      );
    try {
      return createPublicKey({ key: key as JsonWebKey, format: "jwk" });
    } catch {
      throw tokenInvalid(
        `the provider's key ${header.kid ?? ""} is not a usable public key`.replace("  ", " "),
      );
    }
  }

  /**
   * Checks an ID token (OpenID Connect Core 3.1.3.7): its signature against the provider's JWKS,
   * its issuer, audience (and azp with several), expiry and issue time (CLOCK_SKEW_SECONDS either
   * way) and the nonce of this sign-in.
   */
  async verifyIdToken(
    token: string,
    expected: { nonce: string; now: number; issuer: string },
  ): Promise<IdentityClaims> {
    const parts = token.split(".");
    if (parts.length !== 3) throw tokenInvalid("not a signed JWT");
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    const header = headerSchema.safeParse(base64urlJson(headerPart));
    if (!header.success) throw tokenInvalid("its header is not readable");
    const algorithm = ALGORITHMS[header.data.alg];
    if (!algorithm) throw tokenInvalid(`its algorithm ${header.data.alg} is not accepted`);
    const key = await this.signingKey(header.data);
    const signed = Buffer.from(`${headerPart}.${payloadPart}`);
    const signature = Buffer.from(signaturePart, "base64url");
    let valid = false;
    try {
      valid = verify(
        algorithm.hash,
        signed,
        algorithm.kty === "EC"
          ? { key, dsaEncoding: "ieee-p1363" }
          : algorithm.pss
            ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
            : key,
        signature,
      );
    } catch {
      valid = false;
    }
    if (!valid) throw tokenInvalid("its signature does not verify");
    const payload = base64urlJson(payloadPart);
    const parsed = claimsSchema.safeParse(payload);
    if (!parsed.success)
      throw tokenInvalid(
        `its claims lack ${parsed.error.issues.map((issue) => issue.path.join(".")).join(", ")}`,
      );
    const claims = parsed.data;
    if (claims.iss !== expected.issuer) throw tokenInvalid(`it was issued by ${claims.iss}`);
    const audiences = [claims.aud].flat();
    if (!audiences.includes(this.settings.clientId)) throw tokenInvalid("it was issued to another client");
    if (audiences.length > 1 && claims.azp !== this.settings.clientId)
      throw tokenInvalid("it was issued to another client (azp)");
    if (claims.azp && claims.azp !== this.settings.clientId)
      throw tokenInvalid("it was issued to another client (azp)");
    const now = Math.floor(expected.now / 1000);
    if (claims.exp + CLOCK_SKEW_SECONDS <= now) throw tokenInvalid("it has expired");
    if (claims.iat - CLOCK_SKEW_SECONDS > now) throw tokenInvalid("it was issued in the future");
    if (claims.nonce !== expected.nonce) throw tokenInvalid("its nonce is not this sign-in's");
    return {
      issuer: claims.iss,
      subject: claims.sub,
      ...(claims.email ? { email: claims.email } : {}),
      emailVerified: claims.email_verified === true || claims.email_verified === "true",
      ...(claims.name ? { name: claims.name } : {}),
      ...(claims.preferred_username ? { preferredUsername: claims.preferred_username } : {}),
      ...withGroups(claimValues(payload as Record<string, unknown>, this.settings.groupsClaim)),
    };
  }
}
