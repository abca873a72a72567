import { availableParallelism } from "node:os";
import { z } from "zod";
import { addressRanges, host, httpUrl, port, postgresUrl } from "./fields.js";

export const knowledgeSection = z.strictObject({
  host: host.default("127.0.0.1"),
  port: port.default(8083),
  /** Largest accepted upload, per file, in bytes (default 100 MiB). */
  maxUploadBytes: z
    .number()
    .int()
    .positive()
    .default(100 * 1024 * 1024),
  /**
   * Seconds a request may take to arrive, headers and body (an upload of many files); one still
   * arriving then is answered 408 REQUEST_TIMEOUT.
   */
  requestTimeoutSeconds: z.number().int().positive().default(3600),
  /** Largest text a document may expand to after unzipping/parsing, in bytes (zip bomb guard). */
  maxExtractedBytes: z
    .number()
    .int()
    .positive()
    .default(256 * 1024 * 1024),
  /** Seconds between automatic syncs of watched folders; 0 turns the schedule off. */
  syncIntervalSeconds: z.number().int().min(0).default(300),
  /** An Apache Tika server that parses formats Hearth does not, e.g. http://127.0.0.1:9998. */
  tikaUrl: httpUrl.optional(),
  /** Parse every format through Tika instead of the built-in parsers (needs `tikaUrl`). */
  tikaForAll: z.boolean().default(false),
  /** Where embeddings are computed (Ollama-style /api/embed); defaults to the model service. */
  embeddingUrl: httpUrl.optional(),
  /** Texts per embedding request. */
  embeddingBatchSize: z.number().int().min(1).max(1024).default(32),
  /** Documents parsed at once; big files take one slot of their own so small ones keep moving. */
  ingestConcurrency: z.number().int().min(1).max(64).default(2),
  /**
   * Let URL ingestion reach the private networks (RFC 1918, IPv6 unique-local); not loopback,
   * link-local, carrier-grade NAT or cloud metadata addresses, which only allowPrivateRanges opens.
   */
  allowPrivateUrls: z.boolean().default(false),
  /** CIDR ranges (or single addresses) URL ingestion may reach although private, e.g. an intranet. */
  allowPrivateRanges: addressRanges,
  /** Parser threads; a big PDF is split over all of them (default: the cores, at most 4). */
  parserThreads: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(() => Math.max(1, Math.min(4, availableParallelism()))),
  /** Files at or above this size parse in a worker thread. */
  workerThresholdBytes: z
    .number()
    .int()
    .min(0)
    .default(512 * 1024),
  // Index and retrieval: where chunks, terms and vectors live (see docs/decisions/knowledge-index-backends.md).
  indexBackend: z.enum(["sqlite", "postgres", "elasticsearch"]).default("sqlite"),
  indexPostgresUrl: postgresUrl.optional(),
  indexElasticsearchUrl: httpUrl.optional(),
});
