/**
 * Throttles repeated failed sign-ins per user name (5 in 15 minutes) and per client address (a
 * looser 30, since one office may share an address): past the limit, attempts are refused until
 * the window has passed. Keys are `user:<name>` or `ip:<address>`.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, number[]>();

  constructor(
    readonly userLimit = 5,
    readonly addressLimit = 30,
    readonly windowMs = 15 * 60_000,
  ) {}

  #limit(key: string): number {
    return key.startsWith("ip:") ? this.addressLimit : this.userLimit;
  }

  /** Seconds to wait before another attempt, or 0 when one is allowed. */
  retryAfterSeconds(keys: string[], now = Date.now()): number {
    let wait = 0;
    for (const key of keys) {
      const recent = (this.#failures.get(key) ?? []).filter((time) => now - time < this.windowMs);
      if (recent.length >= this.#limit(key))
        wait = Math.max(wait, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
    }
    return wait;
  }

  fail(keys: string[], now = Date.now()): void {
    for (const key of keys) {
      const recent = (this.#failures.get(key) ?? []).filter((time) => now - time < this.windowMs);
      recent.push(now);
      this.#failures.set(key, recent);
    }
    if (this.#failures.size > 100_000) this.#failures.clear();
  }

  succeed(keys: string[]): void {
    for (const key of keys) this.#failures.delete(key);
  }
}
