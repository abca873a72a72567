import { lookup as dnsLookup } from "node:dns/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { pipeline, type Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { HearthServiceName } from "../config/port-conflicts.js";
import { AddressPolicy } from "./address-policy.js";
import { linkedSignal } from "./linked-signal.js";
import type { OwnServices } from "./own-services.js";

/** Resolves a host name to every address it has (injectable so that tests simulate DNS answers). */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export interface SafeFetchOptions {
  /**
   * Largest body accepted, after content decoding; a larger declared length is refused unread
   * (unless `oversize` is `truncate`).
   */
  maxBytes: number;
  /**
   * What a body over maxBytes does: `refuse` (the default) fails with too-large, for callers that
   * need the whole document; `truncate` keeps its first maxBytes bytes (decoded) and marks the
   * resource `truncated`, for callers that read the start of a long page.
   */
  oversize?: "refuse" | "truncate";
  /** For the whole fetch, redirects and body included. */
  timeoutMs: number;
  /** Redirects followed; each hop is checked like the URL itself. */
  maxRedirects: number;
  /** CIDR ranges (or single addresses) that may be fetched although refused otherwise. */
  allowPrivateRanges?: readonly string[];
  /** Let the private networks through too (RFC 1918, IPv6 unique-local; not the metadata among them). */
  allowPrivateNetworks?: boolean;
  /** Hearth's own services, refused on every hop whatever allowPrivateRanges allows. */
  ownServices?: OwnServices;
  resolver?: Resolver;
  /** Content types accepted (by prefix of the lowercased header); any when unset. */
  contentTypes?: readonly string[];
  /**
   * Accept an answer without a Content-Type header although contentTypes is set: the caller sniffs
   * the body, as a browser does (otherwise one without is refused like any other type).
   */
  acceptMissingContentType?: boolean;
  /** Refuse URLs that carry a user name or password (the first and every redirect's). */
  refuseCredentials?: boolean;
  headers?: Readonly<Record<string, string>>;
}

export interface FetchedResource {
  /** The URL after redirects. */
  url: URL;
  /** The content-type header as sent ("" when none). */
  contentType: string;
  /** The body, decoded when the server compressed it (gzip, deflate, br). */
  body: Buffer;
  /**
   * The body was longer than maxBytes and `body` is its first maxBytes bytes (only with `oversize:
   * "truncate"`); it may end inside a character.
   */
  truncated: boolean;
}

/**
 * Why a fetch failed, for the calling service to word in its own error codes. `url` is the URL of
 * the hop that failed; `host` is the host name or address literal as the URL or the socket gave it.
 */
export type FetchFailure =
  | { kind: "invalid-url" }
  | { kind: "scheme"; url: URL }
  | { kind: "credentials"; url: URL }
  /** An address (literal or resolved) the policy refuses; `range` names why ("loopback"...). */
  | { kind: "blocked"; url: URL; host: string; address: string; range: string }
  /** The host and port are one of Hearth's own services (SafeFetchOptions.ownServices). */
  | { kind: "own-service"; url: URL; host: string; service: HearthServiceName }
  /** DNS failed (`cause`) or answered no address (no `cause`). */
  | { kind: "unresolved"; url: URL; host: string; cause?: NodeJS.ErrnoException }
  | { kind: "no-location"; url: URL; status: number }
  | { kind: "invalid-redirect"; url: URL }
  | { kind: "too-many-redirects"; url: URL }
  | { kind: "status"; url: URL; status: number }
  | { kind: "content-type"; url: URL; contentType: string }
  /** Over maxBytes: by the declared content-length, or (no `declared`) while reading. */
  | { kind: "too-large"; url: URL; declared?: number }
  /** The request failed before an answer; `aborted` when the caller's signal or the timeout ended it. */
  | { kind: "no-answer"; url: URL; cause: NodeJS.ErrnoException; aborted: boolean }
  /** The body broke off; `aborted` as for no-answer. */
  | { kind: "read"; url: URL; cause: Error; aborted: boolean };

