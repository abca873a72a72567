import { HearthError } from "@hearth/core";
import type { CurrentUser } from "../accounts/account-store.js";
import type { Limits, SettingsStore } from "../settings/settings-store.js";
import type { UsageTable } from "../storage/database-schema.js";
import type { WebDatabase } from "../storage/open-database.js";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** A row as inserted: the table's columns but the generated id. */
type UsageRow = Omit<UsageTable, "id">;

/**
 * Records tokens, requests and cost units per user, key and model, and enforces the limits.
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
      await previous;
      if (rows.length === 0) return;
      await this.db.insertInto("usage").values(rows).execute();
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

  /** Throws QUOTA_EXCEEDED (429, Retry-After, details.resetAt) when a limit is used up. */
  async check(user: CurrentUser, now = Date.now()): Promise<void> {
    const limits = await this.limitsFor(user);
    if (Object.values(limits).every((v) => v === undefined)) return;
    await this.flush();
    for (const [windowMs, requestLimit, tokenLimit, label] of [
      [MINUTE, limits.requestsPerMinute, limits.tokensPerMinute, "minute"],
      [DAY, limits.requestsPerDay, limits.tokensPerDay, "day"],
    ] as const) {
      if (requestLimit === undefined && tokenLimit === undefined) continue;
      const since = new Date(now - windowMs).toISOString();
      const totals = await this.db
        .selectFrom("usage")
        .select((eb) => [
          eb.fn.sum<number>("requests").as("requests"),
          eb.fn.sum<number>(eb("prompt_tokens", "+", eb.ref("completion_tokens"))).as("tokens"),
          eb.fn.min<string>("created_at").as("oldest"),
        ])
        .where("user_id", "=", user.id)
        .where("created_at", ">", since)
        .executeTakeFirst();
      const requests = Number(totals?.requests ?? 0);
      const tokens = Number(totals?.tokens ?? 0);
      if (
        (requestLimit !== undefined && requests >= requestLimit) ||
        (tokenLimit !== undefined && tokens >= tokenLimit)
      ) {
        const oldest = totals?.oldest ? new Date(totals.oldest).getTime() : now;
        const resetAt = new Date(oldest + windowMs);
        const retryAfterSeconds = Math.max(1, Math.ceil((resetAt.getTime() - now) / 1000));
        throw new HearthError(
          "QUOTA_EXCEEDED",
          `The per-${label} limit is used up; it resets at ${resetAt.toISOString()}`,
          {
            retryAfterSeconds,
            details: { window: label, resetAt: resetAt.toISOString(), requests, tokens, limits },
          },
        );
      }
    }
  }

  async record(entry: {
    userId: string;
    apiKeyId?: string;
    model: string;
    promptTokens: number;
    completionTokens: number;
  }) {
    this.#pending.push({
      user_id: entry.userId,
      api_key_id: entry.apiKeyId ?? null,
      model: this.modelKey(entry.model),
      prompt_tokens: entry.promptTokens,
      completion_tokens: entry.completionTokens,
      requests: 1,
      // One cost unit per 1,000 tokens, at least one per request.
      cost_units: Math.max(1, Math.ceil((entry.promptTokens + entry.completionTokens) / 1000)),
      created_at: new Date().toISOString(),
    });
    if (this.#pending.length >= 500) await this.flush();
    else this.#timer ??= setTimeout(() => void this.flush().catch(() => {}), 200);
  }
}
