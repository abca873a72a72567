import {
  describeNetworkError,
  type FetchFailure,
  HearthError,
  type OwnServices,
  SafeFetchError,
  SafeFetcher,
  type SafeFetchOptions,
} from "@hearth/core";

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
  contentType: string;
  text: string;
}

const PAGE_TYPES = ["text/html", "application/xhtml+xml", "text/plain"];

/**
 * Fetches a result's page through core's SafeFetcher (SSRF checks on every hop, limits), decodes
 * it with its charset, and words failures as SEARCH_FETCH_BLOCKED (refused address, one of
 * Hearth's own services, scheme or credentials) or SEARCH_FETCH_FAILED (anything else).
 */
export class PageFetcher {
  readonly #fetcher: SafeFetcher;
  readonly #options: PageFetchOptions;

  constructor(options: PageFetchOptions) {
    this.#options = options;
    this.#fetcher = new SafeFetcher({
      ...options,
      contentTypes: PAGE_TYPES,
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
      const contentType = page.contentType.toLowerCase();
      return { url: page.url.href, contentType, text: decode(page.body, contentType) };
    } catch (error) {
      throw error instanceof SafeFetchError ? this.#error(error.failure) : error;
    }
  }

  #error(failure: FetchFailure): HearthError {
    const { maxBytes, maxRedirects, timeoutMs } = this.#options;
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
      case "too-large":
        return failed(
          failure.declared === undefined
            ? `the page is over the ${maxBytes}-byte limit`
            : `the page is ${failure.declared} bytes, over the ${maxBytes}-byte limit`,
        );
      case "no-answer":
        return failed(
          failure.aborted
            ? `no answer from ${failure.url.origin} within ${timeoutMs} ms`
            : `cannot fetch ${failure.url.origin}: ${describeNetworkError(failure.cause)}`,
        );
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
