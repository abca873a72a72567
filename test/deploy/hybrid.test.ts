import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, createServiceApp, loadConfig, ReplyStream } from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { freePort } from "../support/ports.js";
import { repoRoot } from "../support/shared-data.js";
import {
  available,
  canRunNginx,
  curl,
  issueCertificate,
  type RunningNginx,
  runNginx,
  selfSignedCertificate,
} from "./support/nginx.js";

/**
 * The hybrid topology of deploy/hybrid with the real nginx: model and knowledge services in a
 * "private zone" behind the mutual-TLS gateway, reached from the "public zone" through the egress
 * gateway, with the Hearth service token checked end to end.
 */
const TOKEN = "hybrid-zone-token-0123456789abcdef";

describe("hybrid zones (config)", () => {
  it("takes every service URL from the environment, HTTPS included", () => {
    const config = loadConfig({
      cwd: tmpdir(),
      env: {
        HEARTH_MODEL_URL: "http://zone-link:8081",
        HEARTH_KNOWLEDGE_URL: "https://private-zone.hearth.internal:8443",
        HEARTH_SEARCH_URL: "http://search:8082",
        HEARTH_SERVICE_TOKEN: TOKEN,
      },
    });
    expect(config.services).toEqual({
      modelUrl: "http://zone-link:8081",
      knowledgeUrl: "https://private-zone.hearth.internal:8443",
      searchUrl: "http://search:8082",
      token: TOKEN,
    });
  });

  it.skipIf(!available("docker-compose"))(
    "lets the public zone's search re-rank with the private model service, and its web send alert webhooks",
    () => {
      const output = execFileSync(
        "docker-compose",
        ["-f", join(repoRoot, "deploy/hybrid/compose.public.yaml"), "config"],
        {
          env: {
            PATH: process.env.PATH ?? "",
            HEARTH_SERVICE_TOKEN: TOKEN,
            HEARTH_PRIVATE_ZONE_ADDRESS: "10.20.0.5",
            HEARTH_ALERT_WEBHOOK_URL: "https://open.feishu.cn/open-apis/bot/v2/hook/x",
            HEARTH_ALERT_WEBHOOK_KIND: "feishu",
          },
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      const { services } = parse(output) as {
        services: Record<string, { environment: Record<string, string>; networks: Record<string, unknown> }>;
      };
      const load = (name: string) =>
        loadConfig({
          env: {
            ...services[name]!.environment,
            HEARTH_CONFIG: join(repoRoot, "deploy/config/hearth.yaml"),
          },
          cwd: mkdtempSync(join(tmpdir(), "hearth-hybrid-config-")),
        });
      // The egress gateway's model link, the way web reaches the private zone's model service.
      const modelUrl = load("search").services.modelUrl;
      expect(modelUrl).toBe("http://zone-link:8081");
      expect(load("web").services.modelUrl).toBe(modelUrl);
      expect(services.search!.networks).toHaveProperty("zone");
      expect(services["zone-link"]!.networks).toHaveProperty("zone");
      expect(readFileSync(join(repoRoot, "deploy/hybrid/nginx/public-egress.conf"), "utf8")).toContain(
        "listen 8081;",
      );
      // Alert webhooks, as in deploy/compose.yaml: the variables, and a network with a route out.
      expect(load("web").alerts.webhook).toMatchObject({
        kind: "feishu",
        url: "https://open.feishu.cn/open-apis/bot/v2/hook/x",
      });
      expect(Object.keys(services.web!.networks).sort()).toEqual(["egress", "zone"]);
    },
  );

  it.skipIf(!available("docker-compose"))("validates both zones' compose files", () => {
    const env = {
      PATH: process.env.PATH ?? "",
      HEARTH_SERVICE_TOKEN: TOKEN,
      HEARTH_PRIVATE_ZONE_ADDRESS: "10.20.0.5",
    };
    for (const file of ["compose.private.yaml", "compose.public.yaml"]) {
      execFileSync("docker-compose", ["-f", join(repoRoot, "deploy/hybrid", file), "config", "-q"], {
        env,
        stdio: "pipe",
      });
    }
    expect(() =>
      execFileSync(
        "docker-compose",
        ["-f", join(repoRoot, "deploy/hybrid/compose.public.yaml"), "config", "-q"],
        { env: { PATH: env.PATH, HEARTH_SERVICE_TOKEN: TOKEN }, stdio: "pipe" },
      ),
    ).toThrow();
  });
});

describe.skipIf(!canRunNginx)("hybrid zones through the real nginx (mutual TLS 1.3 + service token)", () => {
  let directory: string;
  let nginx: RunningNginx | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  /** Lets the stand-in send its last line: the test has read the first. */
  let firstLineRead: () => void = () => {};
  const ports = { gatewayModel: 0, gatewayKnowledge: 0, linkModel: 0, linkKnowledge: 0 };

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "hearth-hybrid-"));
    for (const ca of ["zone-ca", "rogue-ca"]) selfSignedCertificate(directory, ca, `/CN=${ca}`);
    issueCertificate(
      directory,
      "gateway",
      "zone-ca",
      "/CN=private-zone.hearth.internal",
      "subjectAltName=DNS:private-zone.hearth.internal\nextendedKeyUsage=serverAuth\n",
    );
    issueCertificate(directory, "public-zone", "zone-ca", "/CN=public-zone", "extendedKeyUsage=clientAuth\n");
    issueCertificate(
      directory,
      "rogue-client",
      "rogue-ca",
      "/CN=public-zone",
      "extendedKeyUsage=clientAuth\n",
    );

    // The private zone's services, each requiring the service token.
    const logger = createLogger({ level: "silent" });
    const upstreams: Record<string, number> = {};
    for (const service of ["model", "knowledge"] as const) {
      const { app } = createServiceApp({ service, logger, serviceToken: TOKEN });
      // The last line waits until the client has read the first: a buffering proxy between them
      // would hold the first line back, and the call would never end.
      app.post("/api/chat", async (_request, reply) => {
        const stream = new ReplyStream(reply, "ndjson");
        const read = new Promise<void>((resolve) => {
          firstLineRead = resolve;
        });
        await stream.send({ message: { content: "来自私有区" } });
        await read;
        await stream.send({ done: true });
        stream.end();
      });
      await app.listen({ host: "127.0.0.1", port: 0 });
      upstreams[service] = (app.server.address() as AddressInfo).port;
      closers.push(() => app.close());
    }
    for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();

    const gateway = readFileSync(join(repoRoot, "deploy/hybrid/nginx/private-gateway.conf"), "utf8")
      .replace("server model:8081;", `server 127.0.0.1:${upstreams.model};`)
      .replace("server knowledge:8083;", `server 127.0.0.1:${upstreams.knowledge};`)
      .replace("listen 8441 ssl http2;", `listen 127.0.0.1:${ports.gatewayModel} ssl http2;`)
      .replace("listen 8443 ssl http2;", `listen 127.0.0.1:${ports.gatewayKnowledge} ssl http2;`)
      .replaceAll("/etc/nginx/tls/", `${directory}/`);
    const link = readFileSync(join(repoRoot, "deploy/hybrid/nginx/public-egress.conf"), "utf8")
      .replace("listen 8081;", `listen 127.0.0.1:${ports.linkModel};`)
      .replace("listen 8083;", `listen 127.0.0.1:${ports.linkKnowledge};`)
      // No /etc/hosts entry here: connect by address; the certificate is still checked by name.
      .replace("https://private-zone.hearth.internal:8441", `https://127.0.0.1:${ports.gatewayModel}`)
      .replace("https://private-zone.hearth.internal:8443", `https://127.0.0.1:${ports.gatewayKnowledge}`)
      .replaceAll("/etc/nginx/tls/", `${directory}/`);
    writeFileSync(join(directory, "gateway.conf"), gateway);
    writeFileSync(join(directory, "link.conf"), link);
    nginx = await runNginx(
      directory,
      ["gateway.conf", "link.conf"],
      async () =>
        (await curl(["-o", "/dev/null", `http://127.0.0.1:${ports.linkModel}/healthz`])).status === 0,
    );
  });

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all(closers.map((close) => close()));
    rmSync(directory, { recursive: true, force: true });
  });

  it("carries authenticated calls from the public zone to both private services, streaming", async () => {
    for (const port of [ports.linkModel, ports.linkKnowledge]) {
      const response = await fetch(`http://127.0.0.1:${port}/api/chat`, {
        method: "POST",
        headers: { "x-hearth-service-token": TOKEN },
      });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      expect(first).toContain("来自私有区");
      firstLineRead();
      let rest = "";
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
        rest += new TextDecoder().decode(chunk.value);
      expect(rest).toContain('"done":true');
    }
  });

  it("still requires the service token behind the gateways", async () => {
    const response = await fetch(`http://127.0.0.1:${ports.linkModel}/metrics`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
    const authorised = await fetch(`http://127.0.0.1:${ports.linkModel}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(authorised.status).toBe(200);
  });

  it("refuses clients without a certificate from the zone CA, and anything below TLS 1.3", async () => {
    const url = `https://127.0.0.1:${ports.gatewayModel}/healthz`;
    const common = [
      "--cacert",
      join(directory, "zone-ca.crt"),
      "--resolve",
      `private-zone.hearth.internal:${ports.gatewayModel}:127.0.0.1`,
    ];
    const named = `https://private-zone.hearth.internal:${ports.gatewayModel}/healthz`;
    expect((await curl([...common, "-o", "/dev/null", "-w", "%{http_code}", named])).stdout).toBe("400");
    const rogue = await curl([
      ...common,
      "--cert",
      join(directory, "rogue-client.crt"),
      "--key",
      join(directory, "rogue-client.key"),
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      named,
    ]);
    expect(rogue.stdout === "400" || rogue.status !== 0).toBe(true);
    const client = [
      "--cert",
      join(directory, "public-zone.crt"),
      "--key",
      join(directory, "public-zone.key"),
    ];
    expect(await curl([...common, ...client, "-o", "/dev/null", "-w", "%{http_code}", named])).toMatchObject({
      status: 0,
      stdout: "200",
    });
    expect(
      (await curl([...common, ...client, "--tlsv1.2", "--tls-max", "1.2", "-o", "/dev/null", named])).status,
    ).not.toBe(0);
    // The gateway's certificate is checked by name: the zone CA alone is not enough for another name.
    expect(
      (await curl(["--cacert", join(directory, "zone-ca.crt"), ...client, "-o", "/dev/null", url])).status,
    ).not.toBe(0);
  });
});
