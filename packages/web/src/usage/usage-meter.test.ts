import { PassThrough } from "node:stream";
import { createLogger, HearthError, UpstreamCallError } from "@hearth/core";
import { type KyselyPlugin, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseLink, openDatabaseLink } from "../../../../test/support/database-link.js";
import {
  dialects,
  POSTGRES_URL,
  postgresAvailable,
  startWeb,
  type WebHarness,
} from "../../test/support/web-harness.js";
import type { CurrentUser } from "../accounts/account-store.js";
import type { Limits, SettingsStore } from "../settings/settings-store.js";
import { openDatabase, type WebDatabase } from "../storage/open-database.js";
import { MAX_PENDING_RECORDS, UsageMeter } from "./usage-meter.js";

/** Settings that give every user `limits`, changed by the test as it goes. */
function settingsWith(limits: { current: Limits }): SettingsStore {
  return { get: async () => ({ userLimits: limits.current, groupLimits: {} }) } as unknown as SettingsStore;
}

const userNamed = (id: string): CurrentUser => ({ id, username: id, role: "user", groupIds: [] });

/** The QUOTA_EXCEEDED an admission throws, or undefined when it was admitted. */
async function refusal(pending: Promise<unknown>): Promise<HearthError | undefined> {
  try {
    await pending;
    return undefined;
  } catch (error) {
    if (error instanceof HearthError && error.code === "QUOTA_EXCEEDED") return error;
    throw error;
  }
}

