import { createHash } from "node:crypto";
import type { Logger } from "@hearth/core";
import { Redis } from "ioredis";

/**
 * State that several replicas of the search service must share for limits to hold: each
 * provider's token bucket and Retry-After cool-down, and the result cache.
 */
export interface SharedState {
  /** 1: a token was taken; 0: the bucket is empty; negative: cooling down for that many ms. */
  take(providerId: string, perSecond: number, burst: number): Promise<number>;
  coolDown(providerId: string, ms: number): Promise<void>;
  getCached(key: string): Promise<string | undefined>;
  setCached(key: string, value: string, ttlSeconds: number): Promise<void>;
  close(): Promise<void>;
}

// One atomic step per call: refuse while cooling down, refill by Redis' own clock, take a token.
const TAKE_SCRIPT = `
local cooling = redis.call('PTTL', KEYS[2])
if cooling > 0 then return -cooling end
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then tokens = capacity; at = now end
tokens = math.min(capacity, tokens + math.max(0, now - at) / 1000 * rate)
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return taken
`;

/** Shared state in Redis (ioredis). Commands fail fast while Redis is away; callers fall back to in-process state. */
export class RedisSharedState implements SharedState {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(url: string, prefix: string, logger: Logger) {
    this.#prefix = prefix;
    this.#redis = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
    });
    let connected = false;
    // Log state changes only, and never the URL (it may hold a password).
    this.#redis.on("ready", () => {
      if (!connected) logger.info("search shared state: connected to Redis");
      connected = true;
    });
    this.#redis.on("error", (error: NodeJS.ErrnoException) => {
      if (connected)
        logger.warn(
          { code: error.code },
          "search shared state: Redis unreachable; using in-process limits and cache",
        );
      connected = false;
    });
    this.#redis.defineCommand("hearthTakeToken", { numberOfKeys: 2, lua: TAKE_SCRIPT });
  }

  /** Connects, waiting at most `timeoutMs`; false when Redis did not answer (it keeps retrying). */
  async connect(timeoutMs = 2000): Promise<boolean> {
    try {
      await Promise.race([
        this.#redis.connect(),
        new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), timeoutMs).unref()),
      ]);
      return true;
    } catch {
      return false;
    }
  }

  async take(providerId: string, perSecond: number, burst: number): Promise<number> {
    const command = (
      this.#redis as unknown as { hearthTakeToken(...args: Array<string | number>): Promise<number> }
    ).hearthTakeToken;
    return Number(
      await command.call(
        this.#redis,
        `${this.#prefix}bucket:${providerId}`,
        `${this.#prefix}cooldown:${providerId}`,
        perSecond,
        burst,
      ),
    );
  }

  async coolDown(providerId: string, ms: number): Promise<void> {
    if (ms <= 0) return;
    await this.#redis.set(`${this.#prefix}cooldown:${providerId}`, "1", "PX", Math.ceil(ms));
  }

  async getCached(key: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#cacheKey(key))) ?? undefined;
  }

  async setCached(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.#redis.set(this.#cacheKey(key), value, "EX", ttlSeconds);
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #cacheKey(key: string): string {
    return `${this.#prefix}cache:${createHash("sha256").update(key).digest("hex")}`;
  }
}
