export { type AlertClaims, databaseAlertClaims } from "./alert-claims.js";
export { alertMonitorFromConfig, alertsConfigured } from "./alert-monitor-from-config.js";
export { type AlertName, histogramQuantile } from "./alert-rules.js";
export { ALERT_METRICS, type AlertThresholds, DEFAULT_ALERT_THRESHOLDS } from "./alert-thresholds.js";
export {
  type ActiveAlert,
  type AlertMonitor,
  type AlertMonitorOptions,
  createAlertMonitor,
  type MetricsTarget,
} from "./create-alert-monitor.js";
export { type MetricSample, parsePrometheusText } from "./prometheus-text.js";
export {
  type AlertNotification,
  formatWebhook,
  type WebhookKind,
  type WebhookTarget,
} from "./webhook-formats.js";