describe.each(dialects)("usage meter on %s", (dialect) => {
  let web: WebHarness;
  /**
   * A second connection pool to the same database, as a second web worker has (PostgreSQL). On
   * SQLite both meters share one handle: better-sqlite3 blocks its thread while it waits for the
   * write lock, so a second handle in the same process would wait on the first until its timeout;
   * workers are processes, and the lock itself is SQLite's (BEGIN IMMEDIATE).
   */
  let second: WebDatabase | undefined;

  beforeAll(async () => {
    web = await startWeb({ modelUrl: "http://127.0.0.1:9" }, {}, dialect);
    if (dialect === "postgres") {
      const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(web.db);
      second = await openDatabase(web.config, { postgresSchema: rows[0]!.schema });
    }
  });
  afterAll(async () => {
    await second?.destroy();
    await web.close();
  });

  it("admits exactly the limit when requests arrive together, across workers sharing the database", async () => {
    const limits = { current: { requestsPerMinute: 2 } as Limits };
    const meters = [
      new UsageMeter(web.db, settingsWith(limits)),
      new UsageMeter(second ?? web.db, settingsWith(limits)),
    ];
    const user = userNamed("together");
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, (_, n) => refusal(meters[n % 2]!.admit(user, { model: "m" }))),
    );
    expect(outcomes.filter((o) => o === undefined)).toHaveLength(2);
    expect(outcomes.filter((o) => o !== undefined)).toHaveLength(4);
  });

  it("counts a request that got no answer, without tokens, and adds the tokens of one that did", async () => {
    const limits = { current: { requestsPerMinute: 2 } as Limits };
    const meter = new UsageMeter(web.db, settingsWith(limits));
    const user = userNamed("settled");
    await (await meter.admit(user, { model: "m" })).settle({ promptTokens: 0, completionTokens: 0 });
    await (await meter.admit(user, { model: "m" })).settle({ promptTokens: 1200, completionTokens: 300 });
    expect(await refusal(meter.admit(user, { model: "m" }))).toBeDefined();
    const rows = await web.db
      .selectFrom("usage")
      .select(["requests", "prompt_tokens", "completion_tokens", "cost_units"])
      .where("user_id", "=", user.id)
      .orderBy("id")
      .execute();
    expect(rows.map((r) => Object.values(r).map(Number))).toEqual([
      [1, 0, 0, 0],
      [1, 1200, 300, 2],
    ]);
  });

  it("does not count a request the service failed, but does count one the user got wrong", async () => {
    const limits = { current: { requestsPerMinute: 1 } as Limits };
    const meter = new UsageMeter(web.db, settingsWith(limits));
    const user = userNamed("service-faults");
    const failing = (error: Error) => meter.metered(user, { model: "m" }, () => Promise.reject(error));
    // The model service down, or its queue full: the user may try again at once.
    for (const error of [
      new UpstreamCallError({ url: "http://model", message: "the model service did not answer" }),
      new HearthError("MODEL_QUEUE_FULL", "The model's queue is full"),
    ]) {
      await expect(failing(error)).rejects.toBe(error);
      await expect(failing(error)).rejects.toBe(error);
    }
    // A request refused for its own content counts.
    const invalid = new HearthError("INVALID_REQUEST", "messages: too few");
    await expect(failing(invalid)).rejects.toBe(invalid);
    expect(await refusal(meter.admit(user, { model: "m" }))).toBeDefined();
  });

  it("resets when enough requests have left the window to go under the limit, not when the oldest has", async () => {
    const limits = { current: { requestsPerMinute: 10 } as Limits };
    const meter = new UsageMeter(web.db, settingsWith(limits));
    const user = userNamed("requests-reset");
    const t0 = Date.now() - 30_000;
    for (const offset of [0, 10_000, 20_000]) await meter.admit(user, { model: "m" }, t0 + offset);
    // Three requests in the window, and now a limit of 2: one more must leave, the second oldest.
    limits.current = { requestsPerMinute: 2 };
    const refused = await refusal(meter.admit(user, { model: "m" }, t0 + 30_000));
    expect(refused?.details).toMatchObject({ resetAt: new Date(t0 + 10_000 + 60_000).toISOString() });
    expect(refused?.retryAfterSeconds).toBe(40);
  });

  it("resets a token limit when enough tokens have left the window", async () => {
    const limits = { current: { tokensPerMinute: 1000 } as Limits };
    const meter = new UsageMeter(web.db, settingsWith(limits));
    const user = userNamed("tokens-reset");
    const t0 = Date.now() - 30_000;
    for (const offset of [0, 10_000, 20_000]) {
      const admission = await meter.admit(user, { model: "m" }, t0 + offset);
      await admission.settle({ promptTokens: 50, completionTokens: 10 });
    }
    // 180 tokens against 100: the first two records must leave before the count is under it.
    limits.current = { tokensPerMinute: 100 };
    const refused = await refusal(meter.admit(user, { model: "m" }, t0 + 30_000));
    expect(refused?.details).toMatchObject({ resetAt: new Date(t0 + 10_000 + 60_000).toISOString() });
    expect(refused?.retryAfterSeconds).toBe(40);
  });

  it("bounds an answer by what the tightest token limit leaves after its prompt", async () => {
    const limits = { current: { tokensPerMinute: 100, tokensPerDay: 1000, requestsPerMinute: 2 } as Limits };
    const meter = new UsageMeter(web.db, settingsWith(limits));
    const user = userNamed("answer-bound");
    await (await meter.admit(user, { model: "m" })).settle({ promptTokens: 50, completionTokens: 10 });
    // The second request of two a minute: its own record counts against requests, not against its answer.
    const admitted = await meter.admit(user, { model: "m" });
    const bound = (promptTokens: number, asked?: number, contextTokens?: number) =>
      admitted.answerTokens({ promptTokens, asked, contextTokens });
    // 40 tokens left this minute: 30 after a 10-token prompt, whatever was asked for above it.
    expect(await bound(10, 400)).toBe(30);
    expect(await bound(10)).toBe(30);
    expect(await bound(10, 20)).toBe(20);
    // A cap at or past the model's context is none: the model refuses such a max_tokens.
    expect(await bound(10, undefined, 30)).toBeUndefined();
    expect(await bound(10, 400, 4096)).toBe(30);
    // The day's limit is the tighter one once less is left of it.
    limits.current = { tokensPerMinute: 100, tokensPerDay: 80 };
    expect(
      await (await meter.admit(user, { model: "m" })).answerTokens({
        promptTokens: 10,
        asked: undefined,
        contextTokens: undefined,
      }),
    ).toBe(10);
    const full = await refusal(bound(40, 400));
    expect(full?.details).toMatchObject({ window: "minute", promptTokens: 40, tokens: 60 });
    expect(full?.retryAfterSeconds).toBeGreaterThan(0);
    // No token limit: the answer is as long as asked.
    limits.current = { requestsPerMinute: 100 };
    expect(
      await (await meter.admit(user, { model: "m" })).answerTokens({
        promptTokens: 10_000,
        asked: 400,
        contextTokens: undefined,
      }),
    ).toBe(400);
  });

  it("stores a batch once when it is written again after the database's answer to it was lost", async () => {
    // The database stores the batch, and its answer is lost on the way back (the link breaks).
    const inserts = new WeakSet<object>();
    let answers = 0;
    const loseFirstInsertAnswer: KyselyPlugin = {
      transformQuery: ({ node, queryId }) => {
        if (node.kind === "InsertQueryNode") inserts.add(queryId);
        return node;
      },
      transformResult: async ({ queryId, result }) => {
        if (inserts.has(queryId) && answers++ === 0) throw new Error("Connection terminated unexpectedly");
        return result;
      },
    };
    const meter = new UsageMeter(web.db.withPlugin(loseFirstInsertAnswer), settingsWith({ current: {} }));
    const user = userNamed("answer-lost");
    await (await meter.admit(user, { model: "m" })).settle({ promptTokens: 5, completionTokens: 2 });
    await expect(meter.flush()).rejects.toThrow("Connection terminated");
    await meter.flush();
    const rows = await web.db
      .selectFrom("usage")
      .select(["requests", "prompt_tokens", "completion_tokens"])
      .where("user_id", "=", user.id)
      .execute();
    expect(rows.map((r) => Object.values(r).map(Number))).toEqual([[1, 5, 2]]);
  });

  it("keeps a model's usage under one name and at the request's admission time, with limits or without", async () => {
    const limits = { current: {} as Limits };
    const meter = new UsageMeter(web.db, settingsWith(limits), (model) =>
      model.includes(":") ? model : `${model}:latest`,
    );
    const admittedAt = Date.parse("2026-01-02T03:04:05.000Z");
    const free = userNamed("spelling-free");
    await (await meter.admit(free, { model: "story" }, admittedAt)).settle({
      promptTokens: 1,
      completionTokens: 1,
    });
    limits.current = { requestsPerDay: 100 };
    const limited = userNamed("spelling-limited");
    await (await meter.admit(limited, { model: "story" }, admittedAt)).settle({
      promptTokens: 1,
      completionTokens: 1,
    });
    await meter.flush();
    const rows = await web.db
      .selectFrom("usage")
      .select(["user_id", "model", "created_at"])
      .where("user_id", "in", [free.id, limited.id])
      .execute();
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.model).toBe("story:latest");
      expect(new Date(row.created_at).toISOString()).toBe(new Date(admittedAt).toISOString());
    }
  });
});

