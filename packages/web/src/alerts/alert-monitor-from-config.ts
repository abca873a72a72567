import type { HearthConfig, Logger } from "@hearth/core";
import { type AlertMonitor, createAlertMonitor } from "./create-alert-monitor.js";
import type { WebhookTarget } from "./webhook-formats.js";

/**
 * The alert monitor as the web service runs it: the four services' /metrics (the others at their
 * configured URLs, this one on loopback), the service token, and the webhooks of the `alerts`
 * section. Undefined when alerts are switched off or no webhook is configured. The caller starts
 * it after listening and stops it on close:
 *
 *   const alerts = alertMonitorFromConfig(config, logger); alerts?.start(); ... await alerts?.stop();
 */
export function alertMonitorFromConfig(config: HearthConfig, logger: Logger): AlertMonitor | undefined {
  const section = config.alerts;
  const webhooks: WebhookTarget[] = [...(section.webhook ? [section.webhook] : []), ...section.webhooks].map(
    (webhook) => ({
      kind: webhook.kind,
      url: webhook.url,
      ...(webhook.secret ? { secret: webhook.secret } : {}),
    }),
  );
  if (!section.enabled || webhooks.length === 0) return undefined;
  const metrics = (base: string) => `${base.replace(/\/+$/, "")}/metrics`;
  return createAlertMonitor({
    targets: [
      { service: "web", url: metrics(`http://127.0.0.1:${config.web.port}`) },
      { service: "model", url: metrics(config.services.modelUrl) },
      { service: "search", url: metrics(config.services.searchUrl) },
      { service: "knowledge", url: metrics(config.services.knowledgeUrl) },
    ],
    webhooks,
    ...(config.services.token ? { serviceToken: config.services.token } : {}),
    intervalMs: section.intervalSeconds * 1000,
    thresholds: {
      knowledgeStaleSeconds: section.knowledgeStaleHours * 3600,
      inferenceP99Seconds: section.firstTokenP99Ms / 1000,
    },
    logger: logger.child({ component: "alerts" }),
  });
}
