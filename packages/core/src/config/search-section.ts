import { z } from "zod";
import { addressRanges, host, httpUrl, labelId, port } from "./fields.js";
import { sensitiveWordsSection } from "./sensitive-words-section.js";

/** What every provider shares: timeout, rate limit, weight in ranking, breaker and hedging. */
const providerCommon = {
  /** A provider id: used in metrics labels, API requests and logs. */
  id: labelId,
  /** Give up on this provider after this long (the request deadline may be shorter). */
  timeoutMs: z.number().int().min(50).max(120_000).default(5000),
  /** Token bucket: at most `perSecond` calls a second on average, bursts of `burst` (default: perSecond). */
  rateLimit: z
    .strictObject({
      perSecond: z.number().positive().max(10_000),
      burst: z.number().int().min(1).max(10_000).optional(),
    })
    .prefault({ perSecond: 5 }),
  /** Weight of this engine in rank fusion (1 = neutral). */
  weight: z.number().min(0).max(100).default(1),
  /** Ask a second time when the first call is still out after this long (hedging); off when unset. */
  hedgeAfterMs: z.number().int().min(10).max(60_000).optional(),
  /** Retries of a failed call (5xx, network error) within the deadline, with exponential backoff and jitter. */
  retries: z.number().int().min(0).max(5).default(1),
  /** Queried when a request names no providers. */
  enabled: z.boolean().default(true),
};

const keyed = { ...providerCommon, apiKey: z.string().min(1) };

/** A JSON path such as `data.items` or `results[0].title` (dots and [index]). */
const jsonPath = z.string().min(1).max(200);

/** Declarative description of a JSON search API, so that a new engine needs no code. */
const customProvider = z.strictObject({
  ...providerCommon,
  type: z.literal("custom"),
  /** URL; `{query}`, `{limit}` and `{freshness}` are replaced (URL-encoded in the URL). */
  url: httpUrl,
  method: z.enum(["GET", "POST"]).default("GET"),
  /** Request headers; values may use `{apiKey}`. */
  headers: z.record(z.string(), z.string()).default({}),
  /** JSON body for POST; string values may contain `{query}`, `{limit}`, `{freshness}`, `{apiKey}`. */
  body: z.unknown().optional(),
  apiKey: z.string().min(1).optional(),
  /** How `freshness` values are spelled for this engine (e.g. `{ day: "d1" }`); unknown ones are sent empty. */
  freshnessValues: z.partialRecord(z.enum(["day", "week", "month", "year"]), z.string()).default({}),
  response: z.strictObject({
    /** Where the list of results is. */
    results: jsonPath,
    title: jsonPath,
    url: jsonPath,
    snippet: jsonPath.optional(),
    publishedAt: jsonPath.optional(),
  }),
});

export const searchProviderSchema = z.discriminatedUnion("type", [
  z.strictObject({
    ...providerCommon,
    type: z.literal("searxng"),
    url: httpUrl,
    engines: z.string().optional(),
    language: z.string().optional(),
  }),
  z.strictObject({
    ...keyed,
    type: z.literal("baidu"),
    url: httpUrl.default("https://qianfan.baidubce.com/v2/ai_search/web_search"),
  }),
  z.strictObject({
    ...keyed,
    type: z.literal("bocha"),
    url: httpUrl.default("https://api.bochaai.com/v1/web-search"),
  }),
  z.strictObject({
    ...keyed,
    type: z.literal("bing"),
    url: httpUrl.default("https://api.bing.microsoft.com/v7.0/search"),
    market: z.string().optional(),
  }),
  z.strictObject({
    ...keyed,
    type: z.literal("brave"),
    url: httpUrl.default("https://api.search.brave.com/res/v1/web/search"),
  }),
  z.strictObject({
    ...keyed,
    type: z.literal("tavily"),
    url: httpUrl.default("https://api.tavily.com/search"),
  }),
  z.strictObject({
    ...keyed,
    type: z.literal("serper"),
    url: httpUrl.default("https://google.serper.dev/search"),
  }),
  z.strictObject({
    ...keyed,
    type: z.literal("google"),
    cx: z.string().min(1),
    url: httpUrl.default("https://www.googleapis.com/customsearch/v1"),
  }),
  customProvider,
]);

export type SearchProviderConfig = z.output<typeof searchProviderSchema>;

export const searchSection = z
  .strictObject({
    host: host.default("127.0.0.1"),
    port: port.default(8082),
    providers: z.array(searchProviderSchema).max(64).default([]),
    /** The whole fan-out answers by this deadline with whatever arrived. */
    deadlineMs: z.number().int().min(100).max(120_000).default(4000),
    /** Results returned when a request gives no limit. */
    defaultLimit: z.number().int().min(1).max(100).default(10),
    maxQueryLength: z.number().int().min(16).max(10_000).default(1000),
    /** Circuit breaker: open after this many consecutive failures, probe again after `breakerCooldownMs`. */
    breakerFailureThreshold: z.number().int().min(1).max(100).default(5),
    breakerCooldownMs: z.number().int().min(100).max(3_600_000).default(30_000),
    /**
     * Shared state for several replicas of the search service: token buckets, Retry-After
     * cool-downs and the result cache live in Redis, so limits hold across replicas. In process when unset.
     */
    redis: z
      .strictObject({
        url: z.url({ protocol: /^rediss?$/ }),
        keyPrefix: z.string().min(1).max(100).default("hearth:search:"),
      })
      .optional(),
    cache: z
      .strictObject({
        enabled: z.boolean().default(true),
        ttlSeconds: z
          .number()
          .int()
          .min(1)
          .max(7 * 24 * 3600)
          .default(600),
        maxEntries: z.number().int().min(1).max(1_000_000).default(1000),
      })
      .prefault({}),
    ranking: z
      .strictObject({
        /** Reciprocal rank fusion constant. */
        rrfK: z.number().min(1).max(1000).default(60),
        /** Results from these domains (and their subdomains) are dropped. */
        denyDomains: z.array(z.string().min(1)).default([]),
        /** Results from these domains are boosted. */
        allowDomains: z.array(z.string().min(1)).default([]),
        /** Re-rank with the model service's embeddings (`POST <modelUrl>/v1/embeddings`) when set. */
        embeddingModel: z.string().min(1).optional(),
      })
      .prefault({}),
    /** Sensitive-word lists for queries, results and fetched pages (docs/sensitive-words.md). */
    filter: sensitiveWordsSection.prefault({}),
    fetch: z
      .strictObject({
        /** How many top results to fetch when a request asks for content. */
        maxPages: z.number().int().min(1).max(20).default(3),
        maxBytes: z
          .number()
          .int()
          .min(1024)
          .max(50 * 1024 * 1024)
          .default(2 * 1024 * 1024),
        timeoutMs: z.number().int().min(100).max(60_000).default(5000),
        maxRedirects: z.number().int().min(0).max(10).default(3),
        /** Characters of extracted text kept per page. */
        maxContentChars: z.number().int().min(100).max(1_000_000).default(20_000),
        /** CIDR ranges (or single addresses) that may be fetched although private, e.g. an intranet. */
        allowPrivateRanges: addressRanges,
      })
      .prefault({}),
  })
  .superRefine((section, context) => {
    const seen = new Set<string>();
    section.providers.forEach((provider, index) => {
      if (seen.has(provider.id)) {
        context.addIssue({
          code: "custom",
          path: ["providers", index, "id"],
          message: `duplicate provider id "${provider.id}"`,
        });
      }
      seen.add(provider.id);
    });
  });
