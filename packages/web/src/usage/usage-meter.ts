import { randomUUID } from "node:crypto";
import { HearthError, isDatabaseUnreachable, type Logger, OutageLog, toHearthError } from "@hearth/core";
import type { CurrentUser } from "../accounts/account-store.js";
import type { Limits, SettingsStore } from "../settings/settings-store.js";
import type { UsageTable } from "../storage/database-schema.js";
import { lockedTransaction } from "../storage/locked-transaction.js";
import type { WebDatabase } from "../storage/open-database.js";
import { resolveLimits } from "./resolve-limits.js";
import { userGroupsColumn } from "./usage-groups.js";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Records are written every BATCH_MS, or at once when BATCH_ROWS are waiting. */
const BATCH_MS = 200;
/** Rows per INSERT (PostgreSQL takes at most 65,535 parameters in a statement; a row has 10). */
const BATCH_ROWS = 500;
/** While the database is unreachable, writing is tried again after 0.5 s, then twice as long each time up to 10 s. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;
/**
 * The most records kept in memory while the database is unreachable (a few hundred bytes each:
 * some 10 MB); past it the newest are dropped, and how many is logged when the database is back.
 */
export const MAX_PENDING_RECORDS = 20_000;
/** How long a stopping service keeps trying to write what is pending while the database is unreachable. */
const CLOSE_GRACE_MS = 5_000;

/** A row as inserted: the table's columns but the generated id. */
type UsageRow = Omit<UsageTable, "id">;

/**
 * Records tokens, requests and cost units per user, key and model, with the groups the user is in
 * at the time of the request, and enforces the limits.
 * Records are written in batches (every 200 ms) rather than one insert per request on the
 * streaming path; every read (quota checks, the usage report) flushes first. What the database
 * cannot take while it is unreachable (a failover, a restart) is kept (up to MAX_PENDING_RECORDS)
 * and tried again, backing off, until it is written; a record written twice (its batch's answer
 * lost) is stored once: the batch skips request ids already stored, and tokens are set, not added.
 */
export class UsageMeter {
  /** Records of requests without limits, not yet stored. */
  #rows: UsageRow[] = [];
  /** Admitted requests' final tokens by record id, not yet stored; null: the request is not counted (deleted). */
  #settled = new Map<number, Tokens | null>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  /** The wait before the next try while the database is unreachable; 0 while it is reachable. */
  #retryMs = 0;
  /** Records dropped past MAX_PENDING_RECORDS in this outage. */
  #dropped = 0;
  readonly #outage: OutageLog;

