import {
  type ProviderOutcome,
  type SearchRequest,
  type SearchResponse,
  type SearchResult,
  safeHttpUrl,
} from "@hearth/contracts";
import {
  type HearthConfig,
  HearthError,
  isHearthError,
  type Logger,
  OwnServices,
  type Resolver,
} from "@hearth/core";
import type { SensitiveWordFilter } from "@hearth/sensitive-words";
import { EmbeddingReranker } from "./embedding-reranker.js";
import { fanOut, ProviderSlot } from "./fan-out/fan-out.js";
import { extractMainText } from "./fetch/extract-main-text.js";
import { PageFetcher } from "./fetch/page-fetcher.js";
import { createProvider } from "./providers/create-provider.js";
import type { SearchProvider } from "./providers/search-provider.js";
import { type RankedResult, rankResults, wantsRecent } from "./ranking/rank-results.js";
import { searchCacheKey, TtlCache } from "./result-cache.js";
import type { SearchMetrics } from "./search-metrics.js";
import type { SharedState } from "./shared-state.js";

type SearchConfig = HearthConfig["search"];

export interface SearchAgentOptions {
  config: HearthConfig;
  logger: Logger;
  filter: SensitiveWordFilter;
  metrics?: SearchMetrics;
  /** DNS for page fetches (tests simulate answers). */
  resolver?: Resolver;
  /** Adapters to use instead of those built from config (tests, embedding into other tools). */
  providers?: SearchProvider[];
  /** Rate limits, cool-downs and cache shared with other replicas (Redis). */
  shared?: SharedState;
}

interface CachedSearch {
  ranked: RankedResult[];
  outcomes: ProviderOutcome[];
  /** How many results each engine was asked for: the answer serves a limit needing no more. */
  depth: number;
}

/**
 * How long an answer that some engine fell short in (failed, timed out, skipped, answered in part)
 * is cached, at most: long enough to spare the engines a query repeated at once (a regenerated
 * answer), short enough that the engine's results are back soon after it recovers.
 */
const PARTIAL_ANSWER_TTL_SECONDS = 30;

// C0/C1 control characters other than tab/newline, and the Unicode line/paragraph separators.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * The search agent: validates and filters the query, fans out to the chosen engines, merges,
 * ranks and filters the results, and optionally fetches and extracts the top pages.
 */
export class SearchAgent {
  readonly slots: ProviderSlot[];
  readonly #config: SearchConfig;
  readonly #logger: Logger;
  readonly #filter: SensitiveWordFilter;
  readonly #metrics: SearchMetrics | undefined;
  readonly #cache: TtlCache<CachedSearch> | undefined;
  readonly #shared: SharedState | undefined;
  readonly #pages: TtlCache<{ content: string; truncated: boolean }>;
  readonly #fetcher: PageFetcher;
  readonly #reranker: EmbeddingReranker | undefined;

