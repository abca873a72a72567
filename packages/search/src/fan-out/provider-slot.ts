import type { ProviderStandingState, ProviderStatus } from "@hearth/contracts";
import type { SearchProviderConfig } from "@hearth/core";
import type { SearchProvider } from "../providers/search-provider.js";
import type { SharedState } from "../shared-state.js";
import { CircuitBreaker } from "./circuit-breaker.js";
import { TokenBucket } from "./token-bucket.js";

/** One provider and the state that holds across every query to it. */
export class ProviderSlot {
  readonly provider: SearchProvider;
  readonly config: SearchProviderConfig;
  readonly bucket: TokenBucket;
  readonly breaker: CircuitBreaker;
  /** No calls before this time (epoch ms): set by 429/Retry-After or backoff after repeated 429s. */
  coolDownUntil = 0;
  consecutiveRateLimits = 0;
  /** The warning of the engine's last answer, so that a warning it repeats is logged once. */
  lastWarning: string | undefined;
  /**
   * The engine's last call that went out (a skip is not one): its status, redacted error and when
   * (epoch ms), for the standing state `GET /v1/providers` reports.
   */
  lastCall: { status: ProviderStatus; error?: string; at: number } | undefined;
  /** Buckets and cool-downs shared with other replicas (Redis); the local bucket stands in when it fails. */
  readonly shared: SharedState | undefined;

  constructor(
    provider: SearchProvider,
    config: SearchProviderConfig,
    breaker: { failureThreshold: number; cooldownMs: number },
    shared?: SharedState,
  ) {
    this.provider = provider;
    this.config = config;
    this.bucket = new TokenBucket(config.rateLimit.perSecond, config.rateLimit.burst);
    this.breaker = new CircuitBreaker(breaker);
    this.shared = shared;
  }

  /** Takes a token: true, false when the bucket is empty, or the ms left of a shared cool-down. */
  async take(): Promise<boolean | number> {
    if (this.shared) {
      const burst = this.config.rateLimit.burst ?? Math.max(1, Math.ceil(this.config.rateLimit.perSecond));
      try {
        const answer = await this.shared.take(this.provider.id, this.config.rateLimit.perSecond, burst);
        if (answer < 0) {
          this.coolDownUntil = Math.max(this.coolDownUntil, Date.now() - answer);
          return -answer;
        }
        return answer === 1;
      } catch {
        // Redis away: fall through to this replica's own bucket.
      }
    }
    return this.bucket.tryTake();
  }

  /**
   * Milliseconds until a call may go out: the cool-down's end or this replica's next token (a
   * shared bucket's is not known here).
   */
  waitMs(): number {
    return Math.max(this.coolDownUntil - Date.now(), this.bucket.waitMs());
  }

  /** The standing state `GET /v1/providers` reports: breaker, cool-down and last call (no keys: errors are redacted). */
  standingState(now = Date.now()): ProviderStandingState {
    const retryAt = this.breaker.retryAt;
    return {
      breaker: this.breaker.state,
      consecutiveFailures: this.breaker.failures,
      breakerRetryAt: retryAt === null ? null : new Date(retryAt).toISOString(),
      coolDownUntil: this.coolDownUntil > now ? new Date(this.coolDownUntil).toISOString() : null,
      lastCall: this.lastCall
        ? {
            status: this.lastCall.status,
            at: new Date(this.lastCall.at).toISOString(),
            ...(this.lastCall.error ? { error: this.lastCall.error } : {}),
          }
        : null,
    };
  }

  /** Starts a cool-down here and, when shared, for every replica. */
  coolDown(ms: number): void {
    this.coolDownUntil = Date.now() + ms;
    this.shared?.coolDown(this.provider.id, ms).catch(() => {});
  }
}
