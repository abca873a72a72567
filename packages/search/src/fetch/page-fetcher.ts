import {
  describeNetworkError,
  type FetchFailure,
  HearthError,
  type OwnServices,
  SafeFetchError,
  SafeFetcher,
  type SafeFetchOptions,
} from "@hearth/core";
import { decodePage, sniffPageType } from "./page-decoding.js";

export type PageFetchOptions = Pick<
  SafeFetchOptions,
  "maxBytes" | "timeoutMs" | "maxRedirects" | "allowPrivateRanges" | "resolver"
> & {
  /** Never fetched, whatever allowPrivateRanges allows. */
  ownServices: OwnServices;
};

export interface FetchedPage {
  /** The URL after redirects. */
  url: string;
  /** Lowercased, as sent or (none sent) as sniffed from the body. */
  contentType: string;
  text: string;
  /** The page was longer than maxBytes: `text` is its first maxBytes bytes. */
  truncated: boolean;
}

const PAGE_TYPES = ["text/html", "application/xhtml+xml", "text/plain"];

/**
 * Fetches a result's page through core's SafeFetcher (SSRF checks on every hop, limits), reads the
 * first maxBytes of a longer one, sniffs a page sent without a type, decodes it with its charset,
 * and words failures as SEARCH_FETCH_BLOCKED (refused address, one of Hearth's own services, scheme
 * or credentials) or SEARCH_FETCH_FAILED (anything else).
 */
export class PageFetcher {
  readonly #fetcher: SafeFetcher;
  readonly #options: PageFetchOptions;

  constructor(options: PageFetchOptions) {
    this.#options = options;
    this.#fetcher = new SafeFetcher({
      ...options,
      // The start of a long page is what a search result needs; a page is not refused for its length.
      oversize: "truncate",
      contentTypes: PAGE_TYPES,
      acceptMissingContentType: true,
      refuseCredentials: true,
      headers: {
        "user-agent": "HearthSearch/0.1 (+page fetch for search results)",
        accept: "text/html,application/xhtml+xml,text/plain;q=0.9",
        "accept-encoding": "identity",
      },
    });
  }

  async fetch(url: string, signal?: AbortSignal): Promise<FetchedPage> {
    try {
      const page = await this.#fetcher.fetch(url, signal);
      const contentType = page.contentType.trim().toLowerCase() || sniffPageType(page.body);
      if (!contentType) throw failed("the page was sent without a content type and is not text");
      return {
        url: page.url.href,
        contentType,
        text: decodePage(page.body, contentType, page.truncated),
        truncated: page.truncated,
      };
    } catch (error) {
      throw error instanceof SafeFetchError ? this.#error(error.failure) : error;
    }
  }

  #error(failure: FetchFailure): HearthError {
    const { maxRedirects, timeoutMs } = this.#options;
    switch (failure.kind) {
      case "blocked":
        return new HearthError(
          "SEARCH_FETCH_BLOCKED",
          `refused to fetch ${failure.host}: it resolves to a ${failure.range} address`,
          { details: { range: failure.range } },
        );
      case "own-service":
        return new HearthError(
          "SEARCH_FETCH_BLOCKED",
          `refused to fetch ${failure.url.host}: it is one of Hearth's own services (the ${failure.service} service)`,
          { details: { service: failure.service } },
        );
      case "scheme":
        return new HearthError(
          "SEARCH_FETCH_BLOCKED",
          `refused to fetch a ${failure.url.protocol} URL; only http and https are fetched`,
        );
      case "credentials":
        return new HearthError("SEARCH_FETCH_BLOCKED", "refused to fetch a URL with credentials");
      case "invalid-url":
        return failed("not a valid URL");
      case "unresolved":
        return failed(
          `cannot resolve ${failure.host}: ${failure.cause ? (failure.cause.code ?? failure.cause.message) : "no addresses"}`,
        );
      case "no-location":
        return failed(`${failure.url.origin} redirected without a Location`);
      case "invalid-redirect":
        return failed(`${failure.url.origin} redirected to an invalid URL`);
      case "too-many-redirects":
        return failed(`more than ${maxRedirects} redirects`);
      case "status":
        return failed(`${failure.url.origin} answered HTTP ${failure.status}`);
      case "content-type":
        return failed(
          `content type "${failure.contentType.toLowerCase().split(";")[0] || "none"}" is not fetched`,
        );
      case "no-answer":
        return failed(
          failure.aborted
            ? `no answer from ${failure.url.origin} within ${timeoutMs} ms`
            : `cannot fetch ${failure.url.origin}: ${describeNetworkError(failure.cause)}`,
        );
      case "too-large":
        // Not met with oversize "truncate", which reads a longer page up to maxBytes; the type still has it.
        return failed(`the page is over the ${this.#options.maxBytes}-byte limit`);
      case "read":
        return failed(
          failure.aborted
            ? "the page did not arrive in time"
            : `the page could not be read: ${describeNetworkError(failure.cause)}`,
        );
    }
  }
}

function failed(message: string): HearthError {
  return new HearthError("SEARCH_FETCH_FAILED", message);
}
