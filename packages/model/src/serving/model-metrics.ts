import { Counter, Gauge, Histogram, LATENCY_BUCKETS_SECONDS, type Registry } from "@hearth/core";

/** The model service's own figures, per model (issue 3, point 9). */
export class ModelMetrics {
  readonly timeToFirstToken: Histogram<"model">;
  readonly total: Histogram<"model">;
  readonly tokensPerSecond: Histogram<"model">;
  readonly queueWait: Histogram<"model" | "outcome">;
  readonly queueDepth: Gauge<"model">;
  readonly queueCapacity: Gauge<"model">;
  readonly cache: Counter<"model" | "result">;
  readonly loaded: Gauge<"model">;
  readonly memory: Gauge<"model">;
  readonly tokens: Counter<"model" | "kind">;

  constructor(
    registry: Registry,
    sources: {
      queue: () => Array<{ model: string; waiting: number; capacity: number }>;
      /** The loaded models (reading them first unloads removed ones: one stat per loaded model). */
      loaded: () => Promise<Array<{ model: string; bytes: number }>>;
    },
  ) {
    const registers = [registry];
    this.timeToFirstToken = new Histogram({
      name: "hearth_model_time_to_first_token_seconds",
      help: "Time from admission to the first streamed token",
      labelNames: ["model"],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.total = new Histogram({
      name: "hearth_model_inference_duration_seconds",
      help: "Time from admission to the end of the answer",
      labelNames: ["model"],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.tokensPerSecond = new Histogram({
      name: "hearth_model_tokens_per_second",
      help: "Generated tokens per second of generation, per answer",
      labelNames: ["model"],
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
      registers,
    });
    this.queueWait = new Histogram({
      name: "hearth_model_queue_wait_seconds",
      help: "Time a request waited in the model's admission queue, by how the wait ended (admitted, timeout, cancelled)",
      labelNames: ["model", "outcome"],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.queueDepth = new Gauge({
      name: "hearth_model_queue_depth",
      help: "Requests waiting in the model's admission queue",
      labelNames: ["model"],
      registers,
      collect() {
        this.reset();
        for (const { model, waiting } of sources.queue()) this.set({ model }, waiting);
      },
    });
    this.queueCapacity = new Gauge({
      name: "hearth_model_queue_capacity",
      help: "Requests that may wait in the model's admission queue before it answers 429",
      labelNames: ["model"],
      registers,
      collect() {
        this.reset();
        for (const { model, capacity } of sources.queue()) this.set({ model }, capacity);
      },
    });
    this.cache = new Counter({
      name: "hearth_model_cache_requests_total",
      help: "Inference cache lookups by result (hit, miss)",
      labelNames: ["model", "result"],
      registers,
    });
    this.loaded = new Gauge({
      name: "hearth_model_loaded",
      help: "1 for each model loaded in memory",
      labelNames: ["model"],
      registers,
      async collect() {
        const loaded = await sources.loaded();
        this.reset();
        for (const { model } of loaded) this.set({ model }, 1);
      },
    });
    this.memory = new Gauge({
      name: "hearth_model_memory_bytes",
      help: "Estimated memory of each loaded model and its context",
      labelNames: ["model"],
      registers,
      async collect() {
        const loaded = await sources.loaded();
        this.reset();
        for (const { model, bytes } of loaded) this.set({ model }, bytes);
      },
    });
    this.tokens = new Counter({
      name: "hearth_model_tokens_total",
      help: "Tokens processed, by kind (prompt, completion)",
      labelNames: ["model", "kind"],
      registers,
    });
  }

  /**
   * Drops the series of a model gone from the service (removed, or its file renamed away), so that
   * /metrics stops reporting it. Its gauges need no dropping: each scrape reads them afresh from the
   * queues and the loaded models.
   */
  async forget(model: string): Promise<void> {
    const perAnswer: SeriesOfModels[] = [
      this.timeToFirstToken,
      this.total,
      this.tokensPerSecond,
      this.queueWait,
      this.cache,
      this.tokens,
    ];
    for (const metric of perAnswer) {
      // A histogram's series has a value per bucket (told apart by `le`), its sum and its count:
      // each series is dropped once.
      const series = new Map<string, Partial<Record<string, string | number>>>();
      for (const { labels } of (await metric.get()).values) {
        if (labels.model !== model) continue;
        const { le: _bucket, ...ofSeries } = labels;
        series.set(JSON.stringify(ofSeries), ofSeries);
      }
      for (const labels of series.values()) metric.remove(labels);
    }
  }
}

/** A histogram or counter as `forget` reads and drops its series. */
interface SeriesOfModels {
  get(): Promise<{ values: Array<{ labels: Partial<Record<string, string | number>> }> }>;
  remove(labels: Partial<Record<string, string | number>>): void;
}
