import { describe, expect, it } from "vitest";
import { LoginThrottle } from "./login-throttle.js";

describe("LoginThrottle", () => {
  it("clears only the user name's count on a success, not the address's", () => {
    const throttle = new LoginThrottle(5, 3);
    const now = 1_000_000;
    throttle.fail({ username: "a", address: "203.0.113.1" }, now);
    throttle.fail({ username: "b", address: "203.0.113.1" }, now);
    throttle.fail({ username: "me", address: "203.0.113.1" }, now);
    throttle.succeed({ username: "me", address: "203.0.113.1" });
    expect(throttle.retryAfterSeconds({ username: "c", address: "203.0.113.1" }, now)).toBeGreaterThan(0);
    expect(throttle.retryAfterSeconds({ username: "me", address: "198.51.100.1" }, now)).toBe(0);
  });

  it("past its size, forgets the names and addresses that failed longest ago, not everyone's", () => {
    const throttle = new LoginThrottle(5, 30, 15 * 60_000, 4);
    const now = 1_000_000;
    throttle.fail({ username: "ann", address: "198.51.100.1" }, now);
    const victim = { username: "victim", address: "203.0.113.1" };
    for (let i = 0; i < 5; i++) throttle.fail(victim, now + 1);
    expect(throttle.retryAfterSeconds(victim, now + 2)).toBeGreaterThan(0);
    // A fifth key: one must go, and it is ann's, not the victim's.
    throttle.fail({ username: "other", address: "203.0.113.1" }, now + 2);
    expect(throttle.retryAfterSeconds(victim, now + 3)).toBeGreaterThan(0);
  });
});
