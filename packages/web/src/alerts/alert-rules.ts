import { ALERT_METRICS, type AlertThresholds } from "./alert-thresholds.js";
import type { MetricSample } from "./prometheus-text.js";

/** One scrape of one service's /metrics. `samples` is undefined when the scrape failed. */
export interface Scrape {
  service: string;
  at: number;
  samples: MetricSample[] | undefined;
}

/** What a rule found at one evaluation: one finding per alert instance that is currently true. */
export interface Finding {
  alert: AlertName;
  /** Distinguishes instances of one alert (service, model, knowledge base). */
  labels: Record<string, string>;
  value: number;
  threshold: number;
  summary: string;
}

export type AlertName =
  | "HearthInferenceLatencyHigh"
  | "HearthMemoryHigh"
  | "HearthSearchSuccessLow"
  | "HearthKnowledgeStale"
  | "HearthQueueFull"
  | "HearthServiceDown";

export const ALERT_FOR_KEY: Record<AlertName, keyof AlertThresholds["forSeconds"]> = {
  HearthInferenceLatencyHigh: "inferenceLatency",
  HearthMemoryHigh: "memory",
  HearthSearchSuccessLow: "searchSuccess",
  HearthKnowledgeStale: "knowledgeStale",
  HearthQueueFull: "queueFull",
  HearthServiceDown: "serviceDown",
};

export const ALERT_SEVERITY: Record<AlertName, "warning" | "critical"> = {
  HearthInferenceLatencyHigh: "warning",
  HearthMemoryHigh: "warning",
  HearthSearchSuccessLow: "warning",
  HearthKnowledgeStale: "warning",
  HearthQueueFull: "critical",
  HearthServiceDown: "critical",
};

export interface RuleContext {
  thresholds: AlertThresholds;
  /** Scrapes per service, oldest first, the latest last. */
  history: ReadonlyMap<string, readonly Scrape[]>;
  now: number;
  /** Memory limit in bytes when a service does not report hearth_memory_limit_bytes. */
  fallbackMemoryLimit: number;
  /** An operator's limit that wins over what services report (a host shared with other programs). */
  memoryLimitOverride?: number | undefined;
}

/** Evaluates every rule; the same conditions as deploy/monitoring/alert-rules.yaml. */
export function evaluateRules(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const [service, scrapes] of context.history) {
    const latest = scrapes.at(-1);
    if (!latest) continue;
    if (!latest.samples) {
      findings.push({
        alert: "HearthServiceDown",
        labels: { service },
        value: 0,
        threshold: 1,
        summary: `The ${service} service does not answer /metrics`,
      });
      continue;
    }
    findings.push(...memory(service, latest.samples, context));
    findings.push(...queueFull(service, latest.samples));
    findings.push(...knowledgeStale(service, latest.samples, context));
    const latency = inferenceLatency(service, scrapes, context);
    if (latency) findings.push(latency);
    const search = searchSuccess(service, scrapes, context);
    if (search) findings.push(search);
  }
  return findings;
}

function memory(service: string, samples: MetricSample[], context: RuleContext): Finding[] {
  const resident = samples.find((sample) => sample.name === ALERT_METRICS.residentMemory)?.value;
  const limit =
    context.memoryLimitOverride ??
    samples.find((sample) => sample.name === ALERT_METRICS.memoryLimit)?.value ??
    context.fallbackMemoryLimit;
  if (resident === undefined || !(limit > 0)) return [];
  const ratio = resident / limit;
  if (!(ratio > context.thresholds.memoryRatio)) return [];
  return [
    {
      alert: "HearthMemoryHigh",
      labels: { service },
      value: ratio,
      threshold: context.thresholds.memoryRatio,
      summary: `The ${service} service uses ${percent(ratio)} of its memory limit (${mebibytes(resident)} of ${mebibytes(limit)})`,
    },
  ];
}

function queueFull(service: string, samples: MetricSample[]): Finding[] {
  const findings: Finding[] = [];
  for (const depth of samples.filter((sample) => sample.name === ALERT_METRICS.queueDepth)) {
    const capacity = samples.find(
      (sample) => sample.name === ALERT_METRICS.queueCapacity && sameLabels(sample.labels, depth.labels),
    );
    if (!capacity || capacity.value <= 0 || depth.value < capacity.value) continue;
    const model = depth.labels.model;
    findings.push({
      alert: "HearthQueueFull",
      labels: { service, ...(model ? { model } : {}) },
      value: depth.value,
      threshold: capacity.value,
      summary: `The admission queue${model ? ` of ${model}` : ""} is full (${depth.value} of ${capacity.value}); new requests get 429`,
    });
  }
  return findings;
}

