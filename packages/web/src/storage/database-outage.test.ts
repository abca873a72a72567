import { PassThrough } from "node:stream";
import { createLogger, toHearthError } from "@hearth/core";
import pg from "pg";
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
import { type ImportFilter, importConversations } from "../conversations/conversation-import.js";
import { ConversationStore } from "../conversations/conversation-store.js";

/** A sensitive-word filter with no word listed: lets every conversation through as it is. */
const noFilter: ImportFilter = {
  checkFields: async () => {},
  checkInputs: async () => {},
  maskOutput: async (text) => text,
};

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

  it("refuses an import while the link is cut (503 DATABASE_UNAVAILABLE), never skipping its conversations as unstorable", async () => {
    link.cut();
    try {
      const failure = await importConversations(
        new ConversationStore(web.db),
        alice.userId,
        [{ title: "during the cut", messages: [{ role: "user", content: "hello" }] }],
        10_000,
        noFilter,
      ).catch((caught: unknown) => caught);
      expect(toHearthError(failure).code).toBe("DATABASE_UNAVAILABLE");
    } finally {
      link.restore();
    }
  });

  /** Alice's usage as stored, read past the link (as another replica reads it). */
  const storedUsage = async (): Promise<Record<"records" | "requests" | "prompt" | "completion", number>> => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT count(*) AS records, coalesce(sum(requests), 0) AS requests,
                coalesce(sum(prompt_tokens), 0) AS prompt, coalesce(sum(completion_tokens), 0) AS completion
         FROM ${web.schema}.usage WHERE user_id = $1`,
        [alice.userId],
      );
      return Object.fromEntries(Object.entries(rows[0] as object).map(([k, v]) => [k, Number(v)])) as never;
    } finally {
      await client.end();
    }
  };

  it.each([
    ["without limits", {}],
    ["with limits", { requestsPerDay: 1000 }],
  ])(
    "stores the usage of an answer that ends while the link is cut once it is back, by itself (%s)",
    async (_, userLimits) => {
      const limited = await web.app.inject({
        method: "PATCH",
        url: "/api/admin/settings",
        headers: alice.headers,
        payload: { userLimits },
      });
      expect(limited.statusCode).toBe(200);
      const before = await storedUsage();
      const outageWarnings = () =>
        logged.filter((line) => String(line.msg).startsWith("usage records cannot be written")).length;
      const warnedBefore = outageWarnings();
      model.options.delayMs = 100;
      const asked = model.requests.length;
      const answer = web.app.inject({
        method: "POST",
        url: "/v1/chat/completions",
        headers: { authorization: `Bearer ${apiKey}` },
        payload: {
          model: "tiny-story",
          messages: [{ role: "user", content: "during the cut" }],
          stream: true,
          stream_options: { include_usage: true },
        },
      });
      // Admitted (with limits: counted in the database); the link is cut while the answer streams.
      await expect.poll(() => model.requests.length).toBe(asked + 1);
      link.cut();
      const chat = await answer;
      expect(chat.statusCode).toBe(200);
      const { prompt_tokens: prompt, completion_tokens: completion } = chat.body
        .split("\n")
        .filter((line) => line.startsWith("data: {"))
        .map((line) => JSON.parse(line.slice("data: ".length)))
        .find((chunk) => chunk.usage).usage;
      expect(prompt + completion).toBeGreaterThan(0);
      // Its record's write meets the cut link, and is tried again after.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      link.restore();

      // No further request: the record is written by itself, with the answer's tokens.
      await expect.poll(storedUsage, { timeout: 20_000, interval: 250 }).toEqual({
        records: before.records + 1,
        requests: before.requests + 1,
        prompt: before.prompt + prompt,
        completion: before.completion + completion,
      });
      // Said once for the outage, not once for each try.
      expect(outageWarnings()).toBe(warnedBefore + 1);
      model.options.delayMs = undefined;
    },
  );
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
