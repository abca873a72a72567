import { lookup as dnsLookup } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { basename } from "node:path";
import { pipeline, type Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { HearthError } from "@hearth/core";

const EXTENSION_BY_TYPE: Record<string, string> = {
  "application/pdf": ".pdf",
  "text/html": ".html",
  "application/xhtml+xml": ".html",
  "text/markdown": ".md",
  "text/plain": ".txt",
  "text/csv": ".csv",
  "application/json": ".json",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
  "application/vnd.oasis.opendocument.text": ".odt",
};

/** Redirects followed per URL; each hop is checked like the URL itself. */
const MAX_REDIRECTS = 5;

/** Addresses a user-supplied URL may not reach unless knowledge.allowPrivateUrls is set. */
export const PRIVATE_RANGES: BlockList = (() => {
  const list = new BlockList();
  for (const [net, prefix] of [
    ["0.0.0.0", 8], // "this network"; 0.0.0.0 reaches the local host
    ["10.0.0.0", 8],
    ["100.64.0.0", 10], // carrier-grade NAT
    ["127.0.0.0", 8],
    ["169.254.0.0", 16], // link-local, cloud metadata endpoints
    ["172.16.0.0", 12],
    ["192.0.0.0", 24], // IETF protocol assignments
    ["192.0.2.0", 24], // documentation
    ["192.168.0.0", 16],
    ["198.18.0.0", 15], // benchmarking
    ["198.51.100.0", 24], // documentation
    ["203.0.113.0", 24], // documentation
    ["224.0.0.0", 4], // multicast
    ["240.0.0.0", 4], // reserved, 255.255.255.255 broadcast
  ] as const)
    list.addSubnet(net, prefix, "ipv4");
  for (const [net, prefix] of [
    ["::", 96], // unspecified, loopback and the deprecated IPv4-compatible form
    ["64:ff9b:1::", 48], // local-use NAT64
    ["100::", 64], // discard
    ["2001::", 32], // Teredo: the embedded IPv4 is obfuscated, so refuse the whole range
    ["2001:db8::", 32], // documentation
    ["fc00::", 7], // unique local
    ["fe80::", 10], // link-local
    ["fec0::", 10], // site-local (deprecated)
    ["ff00::", 8], // multicast
  ] as const)
    list.addSubnet(net, prefix, "ipv6");
  return list;
})();

/** The eight 16-bit groups of a valid IPv6 address (zone and dotted-quad tail allowed). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().split("%")[0]!;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const headGroups = head ? head.split(":") : [];
  if (tail === undefined) return headGroups.map((group) => Number.parseInt(group, 16));
  const tailGroups = tail ? tail.split(":") : [];
  const zeros = Array<string>(8 - headGroups.length - tailGroups.length).fill("0");
  return [...headGroups, ...zeros, ...tailGroups].map((group) => Number.parseInt(group, 16));
}

function ipv4From(high: number, low: number): string {
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/**
 * The IPv4 address an IPv6 address carries to an IPv4 host: IPv4-mapped (::ffff:0:0/96, which
 * Node's URL parser writes as ::ffff:7f00:1), IPv4-translated (::ffff:0:0:0/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
 */
function embeddedIpv4(groups: number[]): string | undefined {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff) return ipv4From(g6, g7);
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return ipv4From(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return ipv4From(g6, g7);
  if (g0 === 0x2002) return ipv4From(g1, g2);
  return undefined;
}

/** Whether an IP address is one a user-supplied URL may not reach; non-addresses count as private. */
export function isPrivateAddress(address: string, ranges: BlockList = PRIVATE_RANGES): boolean {
  const family = isIP(address);
  if (family === 4) return ranges.check(address, "ipv4");
  if (family !== 6) return true;
  const embedded = embeddedIpv4(ipv6Groups(address));
  if (embedded !== undefined) return ranges.check(embedded, "ipv4");
  return ranges.check(address.split("%")[0]!, "ipv6");
}

export interface FetchDocumentOptions {
  maxBytes: number;
  allowPrivateNetwork: boolean;
  signal?: AbortSignal;
  /** Tests only: the ranges refused instead of PRIVATE_RANGES, and a resolver instead of DNS. */
  privateRanges?: BlockList;
  lookup?: typeof dnsLookup;
}

function privateAddressError(host: string): HearthError {
  return new HearthError(
    "URL_FETCH_FAILED",
    `${host} is a private or loopback address (set knowledge.allowPrivateUrls to allow it)`,
  );
}

/**
 * A socket lookup that refuses names resolving to a private address. The socket connects to the
 * address checked here, so a name cannot pass the check and then resolve elsewhere (DNS rebinding).
 */
function checkedLookup(options: FetchDocumentOptions): LookupFunction {
  const resolve = options.lookup ?? dnsLookup;
  return (hostname, lookupOptions, callback) => {
    resolve(hostname, { ...lookupOptions, all: true }, (error, entries) => {
      if (error) return callback(error, "", 0);
      const list = entries as unknown as Array<{ address: string; family: number }>;
      if (list.length === 0)
        return callback(new HearthError("URL_FETCH_FAILED", `${hostname} does not resolve`), "", 0);
      if (list.some((entry) => isPrivateAddress(entry.address, options.privateRanges)))
        return callback(privateAddressError(hostname), "", 0);
      if (lookupOptions.all) return (callback as unknown as (e: null, all: typeof list) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

/** Refuses a URL before connecting: not http(s), or an address literal in a private range. */
function checkTarget(url: URL, options: FetchDocumentOptions): void {
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new HearthError("URL_FETCH_FAILED", "Only http and https URLs can be ingested");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!options.allowPrivateNetwork && isIP(host) && isPrivateAddress(host, options.privateRanges))
    throw privateAddressError(url.hostname);
}

/** One GET without following redirects; names are resolved through the checking lookup. */
function requestOnce(url: URL, options: FetchDocumentOptions, signal: AbortSignal): Promise<IncomingMessage> {
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(url, {
      method: "GET",
      headers: { "accept-encoding": "gzip, deflate, br", "user-agent": "Hearth" },
      signal,
      ...(options.allowPrivateNetwork ? {} : { lookup: checkedLookup(options) }),
    });
    request.once("response", resolve);
    request.once("error", reject);
    request.end();
  });
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

/** GETs a URL, following up to MAX_REDIRECTS redirects by hand so that every hop is checked. */
async function getFollowingRedirects(start: URL, options: FetchDocumentOptions): Promise<IncomingMessage> {
  const timeout = AbortSignal.timeout(60_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let url = start;
  for (let hop = 0; ; hop++) {
    checkTarget(url, options);
    let response: IncomingMessage;
    try {
      response = await requestOnce(url, options, signal);
    } catch (error) {
      if (options.signal?.aborted) throw new HearthError("JOB_CANCELLED", "The job was cancelled");
      if (error instanceof HearthError) throw error;
      throw new HearthError("URL_FETCH_FAILED", `${url.origin} did not answer: ${(error as Error).message}`);
    }
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (![301, 302, 303, 307, 308].includes(status) || !location) return response;
    response.resume();
    if (hop >= MAX_REDIRECTS)
      throw new HearthError(
        "URL_FETCH_FAILED",
        `${start.origin}${start.pathname} redirects more than ${MAX_REDIRECTS} times`,
      );
    try {
      url = new URL(location, url);
    } catch {
      throw new HearthError("URL_FETCH_FAILED", `${url.origin}${url.pathname} redirects to an invalid URL`);
    }
  }
}

/**
 * Downloads a document from a URL the user gave: http(s) only, the size limit enforced while
 * reading, a timeout, and (unless the operator allows it) no loopback or private-network address,
 * checked for the URL, every redirect and the address actually connected to, so the service
 * cannot be used to read internal endpoints.
 */
export async function fetchDocument(
  url: string,
  options: FetchDocumentOptions,
): Promise<{ name: string; bytes: Uint8Array; contentType: string }> {
  const parsed = new URL(url);
  const response = await getFollowingRedirects(parsed, options);
  const status = response.statusCode ?? 0;
  // Messages name origin and path only: a URL may carry credentials (user:password@, ?token=).
  if (status < 200 || status > 299) {
    response.resume();
    throw new HearthError("URL_FETCH_FAILED", `${parsed.origin}${parsed.pathname} answered ${status}`);
  }
  const declared = Number(response.headers["content-length"] ?? "0");
  if (declared > options.maxBytes) {
    response.destroy();
    throw new HearthError(
      "DOCUMENT_TOO_LARGE",
      `The document is ${declared} bytes; the limit is ${options.maxBytes}`,
    );
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  const body = decodedBody(response);
  try {
    for await (const part of body as AsyncIterable<Uint8Array>) {
      size += part.length;
      if (size > options.maxBytes) {
        body.destroy();
        response.destroy();
        throw new HearthError(
          "DOCUMENT_TOO_LARGE",
          `The document is larger than the limit of ${options.maxBytes} bytes`,
        );
      }
      parts.push(part);
    }
  } catch (error) {
    if (error instanceof HearthError) throw error;
    if (options.signal?.aborted) throw new HearthError("JOB_CANCELLED", "The job was cancelled");
    throw new HearthError(
      "URL_FETCH_FAILED",
      `${parsed.origin} broke off the download: ${(error as Error).message}`,
    );
  }
  const contentType = String(response.headers["content-type"] ?? "")
    .split(";")[0]!
    .trim()
    .toLowerCase();
  let name = urlDocumentName(parsed);
  const extension = EXTENSION_BY_TYPE[contentType];
  if (
    extension &&
    !name.toLowerCase().endsWith(extension) &&
    !(extension === ".html" && /\.html?$/i.test(name))
  )
    name += extension;
  return {
    name,
    bytes: Buffer.concat(parts),
    contentType: contentType || "application/octet-stream",
  };
}

/**
 * A document's name for a URL, before its type is known: the last path segment (the host for a
 * bare address), with separators and control characters as "_".
 */
export function urlDocumentName(url: URL): string {
  return (decodeURIComponent(basename(url.pathname)) || url.hostname).replace(/[/\\\u0000-\u001f]/g, "_");
}
