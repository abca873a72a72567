import { z } from "zod";
import { httpUrl } from "./fields.js";

const webhookKind = z.enum(["generic", "dingtalk", "feishu", "wecom", "slack"]);

const webhook = z.strictObject({
  kind: webhookKind.default("generic"),
  /** The receiver's URL; it often carries an access token, so it is never logged. */
  url: httpUrl,
  /** Signing secret of DingTalk and Feishu robots with signature verification on; never logged. */
  secret: z.string().min(1).optional(),
});

/**
 * The web service's built-in alert monitor (packages/web/src/alerts): the thresholds of
 * deploy/monitoring/alert-rules.yaml, evaluated without Prometheus, notifying webhooks.
 */
export const alertsSection = z.strictObject({
  /** Run the monitor when at least one webhook is configured. */
  enabled: z.boolean().default(true),
  /** Seconds between evaluations. */
  intervalSeconds: z.number().int().min(1).max(3600).default(15),
  /** A knowledge base not updated for this many hours raises HearthKnowledgeStale. */
  knowledgeStaleHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(24),
  /**
   * HearthInferenceLatencyHigh fires when the P99 time to first token (admission to the first token:
   * queue wait, prompt processing and, after an idle unload, the model's load) stays over this many
   * milliseconds. The default suits CPU inference of the sizing's models; on GPUs use ~500.
   */
  firstTokenP99Ms: z.number().int().min(50).max(600_000).default(5000),
  /** One webhook from the environment (HEARTH_ALERT_WEBHOOK_*). */
  webhook: webhook.optional(),
  /** Further webhooks, from the configuration file. */
  webhooks: z.array(webhook).max(20).default([]),
});
