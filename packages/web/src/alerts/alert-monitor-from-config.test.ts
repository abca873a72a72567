import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { createLogger, loadConfig } from "@hearth/core";
import { describe, expect, it } from "vitest";
import { alertMonitorFromConfig } from "./alert-monitor-from-config.js";

describe("alertMonitorFromConfig", () => {
  it("stays off without a webhook", () => {
    const config = loadConfig({ cwd: tmpdir(), env: {} });
    expect(alertMonitorFromConfig(config, createLogger({ level: "silent" }))).toBeUndefined();
  });

  it("is configured from HEARTH_ALERT_WEBHOOK_* and notifies when a service is down", async () => {
    const received: unknown[] = [];
    const receiver = createServer(async (request, response) => {
      let body = "";
      for await (const chunk of request) body += chunk;
      received.push({ url: request.url, body: JSON.parse(body) });
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ errcode: 0, errmsg: "ok" }));
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const port = (receiver.address() as AddressInfo).port;
    const config = loadConfig({
      cwd: tmpdir(),
      env: {
        HEARTH_ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/robot/send?access_token=abc`,
        HEARTH_ALERT_WEBHOOK_KIND: "dingtalk",
        HEARTH_ALERT_WEBHOOK_SECRET: "SEC123",
        HEARTH_KNOWLEDGE_STALE_HOURS: "48",
        // Nothing listens on these: every service is down.
        HEARTH_PORT: "1",
        HEARTH_MODEL_URL: "http://127.0.0.1:2",
        HEARTH_SEARCH_URL: "http://127.0.0.1:3",
        HEARTH_KNOWLEDGE_URL: "http://127.0.0.1:4",
      },
    });
    expect(config.alerts).toMatchObject({
      knowledgeStaleHours: 48,
      webhook: { kind: "dingtalk", secret: "SEC123" },
    });
    const monitor = alertMonitorFromConfig(config, createLogger({ level: "silent" }))!;
    try {
      // Services down must hold for a minute by default; evaluate twice across a faked minute is not
      // possible here, so the first evaluation shows them pending.
      const active = await monitor.evaluate();
      expect(active.map((alert) => `${alert.alert}:${alert.labels.service}:${alert.state}`).sort()).toEqual([
        "HearthServiceDown:knowledge:pending",
        "HearthServiceDown:model:pending",
        "HearthServiceDown:search:pending",
        "HearthServiceDown:web:pending",
      ]);
      expect(received).toEqual([]);
    } finally {
      await monitor.stop();
      receiver.close();
    }
  });

  it("judges first-token latency against a CPU-suited threshold by default, and HEARTH_ALERT_FIRST_TOKEN_MS", async () => {
    // A model service whose first tokens all took about 2 s (a 1.5B model on CPU with a long prompt).
    const model = createServer((_request, response) => {
      response.setHeader("content-type", "text/plain; version=0.0.4");
      const bucket = (le: string, count: number) =>
        `hearth_model_time_to_first_token_seconds_bucket{le="${le}",model="m"} ${count}\n`;
      response.end(
        `${bucket("0.5", 0)}${bucket("1", 0)}${bucket("2.5", 20)}${bucket("5", 20)}${bucket("+Inf", 20)}` +
          'hearth_model_time_to_first_token_seconds_count{model="m"} 20\n',
      );
    });
    await new Promise<void>((resolve) => model.listen(0, "127.0.0.1", resolve));
    const env = {
      HEARTH_ALERT_WEBHOOK_URL: "http://127.0.0.1:9/hook",
      HEARTH_PORT: "1",
      HEARTH_MODEL_URL: `http://127.0.0.1:${(model.address() as AddressInfo).port}`,
      HEARTH_SEARCH_URL: "http://127.0.0.1:3",
      HEARTH_KNOWLEDGE_URL: "http://127.0.0.1:4",
    };
    const latency = async (extra: Record<string, string>) => {
      const config = loadConfig({ cwd: tmpdir(), env: { ...env, ...extra } });
      const monitor = alertMonitorFromConfig(config, createLogger({ level: "silent" }))!;
      try {
        return (await monitor.evaluate()).filter((alert) => alert.alert === "HearthInferenceLatencyHigh");
      } finally {
        await monitor.stop();
      }
    };
    try {
      expect(loadConfig({ cwd: tmpdir(), env: {} }).alerts.firstTokenP99Ms).toBe(5000);
      expect(await latency({})).toEqual([]);
      expect(await latency({ HEARTH_ALERT_FIRST_TOKEN_MS: "1000" })).toMatchObject([
        { alert: "HearthInferenceLatencyHigh", state: "pending", labels: { service: "model" } },
      ]);
    } finally {
      model.close();
    }
  });

  it("rejects an unknown webhook kind, naming the variable", () => {
    expect(() =>
      loadConfig({
        cwd: tmpdir(),
        env: { HEARTH_ALERT_WEBHOOK_URL: "http://127.0.0.1:9/x", HEARTH_ALERT_WEBHOOK_KIND: "teams" },
      }),
    ).toThrow(/alerts\.webhook\.kind \(from HEARTH_ALERT_WEBHOOK_KIND\)/);
  });
});