describe.skipIf(!postgresAvailable)("usage meter when its PostgreSQL link is cut", () => {
  let web: WebHarness;
  let link: DatabaseLink;
  /** The web database through the link, which the tests cut. */
  let linked: WebDatabase;
  const logged: Array<Record<string, unknown>> = [];
  const logger = () => {
    const stream = new PassThrough();
    stream.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logged.push(JSON.parse(line));
    });
    return createLogger({ level: "info", destination: stream });
  };
  const noLimits = settingsWith({ current: {} });
  /** A user's stored records: how many, and their tokens. */
  const stored = async (userId: string) => {
    const rows = await web.db
      .selectFrom("usage")
      .select(["prompt_tokens", "completion_tokens"])
      .where("user_id", "=", userId)
      .execute();
    return {
      records: rows.length,
      tokens: rows.reduce((n, r) => n + r.prompt_tokens + r.completion_tokens, 0),
    };
  };

  beforeAll(async () => {
    web = await startWeb({ modelUrl: "http://127.0.0.1:9" }, {}, "postgres");
    link = await openDatabaseLink(POSTGRES_URL);
    linked = await openDatabase(
      { ...web.config, web: { ...web.config.web, databaseUrl: link.url } },
      { postgresSchema: web.schema as string },
    );
  });
  afterAll(async () => {
    link?.restore();
    await linked?.destroy();
    await link?.close();
    await web?.close();
  });

  it("writes as it stops what the database could not take, when it is back within the grace", async () => {
    const meter = new UsageMeter(linked, noLimits);
    const user = userNamed("stopping");
    const admission = await meter.admit(user, { model: "m" });
    link.cut();
    await admission.settle({ promptTokens: 3, completionTokens: 4 });
    const closing = meter.close();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    link.restore();
    await closing;
    expect(await stored(user.id)).toEqual({ records: 1, tokens: 7 });
  });

  it(`keeps at most ${MAX_PENDING_RECORDS} records while the database is unreachable, and says how many it dropped`, async () => {
    const meter = new UsageMeter(linked, noLimits, undefined, logger());
    const user = userNamed("flood");
    link.cut();
    for (let n = 0; n < MAX_PENDING_RECORDS + 5; n++)
      await (await meter.admit(user, { model: "m" })).settle({ promptTokens: 1, completionTokens: 0 });
    link.restore();
    await expect
      .poll(() => stored(user.id), { timeout: 30_000, interval: 500 })
      .toEqual({ records: MAX_PENDING_RECORDS, tokens: MAX_PENDING_RECORDS });
    await expect
      .poll(() => logged.find((line) => String(line.msg).startsWith("usage records were lost")))
      .toMatchObject({ level: 40, records: 5 });
  });
});
