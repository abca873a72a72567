export type BreakerState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long an open breaker waits before letting one probe through; doubles after a failed probe, up to 16x. */
  cooldownMs: number;
  now?: () => number;
}

/**
 * Stops calling a failing provider: after `failureThreshold` consecutive failures it opens; after
 * the cool-down one call goes through as a probe; success closes it, failure opens it for longer.
 */
export class CircuitBreaker {
  #state: BreakerState = "closed";
  #failures = 0;
  #openedAt = 0;
  #cooldownMs: number;
  #probing = false;
  readonly #options: CircuitBreakerOptions;
  readonly #now: () => number;

  constructor(options: CircuitBreakerOptions) {
    this.#options = options;
    this.#cooldownMs = options.cooldownMs;
    this.#now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** Consecutive failures counted since the last success. */
  get failures(): number {
    return this.#failures;
  }

  /** While open: when (epoch ms) the next call may go out as a probe; null otherwise. */
  get retryAt(): number | null {
    return this.#state === "open" ? this.#openedAt + this.#cooldownMs : null;
  }

  /** Whether a call may go out now; in half-open state only the one probe may. */
  tryAcquire(): boolean {
    if (this.#state === "closed") return true;
    if (this.#state === "open") {
      if (this.#now() - this.#openedAt < this.#cooldownMs) return false;
      this.#state = "half-open";
      this.#probing = false;
    }
    if (this.#probing) return false;
    this.#probing = true;
    return true;
  }

  /** Gives back a probe that was never sent (rate limit, deadline before the call). */
  release(): void {
    this.#probing = false;
  }

  onSuccess(): void {
    this.#state = "closed";
    this.#failures = 0;
    this.#probing = false;
    this.#cooldownMs = this.#options.cooldownMs;
  }

  onFailure(): void {
    this.#failures += 1;
    if (this.#state === "half-open") {
      this.#cooldownMs = Math.min(this.#cooldownMs * 2, this.#options.cooldownMs * 16);
      this.#open();
    } else if (this.#state === "closed" && this.#failures >= this.#options.failureThreshold) {
      this.#open();
    }
  }

  #open(): void {
    this.#state = "open";
    this.#openedAt = this.#now();
    this.#probing = false;
  }
}
