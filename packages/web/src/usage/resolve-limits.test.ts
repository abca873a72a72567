import { describe, expect, it } from "vitest";
import { resolveLimits } from "./resolve-limits.js";

/** Which limits a user gets from the user-wide limits and those of their groups, key by key. */
describe("resolving a user's limits", () => {
  const userLimits = { requestsPerMinute: 10, tokensPerDay: 120 };

  it("gives a user in no group (or in groups with no limits) the user-wide limits", () => {
    expect(resolveLimits({ userLimits, groupLimits: {} }, [])).toEqual(userLimits);
    expect(resolveLimits({ userLimits, groupLimits: { eng: {} } }, ["eng", "ops"])).toEqual(userLimits);
  });

  it("keeps a user-wide limit that the member's groups leave empty", () => {
    // The reported case: eng sets only requests per minute; the tokens per day stay the user-wide 120.
    expect(resolveLimits({ userLimits, groupLimits: { eng: { requestsPerMinute: 100 } } }, ["eng"])).toEqual({
      requestsPerMinute: 100,
      tokensPerDay: 120,
    });
  });

  it("takes, per key, the most generous value among the member's groups that set it", () => {
    const groupLimits = {
      eng: { requestsPerMinute: 100, tokensPerDay: 5000 },
      ops: { requestsPerMinute: 40, requestsPerDay: 900 },
      // Sets a tighter limit than the user-wide one; a group that sets a key decides it.
      interns: { requestsPerMinute: 3 },
      other: { tokensPerMinute: 1 },
    };
    expect(resolveLimits({ userLimits, groupLimits }, ["eng", "ops"])).toEqual({
      requestsPerMinute: 100,
      requestsPerDay: 900,
      tokensPerDay: 5000,
    });
    expect(resolveLimits({ userLimits, groupLimits }, ["interns"])).toEqual({
      requestsPerMinute: 3,
      tokensPerDay: 120,
    });
    expect(resolveLimits({ userLimits, groupLimits }, ["interns", "ops"])).toEqual({
      requestsPerMinute: 40,
      requestsPerDay: 900,
      tokensPerDay: 120,
    });
  });

  it("leaves a key unlimited only where neither the groups nor the user-wide limits set it", () => {
    expect(resolveLimits({ userLimits: {}, groupLimits: { eng: { requestsPerDay: 7 } } }, ["eng"])).toEqual({
      requestsPerDay: 7,
    });
    expect(resolveLimits({ userLimits: {}, groupLimits: {} }, ["eng"])).toEqual({});
  });
});
