import { describe, expect, it } from "vitest";
import { backoffDelayMs } from "./backoff.js";
import { CircuitBreaker } from "./circuit-breaker.js";
import { TokenBucket } from "./token-bucket.js";

describe("token bucket", () => {
  it("allows a burst, then refills at the configured rate and never beyond capacity", () => {
    let now = 0;
    const bucket = new TokenBucket(2, 3, () => now);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(bucket.waitMs()).toBe(500);
    now = 499;
    expect(bucket.tryTake()).toBe(false);
    now = 1000;
    expect(bucket.tryTake()).toBe(true);
    now = 60_000;
    let taken = 0;
    while (bucket.tryTake()) taken++;
    expect(taken).toBe(3);
  });
});

describe("circuit breaker", () => {
  it("opens after the threshold, lets one probe through after the cool-down, and waits longer after a failed probe", () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, now: () => now });
    for (let i = 0; i < 2; i++) {
      expect(breaker.tryAcquire()).toBe(true);
      breaker.onFailure();
    }
    expect(breaker.state).toBe("closed");
    breaker.onFailure();
    expect(breaker.state).toBe("open");
    expect(breaker.tryAcquire()).toBe(false);
    now = 1000;
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.state).toBe("half-open");
    expect(breaker.tryAcquire()).toBe(false); // only one probe at a time
    breaker.onFailure();
    expect(breaker.state).toBe("open");
    now = 2500;
    expect(breaker.tryAcquire()).toBe(false); // the cool-down doubled to 2000 ms
    now = 3000;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onSuccess();
    expect(breaker.state).toBe("closed");
    expect(breaker.tryAcquire()).toBe(true);
  });

  it("gives back a probe that was never sent", () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 10, now: () => now });
    breaker.onFailure();
    now = 20;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.release();
    expect(breaker.tryAcquire()).toBe(true);
  });
});

describe("backoff", () => {
  it("grows exponentially with jitter between half and all of the ceiling, capped", () => {
    expect(backoffDelayMs(0, 100, 30_000, () => 0)).toBe(50);
    expect(backoffDelayMs(0, 100, 30_000, () => 1)).toBe(100);
    expect(backoffDelayMs(3, 100, 30_000, () => 0.5)).toBe(600);
    expect(backoffDelayMs(20, 100, 30_000, () => 1)).toBe(30_000);
  });
});
