import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What the next ID tokens say and how the provider behaves; tests change it between sign-ins. */
export interface FakeOidcBehaviour {
  /** Claims for the next token (sub, email, email_verified, name, preferred_username …). */
  claims: Record<string, unknown>;
  /** Replaces a claim the provider would set itself (iss, aud, exp, iat, nonce). */
  override: Record<string, unknown>;
  alg: "RS256" | "ES256";
  /** Signs with a key that is not in the JWKS (same kid): the signature does not verify. */
  forgeSignature: boolean;
  /** The token endpoint drops the connection (the provider is down). */
  tokenDown: boolean;
  /** What discovery lists as token endpoint auth methods. */
  authMethods: string[];
  /** Discovery names a JWKS on another origin. */
  foreignJwks: boolean;
  /**
   * What the UserInfo endpoint answers for a valid access token (`sub` is the token's subject unless
   * given); discovery lists the endpoint. `foreign`: discovery names one on another origin instead.
   */
  userinfo: Record<string, unknown> | "foreign";
  /** Discovery names an end_session_endpoint (RP-Initiated Logout), as Keycloak's does. */
  endSession: boolean;
}

export interface TokenRequest {
  authorization: string | undefined;
  form: URLSearchParams;
}

export interface FakeOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  behaviour: FakeOidcBehaviour;
  /** Every token request, in order (to check client authentication and PKCE). */
  tokenRequests: TokenRequest[];
  /** Every authorization request's query. */
  authorizeRequests: URLSearchParams[];
  /** Every UserInfo request's Authorization header. */
  userinfoRequests: Array<string | undefined>;
  /** Every ID token the token endpoint issued, in order. */
  idTokens: string[];
  /** Every end-session (logout) request's query. */
  endSessionRequests: URLSearchParams[];
  /** Resets the behaviour to a verified user `sub`. */
  reset(claims?: Record<string, unknown>): void;
  close(): Promise<void>;
}

function defaults(): FakeOidcBehaviour {
  return {
    claims: { sub: "user-1", email: "alice@example.cn", email_verified: true, preferred_username: "alice" },
    override: {},
    alg: "RS256",
    forgeSignature: false,
    tokenDown: false,
    authMethods: ["client_secret_basic", "client_secret_post"],
    foreignJwks: false,
    userinfo: {},
    endSession: false,
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => resolve(body));
    request.on("error", reject);
  });
}

function jwt(header: object, payload: object, key: KeyObject, alg: "RS256" | "ES256"): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString("base64url");
  const signed = `${encode(header)}.${encode(payload)}`;
  const signature = sign(
    "sha256",
    Buffer.from(signed),
    alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key,
  );
  return `${signed}.${signature.toString("base64url")}`;
}

/**
 * A small OpenID Connect provider on 127.0.0.1 (issuer `<origin>/realms/hearth`, as Keycloak names
 * its realms): discovery, an authorization endpoint that sends the browser straight back with a
 * code, a token endpoint that checks the client's secret and the PKCE verifier, and a JWKS with an
 * RSA and an EC key made here.
 */