/** Thrown by SafeFetcher; each service turns `failure` into its own error. */
export class SafeFetchError extends Error {
  readonly failure: FetchFailure;

  constructor(failure: FetchFailure) {
    super(`fetch failed: ${failure.kind}`);
    this.name = "SafeFetchError";
    this.failure = failure;
  }
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);

/**
 * Fetches a URL a user gave without letting it reach the inside of the network (SSRF): http(s)
 * only; every connection, first and after each redirect, resolves the name and refuses it when any
 * of its addresses is one the AddressPolicy refuses, or when its host and port are one of Hearth's
 * own services (OwnServices). The check runs in the socket's own DNS lookup
 * and the socket connects only to the addresses checked there (no DNS-rebinding window); address
 * literals, which skip the lookup, are checked before connecting. No connection is pooled, so every
 * fetch is checked afresh. Limits on size (after decoding), time, redirects and content type.
 */
export class SafeFetcher {
  readonly #options: SafeFetchOptions;
  readonly #policy: AddressPolicy;
  readonly #resolver: Resolver;

  constructor(options: SafeFetchOptions) {
    this.#options = options;
    this.#policy = new AddressPolicy(options.allowPrivateRanges, {
      privateNetworks: options.allowPrivateNetworks ?? false,
    });
    this.#resolver = options.resolver ?? systemResolver;
  }

  /** Throws SafeFetchError. */
  async fetch(url: string, signal?: AbortSignal): Promise<FetchedResource> {
    // Our own linked signal: AbortSignal.any/timeout can lose aborts after a GC (nodejs/node#55428).
    const linked = linkedSignal([signal], this.#options.timeoutMs);
    try {
      return await this.#fetchWithin(url, linked.signal);
    } finally {
      linked.dispose();
    }
  }

  async #fetchWithin(url: string, combined: AbortSignal): Promise<FetchedResource> {
    let current: URL;
    try {
      current = new URL(url);
    } catch {
      throw new SafeFetchError({ kind: "invalid-url" });
    }
    for (let redirects = 0; ; redirects++) {
      await this.#checkTarget(current);
      const response = await this.#get(current, combined);
      const status = response.statusCode ?? 0;
      if (REDIRECT.has(status)) {
        response.resume();
        const location = response.headers.location;
        if (!location) throw new SafeFetchError({ kind: "no-location", url: current, status });
        if (redirects >= this.#options.maxRedirects)
          throw new SafeFetchError({ kind: "too-many-redirects", url: current });
        try {
          current = new URL(location, current);
        } catch {
          throw new SafeFetchError({ kind: "invalid-redirect", url: current });
        }
        continue;
      }
      if (status < 200 || status >= 300) {
        response.resume();
        throw new SafeFetchError({ kind: "status", url: current, status });
      }
      const contentType = String(response.headers["content-type"] ?? "");
      if (!this.#acceptsType(contentType)) {
        response.destroy();
        throw new SafeFetchError({ kind: "content-type", url: current, contentType });
      }
      return { url: current, contentType, ...(await this.#readLimited(current, response, combined)) };
    }
  }

  #acceptsType(contentType: string): boolean {
    const accepted = this.#options.contentTypes;
    if (!accepted) return true;
    if (contentType.trim() === "") return this.#options.acceptMissingContentType ?? false;
    return accepted.some((type) => contentType.toLowerCase().startsWith(type));
  }

  /** Refuses a URL before connecting: not http(s), credentials, or an address literal refused. */
  async #checkTarget(url: URL): Promise<void> {
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw new SafeFetchError({ kind: "scheme", url });
    if (this.#options.refuseCredentials && (url.username || url.password))
      throw new SafeFetchError({ kind: "credentials", url });
    const bare = url.hostname.replace(/^\[|\]$/g, "");
    if (isIP(bare)) await this.#checkAddresses(url, url.hostname, [bare]);
  }

  async #checkAddresses(url: URL, host: string, addresses: readonly string[]): Promise<void> {
    for (const address of addresses) {
      const range = this.#policy.refusal(address);
      if (range) throw new SafeFetchError({ kind: "blocked", url, host, address, range });
    }
    const service = await this.#options.ownServices?.serviceAt(url, addresses, this.#resolver);
    if (service) throw new SafeFetchError({ kind: "own-service", url, host, service });
  }

  /** The addresses of a name, every one checked; throws SafeFetchError. */
  async #resolveChecked(url: URL, hostname: string): Promise<Array<{ address: string; family: number }>> {
    let addresses: Array<{ address: string; family: number }>;
    try {
      addresses = await this.#resolver(hostname);
    } catch (error) {
      throw new SafeFetchError({
        kind: "unresolved",
        url,
        host: hostname,
        cause: error as NodeJS.ErrnoException,
      });
    }
    if (addresses.length === 0) throw new SafeFetchError({ kind: "unresolved", url, host: hostname });
    await this.#checkAddresses(
      url,
      hostname,
      addresses.map((entry) => entry.address),
    );
    return addresses;
  }

  /** One GET without following redirects. */
  async #get(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
    // Literal addresses never reach the socket's lookup (#checkTarget checked them); names are
    // resolved and checked once, in the lookup, whose answer is what the socket connects to.
    const lookup: LookupFunction = (hostname, options, callback) => {
      this.#resolveChecked(url, hostname).then(
        (addresses) => {
          if ((options as { all?: boolean }).all)
            callback(
              null,
              addresses.map((a) => ({ address: a.address, family: a.family })),
            );
          else callback(null, addresses[0]!.address, addresses[0]!.family);
        },
        (error: Error) => callback(error as NodeJS.ErrnoException, "", 0),
      );
    };
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const request = send(
        url,
        // No agent: a pooled socket would skip the lookup and so the check.
        { method: "GET", agent: false, lookup, signal, headers: { ...this.#options.headers } },
        resolve,
      );
      request.on("error", (error: NodeJS.ErrnoException) => {
        if (error instanceof SafeFetchError) reject(error);
        else reject(new SafeFetchError({ kind: "no-answer", url, cause: error, aborted: signal.aborted }));
      });
      request.end();
    });
  }

  /** The body, up to maxBytes: refused beyond it, or cut there with `truncated` (SafeFetchOptions.oversize). */
  async #readLimited(
    url: URL,
    response: IncomingMessage,
    signal: AbortSignal,
  ): Promise<{ body: Buffer; truncated: boolean }> {
    const maxBytes = this.#options.maxBytes;
    const truncate = this.#options.oversize === "truncate";
    const declared = Number(response.headers["content-length"]);
    if (!truncate && Number.isFinite(declared) && declared > maxBytes) {
      response.destroy();
      throw new SafeFetchError({ kind: "too-large", url, declared });
    }
    const chunks: Buffer[] = [];
    let total = 0;
    let truncated = false;
    const body = decodedBody(response);
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (total + chunk.length > maxBytes) {
          body.destroy();
          response.destroy();
          if (!truncate) throw new SafeFetchError({ kind: "too-large", url });
          // Only what fits is kept; the rest is neither read nor (for a compressed body) inflated.
          chunks.push(chunk.subarray(0, maxBytes - total));
          total = maxBytes;
          truncated = true;
          break;
        }
        total += chunk.length;
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof SafeFetchError) throw error;
      throw new SafeFetchError({ kind: "read", url, cause: error as Error, aborted: signal.aborted });
    }
    return { body: Buffer.concat(chunks), truncated };
  }
}

/** The response body, decoded when the server compressed it (the size limit applies to the decoded bytes). */
function decodedBody(response: IncomingMessage): Readable {
  const encoding = (response.headers["content-encoding"] ?? "").trim().toLowerCase();
  const decoder =
    encoding === "gzip" || encoding === "x-gzip"
      ? createGunzip()
      : encoding === "deflate"
        ? createInflate()
        : encoding === "br"
          ? createBrotliDecompress()
          : undefined;
  return decoder ? pipeline(response, decoder, () => {}) : response;
}
