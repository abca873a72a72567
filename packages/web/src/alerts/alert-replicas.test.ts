import { createServer } from "node:http";
import { hostname } from "node:os";
import { createLogger, type HearthConfig } from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOnLoopback } from "../../../../test/support/ports.js";
import { postgresAvailable, startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { alertMonitorFromConfig } from "./alert-monitor-from-config.js";
import type { ActiveAlert, AlertMonitor } from "./create-alert-monitor.js";
import type { AlertNotification } from "./webhook-formats.js";

const silent = createLogger({ level: "silent" });

/**
 * Replicas of the web service on one PostgreSQL database, each running its alert monitor as `serve
 * web` does, with one webhook: each change of an alert reaches the webhook once, whichever replicas
 * see it, and a replica that stops leaves its alerts to the others.
 */
describe.skipIf(!postgresAvailable)("alert notifications of web service replicas on PostgreSQL", () => {
  /** Holds the schema; the replicas come and go on it. */
  let owner: WebHarness;
  const replicas: WebHarness[] = [];
  const monitors: AlertMonitor[] = [];
  let received: AlertNotification[];
  let receiver: Awaited<ReturnType<typeof listenOnLoopback>>;
  /** The search service's /metrics: down (503) until told otherwise. */
  let searchUp = false;
  let search: Awaited<ReturnType<typeof listenOnLoopback>>;
  /** The model and knowledge services' /metrics, always answering. */
  let others: Awaited<ReturnType<typeof listenOnLoopback>>;
  /** The replicas' shared clock: alerts hold for their durations without the test waiting them out. */
  let clock = Date.now();
  const now = () => clock;

  beforeAll(async () => {
    received = [];
    receiver = await listenOnLoopback(
      createServer(async (request, response) => {
        let text = "";
        for await (const chunk of request) text += chunk;
        received.push(JSON.parse(text) as AlertNotification);
        response.setHeader("content-type", "application/json");
        response.end("{}");
      }),
    );
    search = await listenOnLoopback(
      createServer((_request, response) => {
        if (!searchUp) return response.writeHead(503).end();
        response.setHeader("content-type", "text/plain; version=0.0.4");
        response.end('hearth_search_queries_total{outcome="ok"} 0\n');
      }),
    );
    others = await listenOnLoopback(
      createServer((_request, response) => {
        response.setHeader("content-type", "text/plain; version=0.0.4");
        response.end("hearth_model_queue_depth 0\n");
      }),
    );
    owner = await startWeb({ modelUrl: others.url }, {}, "postgres");
  });
  afterAll(async () => {
    for (const monitor of monitors) await monitor.stop();
    for (const replica of replicas) await replica.close();
    await owner?.close();
    await receiver?.close();
    await search?.close();
    await others?.close();
  });

  /** A replica listening on its own port, its monitor configured as `serve web` configures it. */
  async function startReplica() {
    const replica = await startWeb(
      { modelUrl: others.url, searchUrl: search.url, knowledgeUrl: others.url },
      {},
      "postgres",
      { replicaOf: owner },
    );
    replicas.push(replica);
    const port = Number(new URL(await replica.app.listen({ host: "127.0.0.1", port: 0 })).port);
    const config: HearthConfig = {
      ...replica.config,
      web: { ...replica.config.web, port },
      alerts: { ...replica.config.alerts, webhook: { kind: "generic", url: `${receiver.url}/hook` } },
    };
    const monitor = alertMonitorFromConfig(config, silent, { database: replica.db, now })!;
    monitors.push(monitor);
    return { monitor, name: `${hostname()}:${port}` };
  }

  /** The notifications of the search service's alert so far. */
  const notified = (status: AlertNotification["status"]) =>
    received.filter(
      (notification) =>
        notification.alert === "HearthServiceDown" &&
        notification.status === status &&
        notification.labels.service === "search",
    );
  /** The replica that claimed the search alert's last change. */
  const claimedBy = async () =>
    (await owner.db.selectFrom("alert_claims").select(["key", "claimed_by"]).execute()).find((row) =>
      row.key.includes('"search"'),
    )?.claimed_by;
  const states = (active: ActiveAlert[]) =>
    active.map((alert) => `${alert.alert}:${alert.labels.service}:${alert.state}`);

  it("notifies each change once, and hands over when the replica that notified stops", async () => {
    const a = await startReplica();
    const b = await startReplica();
    const both = () => Promise.all([a.monitor.evaluate(), b.monitor.evaluate()]);

    // Search is down: pending on both replicas until it has been down for a minute, then firing.
    for (const active of await both()) expect(states(active)).toEqual(["HearthServiceDown:search:pending"]);
    clock += 61_000;
    for (const active of await both()) expect(states(active)).toEqual(["HearthServiceDown:search:firing"]);
    clock += 15_000;
    await both();
    expect(notified("firing")).toHaveLength(1);
    expect(notified("firing")[0]).toMatchObject({ severity: "critical", labels: { service: "search" } });

    // The replica that sent it stops; search comes back: the other notifies the resolution, once.
    const senderName = await claimedBy();
    const [gone, left] = senderName === a.name ? [a, b] : [b, a];
    expect([a.name, b.name]).toContain(senderName);
    await gone.monitor.stop();
    searchUp = true;
    clock += 15_000;
    expect(await left.monitor.evaluate()).toEqual([]);
    expect(notified("resolved")).toHaveLength(1);
    // The resolution answers the firing notification the other replica sent.
    expect(notified("resolved")[0]!.startsAt).toBe(notified("firing")[0]!.startsAt);
    expect(await claimedBy()).toBe(left.name);

    // Down again: the replica left notifies it, once.
    searchUp = false;
    clock += 15_000;
    await left.monitor.evaluate();
    clock += 61_000;
    expect(states(await left.monitor.evaluate())).toEqual(["HearthServiceDown:search:firing"]);
    await left.monitor.evaluate();
    expect(notified("firing")).toHaveLength(2);
    searchUp = true;
    clock += 15_000;
    await left.monitor.evaluate();
    expect(notified("resolved")).toHaveLength(2);
    expect(received).toHaveLength(4);
    await left.monitor.stop();
  });

  it("resolves an alert whose replicas all stopped, from a replica that never saw it", async () => {
    const before = received.length;
    searchUp = false;
    const first = await startReplica();
    await first.monitor.evaluate();
    clock += 61_000;
    expect(states(await first.monitor.evaluate())).toEqual(["HearthServiceDown:search:firing"]);
    expect(received.slice(before).map((notification) => notification.status)).toEqual(["firing"]);
    await first.monitor.stop();

    // Search comes back while no replica runs; the next replica to start finds it up.
    searchUp = true;
    const next = await startReplica();
    clock += 15_000;
    expect(await next.monitor.evaluate()).toEqual([]);
    // Not yet: the replica that saw it last may only be slow.
    expect(received.slice(before).map((notification) => notification.status)).toEqual(["firing"]);
    clock += 60_000;
    await next.monitor.evaluate();
    expect(received.slice(before).map((notification) => notification.status)).toEqual(["firing", "resolved"]);
    expect(await claimedBy()).toBe(next.name);
    await next.monitor.evaluate();
    expect(received).toHaveLength(before + 2);
  });
});
