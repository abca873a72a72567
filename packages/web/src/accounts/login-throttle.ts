/** Who is signing in: the folded user name, and the client's address. */
export interface SignInAttempt {
  username: string;
  address: string;
}

/**
 * Throttles repeated failed sign-ins per user name (5 in 15 minutes) and per client address (a
 * looser 30, since one office may share an address): past the limit, attempts are refused until
 * the window has passed. A success clears only that user name's count: the address's stands, or
 * one account holder could guess at everyone else's passwords without limit, signing in to their
 * own account between guesses.
 */
export class LoginThrottle {
  /** Failure times per `user:<name>` or `ip:<address>`, the most recently failed last. */
  readonly #failures = new Map<string, number[]>();

  constructor(
    readonly userLimit = 5,
    readonly addressLimit = 30,
    readonly windowMs = 15 * 60_000,
    /** Past this many names and addresses, those that failed longest ago are forgotten first. */
    readonly maxEntries = 100_000,
  ) {}

  #keys(attempt: SignInAttempt): Array<[key: string, limit: number]> {
    return [
      [`user:${attempt.username}`, this.userLimit],
      [`ip:${attempt.address}`, this.addressLimit],
    ];
  }

  #recent(key: string, now: number): number[] {
    return (this.#failures.get(key) ?? []).filter((time) => now - time < this.windowMs);
  }

  /** Seconds to wait before another attempt, or 0 when one is allowed. */
  retryAfterSeconds(attempt: SignInAttempt, now = Date.now()): number {
    let wait = 0;
    for (const [key, limit] of this.#keys(attempt)) {
      const recent = this.#recent(key, now);
      if (recent.length >= limit) wait = Math.max(wait, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
    }
    return wait;
  }

  fail(attempt: SignInAttempt, now = Date.now()): void {
    for (const [key] of this.#keys(attempt)) {
      const recent = this.#recent(key, now);
      recent.push(now);
      // Re-inserted, so that the map's order stays that of the last failure.
      this.#failures.delete(key);
      this.#failures.set(key, recent);
    }
    for (const key of this.#failures.keys()) {
      if (this.#failures.size <= this.maxEntries) break;
      this.#failures.delete(key);
    }
  }

  succeed(attempt: SignInAttempt): void {
    this.#failures.delete(this.#keys(attempt)[0]![0]);
  }
}
