import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, loadConfig } from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { serveWeb } from "../index.js";

describe("web service with workers (node:cluster)", () => {
  let model: FakeModelService;
  let dataDir: string;
  let served: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    model = await startFakeModelService();
    dataDir = mkdtempSync(join(tmpdir(), "hearth-cluster-"));
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir,
        logLevel: "silent",
        web: { host: "127.0.0.1", port: 0, workers: 2 },
        services: {
          modelUrl: model.url,
          searchUrl: "http://127.0.0.1:9",
          knowledgeUrl: "http://127.0.0.1:9",
        },
      } as never,
    });
    served = await serveWeb(config, createLogger({ level: "silent" }));
  });
  afterAll(async () => {
    await served?.close();
    await model.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves from every worker, and a revoked key or a changed setting takes effect on all of them at once", async () => {
    const signup = await fetch(`${served.url}/api/auth/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: "long enough pw" }),
    });
    expect(signup.status).toBe(201);
    const cookies = signup.headers.getSetCookie().map((c) => c.split(";")[0]!);
    const csrf = decodeURIComponent(cookies.find((c) => c.startsWith("hearth_csrf="))!.split("=")[1]!);
    const session = { cookie: cookies.join("; "), "x-csrf-token": csrf, "content-type": "application/json" };
    const created = (await (
      await fetch(`${served.url}/api/account/api-keys`, {
        method: "POST",
        headers: session,
        body: JSON.stringify({ name: "k" }),
      })
    ).json()) as { id: string; key: string };
    // New connections each time, so the requests spread over both workers.
    const call = () =>
      fetch(`${served.url}/v1/models`, {
        headers: { authorization: `Bearer ${created.key}`, connection: "close" },
      }).then((r) => r.status);
    expect(await Promise.all(Array.from({ length: 12 }, call))).toEqual(Array(12).fill(200));
    const revoke = await fetch(`${served.url}/api/account/api-keys/${created.id}`, {
      method: "DELETE",
      headers: { cookie: session.cookie, "x-csrf-token": csrf },
    });
    expect(revoke.status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await Promise.all(Array.from({ length: 12 }, call))).toEqual(Array(12).fill(401));

    await fetch(`${served.url}/api/admin/settings`, {
      method: "PATCH",
      headers: session,
      body: JSON.stringify({ signup: "closed" }),
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        fetch(`${served.url}/api/auth/signup`, {
          method: "POST",
          headers: { "content-type": "application/json", connection: "close" },
          body: JSON.stringify({ username: `user${i}`, password: "long enough pw" }),
        }).then((r) => r.status),
      ),
    );
    expect(attempts).toEqual(Array(8).fill(403));
  });
});

describe("web workers that cannot listen", () => {
  it("report the worker's own error (a host that does not resolve), not PORT_IN_USE", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-cluster-host-"));
    try {
      const config = loadConfig({
        env: {},
        overrides: { dataDir, logLevel: "silent", web: { host: "999.1.1.1", port: 0, workers: 2 } } as never,
      });
      const error = await serveWeb(config, createLogger({ level: "silent" })).catch(
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ code: "CONFIG_INVALID" });
      expect((error as Error).message).toContain("set HEARTH_HOST to an address of this machine");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
