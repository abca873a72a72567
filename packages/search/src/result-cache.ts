/**
 * An in-process LRU cache with a time to live: the laptop deployment needs no Redis, and search
 * answers are small. Entries past their TTL are never returned.
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; maxEntries: number; now?: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    // Refresh recency.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` for the cache's TTL, or for `ttlMs` when given. */
  set(key: string, value: V, ttlMs = this.#ttlMs): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs });
    while (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/**
 * The cache key of a search: the query normalised (NFKC, case, whitespace), the sorted provider
 * set and the freshness window, so that "Node  20" and "node 20" share an entry.
 */
export function searchCacheKey(
  query: string,
  providerIds: readonly string[],
  freshness: string | undefined,
): string {
  const normalised = query.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
  return JSON.stringify([normalised, [...providerIds].sort(), freshness ?? ""]);
}
