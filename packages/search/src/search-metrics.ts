import type { ProviderOutcome } from "@hearth/contracts";
import { Counter, Gauge, Histogram, LATENCY_BUCKETS_SECONDS, type Registry } from "@hearth/core";
import type { FilterAction } from "@hearth/sensitive-words";
import type { ProviderSlot } from "./fan-out/fan-out.js";

const BREAKER_VALUE = { closed: 0, "half-open": 1, open: 2 } as const;
const WINDOW = 100;

/** The search service's figures, all prefixed `hearth_search_`; never labelled with user text. */
export class SearchMetrics {
  readonly #requests: Counter;
  readonly #latency: Histogram;
  readonly #successRatio: Gauge;
  readonly #cache: Counter;
  readonly #filterHits: Counter;
  readonly #fetches: Counter;
  readonly #queries: Counter;
  readonly #windows = new Map<string, boolean[]>();

  constructor(registry: Registry, slots: () => readonly ProviderSlot[]) {
    this.#requests = new Counter({
      name: "hearth_search_provider_requests_total",
      help: "Searches per provider, by outcome (ok, timeout, rate-limited, error, skipped-by-breaker)",
      labelNames: ["provider", "status"],
      registers: [registry],
    });
    this.#latency = new Histogram({
      name: "hearth_search_provider_latency_seconds",
      help: "Latency of calls to each search provider",
      labelNames: ["provider"],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
    this.#successRatio = new Gauge({
      name: "hearth_search_provider_success_ratio",
      help: "Search API success rate: share of the last 100 calls to each provider that answered (0..1)",
      labelNames: ["provider"],
      registers: [registry],
    });
    new Gauge({
      name: "hearth_search_provider_breaker_state",
      help: "Circuit breaker per provider: 0 closed, 1 half-open, 2 open",
      labelNames: ["provider"],
      registers: [registry],
      collect() {
        for (const slot of slots())
          this.set({ provider: slot.provider.id }, BREAKER_VALUE[slot.breaker.state]);
      },
    });
    this.#cache = new Counter({
      name: "hearth_search_cache_requests_total",
      help: "Result cache look-ups, by result (hit, miss)",
      labelNames: ["result"],
      registers: [registry],
    });
    this.#filterHits = new Counter({
      name: "hearth_search_filter_hits_total",
      help: "Sensitive-word hits per word list and action (never the words)",
      labelNames: ["list", "action"],
      registers: [registry],
    });
    this.#queries = new Counter({
      name: "hearth_search_queries_total",
      help: "Searches sent to the engines, by outcome: ok (results), empty (answers, no result), error (no engine answered)",
      labelNames: ["outcome"],
      registers: [registry],
    });
    this.#fetches = new Counter({
      name: "hearth_search_page_fetches_total",
      help: "Page fetches for content, by outcome (ok, blocked, failed)",
      labelNames: ["outcome"],
      registers: [registry],
    });
  }

  providerOutcome(outcome: ProviderOutcome): void {
    this.#requests.inc({ provider: outcome.id, status: outcome.status });
    if (outcome.status === "skipped-by-breaker" || outcome.status === "cached") return;
    // Calls never made (local rate limit, Retry-After still running) say nothing about the engine.
    if (outcome.error?.startsWith("skipped")) return;
    this.#latency.observe({ provider: outcome.id }, outcome.latencyMs / 1000);
    const window = this.#windows.get(outcome.id) ?? [];
    window.push(outcome.status === "ok");
    if (window.length > WINDOW) window.shift();
    this.#windows.set(outcome.id, window);
    this.#successRatio.set({ provider: outcome.id }, window.filter(Boolean).length / window.length);
  }

  /** The "search success rate" operators alert on (deploy/monitoring/alert-rules.yaml). */
  queryOutcome(outcome: "ok" | "empty" | "error"): void {
    this.#queries.inc({ outcome });
  }

  cacheLookup(hit: boolean): void {
    this.#cache.inc({ result: hit ? "hit" : "miss" });
  }

  filterHits(list: string, action: FilterAction, count: number): void {
    this.#filterHits.inc({ list, action }, count);
  }

  pageFetch(outcome: "ok" | "blocked" | "failed"): void {
    this.#fetches.inc({ outcome });
  }
}
