import type { SearchProviderConfig } from "@hearth/core";
import { searchProviderSchema } from "@hearth/core";

/**
 * Each engine's documented response formats, as recorded from their API references: a page of
 * results, a rate-limit reply and an error reply. Used by the contract suite over all providers.
 */
export interface EngineFixture {
  type: SearchProviderConfig["type"];
  /** A config pointing at the replay server; the key is fake. */
  config(baseUrl: string): SearchProviderConfig;
  /** Path the adapter must call. */
  path: string;
  /** Where the API key must appear in the request (header name), or "query:<param>". */
  keyAt?: string;
  ok: unknown;
  rateLimited: { status: number; body: unknown; headers?: Record<string, string> };
  error: { status: number; body: unknown; message: string };
  /** How the adapter spells freshness "week" in the request. */
  freshnessWeek: string;
}

const key = "test-key-0123456789";
const parse = (value: unknown) => searchProviderSchema.parse(value);

/** The three results every fixture holds, as the adapter must return them. */
export const EXPECTED_HITS = [
  {
    url: "https://nodejs.org/en/blog/release/v20.0.0",
    title: "Node.js 20 is now available!",
    snippet: "Node.js 20 brings the Permission Model & a stable test runner.",
  },
  {
    url: "https://www.example.com/news/node-20?utm_source=feed",
    title: "What's new in Node 20",
    snippet: "A look at the new features.",
  },
  { url: "https://zh.example.cn/文章/node", title: "Node.js 20 发布", snippet: "Node.js 20 版本正式发布。" },
];
export const EXPECTED_DATE = "2023-04-18T00:00:00.000Z";

