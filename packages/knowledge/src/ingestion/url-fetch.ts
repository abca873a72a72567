import { basename } from "node:path";
import { domainToUnicode } from "node:url";
import {
  describeNetworkError,
  type FetchedResource,
  type FetchFailure,
  HearthError,
  isUnresolvedName,
  type OwnServices,
  type Resolver,
  SafeFetchError,
  SafeFetcher,
} from "@hearth/core";

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
const TIMEOUT_MS = 60_000;
export interface FetchDocumentOptions {
  maxBytes: number;
  /** knowledge.allowPrivateUrls: the private networks (RFC 1918, IPv6 unique-local), not loopback or metadata. */
  allowPrivateNetworks: boolean;
  /** knowledge.allowPrivateRanges: ranges a URL may reach although private. */
  allowPrivateRanges: readonly string[];
  /** Never fetched, whatever the ranges allow. */
  ownServices: OwnServices;
  signal?: AbortSignal;
  /** Tests only: a resolver instead of DNS. */
  resolver?: Resolver;
}

/**
 * Downloads a document from a URL the user gave through core's SafeFetcher: http(s) only, the size
 * limit enforced while reading (after decompression), a timeout, no loopback, private-network or
 * other non-public address the operator did not allow, and never one of Hearth's own services,
 * checked for the URL, every redirect and the address actually connected to, so the service cannot
 * be used to read internal endpoints.
 */
export async function fetchDocument(
  url: string,
  options: FetchDocumentOptions,
): Promise<{ name: string; bytes: Uint8Array; contentType: string }> {
  const parsed = new URL(url);
  const fetcher = new SafeFetcher({
    maxBytes: options.maxBytes,
    timeoutMs: TIMEOUT_MS,
    maxRedirects: MAX_REDIRECTS,
    allowPrivateNetworks: options.allowPrivateNetworks,
    allowPrivateRanges: options.allowPrivateRanges,
    ownServices: options.ownServices,
    resolver: options.resolver,
    headers: { "accept-encoding": "gzip, deflate, br", "user-agent": "Hearth" },
  });
  let fetched: FetchedResource;
  try {
    fetched = await fetcher.fetch(url, options.signal);
  } catch (error) {
    if (!(error instanceof SafeFetchError)) throw error;
    if (options.signal?.aborted) throw new HearthError("JOB_CANCELLED", "The job was cancelled");
    throw fetchError(error.failure, parsed, options.maxBytes);
  }
  const contentType = fetched.contentType.split(";")[0]!.trim().toLowerCase();
  let name = urlDocumentName(parsed);
  const extension = EXTENSION_BY_TYPE[contentType];
  if (
    extension &&
    !name.toLowerCase().endsWith(extension) &&
    !(extension === ".html" && /\.html?$/i.test(name))
  )
    name += extension;
  return { name, bytes: fetched.body, contentType: contentType || "application/octet-stream" };
}

/** A host as its reader wrote it: an internationalised name in its own letters (例子.测试, not xn--…). */
function readableHost(host: string): string {
  return domainToUnicode(host) || host;
}

/** A URL's origin with its host as written (readableHost). */
function readableOrigin(url: URL): string {
  return `${url.protocol}//${readableHost(url.hostname)}${url.port ? `:${url.port}` : ""}`;
}

/**
 * Why a URL could not be fetched, in `details.reason` beside the English message, so that a page
 * can say it in its reader's language; `host` (as written, see readableHost) and `status` where
 * the reason names them.
 */
type UrlFetchFailureDetails =
  | { reason: "private-address" | "own-service" | "unresolved" | "timeout" | "no-answer"; host: string }
  | { reason: "status"; status: number }
  | { reason: "scheme" | "too-many-redirects" | "invalid-redirect" | "broke-off" | "not-fetched" };

/** Knowledge's wording of a failed fetch; messages name origin and path only (a URL may carry credentials). */
function fetchError(failure: FetchFailure, start: URL, maxBytes: number): HearthError {
  const failed = (message: string, details: UrlFetchFailureDetails) =>
    new HearthError("URL_FETCH_FAILED", message, { details });
  switch (failure.kind) {
    case "blocked":
      return failed(
        `${readableHost(failure.host)} is a private or loopback address (list it in knowledge.allowPrivateRanges to allow it)`,
        { reason: "private-address", host: readableHost(failure.host) },
      );
    case "own-service":
      return failed(
        `${failure.url.host} is one of Hearth's own services (the ${failure.service} service), which URL ingestion never fetches`,
        { reason: "own-service", host: readableHost(failure.url.hostname) },
      );
    case "scheme":
      return failed("Only http and https URLs can be ingested", { reason: "scheme" });
    case "unresolved": {
      const host = readableHost(failure.host);
      const message = failure.cause
        ? `${readableOrigin(failure.url)} did not answer: ${describeNetworkError(failure.cause)}`
        : `${host} does not resolve`;
      // DNS that did not answer at all (EAI_AGAIN) is no proof that the name does not exist.
      const noAnswer = failure.cause !== undefined && !isUnresolvedName(failure.cause);
      return failed(message, { reason: noAnswer ? "no-answer" : "unresolved", host });
    }
    case "no-answer":
      // The caller's signal is the job's cancellation, answered above: aborted here is the timeout.
      return failed(`${readableOrigin(failure.url)} did not answer: ${describeNetworkError(failure.cause)}`, {
        reason: failure.aborted ? "timeout" : "no-answer",
        host: readableHost(failure.url.hostname),
      });
    case "no-location":
    case "status":
      return failed(`${readableOrigin(start)}${start.pathname} answered ${failure.status}`, {
        reason: "status",
        status: failure.status,
      });
    case "too-many-redirects":
      return failed(`${readableOrigin(start)}${start.pathname} redirects more than ${MAX_REDIRECTS} times`, {
        reason: "too-many-redirects",
      });
    case "invalid-redirect":
      return failed(`${failure.url.origin}${failure.url.pathname} redirects to an invalid URL`, {
        reason: "invalid-redirect",
      });
    case "too-large":
      return new HearthError(
        "DOCUMENT_TOO_LARGE",
        failure.declared === undefined
          ? `The document is larger than the limit of ${maxBytes} bytes`
          : `The document is ${failure.declared} bytes; the limit is ${maxBytes}`,
        { details: { maxBytes } },
      );
    case "read":
      return failed(
        `${start.origin} broke off the download: ${describeNetworkError(failure.cause)}`,
        failure.aborted ? { reason: "timeout", host: readableHost(start.hostname) } : { reason: "broke-off" },
      );
    // Not asked for here: the URL was parsed above, credentials and any content type are accepted.
    case "invalid-url":
    case "credentials":
    case "content-type":
      return failed(`${start.origin}${start.pathname} could not be fetched`, { reason: "not-fetched" });
  }
}

/**
 * A document's name for a URL, before its type is known: the last path segment (the host for a
 * bare address), with separators and control characters as "_".
 */
export function urlDocumentName(url: URL): string {
  return (decodeURIComponent(basename(url.pathname)) || url.hostname).replace(/[/\\\u0000-\u001f]/g, "_");
}
