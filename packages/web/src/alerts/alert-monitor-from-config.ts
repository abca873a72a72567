import { hostname } from "node:os";
import type { HearthConfig, Logger } from "@hearth/core";
import type { WebDatabase } from "../storage/open-database.js";
import { databaseAlertClaims } from "./alert-claims.js";
import { type AlertMonitor, createAlertMonitor } from "./create-alert-monitor.js";
import type { WebhookTarget } from "./webhook-formats.js";

/**
 * The alert monitor as the web service runs it: the four services' /metrics (the others at their
 * configured URLs, this one on loopback), the service token, and the webhooks of the `alerts`
 * section. Undefined when alerts are switched off or no webhook is configured. The caller starts
 * it after listening and stops it on close:
 *
 *   const alerts = alertMonitorFromConfig(config, logger); alerts?.start(); ... await alerts?.stop();
 *
 * With `shared.database` (replicas on one PostgreSQL database), the replicas claim each alert's
 * changes in it, so that one of them sends each notification; this replica's own web service's
 * alerts carry its name (`instance`: host:port), as they are its alone.
 */
export function alertMonitorFromConfig(
  config: HearthConfig,
  logger: Logger,
  shared: { database?: WebDatabase; now?: () => number } = {},
): AlertMonitor | undefined {
  if (!alertsConfigured(config)) return undefined;
  const section = config.alerts;
  const webhooks: WebhookTarget[] = [...(section.webhook ? [section.webhook] : []), ...section.webhooks].map(
    (webhook) => ({
      kind: webhook.kind,
      url: webhook.url,
      ...(webhook.secret ? { secret: webhook.secret } : {}),
    }),
  );
  const metrics = (base: string) => `${base.replace(/\/+$/, "")}/metrics`;
  const replica = `${hostname()}:${config.web.port}`;
  return createAlertMonitor({
    targets: [
      {
        service: "web",
        url: metrics(`http://127.0.0.1:${config.web.port}`),
        ...(shared.database ? { labels: { instance: replica } } : {}),
      },
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
    ...(shared.database ? { claims: databaseAlertClaims(shared.database, replica) } : {}),
    ...(shared.now ? { now: shared.now } : {}),
  });
}

/** Whether the web service runs the alert monitor: alerts on, and a webhook to notify. */
export function alertsConfigured(config: HearthConfig): boolean {
  return config.alerts.enabled && (config.alerts.webhook !== undefined || config.alerts.webhooks.length > 0);
}