export const ENGINE_FIXTURES: EngineFixture[] = [
  {
    type: "searxng",
    config: (url) => parse({ id: "searxng", type: "searxng", url }),
    path: "/search",
    ok: {
      query: "node 20",
      number_of_results: 0,
      results: [
        {
          url: EXPECTED_HITS[0]!.url,
          title: EXPECTED_HITS[0]!.title,
          content: "Node.js 20 brings the Permission Model &amp; a stable test runner.",
          engine: "duckduckgo",
          engines: ["duckduckgo", "brave"],
          positions: [1, 2],
          score: 4.0,
          category: "general",
          publishedDate: "2023-04-18T00:00:00",
        },
        {
          url: EXPECTED_HITS[1]!.url,
          title: EXPECTED_HITS[1]!.title,
          content: EXPECTED_HITS[1]!.snippet,
          engine: "google",
          engines: ["google"],
          positions: [2],
          score: 1.5,
          category: "general",
          publishedDate: null,
        },
        {
          url: EXPECTED_HITS[2]!.url,
          title: EXPECTED_HITS[2]!.title,
          content: EXPECTED_HITS[2]!.snippet,
          engine: "bing",
          engines: ["bing"],
          positions: [3],
          score: 1.0,
          category: "general",
        },
      ],
      answers: [],
      corrections: [],
      infoboxes: [],
      suggestions: ["node 20 lts"],
      unresponsive_engines: [["wikidata", "timeout"]],
    },
    // SearXNG's limiter answers 429 with a plain-text body.
    rateLimited: { status: 429, body: "Too Many Requests", headers: { "retry-after": "2" } },
    // The json format is disabled in settings.yml: 403.
    error: { status: 403, body: "Forbidden", message: "HTTP 403" },
    freshnessWeek: "time_range=week",
  },
  {
    type: "baidu",
    config: (url) =>
      parse({ id: "baidu", type: "baidu", apiKey: key, url: `${url}/v2/ai_search/web_search` }),
    path: "/v2/ai_search/web_search",
    keyAt: "authorization",
    ok: {
      request_id: "b9e5c0f2-7d1e-4e3a-9a55-3f1b2f5c0a11",
      references: [
        {
          id: 1,
          url: EXPECTED_HITS[0]!.url,
          title: EXPECTED_HITS[0]!.title,
          date: "2023-04-18 00:00:00",
          content: EXPECTED_HITS[0]!.snippet,
          icon: null,
          web_anchor: "Node.js",
          type: "web",
          website: "Node.js",
        },
        {
          id: 2,
          url: EXPECTED_HITS[1]!.url,
          title: EXPECTED_HITS[1]!.title,
          date: "",
          content: EXPECTED_HITS[1]!.snippet,
          icon: null,
          web_anchor: "",
          type: "web",
          website: "",
        },
        {
          id: 3,
          url: EXPECTED_HITS[2]!.url,
          title: EXPECTED_HITS[2]!.title,
          date: null,
          content: EXPECTED_HITS[2]!.snippet,
          icon: null,
          web_anchor: "",
          type: "web",
          website: "",
        },
      ],
    },
    rateLimited: {
      status: 429,
      body: { requestId: "c1", code: "rpm_rate_limit_exceeded", message: "Rate limit reached for RPM" },
    },
    error: {
      status: 401,
      body: { requestId: "c2", code: "InvalidApiKey", message: "Invalid API key" },
      message: "Invalid API key",
    },
    freshnessWeek: '"search_recency_filter":"week"',
  },
  {
    type: "bocha",
    config: (url) => parse({ id: "bocha", type: "bocha", apiKey: key, url: `${url}/v1/web-search` }),
    path: "/v1/web-search",
    keyAt: "authorization",
    ok: {
      code: 200,
      log_id: "6c3a5b2e1f0d",
      msg: null,
      data: {
        _type: "SearchResponse",
        queryContext: { originalQuery: "node 20" },
        webPages: {
          webSearchUrl: "",
          totalEstimatedMatches: 1000,
          value: [
            {
              id: "https://api.bochaai.com/v1/#WebPages.0",
              name: EXPECTED_HITS[0]!.title,
              url: EXPECTED_HITS[0]!.url,
              displayUrl: EXPECTED_HITS[0]!.url,
              snippet: EXPECTED_HITS[0]!.snippet,
              siteName: "nodejs.org",
              siteIcon: "",
              datePublished: "2023-04-18T08:00:00+08:00",
              dateLastCrawled: "2023-04-18T08:00:00Z",
              cachedPageUrl: null,
              language: null,
              isFamilyFriendly: null,
              isNavigational: null,
            },
            {
              id: "https://api.bochaai.com/v1/#WebPages.1",
              name: EXPECTED_HITS[1]!.title,
              url: EXPECTED_HITS[1]!.url,
              snippet: EXPECTED_HITS[1]!.snippet,
              siteName: "example.com",
            },
            {
              id: "https://api.bochaai.com/v1/#WebPages.2",
              name: EXPECTED_HITS[2]!.title,
              url: EXPECTED_HITS[2]!.url,
              snippet: EXPECTED_HITS[2]!.snippet,
              siteName: "example.cn",
            },
          ],
          someResultsRemoved: true,
        },
      },
    },
    rateLimited: {
      status: 429,
      body: { code: "429", message: "You have exceeded the rate limit", log_id: "1" },
    },
    error: {
      status: 403,
      body: { code: "403", message: "You do not have enough money", log_id: "2" },
      message: "enough money",
    },
    freshnessWeek: '"freshness":"oneWeek"',
  },
  {
    type: "bing",
    config: (url) => parse({ id: "bing", type: "bing", apiKey: key, url: `${url}/v7.0/search` }),
    path: "/v7.0/search",
    keyAt: "ocp-apim-subscription-key",
    ok: {
      _type: "SearchResponse",
      queryContext: { originalQuery: "node 20" },
      webPages: {
        webSearchUrl: "https://www.bing.com/search?q=node+20",
        totalEstimatedMatches: 2340000,
        value: [
          {
            id: "https://api.bing.microsoft.com/api/v7/#WebPages.0",
            name: EXPECTED_HITS[0]!.title,
            url: EXPECTED_HITS[0]!.url,
            isFamilyFriendly: true,
            displayUrl: "https://nodejs.org/en/blog/release/v20.0.0",
            snippet: EXPECTED_HITS[0]!.snippet,
            datePublished: "2023-04-18T00:00:00.0000000",
            dateLastCrawled: "2023-11-01T10:00:00.0000000Z",
            language: "en",
            isNavigational: false,
          },
          {
            id: "https://api.bing.microsoft.com/api/v7/#WebPages.1",
            name: EXPECTED_HITS[1]!.title,
            url: EXPECTED_HITS[1]!.url,
            snippet: EXPECTED_HITS[1]!.snippet,
            dateLastCrawled: "2023-10-01T10:00:00.0000000Z",
          },
          {
            id: "https://api.bing.microsoft.com/api/v7/#WebPages.2",
            name: EXPECTED_HITS[2]!.title,
            url: EXPECTED_HITS[2]!.url,
            snippet: EXPECTED_HITS[2]!.snippet,
          },
        ],
      },
      rankingResponse: { mainline: { items: [] } },
    },
    rateLimited: {
      status: 429,
      body: { error: { code: "429", message: "Rate limit is exceeded. Try again in 1 seconds." } },
      headers: { "retry-after": "1" },
    },
    error: {
      status: 401,
      body: {
        _type: "ErrorResponse",
        errors: [
          {
            code: "InvalidAuthorization",
            subCode: "AuthorizationMissing",
            message: "Authorization is required.",
          },
        ],
      },
      message: "Authorization is required.",
    },
    freshnessWeek: "freshness=Week",
  },
  {
    type: "brave",
    config: (url) => parse({ id: "brave", type: "brave", apiKey: key, url: `${url}/res/v1/web/search` }),
    path: "/res/v1/web/search",
    keyAt: "x-subscription-token",
    ok: {
      type: "search",
      query: { original: "node 20", more_results_available: true },
      mixed: { type: "mixed", main: [] },
      web: {
        type: "search",
        family_friendly: true,
        results: [
          {
            type: "search_result",
            title: "<strong>Node.js 20</strong> is now available!",
            url: EXPECTED_HITS[0]!.url,
            is_source_local: false,
            description:
              "<strong>Node.js 20</strong> brings the Permission Model &amp; a stable test runner.",
            page_age: "2023-04-18T00:00:00",
            age: "April 18, 2023",
            language: "en",
            profile: { name: "Node.js" },
          },
          {
            type: "search_result",
            title: EXPECTED_HITS[1]!.title.replace("'", "&#x27;"),
            url: EXPECTED_HITS[1]!.url,
            description: EXPECTED_HITS[1]!.snippet,
          },
          {
            type: "search_result",
            title: EXPECTED_HITS[2]!.title,
            url: EXPECTED_HITS[2]!.url,
            description: EXPECTED_HITS[2]!.snippet,
          },
        ],
      },
    },
    rateLimited: {
      status: 429,
      body: {
        type: "ErrorResponse",
        error: {
          id: "e1",
          status: 429,
          code: "RATE_LIMITED",
          detail: "Request rate limit exceeded for plan.",
          meta: { plan: "Free", rate_limit: 1, rate_current: 2, quota_limit: 2000, quota_current: 15 },
        },
        time: 1700000000,
      },
      headers: {
        "x-ratelimit-limit": "1, 2000",
        "x-ratelimit-remaining": "0, 1985",
        "x-ratelimit-reset": "1, 1419704",
      },
    },
    error: {
      status: 422,
      body: {
        type: "ErrorResponse",
        error: {
          id: "e2",
          status: 422,
          code: "SUBSCRIPTION_TOKEN_INVALID",
          detail: "The provided subscription token is invalid.",
        },
        time: 1700000000,
      },
      message: "subscription token is invalid",
    },
    freshnessWeek: "freshness=pw",
  },
  {
    type: "tavily",
    config: (url) => parse({ id: "tavily", type: "tavily", apiKey: key, url: `${url}/search` }),
    path: "/search",
    keyAt: "authorization",
    ok: {
      query: "node 20",
      follow_up_questions: null,
      answer: null,
      images: [],
      results: [
        {
          title: EXPECTED_HITS[0]!.title,
          url: EXPECTED_HITS[0]!.url,
          content: EXPECTED_HITS[0]!.snippet,
          score: 0.93,
          raw_content: null,
          published_date: "Tue, 18 Apr 2023 00:00:00 GMT",
        },
        {
          title: EXPECTED_HITS[1]!.title,
          url: EXPECTED_HITS[1]!.url,
          content: EXPECTED_HITS[1]!.snippet,
          score: 0.8,
          raw_content: null,
        },
        {
          title: EXPECTED_HITS[2]!.title,
          url: EXPECTED_HITS[2]!.url,
          content: EXPECTED_HITS[2]!.snippet,
          score: 0.7,
          raw_content: null,
        },
      ],
      response_time: 1.09,
    },
    rateLimited: {
      status: 429,
      body: { detail: { error: "Your request has been blocked due to excessive requests." } },
    },
    error: {
      status: 401,
      body: { detail: { error: "Unauthorized: missing or invalid API key." } },
      message: "invalid API key",
    },
    freshnessWeek: '"time_range":"week"',
  },
  {
    type: "serper",
    config: (url) => parse({ id: "serper", type: "serper", apiKey: key, url: `${url}/search` }),
    path: "/search",
    keyAt: "x-api-key",
    ok: {
      searchParameters: { q: "node 20", type: "search", engine: "google" },
      organic: [
        {
          title: EXPECTED_HITS[0]!.title,
          link: EXPECTED_HITS[0]!.url,
          snippet: EXPECTED_HITS[0]!.snippet,
          date: "Apr 18, 2023 UTC",
          position: 1,
        },
        {
          title: EXPECTED_HITS[1]!.title,
          link: EXPECTED_HITS[1]!.url,
          snippet: EXPECTED_HITS[1]!.snippet,
          position: 2,
        },
        {
          title: EXPECTED_HITS[2]!.title,
          link: EXPECTED_HITS[2]!.url,
          snippet: EXPECTED_HITS[2]!.snippet,
          position: 3,
        },
      ],
      relatedSearches: [{ query: "node 22" }],
      credits: 1,
    },
    rateLimited: { status: 429, body: { message: "Too many requests", statusCode: 429 } },
    error: { status: 403, body: { message: "Unauthorized.", statusCode: 403 }, message: "Unauthorized." },
    freshnessWeek: '"tbs":"qdr:w"',
  },
  {
    type: "google",
    config: (url) =>
      parse({
        id: "google",
        type: "google",
        apiKey: key,
        cx: "017576662512468239146:omuauf_lfve",
        url: `${url}/customsearch/v1`,
      }),
    path: "/customsearch/v1",
    keyAt: "query:key",
    ok: {
      kind: "customsearch#search",
      url: {
        type: "application/json",
        template: "https://www.googleapis.com/customsearch/v1?q={searchTerms}",
      },
      queries: {
        request: [
          {
            title: "Google Custom Search - node 20",
            totalResults: "3",
            searchTerms: "node 20",
            count: 3,
            startIndex: 1,
          },
        ],
      },
      searchInformation: {
        searchTime: 0.3,
        formattedSearchTime: "0.30",
        totalResults: "3",
        formattedTotalResults: "3",
      },
      items: [
        {
          kind: "customsearch#result",
          title: EXPECTED_HITS[0]!.title,
          htmlTitle: "<b>Node.js 20</b> is now available!",
          link: EXPECTED_HITS[0]!.url,
          displayLink: "nodejs.org",
          snippet: EXPECTED_HITS[0]!.snippet,
          pagemap: { metatags: [{ "article:published_time": "2023-04-18T00:00:00Z", "og:type": "article" }] },
        },
        {
          kind: "customsearch#result",
          title: EXPECTED_HITS[1]!.title,
          link: EXPECTED_HITS[1]!.url,
          displayLink: "www.example.com",
          snippet: EXPECTED_HITS[1]!.snippet,
        },
        {
          kind: "customsearch#result",
          title: EXPECTED_HITS[2]!.title,
          link: EXPECTED_HITS[2]!.url,
          displayLink: "zh.example.cn",
          snippet: EXPECTED_HITS[2]!.snippet,
        },
      ],
    },
    // Google reports quota exhaustion as 429 RESOURCE_EXHAUSTED (and as 403 rateLimitExceeded).
    rateLimited: {
      status: 403,
      body: {
        error: {
          code: 403,
          message: "Quota exceeded for quota metric 'Queries per day'.",
          errors: [{ message: "Quota exceeded", domain: "usageLimits", reason: "dailyLimitExceeded" }],
          status: "PERMISSION_DENIED",
        },
      },
    },
    error: {
      status: 400,
      body: {
        error: {
          code: 400,
          message: "API key not valid. Please pass a valid API key.",
          errors: [{ message: "API key not valid.", domain: "global", reason: "badRequest" }],
          status: "INVALID_ARGUMENT",
        },
      },
      message: "API key not valid",
    },
    freshnessWeek: "dateRestrict=w1",
  },
  {
    type: "custom",
    config: (url) =>
      parse({
        id: "custom",
        type: "custom",
        url: `${url}/api/query?q={query}&n={limit}&t={freshness}`,
        headers: { "x-token": "{apiKey}" },
        apiKey: key,
        freshnessValues: { week: "7d" },
        response: {
          results: "data.hits",
          title: "headline",
          url: "link.href",
          snippet: "summary",
          publishedAt: "meta.published",
        },
      }),
    path: "/api/query",
    keyAt: "x-token",
    ok: {
      data: {
        hits: [
          {
            headline: EXPECTED_HITS[0]!.title,
            link: { href: EXPECTED_HITS[0]!.url },
            summary: EXPECTED_HITS[0]!.snippet,
            meta: { published: "2023-04-18" },
          },
          {
            headline: EXPECTED_HITS[1]!.title,
            link: { href: EXPECTED_HITS[1]!.url },
            summary: EXPECTED_HITS[1]!.snippet,
          },
          {
            headline: EXPECTED_HITS[2]!.title,
            link: { href: EXPECTED_HITS[2]!.url },
            summary: EXPECTED_HITS[2]!.snippet,
          },
        ],
      },
    },
    rateLimited: { status: 429, body: { error: "slow down" }, headers: { "retry-after": "3" } },
    error: { status: 500, body: { error: "backend exploded" }, message: "backend exploded" },
    freshnessWeek: "t=7d",
  },
];
