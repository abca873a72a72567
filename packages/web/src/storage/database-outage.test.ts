import { PassThrough } from "node:stream";
import { createLogger } from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseLink, openDatabaseLink } from "../../../../test/support/database-link.js";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { createApiKey, type Session, signIn, signUp } from "../../test/support/web-client.js";
import {
  POSTGRES_URL,
  postgresAvailable,
  startWeb,
  type WebHarness,
} from "../../test/support/web-harness.js";

describe.skipIf(!postgresAvailable)("the web service when its PostgreSQL link is cut", () => {
  let model: FakeModelService;
  let link: DatabaseLink;
  let web: WebHarness;
  let alice: Session;
  let apiKey: string;
  const logged: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    model = await startFakeModelService();
    link = await openDatabaseLink(POSTGRES_URL);
    const logStream = new PassThrough();
    logStream.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logged.push(JSON.parse(line));
    });
    const databaseUrl = new URL(link.url);
    databaseUrl.password = "never-logged";
    web = await startWeb({ modelUrl: model.url }, { databaseUrl: databaseUrl.href }, "postgres", {
      logger: createLogger({ level: "info", destination: logStream }),
    });
    alice = await signUp(web.app, "alice");
    apiKey = await createApiKey(web.app, alice);
  });

  afterAll(async () => {
    link.restore();
    await web?.close();
    await link?.close();
    await model?.close();
  });

  const requests = () => ({
    conversations: web.app.inject({ method: "GET", url: "/api/conversations", headers: alice.headers }),
    login: web.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: { username: "alice", password: "correct horse battery" },
    }),
    models: web.app.inject({
      method: "GET",
      url: "/v1/models",
      headers: { authorization: `Bearer ${apiKey}` },
    }),
  });

  it("survives, answers 503 DATABASE_UNAVAILABLE while the link is down, and recovers without a restart", async () => {
    // The pool now holds idle connections, which the cut breaks under it.
    expect((await requests().conversations).statusCode).toBe(200);
    link.cut();
    await expect
      .poll(() => logged.filter((line) => line.level === 40).map((line) => line.msg))
      .toContain(
        "a PostgreSQL connection of the web database was lost; requests fail with DATABASE_UNAVAILABLE until it is back",
      );

    const during = requests();
    for (const response of await Promise.all([during.conversations, during.login, during.models])) {
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ error: { code: "DATABASE_UNAVAILABLE" } });
      expect(Number(response.headers["retry-after"])).toBeGreaterThan(0);
    }
    expect((await web.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(503);
    // An expected outage, which the pool already warned of: one warning without a stack, not an
    // error per request.
    const unavailable = logged.filter((line) => line.code === "DATABASE_UNAVAILABLE");
    expect(unavailable.map((line) => line.level)).toEqual([40]);
    expect(unavailable[0]).not.toHaveProperty("err");

    link.restore();
    const after = requests();
    expect((await after.conversations).statusCode).toBe(200);
    expect((await after.login).statusCode).toBe(200);
    expect((await after.models).statusCode).toBe(200);
    await signIn(web.app, "alice");

    // One warning for the outage from each part that lost its connection (the pool; the replicas'
    // notification listener and sender), however long it lasted, naming neither the connection
    // string nor its password.
    const warnings = logged.filter((line) => line.level === 40).map((line) => line.msg);
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(new Set(warnings).size).toBe(warnings.length);
    expect(JSON.stringify(logged)).not.toContain("never-logged");
  });

  it("writes the usage records of requests answered just before the cut once the link is back", async () => {
    const chat = await web.app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      headers: { authorization: `Bearer ${apiKey}` },
      payload: { model: "tiny-story", messages: [{ role: "user", content: "just before" }] },
    });
    expect(chat.statusCode).toBe(200);
    // Usage is written in batches every 200 ms: this one's write meets the cut link.
    link.cut();
    await new Promise((resolve) => setTimeout(resolve, 500));
    link.restore();

    const report = await web.app.inject({ method: "GET", url: "/api/admin/usage", headers: alice.headers });
    expect(report.statusCode).toBe(200);
    const usage = (report.json() as { usage: Array<{ username: string; requests: number }> }).usage;
    expect(usage.find((row) => row.username === "alice")?.requests).toBe(1);
  });
});

describe.skipIf(!postgresAvailable)("the web service when its PostgreSQL link goes silent", () => {
  let link: DatabaseLink;
  let web: WebHarness;
  let alice: Session;

  beforeAll(async () => {
    link = await openDatabaseLink(POSTGRES_URL);
    web = await startWeb({ modelUrl: "http://127.0.0.1:9" }, { databaseUrl: link.url }, "postgres", {
      queryTimeoutMs: 1000,
    });
    alice = await signUp(web.app, "alice");
  });
  afterAll(async () => {
    link.restore();
    await web?.close();
    await link?.close();
  });

  it("answers 503 DATABASE_UNAVAILABLE and not ready within seconds, and recovers without a restart", async () => {
    const session = () => web.app.inject({ method: "GET", url: "/api/auth/session", headers: alice.headers });
    expect((await session()).statusCode).toBe(200);
    // The pool's connections stop answering and are never closed; new ones are never answered.
    link.freeze();
    let started = Date.now();
    const during = await session();
    expect(during.statusCode).toBe(503);
    expect(during.json()).toMatchObject({ error: { code: "DATABASE_UNAVAILABLE" } });
    expect(Date.now() - started).toBeLessThan(5000);
    started = Date.now();
    expect((await web.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(503);
    expect(Date.now() - started).toBeLessThan(4000);

    link.restore();
    await expect.poll(async () => (await session()).statusCode, { timeout: 15_000 }).toBe(200);
    expect((await web.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  });
});
