import type { FastifyInstance } from "fastify";
import { ExpiringPromises } from "../caching/expiring-promises.js";
import { ACCESS_CHANGED, type PeerBus } from "../cluster/peer-bus.js";

/**
 * A short-lived cache for what every API call looks up (the key's user, their groups, model
 * rules), so the streaming path does not query the database on each request. Any successful
 * change to accounts, keys, groups or access (a non-GET under /api/admin/, /api/account/,
 * /api/auth/ or a knowledge base's /access) clears it before the response leaves, so a revoked
 * key or a demoted user is refused on the very next request; the other processes (workers,
 * replicas) clear theirs when the peer bus tells them, milliseconds later. The TTL bounds
 * staleness otherwise.
 */
export class AuthCache {
  readonly #entries: ExpiringPromises;
  readonly #listeners: Array<() => void> = [];

  readonly #peers: PeerBus;

  constructor(peers: PeerBus, ttlMs = 10_000) {
    this.#entries = new ExpiringPromises(ttlMs);
    this.#peers = peers;
    peers.subscribe((message) => {
      if (message.type === ACCESS_CHANGED) this.clear(true);
    });
  }

  /** Runs with every clear (other caches of access-related state, like the settings). */
  onClear(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /**
   * The cached value, else `load()`'s. The promise is what is cached, so requests that miss
   * together (a burst when an entry expires) share one lookup; a failed lookup is not kept.
   */
  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    return this.#entries.get(key, load);
  }

  /** Clears this process's cache, and (unless told by one) tells the other processes to clear theirs. */
  clear(fromPeer = false): void {
    this.#entries.clear();
    for (const listener of this.#listeners) listener();
    if (!fromPeer) this.#peers.publish({ type: ACCESS_CHANGED });
  }

  /**
   * Clears the cache whenever a request may have changed who can do what: one that succeeded. A
   * refused or failed one (a wrong password, a 404, anyone's unauthenticated POST) changed nothing,
   * and clearing for it would let anybody empty every process's cache (a database notification
   * each) with requests that need no account.
   */
  register(app: FastifyInstance): void {
    app.addHook("onSend", async (request, reply, payload) => {
      if (
        reply.statusCode < 400 &&
        request.method !== "GET" &&
        /^\/api\/(admin|account|auth)\/|^\/api\/knowledge-bases\/[^/]+\/access/.test(request.url)
      )
        this.clear();
      return payload;
    });
  }
}
