import { lookup as dnsLookup } from "node:dns/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { HearthError, linkedSignal } from "@hearth/core";
import { AddressPolicy } from "./address-policy.js";

/** Resolves a host name to every address it has (injectable so that tests simulate DNS answers). */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export interface SafeFetchOptions {
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  /** CIDR ranges that may be fetched although private (operator allow-list). */
  allowPrivateRanges?: readonly string[];
  resolver?: Resolver;
  /** Content types accepted (by prefix). */
  contentTypes?: readonly string[];
  userAgent?: string;
}

export interface FetchedPage {
  /** The URL after redirects. */
  url: string;
  contentType: string;
  text: string;
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);
const DEFAULT_TYPES = ["text/html", "application/xhtml+xml", "text/plain"];

/**
 * Fetches web pages without letting a result URL reach the inside of the network (SSRF): every
 * connection, first and after each redirect, resolves the name and refuses loopback, private,
 * link-local, metadata and their IPv6 forms. The check runs in the socket's own DNS lookup, so the
 * address checked is the address connected to (no DNS-rebinding window). Limits on size, time,
 * redirects and content type.
 */
export class SafeFetcher {
  readonly #options: SafeFetchOptions;
  readonly #policy: AddressPolicy;
  readonly #resolver: Resolver;

  constructor(options: SafeFetchOptions) {
    this.#options = options;
    this.#policy = new AddressPolicy(options.allowPrivateRanges);
    this.#resolver = options.resolver ?? systemResolver;
  }

  async fetch(url: string, signal?: AbortSignal): Promise<FetchedPage> {
    // Our own linked signal: AbortSignal.any/timeout can lose aborts after a GC (nodejs/node#55428).
    const linked = linkedSignal([signal], this.#options.timeoutMs);
    try {
      return await this.#fetchWithin(url, linked.signal);
    } finally {
      linked.dispose();
    }
  }

  async #fetchWithin(url: string, combined: AbortSignal): Promise<FetchedPage> {
    let current = parseTarget(url);
    for (let redirects = 0; ; redirects++) {
      const response = await this.#get(current, combined);
      if (REDIRECT.has(response.statusCode ?? 0)) {
        response.resume();
        const location = response.headers.location;
        if (!location) throw failed(`${current.origin} redirected without a Location`);
        if (redirects >= this.#options.maxRedirects)
          throw failed(`more than ${this.#options.maxRedirects} redirects`);
        current = parseTarget(new URL(location, current).href);
        continue;
      }
      if ((response.statusCode ?? 0) < 200 || (response.statusCode ?? 0) >= 300) {
        response.resume();
        throw failed(`${current.origin} answered HTTP ${response.statusCode}`);
      }
      const contentType = String(response.headers["content-type"] ?? "").toLowerCase();
      const accepted = this.#options.contentTypes ?? DEFAULT_TYPES;
      if (!accepted.some((type) => contentType.startsWith(type))) {
        response.destroy();
        throw failed(`content type "${contentType.split(";")[0] || "none"}" is not fetched`);
      }
      const body = await readLimited(response, this.#options.maxBytes, combined);
      return { url: current.href, contentType, text: decode(body, contentType) };
    }
  }

  /** Refusal reason for a literal address or a name's addresses; throws SEARCH_FETCH_BLOCKED. */
  async #checkHost(hostname: string): Promise<Array<{ address: string; family: number }>> {
    const bare = hostname.replace(/^\[|\]$/g, "");
    const addresses = isIP(bare) ? [{ address: bare, family: isIP(bare) }] : await this.#resolve(bare);
    for (const { address } of addresses) {
      const refusal = this.#policy.refusal(address);
      if (refusal) {
        throw new HearthError(
          "SEARCH_FETCH_BLOCKED",
          `refused to fetch ${hostname}: it resolves to a ${refusal} address`,
          {
            details: { range: refusal },
          },
        );
      }
    }
    return addresses;
  }

  async #resolve(hostname: string) {
    try {
      const addresses = await this.#resolver(hostname);
      if (addresses.length === 0) throw new Error("no addresses");
      return addresses;
    } catch (error) {
      throw failed(
        `cannot resolve ${hostname}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  }

  async #get(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
    // Literal addresses never reach the socket's lookup, so they are checked here; names are
    // resolved and checked once, in the lookup, which is the answer the socket connects to.
    const literal = isIP(url.hostname.replace(/^\[|\]$/g, "")) !== 0;
    if (literal) await this.#checkHost(url.hostname);
    const lookup: LookupFunction = (hostname, options, callback) => {
      // Resolve again at connect time and connect only to an address that passed the policy.
      this.#checkHost(hostname).then(
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
        {
          method: "GET",
          agent: false,
          lookup: literal ? undefined : lookup,
          signal,
          headers: {
            "user-agent": this.#options.userAgent ?? "HearthSearch/0.1 (+page fetch for search results)",
            accept: "text/html,application/xhtml+xml,text/plain;q=0.9",
            "accept-encoding": "identity",
          },
        },
        resolve,
      );
      request.on("error", (error) => {
        if (error instanceof HearthError) reject(error);
        else if (signal.aborted)
          reject(failed(`no answer from ${url.origin} within ${this.#options.timeoutMs} ms`));
        else
          reject(
            failed(`cannot fetch ${url.origin}: ${(error as NodeJS.ErrnoException).code ?? error.message}`),
          );
      });
      request.end();
    });
  }
}

function parseTarget(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw failed("not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new HearthError(
      "SEARCH_FETCH_BLOCKED",
      `refused to fetch a ${url.protocol} URL; only http and https are fetched`,
    );
  }
  if (url.username || url.password)
    throw new HearthError("SEARCH_FETCH_BLOCKED", "refused to fetch a URL with credentials");
  return url;
}

function failed(message: string): HearthError {
  return new HearthError("SEARCH_FETCH_FAILED", message);
}

async function readLimited(
  response: IncomingMessage,
  maxBytes: number,
  signal: AbortSignal,
): Promise<Buffer> {
  const declared = Number(response.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw failed(`the page is ${declared} bytes, over the ${maxBytes}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) {
        response.destroy();
        throw failed(`the page is over the ${maxBytes}-byte limit`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof HearthError) throw error;
    throw failed(
      signal.aborted
        ? "the page did not arrive in time"
        : `the page could not be read: ${(error as Error).message}`,
    );
  }
  return Buffer.concat(chunks);
}

/** Decodes with the charset of the header or of a `<meta charset>` (Chinese sites still use GBK). */
function decode(body: Buffer, contentType: string): string {
  const declared =
    /charset=["']?([\w-]+)/i.exec(contentType)?.[1] ??
    /<meta[^>]+charset=["']?([\w-]+)/i.exec(body.subarray(0, 2048).toString("latin1"))?.[1];
  try {
    return new TextDecoder(declared ?? "utf-8").decode(body);
  } catch {
    return new TextDecoder("utf-8").decode(body);
  }
}
