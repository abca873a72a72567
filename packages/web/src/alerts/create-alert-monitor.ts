import { describeNetworkError, detectMemoryLimitBytes, HearthError } from "@hearth/core";
import type { Logger } from "pino";
import type { AlertClaims } from "./alert-claims.js";
import {
  ALERT_FOR_KEY,
  ALERT_SEVERITY,
  type AlertName,
  evaluateRules,
  type Finding,
  type Scrape,
} from "./alert-rules.js";
import { type AlertThresholds, DEFAULT_ALERT_THRESHOLDS } from "./alert-thresholds.js";
import { parsePrometheusText } from "./prometheus-text.js";
import { type AlertNotification, accepted, formatWebhook, type WebhookTarget } from "./webhook-formats.js";

export interface MetricsTarget {
  service: string;
  /** The service's /metrics URL, e.g. `${config.services.modelUrl}/metrics`. */
  url: string;
  /**
   * Labels added to every alert about this service: the replica, for a web service replica's own
   * /metrics, whose alerts are that replica's, not those another replica finds about itself.
   */
  labels?: Record<string, string>;
}

export interface AlertMonitorOptions {
  targets: MetricsTarget[];
  webhooks: WebhookTarget[];
  /** HEARTH_SERVICE_TOKEN, sent to /metrics when services require it. */
  serviceToken?: string;
  thresholds?: Partial<Omit<AlertThresholds, "forSeconds">> & {
    forSeconds?: Partial<AlertThresholds["forSeconds"]>;
  };
  /** How often to scrape and evaluate (default 15 s, Prometheus's usual interval). */
  intervalMs?: number;
  /**
   * Memory limit every service is judged against, over what each reports in
   * hearth_memory_limit_bytes (default: the reported limit, else this process's cgroup limit or RAM).
   */
  memoryLimitBytes?: number;
  logger?: Logger;
  now?: () => number;
  /**
   * Where replicas sharing a database claim the alerts' changes, so that one of them sends each
   * notification (alert-claims.ts). Without: this process is the only one notifying.
   */
  claims?: AlertClaims;
  /**
   * With `claims`: an alert notified as firing that no replica has seen for this long is resolved
   * by whichever replica looks (default: three intervals and a scrape's timeout).
   */
  claimStaleMs?: number;
}

/** An alert instance the monitor tracks: pending until its condition has held long enough, then firing. */
export interface ActiveAlert {
  alert: AlertName;
  state: "pending" | "firing";
  labels: Record<string, string>;
  value: number;
  threshold: number;
  summary: string;
  since: string;
}

export interface AlertMonitor {
  /** Scrapes every service, evaluates the rules and sends notifications for changes. */
  evaluate(): Promise<ActiveAlert[]>;
  active(): ActiveAlert[];
  start(): void;
  stop(): Promise<void>;
}

interface Tracked {
  key: string;
  finding: Finding;
  since: number;
  firing: boolean;
  /**
   * With claims: the firing episode this replica saw (claimed or noted); undefined when the
   * database could not be asked and this replica notified on its own.
   */
  episode?: number;
}

interface Delivery {
  target: WebhookTarget;
  notification: AlertNotification;
  attempts: number;
}

const MAX_ATTEMPTS = 5;
/** The longest a scrape of /metrics waits. */
const SCRAPE_TIMEOUT_MS = 10_000;

/**
 * The web service's own alerting for installs without Prometheus: it scrapes the services'
 * /metrics, evaluates the thresholds of deploy/monitoring/alert-rules.yaml, and posts to
 * webhooks (generic JSON, DingTalk, Feishu, WeCom, Slack) when an alert fires or resolves.
 * Webhooks are the only outbound calls, to the URLs the operator configured.
 */