  constructor(options: SearchAgentOptions) {
    const config = options.config.search;
    this.#config = config;
    this.#logger = options.logger;
    this.#filter = options.filter;
    this.#metrics = options.metrics;
    const breaker = {
      failureThreshold: config.breakerFailureThreshold,
      cooldownMs: config.breakerCooldownMs,
    };
    this.slots = config.providers.map((providerConfig, index) => {
      const provider = options.providers?.[index] ?? createProvider(providerConfig);
      return new ProviderSlot(provider, providerConfig, breaker, options.shared);
    });
    this.#cache = config.cache.enabled
      ? new TtlCache({ ttlMs: config.cache.ttlSeconds * 1000, maxEntries: config.cache.maxEntries })
      : undefined;
    this.#shared = options.shared;
    this.#pages = new TtlCache({ ttlMs: config.cache.ttlSeconds * 1000, maxEntries: 200 });
    this.#fetcher = new PageFetcher({
      maxBytes: config.fetch.maxBytes,
      timeoutMs: config.fetch.timeoutMs,
      maxRedirects: config.fetch.maxRedirects,
      allowPrivateRanges: config.fetch.allowPrivateRanges,
      ownServices: OwnServices.fromConfig(options.config),
      resolver: options.resolver,
    });
    this.#reranker = config.ranking.embeddingModel
      ? new EmbeddingReranker({
          modelUrl: options.config.services.modelUrl,
          model: config.ranking.embeddingModel,
          token: options.config.services.token,
          timeoutMs: Math.min(2000, config.deadlineMs),
        })
      : undefined;
  }

  async search(request: SearchRequest, signal?: AbortSignal): Promise<SearchResponse> {
    const query = this.#cleanQuery(request.query);
    const slots = this.#choose(request.providers);
    const queryVerdict = this.#filter.check(query);
    if (queryVerdict.blocked) {
      const lists = [
        ...new Set(queryVerdict.hits.filter((hit) => hit.action === "block").map((hit) => hit.list)),
      ];
      throw new HearthError(
        "SEARCH_QUERY_BLOCKED",
        "The query contains words that this service does not search for",
        { details: { lists } },
      );
    }
    const limit = request.limit ?? this.#config.defaultLimit;
    const key = searchCacheKey(
      query,
      slots.map((slot) => slot.provider.id),
      request.freshness,
    );
    // Ask for a few more than needed: merging and filtering remove some.
    const depth = Math.min(50, Math.max(10, limit * 2));
    // A check of the engines (`cache: false`) neither reads the cache nor counts as a lookup.
    const readCache = request.cache !== false;
    let cached = readCache ? await this.#cacheGet(key) : undefined;
    // An answer fetched for a smaller limit holds too few results for this one (a shared entry
    // written before depths were kept has none: a miss too).
    if (cached && !(cached.depth >= depth)) cached = undefined;
    if (this.#cache && readCache) this.#metrics?.cacheLookup(cached !== undefined);
    const fromCache = cached !== undefined;
    if (!cached) {
      cached = await this.#searchEngines(query, slots, depth, request, signal);
      await this.#cacheSet(key, cached);
    }

    let results = this.#filterResults(cached.ranked);
    results = await this.#rerank(query, results, limit, signal);
    results = results.slice(0, limit);
    if (request.fetch) results = await this.#fetchContent(results, signal);
    // A cached answer says how each engine answered then; no engine was asked now.
    const outcomes = fromCache
      ? cached.outcomes.map((outcome) => ({ ...outcome, latencyMs: 0 }))
      : cached.outcomes;
    this.#logger.info(
      {
        providers: outcomes.map(({ id, status, latencyMs }) => ({ id, status, latencyMs })),
        results: results.length,
        cached: fromCache,
      },
      "search answered",
    );
    return { results, providers: outcomes, ...(fromCache ? { cached: true } : {}) };
  }

  /** The shared cache when there is one and it answers, else this replica's. */
  async #cacheGet(key: string): Promise<CachedSearch | undefined> {
    if (!this.#cache) return undefined;
    if (this.#shared) {
      try {
        const stored = await this.#shared.getCached(key);
        if (stored !== undefined) return JSON.parse(stored) as CachedSearch;
      } catch {
        // Redis away or a damaged entry: fall back to this replica's cache.
      }
    }
    return this.#cache.get(key);
  }

  /**
   * Caches an answer for `search.cache.ttlSeconds`, one that some engine fell short in for
   * PARTIAL_ANSWER_TTL_SECONDS at most.
   */
  async #cacheSet(key: string, value: CachedSearch): Promise<void> {
    if (!this.#cache) return;
    const complete = value.outcomes.every((outcome) => outcome.status === "ok" && !outcome.warning);
    const ttlSeconds = complete
      ? this.#config.cache.ttlSeconds
      : Math.min(this.#config.cache.ttlSeconds, PARTIAL_ANSWER_TTL_SECONDS);
    this.#cache.set(key, value, ttlSeconds * 1000);
    await this.#shared?.setCached(key, JSON.stringify(value), ttlSeconds).catch(() => {});
  }

  #cleanQuery(raw: string): string {
    const query = raw.replace(CONTROL, " ").replace(/\s+/g, " ").trim();
    if (query.length === 0)
      throw new HearthError("SEARCH_QUERY_INVALID", "The query is empty; send a non-empty `query`");
    // Characters are code points: "😀" or "𠀀" is one, though two UTF-16 code units.
    const characters = [...query].length;
    if (characters > this.#config.maxQueryLength) {
      throw new HearthError(
        "SEARCH_QUERY_INVALID",
        `The query is ${characters} characters long; at most ${this.#config.maxQueryLength} are accepted (search.maxQueryLength)`,
        { details: { maxQueryLength: this.#config.maxQueryLength } },
      );
    }
    return query;
  }

  #choose(ids: readonly string[] | undefined): ProviderSlot[] {
    if (this.slots.length === 0) {
      throw new HearthError(
        "SEARCH_NO_PROVIDERS",
        "No search provider is configured: add one under search.providers in hearth.yaml, e.g. { id: searxng, type: searxng, url: http://127.0.0.1:8888 } (see docs/search.md)",
      );
    }
    if (!ids) {
      const enabled = this.slots.filter((slot) => slot.config.enabled);
      if (enabled.length === 0)
        throw new HearthError(
          "SEARCH_NO_PROVIDERS",
          "Every configured search provider is disabled (enabled: false)",
        );
      return enabled;
    }
    const known = new Map(this.slots.map((slot) => [slot.provider.id, slot]));
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new HearthError(
        "SEARCH_PROVIDER_UNKNOWN",
        `Unknown search provider ${unknown.map((id) => JSON.stringify(id.slice(0, 64))).join(", ")}`,
        {
          details: { available: [...known.keys()] },
        },
      );
    }
    return [...new Set(ids)].map((id) => known.get(id)!);
  }

  async #searchEngines(
    query: string,
    slots: ProviderSlot[],
    depth: number,
    request: SearchRequest,
    signal?: AbortSignal,
  ): Promise<CachedSearch> {
    const { answers, outcomes } = await fanOut(
      slots,
      { query, limit: depth, freshness: request.freshness, deadlineMs: this.#config.deadlineMs, signal },
      { onOutcome: (_slot, outcome) => this.#metrics?.providerOutcome(outcome), logger: this.#logger },
    );
    if (answers.length === 0) {
      this.#metrics?.queryOutcome("error");
      if (outcomes.every((outcome) => outcome.status === "rate-limited")) {
        const soonestMs = Math.min(...slots.map((slot) => slot.waitMs()));
        throw new HearthError(
          "SEARCH_RATE_LIMITED",
          "Every chosen search provider is rate-limited; retry after the time in Retry-After",
          { details: { providers: outcomes }, retryAfterSeconds: Math.max(1, Math.ceil(soonestMs / 1000)) },
        );
      }
      throw new HearthError(
        "SEARCH_ALL_PROVIDERS_FAILED",
        "No search provider answered; details.providers says why for each",
        {
          details: { providers: outcomes },
        },
      );
    }
    const ranked = rankResults(
      answers.map(({ slot, hits }) => ({ providerId: slot.provider.id, weight: slot.config.weight, hits })),
      {
        rrfK: this.#config.ranking.rrfK,
        denyDomains: this.#config.ranking.denyDomains,
        allowDomains: this.#config.ranking.allowDomains,
        freshness: request.freshness,
        recent: wantsRecent(query),
      },
    );
    this.#metrics?.queryOutcome(ranked.length > 0 ? "ok" : "empty");
    return { ranked, outcomes, depth };
  }

  /** Drops results that hit a drop list, masks words of mask lists, and notes flag lists. */
  #filterResults(ranked: readonly RankedResult[]): SearchResult[] {
    const results: SearchResult[] = [];
    for (const result of ranked) {
      const title = this.#filter.check(result.title);
      const snippet = this.#filter.check(result.snippet);
      if (title.dropped || snippet.dropped || title.blocked || snippet.blocked) continue;
      const flags = [...new Set([...title.flagged, ...snippet.flagged])];
      results.push({
        ...result,
        title: title.masked,
        snippet: snippet.masked,
        ...(flags.length > 0 ? { flags } : {}),
      });
    }
    return results;
  }

  async #rerank(
    query: string,
    results: SearchResult[],
    limit: number,
    signal?: AbortSignal,
  ): Promise<SearchResult[]> {
    if (!this.#reranker || results.length < 2) return results;
    const head = results.slice(0, Math.min(results.length, limit * 3));
    try {
      const similarities = await this.#reranker.similarities(
        query,
        head.map((result) => `${result.title}\n${result.snippet}`),
        signal,
      );
      const top = Math.max(...head.map((result) => result.score)) || 1;
      const rescored = head.map((result, index) => ({
        ...result,
        score: Number((0.5 * (result.score / top) + 0.5 * Math.max(0, similarities[index]!)).toFixed(6)),
      }));
      rescored.sort((a, b) => b.score - a.score);
      return [...rescored, ...results.slice(head.length)];
    } catch (error) {
      this.#logger.warn(
        { err: { message: (error as Error).message } },
        "embedding re-ranking skipped; keeping fusion order",
      );
      return results;
    }
  }

  async #fetchContent(results: SearchResult[], signal?: AbortSignal): Promise<SearchResult[]> {
    const count = Math.min(results.length, this.#config.fetch.maxPages);
    const fetched = await Promise.all(
      results.slice(0, count).map(async (result): Promise<SearchResult | undefined> => {
        let page = this.#pages.get(result.url);
        if (page === undefined) {
          try {
            const fetchedPage = await this.#fetcher.fetch(result.url, signal);
            const content = extractMainText(
              fetchedPage.text,
              fetchedPage.contentType,
              this.#config.fetch.maxContentChars,
              (limits) =>
                this.#logger.info(
                  { host: new URL(fetchedPage.url).host, ...limits },
                  "page read past a limit: deep nesting flattened or Readability skipped",
                ),
            );
            page = { content, truncated: fetchedPage.truncated };
            this.#pages.set(result.url, page);
            this.#metrics?.pageFetch("ok");
          } catch (error) {
            // The result keeps its snippet, which chat grounds the answer in instead, and says why.
            const contentError = isHearthError(error)
              ? { code: error.code, message: error.message }
              : {
                  code: "SEARCH_FETCH_FAILED",
                  message: `the page could not be read: ${(error as Error).message}`,
                };
            const blocked = contentError.code === "SEARCH_FETCH_BLOCKED";
            this.#metrics?.pageFetch(blocked ? "blocked" : "failed");
            // The host only: a result URL's path and query may carry tokens. A refused address is
            // worth an operator's look (a result pointing inside the network); a page that failed is not.
            this.#logger[blocked ? "warn" : "info"](
              {
                host: safeHttpUrl(result.url)?.host ?? "",
                code: contentError.code,
                reason: contentError.message,
              },
              blocked ? "page fetch refused" : "page fetch failed",
            );
            return { ...result, contentError };
          }
        }
        const verdict = this.#filter.check(page.content);
        if (verdict.dropped || verdict.blocked) return undefined;
        const flags = [...new Set([...(result.flags ?? []), ...verdict.flagged])];
        return {
          ...result,
          content: verdict.masked,
          ...(page.truncated ? { contentTruncated: true } : {}),
          ...(flags.length > 0 ? { flags } : {}),
        };
      }),
    );
    return [
      ...fetched.filter((result): result is SearchResult => result !== undefined),
      ...results.slice(count),
    ];
  }
}
