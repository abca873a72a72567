import { describe, expect, it } from "vitest";
import { searchCacheKey, TtlCache } from "./result-cache.js";

describe("result cache", () => {
  it("expires entries after the TTL and evicts the least recently used beyond the size", () => {
    let now = 0;
    const cache = new TtlCache<string>({ ttlMs: 1000, maxEntries: 2, now: () => now });
    cache.set("a", "A");
    cache.set("b", "B");
    expect(cache.get("a")).toBe("A"); // a is now the most recent
    cache.set("c", "C");
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe("A");
    now = 1000;
    expect(cache.get("a")).toBeUndefined();
  });

  it("keys on the normalised query, the provider set in any order and the freshness", () => {
    expect(searchCacheKey("Node  20", ["b", "a"], undefined)).toBe(
      searchCacheKey(" node 20 ", ["a", "b"], undefined),
    );
    expect(searchCacheKey("ＮＯＤＥ 20", ["a"], "week")).toBe(searchCacheKey("node 20", ["a"], "week"));
    expect(searchCacheKey("node 20", ["a"], "week")).not.toBe(searchCacheKey("node 20", ["a"], "day"));
    expect(searchCacheKey("node 20", ["a"], undefined)).not.toBe(
      searchCacheKey("node 20", ["a", "b"], undefined),
    );
  });
});