export async function startFakeOidcProvider(
  options: { clientId?: string; clientSecret?: string } = {},
): Promise<FakeOidcProvider> {
  const clientId = options.clientId ?? "hearth";
  const clientSecret = options.clientSecret ?? `S3CRET-${randomBytes(8).toString("hex")}`;
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const forged = {
    RS256: generateKeyPairSync("rsa", { modulusLength: 2048 }),
    ES256: generateKeyPairSync("ec", { namedCurve: "P-256" }),
  };
  const jwks = {
    keys: [
      { ...rsa.publicKey.export({ format: "jwk" }), kid: "rsa-1", use: "sig", alg: "RS256" },
      { ...ec.publicKey.export({ format: "jwk" }), kid: "ec-1", use: "sig", alg: "ES256" },
    ],
  };
  const codes = new Map<string, { nonce: string; challenge: string; redirectUri: string }>();
  /** Access tokens handed out, and the subject each is for. */
  const accessTokens = new Map<string, string>();
  const provider: FakeOidcProvider = {
    issuer: "",
    clientId,
    clientSecret,
    behaviour: defaults(),
    tokenRequests: [],
    authorizeRequests: [],
    userinfoRequests: [],
    idTokens: [],
    endSessionRequests: [],
    reset(claims) {
      provider.behaviour = defaults();
      if (claims) provider.behaviour.claims = claims;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const send = (response: import("node:http").ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  };
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", provider.issuer);
    const path = url.pathname.replace(/^\/realms\/hearth/, "");
    const origin = new URL(provider.issuer).origin;
    if (path === "/.well-known/openid-configuration")
      return send(response, 200, {
        issuer: provider.issuer,
        authorization_endpoint: `${provider.issuer}/protocol/openid-connect/auth`,
        token_endpoint: `${provider.issuer}/protocol/openid-connect/token`,
        jwks_uri: provider.behaviour.foreignJwks
          ? "http://keys.example.invalid/certs"
          : `${origin}/realms/hearth/protocol/openid-connect/certs`,
        token_endpoint_auth_methods_supported: provider.behaviour.authMethods,
        code_challenge_methods_supported: ["S256"],
        id_token_signing_alg_values_supported: ["RS256", "ES256"],
        userinfo_endpoint:
          provider.behaviour.userinfo === "foreign"
            ? "http://userinfo.example.invalid/oidc/userinfo"
            : `${provider.issuer}/protocol/openid-connect/userinfo`,
        ...(provider.behaviour.endSession
          ? { end_session_endpoint: `${provider.issuer}/protocol/openid-connect/logout` }
          : {}),
      });
    if (path === "/protocol/openid-connect/logout") {
      // As a provider does once its session has ended: back to the client's post-logout address.
      provider.endSessionRequests.push(url.searchParams);
      response.writeHead(302, { location: url.searchParams.get("post_logout_redirect_uri") ?? "/" });
      return response.end();
    }
    if (path === "/protocol/openid-connect/userinfo") {
      provider.userinfoRequests.push(request.headers.authorization);
      const subject = accessTokens.get(request.headers.authorization?.replace(/^Bearer /, "") ?? "");
      if (!subject || provider.behaviour.userinfo === "foreign")
        return send(response, 401, { error: "invalid_token" });
      return send(response, 200, { sub: subject, ...provider.behaviour.userinfo });
    }
    if (path === "/protocol/openid-connect/certs") return send(response, 200, jwks);
    if (path === "/protocol/openid-connect/auth") {
      provider.authorizeRequests.push(url.searchParams);
      const code = randomBytes(16).toString("hex");
      const redirectUri = url.searchParams.get("redirect_uri") ?? "";
      codes.set(code, {
        nonce: url.searchParams.get("nonce") ?? "",
        challenge: url.searchParams.get("code_challenge") ?? "",
        redirectUri,
      });
      const back = new URL(redirectUri);
      back.searchParams.set("code", code);
      back.searchParams.set("state", url.searchParams.get("state") ?? "");
      response.writeHead(302, { location: back.toString() });
      return response.end();
    }
    if (path === "/protocol/openid-connect/token" && request.method === "POST") {
      if (provider.behaviour.tokenDown) return request.socket.destroy();
      const form = new URLSearchParams(await readBody(request));
      provider.tokenRequests.push({ authorization: request.headers.authorization, form });
      const basic = request.headers.authorization?.replace(/^Basic /, "");
      const [user, secret] = basic
        ? Buffer.from(basic, "base64").toString().split(":").map(decodeURIComponent)
        : [form.get("client_id"), form.get("client_secret")];
      if (user !== clientId || secret !== clientSecret)
        return send(response, 401, { error: "invalid_client" });
      const grant = codes.get(form.get("code") ?? "");
      codes.delete(form.get("code") ?? "");
      const verifier = form.get("code_verifier") ?? "";
      if (
        !grant ||
        grant.redirectUri !== form.get("redirect_uri") ||
        createHash("sha256").update(verifier).digest("base64url") !== grant.challenge
      )
        return send(response, 400, { error: "invalid_grant" });
      const now = Math.floor(Date.now() / 1000);
      const { alg, forgeSignature } = provider.behaviour;
      const key = forgeSignature ? forged[alg].privateKey : alg === "RS256" ? rsa.privateKey : ec.privateKey;
      const idToken = jwt(
        { alg, typ: "JWT", kid: alg === "RS256" ? "rsa-1" : "ec-1" },
        {
          iss: provider.issuer,
          aud: clientId,
          exp: now + 300,
          iat: now,
          nonce: grant.nonce,
          ...provider.behaviour.claims,
          ...provider.behaviour.override,
        },
        key,
        alg,
      );
      provider.idTokens.push(idToken);
      const accessToken = randomBytes(16).toString("hex");
      accessTokens.set(accessToken, String(provider.behaviour.claims.sub));
      return send(response, 200, {
        access_token: accessToken,
        token_type: "Bearer",
        expires_in: 300,
        id_token: idToken,
      });
    }
    send(response, 404, { error: "not_found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  provider.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/hearth`;
  return provider;
}
