import { HearthError, isDatabaseUnreachable, toHearthError } from "@hearth/core";
import type { CurrentUser } from "../accounts/account-store.js";
import type { Limits, SettingsStore } from "../settings/settings-store.js";
import type { UsageTable } from "../storage/database-schema.js";
import { lockedTransaction } from "../storage/locked-transaction.js";
import type { WebDatabase } from "../storage/open-database.js";
import { userGroupsColumn } from "./usage-groups.js";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** A row as inserted: the table's columns but the generated id. */
type UsageRow = Omit<UsageTable, "id">;

/**
 * Records tokens, requests and cost units per user, key and model, with the groups the user is in
 * at the time of the request, and enforces the limits.
 * Records are written in batches (every 200 ms, in one transaction) rather than one insert per
 * request on the streaming path; every read (quota checks, the usage report) flushes first.
 */
export class UsageMeter {
  #pending: UsageRow[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    readonly db: WebDatabase,
    readonly settings: SettingsStore,
    /** The name a model's usage is kept under, so that its spellings add up (ModelAccess.key). */
    readonly modelKey: (model: string) => string = (model) => model,
  ) {}

  /** Writes the records not yet stored. */
  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const rows = this.#pending;
    this.#pending = [];
    const previous = this.#flushing;
    this.#flushing = (async () => {
      // A batch that failed was reported to whoever flushed it; it must not fail every later one.
      await previous.catch(() => {});
      if (rows.length === 0) return;
      try {
        await this.db.insertInto("usage").values(rows).execute();
      } catch (error) {
        // Records the database could not take while it was unreachable go in the next batch.
        if (isDatabaseUnreachable(error)) this.#pending.unshift(...rows);
        throw error;
      }
    })();
    await this.#flushing;
  }

  /** The limits that apply to a user: the most generous of their groups', else the per-user ones. */
  async limitsFor(user: CurrentUser): Promise<Limits> {
    const settings = await this.settings.get();
    const groupLimits = user.groupIds
      .map((id) => settings.groupLimits[id])
      .filter((l): l is Limits => l !== undefined);
    if (groupLimits.length === 0) return settings.userLimits;
    const pick = (key: keyof Limits) => {
      const values = groupLimits.map((l) => l[key]);
      return values.some((v) => v === undefined) ? undefined : Math.max(...(values as number[]));
    };
    return {
      requestsPerMinute: pick("requestsPerMinute"),
      requestsPerDay: pick("requestsPerDay"),
      tokensPerMinute: pick("tokensPerMinute"),
      tokensPerDay: pick("tokensPerDay"),
    };
  }

  /**
   * Admits a request or throws QUOTA_EXCEEDED (429, Retry-After, details.resetAt) when a limit is
   * used up. An admitted request counts at once, before its answer: concurrent requests see each
   * other, so N parallel requests over a limit of 2 admit exactly 2. Its tokens are added by
   * `settle` when known. For a user with limits, the check and the counting row are one
   * transaction under a per-user lock (SQLite: BEGIN IMMEDIATE, the database's one writer;
   * PostgreSQL: an advisory lock), so web workers and nodes sharing the database agree too.
   */
  async admit(
    user: CurrentUser,
    entry: { model: string; apiKeyId?: string },
    now = Date.now(),
  ): Promise<Admission> {
    const limits = await this.limitsFor(user);
    const row: UsageRow = {
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
    return admission(
      async (tokens) => {
        await this.db.updateTable("usage").set(tokenColumns(tokens)).where("id", "=", id).execute();
      },
      async () => {
        await this.db.deleteFrom("usage").where("id", "=", id).execute();
      },
    );
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
    this.#pending.push(row);
    if (this.#pending.length >= 500) await this.flush();
    else this.#timer ??= setTimeout(() => void this.flush().catch(() => {}), 200);
  }
}

/** Adds an admitted request's tokens; a request that never reached the model settles with none. */
export interface Admission {
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
): Admission {
  let settled = false;
  const once = async (step: () => Promise<void>) => {
    if (settled) return;
    settled = true;
    await step().catch(() => {});
  };
  return {
    settle: (tokens) => once(() => write(tokens)),
    failed: (status) => (forgotten(status) ? once(forget) : Promise.resolve()),
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

/** Throws QUOTA_EXCEEDED when a window's requests or tokens have reached their limit. */
async function assertRoom(db: WebDatabase, userId: string, limits: Limits, now: number): Promise<void> {
  for (const [windowMs, requestLimit, tokenLimit, label] of [
    [MINUTE, limits.requestsPerMinute, limits.tokensPerMinute, "minute"],
    [DAY, limits.requestsPerDay, limits.tokensPerDay, "day"],
  ] as const) {
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
      (tokenLimit !== undefined && counts.tokens >= tokenLimit);
    if (!full(totals)) continue;
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
    throw new HearthError(
      "QUOTA_EXCEEDED",
      `The per-${label} limit is used up; it resets at ${resetAt.toISOString()}`,
      { retryAfterSeconds, details: { window: label, resetAt: resetAt.toISOString(), ...totals, limits } },
    );
  }
}
