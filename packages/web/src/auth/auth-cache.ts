import type { FastifyInstance } from "fastify";

/**
 * A short-lived cache for what every API call looks up (the key's user, their groups, model
 * rules), so the streaming path does not query the database on each request. Any successful
 * change to accounts, keys, groups or access (a non-GET under /api/admin/, /api/account/,
 * /api/auth/ or a knowledge base's /access) clears it before the response leaves, so a revoked
 * key or a demoted user is refused on the very next request; the TTL bounds staleness otherwise.
 */
export class AuthCache {
  readonly #entries = new Map<string, { value: unknown; expires: number }>();

  constructor(readonly ttlMs = 10_000) {}

  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.expires > now) return hit.value as T;
    const value = await load();
    if (this.#entries.size > 10_000) this.#entries.clear();
    this.#entries.set(key, { value, expires: now + this.ttlMs });
    return value;
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Clears the cache whenever a request may have changed who can do what. */
  register(app: FastifyInstance): void {
    app.addHook("onSend", async (request, _reply, payload) => {
      if (
        request.method !== "GET" &&
        /^\/api\/(admin|account|auth)\/|^\/api\/knowledge-bases\/[^/]+\/access/.test(request.url)
      )
        this.clear();
      return payload;
    });
  }
}