function knowledgeStale(service: string, samples: MetricSample[], context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const sample of samples.filter((candidate) => candidate.name === ALERT_METRICS.knowledgeUpdated)) {
    if (!(sample.value > 0)) continue;
    const age = context.now / 1000 - sample.value;
    if (!(age > context.thresholds.knowledgeStaleSeconds)) continue;
    const base = sample.labels.knowledge_base ?? "";
    findings.push({
      alert: "HearthKnowledgeStale",
      labels: { service, knowledge_base: base },
      value: age,
      threshold: context.thresholds.knowledgeStaleSeconds,
      summary: `Knowledge base ${base || "(unnamed)"} has not been updated for ${duration(age)}`,
    });
  }
  return findings;
}

/** P99 of the first-token histogram over the window, from the growth of its buckets (like rate()). */
function inferenceLatency(
  service: string,
  scrapes: readonly Scrape[],
  context: RuleContext,
): Finding | undefined {
  const window = windowed(scrapes, context.now - context.thresholds.inferenceWindowSeconds * 1000);
  if (!window) return undefined;
  const bucketName = `${ALERT_METRICS.firstToken}_bucket`;
  const latest = sumBy(window.latest, bucketName, "le");
  const earliest = sumBy(window.earliest, bucketName, "le");
  const buckets = [...latest.entries()]
    .map(([le, count]) => ({
      le: le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le),
      count: count - (earliest.get(le) ?? 0),
    }))
    .sort((a, b) => a.le - b.le);
  const p99 = histogramQuantile(0.99, buckets);
  if (p99 === undefined || !(p99 > context.thresholds.inferenceP99Seconds)) return undefined;
  return {
    alert: "HearthInferenceLatencyHigh",
    labels: { service },
    value: p99,
    threshold: context.thresholds.inferenceP99Seconds,
    summary: `P99 time to first token is ${Math.round(p99 * 1000)} ms (threshold ${Math.round(context.thresholds.inferenceP99Seconds * 1000)} ms)`,
  };
}

function searchSuccess(
  service: string,
  scrapes: readonly Scrape[],
  context: RuleContext,
): Finding | undefined {
  const window = windowed(scrapes, context.now - context.thresholds.searchWindowSeconds * 1000);
  if (!window) return undefined;
  const latest = sumBy(window.latest, ALERT_METRICS.searchQueries, "outcome");
  const earliest = sumBy(window.earliest, ALERT_METRICS.searchQueries, "outcome");
  let total = 0;
  for (const [outcome, count] of latest) total += count - (earliest.get(outcome) ?? 0);
  if (total < Math.max(1, context.thresholds.searchMinQueries)) return undefined;
  const ok = (latest.get("ok") ?? 0) - (earliest.get("ok") ?? 0);
  const ratio = ok / total;
  if (!(ratio < context.thresholds.searchSuccessRatio)) return undefined;
  return {
    alert: "HearthSearchSuccessLow",
    labels: { service },
    value: ratio,
    threshold: context.thresholds.searchSuccessRatio,
    summary: `Only ${percent(ratio)} of ${total} searches returned results (threshold ${percent(context.thresholds.searchSuccessRatio)})`,
  };
}

/**
 * The latest successful scrape and the one that starts the window. Counters start at zero with the
 * process, so with no scrape before the window the growth since start-up is used.
 */
function windowed(
  scrapes: readonly Scrape[],
  since: number,
): { latest: MetricSample[]; earliest: MetricSample[] } | undefined {
  const successful = scrapes.filter((scrape) => scrape.samples !== undefined);
  const latest = successful.at(-1);
  if (!latest?.samples) return undefined;
  const earliest = [...successful].reverse().find((scrape) => scrape.at <= since && scrape !== latest);
  return { latest: latest.samples, earliest: earliest?.samples ?? [] };
}

function sumBy(samples: MetricSample[], name: string, label: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const sample of samples) {
    if (sample.name !== name) continue;
    const key = sample.labels[label] ?? "";
    sums.set(key, (sums.get(key) ?? 0) + sample.value);
  }
  return sums;
}

/** Prometheus's histogram_quantile: linear interpolation inside the bucket holding the rank. */
export function histogramQuantile(
  quantile: number,
  buckets: { le: number; count: number }[],
): number | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  if (!(total > 0)) return undefined;
  const rank = quantile * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (bucket.le === Number.POSITIVE_INFINITY) return lowerBound;
      return lowerBound + (bucket.le - lowerBound) * ((rank - lowerCount) / (bucket.count - lowerCount || 1));
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => a[key] === b[key]);
}

const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
const mebibytes = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

function duration(seconds: number): string {
  if (seconds >= 86_400) return `${(seconds / 86_400).toFixed(1)} days`;
  if (seconds >= 3600) return `${(seconds / 3600).toFixed(1)} hours`;
  if (seconds >= 60) return `${Math.round(seconds / 60)} minutes`;
  return `${Math.round(seconds)} seconds`;
}
