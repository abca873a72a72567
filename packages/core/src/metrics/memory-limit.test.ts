import { totalmem } from "node:os";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { detectMemoryLimitBytes, registerMemoryLimitGauge } from "./memory-limit.js";

describe("hearth_memory_limit_bytes", () => {
  it("reports a limit no larger than the machine's memory, at every scrape", async () => {
    const limit = detectMemoryLimitBytes();
    expect(limit).toBeGreaterThan(0);
    expect(limit).toBeLessThanOrEqual(totalmem());
    const registry = new Registry();
    registerMemoryLimitGauge(registry);
    expect(await registry.metrics()).toContain(`hearth_memory_limit_bytes ${limit}`);
  });
});
