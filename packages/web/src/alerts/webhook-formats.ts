import { createHmac } from "node:crypto";

export type WebhookKind = "generic" | "dingtalk" | "feishu" | "wecom" | "slack";

/** A notification about one alert instance changing state. */
export interface AlertNotification {
  alert: string;
  status: "firing" | "resolved";
  severity: "warning" | "critical";
  labels: Record<string, string>;
  summary: string;
  value: number;
  threshold: number;
  startsAt: string;
  endsAt?: string;
}

export interface WebhookTarget {
  kind: WebhookKind;
  url: string;
  /** DingTalk and Feishu robots with signature verification switched on; never logged. */
  secret?: string;
}

export interface WebhookRequest {
  url: string;
  body: unknown;
}

/** Builds the request body (and signed URL) each receiver expects. */
export function formatWebhook(
  target: WebhookTarget,
  notification: AlertNotification,
  now = Date.now(),
): WebhookRequest {
  const title = `${notification.status === "firing" ? "[FIRING]" : "[RESOLVED]"} ${notification.alert}`;
  const where = Object.entries(notification.labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(", ");
  const lines = [notification.summary, where ? `(${where})` : "", `since ${notification.startsAt}`].filter(
    Boolean,
  );
  switch (target.kind) {
    case "generic":
      return { url: target.url, body: { source: "hearth", ...notification } };
    case "slack":
      return { url: target.url, body: { text: `*${title}*\n${lines.join("\n")}` } };
    case "wecom":
      return {
        url: target.url,
        body: {
          msgtype: "markdown",
          markdown: { content: `**${title}**\n${lines.map((line) => `> ${line}`).join("\n")}` },
        },
      };
    case "dingtalk": {
      // DingTalk robot signing: HMAC-SHA256 over "timestamp\nsecret" keyed by the secret, in the URL.
      let url = target.url;
      if (target.secret) {
        const sign = createHmac("sha256", target.secret).update(`${now}\n${target.secret}`).digest("base64");
        const signed = new URL(target.url);
        signed.searchParams.set("timestamp", String(now));
        signed.searchParams.set("sign", sign);
        url = signed.toString();
      }
      return {
        url,
        body: {
          msgtype: "markdown",
          markdown: { title, text: `### ${title}\n${lines.map((line) => `- ${line}`).join("\n")}` },
        },
      };
    }
    case "feishu": {
      // Feishu custom bot signing: HMAC-SHA256 keyed by "timestamp\nsecret" over an empty message, in the body.
      const body: Record<string, unknown> = {
        msg_type: "text",
        content: { text: `${title}\n${lines.join("\n")}` },
      };
      if (target.secret) {
        const timestamp = Math.floor(now / 1000);
        body.timestamp = String(timestamp);
        body.sign = createHmac("sha256", `${timestamp}\n${target.secret}`).update("").digest("base64");
      }
      return { url: target.url, body };
    }
  }
}

/**
 * Whether a receiver accepted the notification. DingTalk, WeCom and Feishu answer HTTP 200 with an
 * error code in the body when they refuse (bad signature, keyword missing), so the body is checked.
 */
export function accepted(kind: WebhookKind, status: number, body: string): boolean {
  if (status < 200 || status >= 300) return false;
  if (kind === "generic" || kind === "slack") return true;
  try {
    const parsed = JSON.parse(body) as { errcode?: number; code?: number; StatusCode?: number };
    if (kind === "feishu") return (parsed.code ?? parsed.StatusCode ?? 0) === 0;
    return parsed.errcode === 0;
  } catch {
    return false;
  }
}
