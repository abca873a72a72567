import { Counter, Gauge, Histogram, LATENCY_BUCKETS_SECONDS, type Registry } from "@hearth/core";

/** Ingestion figures on the knowledge service's /metrics. */
export function createIngestionMetrics(registry: Registry) {
  return {
    documents: new Counter({
      name: "hearth_knowledge_documents_processed_total",
      help: "Documents an ingestion job finished, by outcome (indexed, skipped, failed, deleted)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "hearth_knowledge_document_ingest_seconds",
      help: "Time to parse, clean, chunk, embed and index one document",
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    }),
    updates: new Counter({
      name: "hearth_knowledge_base_updates_total",
      help: "Changes written to a knowledge base's index (documents indexed or removed); its rate is the update frequency",
      labelNames: ["knowledge_base"],
      registers: [registry],
    }),
    lastUpdate: new Gauge({
      name: "hearth_knowledge_last_update_timestamp_seconds",
      help: "When a knowledge base's index last changed (Unix time)",
      labelNames: ["knowledge_base"],
      registers: [registry],
    }),
    activeJobs: new Gauge({
      name: "hearth_knowledge_jobs_active",
      help: "Ingestion jobs queued or running",
      registers: [registry],
    }),
    embeddedTexts: new Counter({
      name: "hearth_knowledge_embedded_texts_total",
      help: "Chunk texts sent to an embedding model (cache misses)",
      registers: [registry],
    }),
  };
}

export type IngestionMetrics = ReturnType<typeof createIngestionMetrics>;
