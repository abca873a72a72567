/**
 * The thresholds the alert monitor and the Prometheus rules share. deploy/monitoring/alert-rules.yaml
 * states the same numbers; test/deploy/monitoring.test.ts keeps the two in step.
 */
export interface AlertThresholds {
  /**
   * P99 time to first token of the model service, in seconds (Prometheus: 5). It includes queue
   * wait, prompt processing and cold loads; on CPU a warm answer already takes about a second.
   */
  inferenceP99Seconds: number;
  /** Window the P99 is computed over, in seconds (Prometheus: rate(...[5m])). */
  inferenceWindowSeconds: number;
  /** Resident memory over the memory limit (container limit, else the machine's memory). */
  memoryRatio: number;
  /** Share of search queries that returned results. */
  searchSuccessRatio: number;
  /** Fewer queries than this in the window never alert (one failed query of one is not an outage). */
  searchMinQueries: number;
  searchWindowSeconds: number;
  /** A knowledge base not updated for this long is stale (configurable per install). */
  knowledgeStaleSeconds: number;
  /** How long each condition must hold before the alert fires, in seconds. */
  forSeconds: {
    inferenceLatency: number;
    memory: number;
    searchSuccess: number;
    knowledgeStale: number;
    queueFull: number;
    serviceDown: number;
  };
}

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  inferenceP99Seconds: 5,
  inferenceWindowSeconds: 300,
  memoryRatio: 0.8,
  searchSuccessRatio: 0.9,
  searchMinQueries: 10,
  searchWindowSeconds: 600,
  knowledgeStaleSeconds: 86_400,
  forSeconds: {
    inferenceLatency: 300,
    memory: 300,
    searchSuccess: 300,
    knowledgeStale: 0,
    queueFull: 60,
    serviceDown: 60,
  },
};

/**
 * Metric names the rules read: the contract between the services and the alerts (docs/deployment.md,
 * "Metrics the alerts read").
 */
export const ALERT_METRICS = {
  /** Histogram (model service): seconds from admission to the first generated token. */
  firstToken: "hearth_model_time_to_first_token_seconds",
  /** Gauges (model service): requests waiting in the admission queue, and the queue's capacity. */
  queueDepth: "hearth_model_queue_depth",
  queueCapacity: "hearth_model_queue_capacity",
  /** Counter (search service), label `outcome`: ok (results), empty (no results), error (all providers failed). */
  searchQueries: "hearth_search_queries_total",
  /** Gauge (knowledge service), label `knowledge_base`: Unix time of the last successful update. */
  knowledgeUpdated: "hearth_knowledge_last_update_timestamp_seconds",
  /** Gauges (every service): resident memory (prom-client default) and the memory limit. */
  residentMemory: "hearth_process_resident_memory_bytes",
  memoryLimit: "hearth_memory_limit_bytes",
} as const;
