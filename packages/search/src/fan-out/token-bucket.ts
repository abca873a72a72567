/**
 * A token bucket shared by every query to one provider: at most `burst` calls at once and
 * `perSecond` on average, never more. Taking never waits: an empty bucket means "skip this engine".
 */
export class TokenBucket {
  readonly #perSecond: number;
  readonly #capacity: number;
  #tokens: number;
  #updatedAt: number;
  readonly #now: () => number;

  constructor(
    perSecond: number,
    burst = Math.max(1, Math.ceil(perSecond)),
    now: () => number = performance.now.bind(performance),
  ) {
    this.#perSecond = perSecond;
    this.#capacity = burst;
    this.#tokens = burst;
    this.#now = now;
    this.#updatedAt = now();
  }

  /** Takes one token when there is one. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is available (0 when one is). */
  waitMs(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) / this.#perSecond) * 1000);
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(
      this.#capacity,
      this.#tokens + ((now - this.#updatedAt) / 1000) * this.#perSecond,
    );
    this.#updatedAt = now;
  }
}
