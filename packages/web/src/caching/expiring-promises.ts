/**
 * Promises kept by key for a time. The promise is what is kept, so callers that miss together (a
 * burst when an entry expires) share one load; a load that fails is not kept, and a load begun
 * before `clear` is not kept after it.
 */
export class ExpiringPromises {
  readonly #entries = new Map<string, { value: Promise<unknown>; expires: number }>();

  constructor(
    readonly ttlMs: number,
    /** Past this many entries the map is emptied rather than grown. */
    readonly maxEntries = 10_000,
  ) {}

  /** The kept value for `key`, else `load()`'s, kept for `ttlMs`. */
  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.expires > now) return hit.value as Promise<T>;
    return this.#keep(key, load(), now);
  }

  /** Keeps a value known now (one just written), for `ttlMs`. */
  set<T>(key: string, value: T): void {
    this.#keep(key, Promise.resolve(value), Date.now());
  }

  clear(): void {
    this.#entries.clear();
  }

  #keep<T>(key: string, value: Promise<T>, now: number): Promise<T> {
    if (this.#entries.size >= this.maxEntries) this.#entries.clear();
    const entry = { value, expires: now + this.ttlMs };
    this.#entries.set(key, entry);
    value.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    return value;
  }
}