  constructor(
    readonly db: WebDatabase,
    readonly settings: SettingsStore,
    /** The name a model's usage is kept under, so that its spellings add up (ModelAccess.key). */
    readonly modelKey: (model: string) => string = (model) => model,
    readonly logger?: Logger,
  ) {
    this.#outage = new OutageLog(
      logger,
      `usage records cannot be written while the web database is unreachable: up to ${MAX_PENDING_RECORDS} are kept in memory and written when it is back`,
    );
  }

  /**
   * Writes the records not yet stored. When that fails because the database is unreachable they
   * are kept, and tried again later by themselves; the error is thrown all the same.
   */
  async flush(): Promise<void> {
    this.#disarm();
    const rows = this.#rows;
    const settled = this.#settled;
    this.#rows = [];
    this.#settled = new Map();
    const previous = this.#flushing;
    this.#flushing = (async () => {
      // A batch that failed was reported to whoever flushed it; it must not fail every later one.
      await previous.catch(() => {});
      if (rows.length === 0 && settled.size === 0) return;
      try {
        await this.#write(rows, settled);
      } catch (error) {
        if (!isDatabaseUnreachable(error)) {
          this.logger?.error(
            { err: error, records: rows.length + settled.size },
            "usage records could not be written, and are lost",
          );
          throw error;
        }
        this.#keep(rows, settled);
        this.#outage.lost(error);
        this.#retryMs = Math.min(this.#retryMs * 2 || RETRY_FIRST_MS, RETRY_MAX_MS);
        this.#disarm();
        this.#schedule(this.#retryMs);
        throw error;
      }
      if (this.#retryMs > 0) this.#recovered();
    })();
    await this.#flushing;
  }

  /**
   * Writes what is pending as the service stops: while the database is unreachable, tried again
   * for up to CLOSE_GRACE_MS; what is still unwritten then is lost, and logged.
   */
  async close(): Promise<void> {
    const deadline = Date.now() + CLOSE_GRACE_MS;
    for (;;) {
      // A failure is logged by flush (once for an outage), which keeps what it could not write.
      await this.flush().catch(() => {});
      const left = this.#rows.length + this.#settled.size;
      if (left === 0) return;
      // Left by a flush that raced this one (the retry timer's), or come in meanwhile: at once.
      if (this.#retryMs === 0) continue;
      const wait = Math.min(this.#retryMs, deadline - Date.now());
      if (wait <= 0) {
        this.#disarm();
        this.logger?.error(
          { records: left },
          "usage records could not be written before the service stopped (the web database is unreachable), and are lost",
        );
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /**
   * The limits that apply to a user, key by key: the most generous of their groups' that set it,
   * else the user-wide one.
   */
  async limitsFor(user: CurrentUser): Promise<Limits> {
    return resolveLimits(await this.settings.get(), user.groupIds);
  }

  /**
   * Admits a request or throws QUOTA_EXCEEDED (429, Retry-After, details.resetAt) when a limit is
   * used up. An admitted request counts at once, before its answer: concurrent requests see each
   * other, so N parallel requests over a limit of 2 admit exactly 2. Its tokens are added by
   * `settle` when known. For a user with limits, the check and the counting row are one
   * transaction under a per-user lock (SQLite: BEGIN IMMEDIATE, the database's one writer;
   * PostgreSQL: an advisory lock), so web workers and nodes sharing the database agree too. A token
   * limit also bounds the answer: `answerTokens` says how long it may be once its prompt is known.
   */
  async admit(
    user: CurrentUser,
    entry: { model: string; apiKeyId?: string },
    now = Date.now(),
  ): Promise<Admission> {
    const limits = await this.limitsFor(user);
    const row: UsageRow = {
      request_id: randomUUID(),
      user_id: user.id,
      api_key_id: entry.apiKeyId ?? null,
      model: this.modelKey(entry.model),
      prompt_tokens: 0,
      completion_tokens: 0,
      requests: 1,
      cost_units: 0,
      created_at: new Date(now).toISOString(),
      user_groups: await this.#groupsColumnOf(user),
    };
    // Without limits nothing is checked: the row is written with its tokens, in the batch.
    if (Object.values(limits).every((v) => v === undefined))
      return admission(async (tokens) => this.#queue({ ...row, ...tokenColumns(tokens) }));
    await this.flush();
    const id = await this.#countIfRoom(user.id, limits, row, now);
    const tokenLimited = limits.tokensPerMinute !== undefined || limits.tokensPerDay !== undefined;
    return admission(
      (tokens) => this.#settle(id, tokens),
      () => this.#settle(id, null),
      tokenLimited ? (promptTokens) => this.#tokensLeft(user.id, limits, promptTokens) : undefined,
    );
  }

  /**
   * The tokens the user's token limits leave for an admitted request's answer after `promptTokens`:
   * the least any window has left (the request's own record counts no tokens yet, and its request
   * was counted when admitted). QUOTA_EXCEEDED when a window has none left, with when it will have.
   */
  async #tokensLeft(userId: string, limits: Limits, promptTokens: number): Promise<number> {
    await this.flush();
    return assertRoom(this.db, userId, limits, Date.now(), { promptTokens });
  }

  /**
   * Runs a request under an admission: counted from its start; not counted when it fails by the
   * service's fault before answering (`Admission.failed`); settled with no tokens when `run` did
   * not settle it (a request refused or failed before the model answered).
   */
  async metered<T>(
    user: CurrentUser,
    entry: { model: string; apiKeyId?: string },
    run: (admission: Admission) => Promise<T>,
  ): Promise<T> {
    const counted = await this.admit(user, entry);
    try {
      return await run(counted);
    } catch (error) {
      await counted.failed(toHearthError(error).status);
      throw error;
    } finally {
      await counted.settle(NO_TOKENS);
    }
  }

  /** The groups the user is in now, with their names, as the request's record keeps them. */
  async #groupsColumnOf(user: CurrentUser): Promise<string> {
    const groups =
      user.groupIds.length === 0
        ? []
        : await this.db
            .selectFrom("groups")
            .select(["id", "name"])
            .where("id", "in", user.groupIds)
            .execute();
    return userGroupsColumn(groups);
  }

  /** Inserts the request's row when every limit has room, under the user's lock; its id. */
  async #countIfRoom(userId: string, limits: Limits, row: UsageRow, now: number): Promise<number> {
    return lockedTransaction(this.db, { namespace: QUOTA_LOCK, key: userId }, async (trx) => {
      await assertRoom(trx, userId, limits, now);
      const inserted = await trx.insertInto("usage").values(row).returning("id").executeTakeFirstOrThrow();
      return Number(inserted.id);
    });
  }

  /** Writes a settled request's row in the next batch (users without limits: nothing to check). */
  async #queue(row: UsageRow) {
    this.#rows.push(row);
    this.#trim();
    if (this.#rows.length >= BATCH_ROWS && this.#retryMs === 0) await this.flush().catch(() => {});
    else this.#schedule(BATCH_MS);
  }

  /**
   * Stores an admitted request's final tokens (null: deletes its record) at once, so that other
   * workers and replicas checking a token limit see them; while the database is unreachable, with
   * the next try.
   */
  async #settle(id: number, tokens: Tokens | null) {
    this.#settled.set(id, tokens);
    if (this.#retryMs === 0) await this.flush().catch(() => {});
    else this.#schedule(this.#retryMs);
  }

  /** One statement per BATCH_ROWS records, skipping those already stored; then the settled tokens. */
  async #write(rows: UsageRow[], settled: Map<number, Tokens | null>) {
    for (let at = 0; at < rows.length; at += BATCH_ROWS)
      await this.db
        .insertInto("usage")
        .values(rows.slice(at, at + BATCH_ROWS))
        .onConflict((conflict) => conflict.column("request_id").doNothing())
        .execute();
    for (const [id, tokens] of settled)
      if (tokens) await this.db.updateTable("usage").set(tokenColumns(tokens)).where("id", "=", id).execute();
      else await this.db.deleteFrom("usage").where("id", "=", id).execute();
  }

  /** Puts back what a flush could not write, before what came meanwhile (whose tokens are newer). */
  #keep(rows: UsageRow[], settled: Map<number, Tokens | null>) {
    this.#rows = [...rows, ...this.#rows];
    for (const [id, tokens] of this.#settled) settled.set(id, tokens);
    this.#settled = settled;
    this.#trim();
  }

  /**
   * Drops the newest records past MAX_PENDING_RECORDS. Settled tokens are kept: only requests
   * admitted before the outage have them (admitting one needs the database).
   */
  #trim() {
    const over = this.#rows.length + this.#settled.size - MAX_PENDING_RECORDS;
    if (over <= 0) return;
    const dropped = Math.min(over, this.#rows.length);
    this.#rows.length -= dropped;
    this.#dropped += dropped;
  }

  /** The database took a write again after an outage. */
  #recovered() {
    this.#retryMs = 0;
    this.#outage.recovered();
    if (this.#dropped > 0)
      this.logger?.warn(
        { records: this.#dropped },
        `usage records were lost in the outage of the web database: more than ${MAX_PENDING_RECORDS} were waiting`,
      );
    this.#dropped = 0;
  }

  /** Flushes after `delayMs`, unless a flush is due already. */
  #schedule(delayMs: number) {
    this.#timer ??= setTimeout(() => void this.flush().catch(() => {}), delayMs).unref();
  }

  #disarm() {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * Without the model's context (an OpenAI-compatible upstream reports none; /api/show failed) and
 * no length asked, a token limit's cap is sent only below this many tokens: a day's allowance left
 * (say 199,000) would be at or past the context of most models, which the model service's runtime
 * refuses and OpenAI answers with 400, failing every chat of a token-limited user.
 */
const UNKNOWN_CONTEXT_ANSWER_TOKENS = 4096;

/** Adds an admitted request's tokens; a request that never reached the model settles with none. */
export interface Admission {
  /**
   * The most tokens the request's answer may take: `asked` (the client's max_tokens, a
   * conversation's longest answer; undefined: as long as the model goes), capped at what the user's
   * token limits per minute and per day (their own or a group's) leave after the prompt's estimated
   * `promptTokens`. The cap is sent only where it binds: below `asked` and below the model's
   * `contextTokens` (an answer cannot run past it anyway, and a max_tokens at or past it is
   * refused); with no `asked` and the context unknown, only below UNKNOWN_CONTEXT_ANSWER_TOKENS.
   * Throws QUOTA_EXCEEDED (429) when the limits leave nothing for an answer; the request is then not
   * counted (`failed` with 429).
   */
  answerTokens(request: {
    promptTokens: number;
    asked: number | undefined;
    contextTokens: number | undefined;
  }): Promise<number | undefined>;
  /** The request's tokens (only the first of `settle` and a `failed` that forgets the request counts). */
  settle(tokens: Tokens): Promise<void>;
  /**
   * The request failed with `status` before any answer: when that was the service's fault (the
   * model service or an upstream down, broken or too busy: 5xx, or 429 from its queue), it is not
   * counted against the user's quota (clients such as the openai SDK retry them, which would count
   * thrice); nor is a request for a model that does not exist (404); otherwise it counts, with no tokens.
   */
  failed(status: number): Promise<void>;
}

interface Tokens {
  promptTokens: number;
  completionTokens: number;
}

export const NO_TOKENS: Tokens = { promptTokens: 0, completionTokens: 0 };

/**
 * The first of `settle` and a forgetting `failed` (5xx, 429 or 404: see `forgotten`) counts; later
 * ones (a finally after a catch) do nothing, and `failed` with another status leaves it to `settle`.
 */
function admission(
  write: (tokens: Tokens) => Promise<void>,
  forget: () => Promise<void> = async () => {},
  tokensLeft?: (promptTokens: number) => Promise<number>,
): Admission {
  let settled = false;
  const once = async (step: () => Promise<void>) => {
    if (settled) return;
    settled = true;
    await step();
  };
  return {
    settle: (tokens) => once(() => write(tokens)),
    failed: (status) => (forgotten(status) ? once(forget) : Promise.resolve()),
    answerTokens: async ({ promptTokens, asked, contextTokens }) => {
      if (!tokensLeft) return asked;
      const left = await tokensLeft(promptTokens);
      // The longest the answer could run without the cap: what was asked, else the model's
      // context, else (unknown) a length any model's answer fits.
      const uncapped = Math.min(
        asked ?? Number.POSITIVE_INFINITY,
        contextTokens ?? (asked === undefined ? UNKNOWN_CONTEXT_ANSWER_TOKENS : Number.POSITIVE_INFINITY),
      );
      return left < uncapped ? left : asked;
    },
  };
}

/**
 * Whether a request that failed with `status` before any answer is left uncounted: the service's
 * fault (5xx, or 429 from the model service's queue), or a model that does not exist (404
 * MODEL_NOT_FOUND: counting it would use up quota and add a usage row under any name a user types).
 */
function forgotten(status: number): boolean {
  return status >= 500 || status === 429 || status === 404;
}

/** A settled request's token columns. */
function tokenColumns(tokens: Tokens) {
  return {
    prompt_tokens: tokens.promptTokens,
    completion_tokens: tokens.completionTokens,
    cost_units: costUnits(tokens),
  };
}

/** One cost unit per 1,000 tokens, at least one for a request that was answered; none without tokens. */
function costUnits(tokens: Tokens): number {
  const total = tokens.promptTokens + tokens.completionTokens;
  return total === 0 ? 0 : Math.max(1, Math.ceil(total / 1000));
}

/** Namespaces the per-user advisory lock of admissions among other PostgreSQL advisory locks. */
const QUOTA_LOCK = 0x48_51; // "HQ"

/**
 * Throws QUOTA_EXCEEDED when a window's requests or tokens have reached their limit. For an
 * admitted request's answer (`answer`), only the tokens, counting its prompt's `promptTokens` too:
 * a limit they reach leaves no room for an answer. The tokens the token limits leave: the least of
 * the windows' (Infinity when there is no token limit).
 */
async function assertRoom(
  db: WebDatabase,
  userId: string,
  limits: Limits,
  now: number,
  answer?: { promptTokens: number },
): Promise<number> {
  const promptTokens = answer?.promptTokens ?? 0;
  // A prompt at or past a token limit is never admitted, however long one waits: it must be
  // shortened. So nothing says when to try again (no Retry-After, no resetAt), and
  // `x-should-retry: false` stops an SDK (openai's) retrying it by itself; the chat says to shorten
  // it (the reason). Checked before the windows' use: waiting for one to reset would not help either.
  if (answer)
    for (const [tokenLimit, label] of [
      [limits.tokensPerMinute, "minute"],
      [limits.tokensPerDay, "day"],
    ] as const)
      if (tokenLimit !== undefined && promptTokens >= tokenLimit)
        throw new HearthError(
          "QUOTA_EXCEEDED",
          `The prompt alone (about ${promptTokens} tokens) leaves no room for an answer under the per-${label} limit of ${tokenLimit} tokens; shorten it`,
          { shouldRetry: false, details: { window: label, promptTokens, limits, reason: "prompt-too-long" } },
        );
  let tokensLeft = Number.POSITIVE_INFINITY;
  for (const [windowMs, requestLimitSet, tokenLimit, label] of [
    [MINUTE, limits.requestsPerMinute, limits.tokensPerMinute, "minute"],
    [DAY, limits.requestsPerDay, limits.tokensPerDay, "day"],
  ] as const) {
    const requestLimit = answer ? undefined : requestLimitSet;
    if (requestLimit === undefined && tokenLimit === undefined) continue;
    const since = new Date(now - windowMs).toISOString();
    const inWindow = db.selectFrom("usage").where("user_id", "=", userId).where("created_at", ">", since);
    const sums = await inWindow
      .select((eb) => [
        eb.fn.sum<number>("requests").as("requests"),
        eb.fn.sum<number>(eb("prompt_tokens", "+", eb.ref("completion_tokens"))).as("tokens"),
      ])
      .executeTakeFirst();
    const totals = { requests: Number(sums?.requests ?? 0), tokens: Number(sums?.tokens ?? 0) };
    const full = (counts: { requests: number; tokens: number }) =>
      (requestLimit !== undefined && counts.requests >= requestLimit) ||
      (tokenLimit !== undefined && counts.tokens + promptTokens >= tokenLimit);
    if (!full(totals)) {
      if (tokenLimit !== undefined)
        tokensLeft = Math.min(tokensLeft, tokenLimit - totals.tokens - promptTokens);
      continue;
    }
    // The reset is when enough of the oldest records have left the window for every count to be
    // under its limit: with a limit of 2 and 3 requests, when the 2nd oldest leaves, not the 1st.
    // The records are read only here, on a refusal; an admission reads the sums alone.
    const rows = await inWindow
      .select((eb) => [
        "created_at",
        "requests",
        eb("prompt_tokens", "+", eb.ref("completion_tokens")).as("tokens"),
      ])
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    const left = { ...totals };
    let resetMs = now + windowMs;
    for (const r of rows) {
      left.requests -= Number(r.requests);
      left.tokens -= Number(r.tokens);
      if (!full(left)) {
        resetMs = new Date(r.created_at).getTime() + windowMs;
        break;
      }
    }
    const resetAt = new Date(resetMs);
    const retryAfterSeconds = Math.max(1, Math.ceil((resetMs - now) / 1000));
    // A Retry-After past a minute (the day's window) comes with `x-should-retry: false` (HearthError).
    throw new HearthError(
      "QUOTA_EXCEEDED",
      !answer
        ? `The per-${label} limit is used up; it resets at ${resetAt.toISOString()}`
        : `The per-${label} token limit leaves no room for an answer after the prompt (about ${promptTokens} tokens); it resets at ${resetAt.toISOString()}`,
      {
        retryAfterSeconds,
        details: { window: label, resetAt: resetAt.toISOString(), ...totals, ...answer, limits },
      },
    );
  }
  return tokensLeft;
}
