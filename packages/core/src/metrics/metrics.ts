import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { registerMemoryLimitGauge } from "./memory-limit.js";

export { Counter, Gauge, Histogram, Registry };

/**
 * One registry per service, so that four services in one process (`hearth up`) each expose their
 * own figures, prefixed `hearth_<service>_` where a metric is service-specific.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: "hearth_" });
  registerMemoryLimitGauge(registry);
  return registry;
}

/** Latency buckets in seconds, from 1 ms to 2 minutes (model answers can be long). */
export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
];
