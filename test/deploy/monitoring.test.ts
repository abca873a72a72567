import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ALERT_METRICS, DEFAULT_ALERT_THRESHOLDS } from "../../packages/web/src/alerts/index.js";
import { repoRoot } from "../support/shared-data.js";

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

const rules = (
  parse(readFileSync(join(repoRoot, "deploy/monitoring/alert-rules.yaml"), "utf8")) as {
    groups: { rules: Rule[] }[];
  }
).groups.flatMap((group) => group.rules);
const rule = (name: string) => rules.find((candidate) => candidate.alert === name)!;
const seconds = (duration: string | undefined) => {
  if (!duration) return 0;
  const match = /^(\d+)([smhd])$/.exec(duration)!;
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "s" | "m" | "h" | "d"];
};
const window = (expr: string) => seconds(/\[(\d+[smhd])\]/.exec(expr)?.[1]);
const threshold = (expr: string, operator: string) =>
  Number(new RegExp(`\\)\\s*${operator}\\s*([\\d.]+)`).exec(expr)?.[1]);

describe("deploy/monitoring/alert-rules.yaml", () => {
  const t = DEFAULT_ALERT_THRESHOLDS;

  it("has the alerts the web service's monitor raises, with the same names", () => {
    expect(rules.map((entry) => entry.alert).sort()).toEqual([
      "HearthInferenceLatencyHigh",
      "HearthKnowledgeStale",
      "HearthMemoryHigh",
      "HearthQueueFull",
      "HearthSearchSuccessLow",
      "HearthServiceDown",
    ]);
    for (const entry of rules) {
      expect(["warning", "critical"]).toContain(entry.labels.severity);
      expect(entry.annotations.summary.length).toBeGreaterThan(10);
    }
  });

  it("uses the same thresholds, windows and durations as the built-in monitor", () => {
    const latency = rule("HearthInferenceLatencyHigh");
    expect(latency.expr).toContain(`${ALERT_METRICS.firstToken}_bucket`);
    expect(latency.expr).toContain("histogram_quantile(0.99,");
    expect(threshold(latency.expr, ">")).toBe(t.inferenceP99Seconds);
    expect(window(latency.expr)).toBe(t.inferenceWindowSeconds);
    expect(seconds(latency.for)).toBe(t.forSeconds.inferenceLatency);

    const memory = rule("HearthMemoryHigh");
    expect(memory.expr).toContain(`${ALERT_METRICS.residentMemory} / ${ALERT_METRICS.memoryLimit}`);
    expect(threshold(memory.expr, ">")).toBe(t.memoryRatio);
    expect(seconds(memory.for)).toBe(t.forSeconds.memory);

    const search = rule("HearthSearchSuccessLow");
    expect(search.expr).toContain(`${ALERT_METRICS.searchQueries}{outcome="ok"}`);
    expect(threshold(search.expr, "<")).toBe(t.searchSuccessRatio);
    expect(Number(/>=\s*(\d+)/.exec(search.expr)?.[1])).toBe(t.searchMinQueries);
    expect(window(search.expr)).toBe(t.searchWindowSeconds);
    expect(seconds(search.for)).toBe(t.forSeconds.searchSuccess);

    const knowledge = rule("HearthKnowledgeStale");
    expect(knowledge.expr).toContain(ALERT_METRICS.knowledgeUpdated);
    expect(threshold(knowledge.expr, ">")).toBe(t.knowledgeStaleSeconds);
    expect(seconds(knowledge.for)).toBe(t.forSeconds.knowledgeStale);

    const queue = rule("HearthQueueFull");
    expect(queue.expr).toContain(`${ALERT_METRICS.queueDepth} >= ${ALERT_METRICS.queueCapacity}`);
    expect(seconds(queue.for)).toBe(t.forSeconds.queueFull);
    expect(seconds(rule("HearthServiceDown").for)).toBe(t.forSeconds.serviceDown);
  });
});

describe("deploy/monitoring scrape configs", () => {
  it("scrapes the four services with the token from a file, never inline", () => {
    const config = parse(readFileSync(join(repoRoot, "deploy/monitoring/prometheus.yml"), "utf8")) as {
      scrape_configs: {
        job_name: string;
        authorization: { credentials_file: string; credentials?: string };
        static_configs: { targets: string[] }[];
      }[];
    };
    const targets = Object.fromEntries(
      config.scrape_configs.map((job) => [job.job_name, job.static_configs[0]!.targets[0]]),
    );
    expect(targets).toEqual({
      "hearth-model": "model:8081",
      "hearth-search": "search:8082",
      "hearth-knowledge": "knowledge:8083",
      "hearth-web": "web:8080",
    });
    for (const job of config.scrape_configs) {
      expect(job.authorization.credentials_file).toMatch(/^\/etc\/prometheus\//);
      expect(job.authorization.credentials).toBeUndefined();
    }
    // The rule files they load are the ones in deploy/monitoring, under their own names.
    for (const file of ["prometheus.yml", "prometheus-kubernetes.yml"]) {
      const { rule_files } = parse(readFileSync(join(repoRoot, "deploy/monitoring", file), "utf8")) as {
        rule_files: string[];
      };
      for (const rules of rule_files)
        expect(existsSync(join(repoRoot, "deploy/monitoring", basename(rules))), `${file}: ${rules}`).toBe(
          true,
        );
    }
    const kubernetes = readFileSync(join(repoRoot, "deploy/monitoring/prometheus-kubernetes.yml"), "utf8");
    expect(kubernetes).toContain("credentials_file:");
    expect(kubernetes).toContain("replacement: hearth-$1");
  });
});

describe("deploy/monitoring/grafana-dashboard.json", () => {
  const dashboard = JSON.parse(
    readFileSync(join(repoRoot, "deploy/monitoring/grafana-dashboard.json"), "utf8"),
  ) as {
    uid: string;
    panels: { id: number; type: string; title: string; targets?: { expr: string }[] }[];
  };

  it("charts P99 latency, memory, search success, knowledge freshness and the queue, from Hearth's metrics", () => {
    expect(dashboard.uid).toBe("hearth-overview");
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const expressions = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((target) => target.expr);
    for (const metric of [
      ALERT_METRICS.firstToken,
      ALERT_METRICS.residentMemory,
      ALERT_METRICS.searchQueries,
      ALERT_METRICS.knowledgeUpdated,
      ALERT_METRICS.queueDepth,
    ]) {
      expect(
        expressions.some((expr) => expr.includes(metric)),
        metric,
      ).toBe(true);
    }
    // Every query reads Hearth's own metrics (or Prometheus's `up`), grouped by service where it spans services.
    for (const expr of expressions) expect(expr).toMatch(/hearth_|up\{job=~"hearth-/);
    expect(expressions.filter((expr) => expr.includes("by (service"))).not.toHaveLength(0);
  });
});