export function createAlertMonitor(options: AlertMonitorOptions): AlertMonitor {
  const thresholds: AlertThresholds = {
    ...DEFAULT_ALERT_THRESHOLDS,
    ...options.thresholds,
    forSeconds: { ...DEFAULT_ALERT_THRESHOLDS.forSeconds, ...options.thresholds?.forSeconds },
  };
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 15_000;
  const claims = options.claims;
  const claimStaleMs = options.claimStaleMs ?? 3 * intervalMs + SCRAPE_TIMEOUT_MS;
  const targetLabels = new Map(
    options.targets.flatMap((target) => (target.labels ? [[target.service, target.labels] as const] : [])),
  );
  // The operator's limit wins over everything, so the machine's is only read when there is none.
  const fallbackMemoryLimit = options.memoryLimitBytes ?? detectMemoryLimitBytes();
  const history = new Map<string, Scrape[]>(options.targets.map((target) => [target.service, []]));
  const tracked = new Map<string, Tracked>();
  let retries: Delivery[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  const longestWindow = Math.max(thresholds.inferenceWindowSeconds, thresholds.searchWindowSeconds) * 1000;

  async function scrape(target: MetricsTarget): Promise<Scrape> {
    const at = now();
    try {
      const response = await fetch(target.url, {
        headers: options.serviceToken ? { "x-hearth-service-token": options.serviceToken } : {},
        signal: AbortSignal.timeout(Math.min(SCRAPE_TIMEOUT_MS, intervalMs)),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const { samples, malformedLines } = parsePrometheusText(await response.text());
      if (malformedLines > 0)
        options.logger?.warn({ service: target.service, malformedLines }, "skipped malformed metrics lines");
      return { service: target.service, at, samples };
    } catch (error) {
      options.logger?.warn(
        { service: target.service, reason: describeNetworkError(error) },
        "metrics scrape failed",
      );
      return { service: target.service, at, samples: undefined };
    }
  }

  function remember(result: Scrape): void {
    const scrapes = history.get(result.service) ?? [];
    scrapes.push(result);
    // Keep the newest scrape older than the longest window as the baseline, drop what is older.
    const cutoff = result.at - longestWindow;
    let keepFrom = 0;
    for (let index = 0; index < scrapes.length - 1; index++)
      if (scrapes[index]!.at <= cutoff) keepFrom = index;
    history.set(result.service, scrapes.slice(keepFrom));
  }

  async function deliver(delivery: Delivery): Promise<boolean> {
    const request = formatWebhook(delivery.target, delivery.notification, now());
    const host = safeHost(delivery.target.url);
    try {
      const response = await fetch(request.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(request.body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      if (accepted(delivery.target.kind, response.status, text)) return true;
      throw new HearthError(
        "ALERT_DELIVERY_FAILED",
        `the ${delivery.target.kind} webhook at ${host} refused the notification (HTTP ${response.status})`,
      );
    } catch (error) {
      const failure =
        error instanceof HearthError
          ? error
          : new HearthError(
              "ALERT_DELIVERY_FAILED",
              `the ${delivery.target.kind} webhook at ${host} did not answer: ${describeNetworkError(error)}`,
            );
      // The URL and secret are not logged: webhook URLs carry access tokens.
      options.logger?.warn(
        {
          code: failure.code,
          kind: delivery.target.kind,
          host,
          alert: delivery.notification.alert,
          attempt: delivery.attempts + 1,
        },
        failure.message,
      );
      return false;
    }
  }

  async function notify(notifications: AlertNotification[]): Promise<void> {
    const queue: Delivery[] = [
      ...retries,
      ...notifications.flatMap((notification) =>
        options.webhooks.map((target) => ({ target, notification, attempts: 0 })),
      ),
    ];
    const results = await Promise.all(
      queue.map(async (delivery) => ({ delivery, ok: await deliver(delivery) })),
    );
    retries = results
      .filter((result) => !result.ok && result.delivery.attempts + 1 < MAX_ATTEMPTS)
      .map((result) => ({ ...result.delivery, attempts: result.delivery.attempts + 1 }));
  }

  async function evaluateOnce(): Promise<ActiveAlert[]> {
    for (const result of await Promise.all(options.targets.map(scrape))) remember(result);
    const at = now();
    const findings = evaluateRules({
      thresholds,
      history,
      now: at,
      fallbackMemoryLimit,
      memoryLimitOverride: options.memoryLimitBytes,
    });
    const seen = new Set<string>();
    const started: Tracked[] = [];
    const ended: Tracked[] = [];
    for (const found of findings) {
      const extra = targetLabels.get(found.labels.service ?? "");
      const finding = extra ? { ...found, labels: { ...found.labels, ...extra } } : found;
      const key = `${finding.alert}${JSON.stringify(Object.entries(finding.labels).sort())}`;
      seen.add(key);
      const entry = tracked.get(key) ?? { key, finding, since: at, firing: false };
      entry.finding = finding;
      tracked.set(key, entry);
      if (!entry.firing && at - entry.since >= thresholds.forSeconds[ALERT_FOR_KEY[finding.alert]] * 1000) {
        entry.firing = true;
        started.push(entry);
      }
    }
    for (const [key, entry] of tracked) {
      if (seen.has(key)) continue;
      tracked.delete(key);
      if (entry.firing) ended.push(entry);
    }
    const resolvedAt = new Date(at).toISOString();
    const notifications = claims
      ? await claimed(started, ended, seen, at)
      : [
          ...started.map((entry) => toNotification(entry, "firing")),
          ...ended.map((entry) => ({ ...toNotification(entry, "resolved"), endsAt: resolvedAt })),
        ];
    for (const notification of notifications) {
      options.logger?.info(
        { alert: notification.alert, status: notification.status, labels: notification.labels },
        notification.summary,
      );
    }
    if (notifications.length > 0 || retries.length > 0) await notify(notifications);
    return active();
  }

  /**
   * The notifications this replica sends of the changes it saw, those its claims won; and the
   * resolutions of alerts no replica sees any more. When the database cannot be asked, this replica
   * notifies what it saw: a notification twice rather than none.
   */
  async function claimed(
    started: Tracked[],
    ended: Tracked[],
    seen: Set<string>,
    at: number,
  ): Promise<AlertNotification[]> {
    const shared = claims!;
    const resolvedAt = new Date(at).toISOString();
    const notifications: AlertNotification[] = [];
    const unclaimed = (error: unknown) =>
      options.logger?.warn(
        { err: error },
        "could not claim an alert change in the database shared with the other replicas; notifying it from this one",
      );
    try {
      await shared.seen([...seen], at);
    } catch (error) {
      unclaimed(error);
    }
    for (const entry of started) {
      const notification = toNotification(entry, "firing");
      try {
        const { won, episode } = await shared.fire(entry.key, notification, at);
        entry.episode = episode;
        if (won) notifications.push(notification);
      } catch (error) {
        unclaimed(error);
        notifications.push(notification);
      }
    }
    for (const entry of ended) {
      const notification = { ...toNotification(entry, "resolved"), endsAt: resolvedAt };
      if (entry.episode === undefined) {
        notifications.push(notification);
        continue;
      }
      try {
        const fired = await shared.resolve(entry.key, entry.episode, at);
        // The resolution pairs with the firing notification that was sent, whoever sent it.
        if (fired) notifications.push({ ...notification, startsAt: fired.startsAt });
      } catch (error) {
        unclaimed(error);
        notifications.push(notification);
      }
    }
    try {
      for (const fired of await shared.sweep(at - claimStaleMs, at))
        notifications.push({ ...fired, status: "resolved", endsAt: resolvedAt });
    } catch (error) {
      options.logger?.warn({ err: error }, "could not look for alerts no replica sees any more");
    }
    return notifications;
  }

  function active(): ActiveAlert[] {
    return [...tracked.values()].map((entry) => ({
      alert: entry.finding.alert,
      state: entry.firing ? "firing" : "pending",
      labels: entry.finding.labels,
      value: entry.finding.value,
      threshold: entry.finding.threshold,
      summary: entry.finding.summary,
      since: new Date(entry.since).toISOString(),
    }));
  }

  return {
    evaluate() {
      // One evaluation at a time: the timer and a caller never interleave.
      const next = (running ?? Promise.resolve()).then(evaluateOnce, evaluateOnce);
      running = next.catch(() => undefined);
      return next;
    },
    active,
    start() {
      if (timer) return;
      const tick = () => {
        void this.evaluate().catch((error: unknown) =>
          options.logger?.error({ err: error }, "alert evaluation failed"),
        );
      };
      timer = setInterval(tick, intervalMs);
      timer.unref();
      tick();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

function toNotification(entry: Tracked, status: "firing" | "resolved"): AlertNotification {
  return {
    alert: entry.finding.alert,
    status,
    severity: ALERT_SEVERITY[entry.finding.alert],
    labels: entry.finding.labels,
    summary: entry.finding.summary,
    value: entry.finding.value,
    threshold: entry.finding.threshold,
    startsAt: new Date(entry.since).toISOString(),
  };
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(invalid URL)";
  }
}
