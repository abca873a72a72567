import type { HearthConfig } from "@hearth/core";
import { z } from "zod";
import { ExpiringPromises } from "../caching/expiring-promises.js";
import type { WebDatabase } from "../storage/open-database.js";

/**
 * An object that refuses keys it does not know, naming the ones it takes: `userLimits: Unrecognized
 * key: "foo"; the keys are requestsPerMinute, …` (the issue's code stays `unrecognized_keys`).
 */
function strictObjectNamingKeys<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const known = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `Unrecognized key${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.map((key) => JSON.stringify(key)).join(", ")}; the keys are ${known}`
        : undefined,
  });
}

/** Limits per minute and per day; unset means unlimited. */
export const limitsSchema = strictObjectNamingKeys({
  requestsPerMinute: z.number().int().min(1).optional(),
  requestsPerDay: z.number().int().min(1).optional(),
  tokensPerMinute: z.number().int().min(1).optional(),
  tokensPerDay: z.number().int().min(1).optional(),
});
export type Limits = z.infer<typeof limitsSchema>;

/** Settings administrators change at run time (stored, audited); config gives the defaults. */
export const settingsSchema = strictObjectNamingKeys({
  signup: z.enum(["open", "approval", "closed"]),
  /**
   * Limits for every user, and per group id: per limit, a member gets the most generous value of
   * their groups that set it, else the user-wide one (usage/resolve-limits.ts).
   */
  userLimits: limitsSchema,
  groupLimits: z.record(z.string(), limitsSchema),
  /**
   * Sensitive words (one per entry) and where the filter applies; `allowedWords` are longer words
   * that hold a listed one and are let through (手机密码 holds 机密). Settings stored before it
   * existed read as none.
   */
  filter: z.strictObject({
    words: z.array(z.string().min(1).max(100)).max(100_000),
    allowedWords: z.array(z.string().min(1).max(100)).max(100_000).default([]),
    applyToInput: z.boolean(),
    applyToOutput: z.boolean(),
  }),
  /** Who may open conversation share links: any signed-in user, or nobody (conversation-shares.ts). */
  shareLinks: z.enum(["off", "signed-in"]),
});
export type Settings = z.infer<typeof settingsSchema>;

/**
 * How long settings read are trusted. Another process's change is heard at once (the peer bus
 * invalidates them); this bounds how long one that went unheard (a notification lost while the
 * bus was reconnecting, or never noticed by it) stays in force.
 */
const SETTINGS_MAX_AGE_MS = 30_000;
const SETTINGS = "settings";

export class SettingsStore {
  readonly #db: WebDatabase;
  readonly #defaults: Settings;
  /** The settings read (or being read, or just written), under the one key SETTINGS. */
  readonly #cache: ExpiringPromises;

  constructor(db: WebDatabase, config: HearthConfig, options: { maxAgeMs?: number } = {}) {
    this.#db = db;
    this.#cache = new ExpiringPromises(options.maxAgeMs ?? SETTINGS_MAX_AGE_MS);
    this.#defaults = {
      signup: config.web.signup,
      userLimits: {},
      groupLimits: {},
      filter: { words: [], allowedWords: [], applyToInput: true, applyToOutput: true },
      shareLinks: config.web.shareLinks,
    };
  }

  get(): Promise<Settings> {
    return this.#cache.get(SETTINGS, () => this.#read());
  }

  async #read(): Promise<Settings> {
    const rows = await this.#db.selectFrom("settings").selectAll().execute();
    const stored: Record<string, unknown> = {};
    for (const row of rows) stored[row.key] = JSON.parse(row.value);
    const merged = settingsSchema.safeParse({ ...this.#defaults, ...stored });
    return merged.success ? merged.data : this.#defaults;
  }

  /** Forgets the cached settings (another process, a worker or a replica, may have changed them). */
  invalidate(): void {
    this.#cache.clear();
  }

  async signupMode(): Promise<Settings["signup"]> {
    return (await this.get()).signup;
  }

  /** Validates and stores a partial change; returns the new settings. */
  async update(change: Partial<Settings>): Promise<Settings> {
    const next = settingsSchema.parse({ ...(await this.get()), ...change });
    await this.#db.transaction().execute(async (trx) => {
      for (const key of Object.keys(change)) {
        const json = JSON.stringify((next as Record<string, unknown>)[key]);
        await trx.deleteFrom("settings").where("key", "=", key).execute();
        await trx.insertInto("settings").values({ key, value: json }).execute();
      }
    });
    this.#cache.set(SETTINGS, next);
    return next;
  }
}

/**
 * What a settings change changed, for the audit log: each key whose value changed, before and
 * after (nothing when a save changed nothing). Group limits are keyed by the group's name (from
 * `groupNames`, the id where it has none), only the groups whose limits changed, no limits being
 * `{}`: the entry still names them after a group is deleted. The sensitive-word lists are recorded
 * as counts of words added and removed (the log is no copy of the lists, which may be long and are
 * themselves what administrators keep out of view).
 */
export function settingsChanges(
  before: Settings,
  after: Settings,
  groupNames: ReadonlyMap<string, string>,
): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  if (before.signup !== after.signup) changes.signup = { from: before.signup, to: after.signup };
  if (before.shareLinks !== after.shareLinks)
    changes.shareLinks = { from: before.shareLinks, to: after.shareLinks };
  if (!sameLimits(before.userLimits, after.userLimits))
    changes.userLimits = { from: before.userLimits, to: after.userLimits };
  const groups = { from: {} as Record<string, Limits>, to: {} as Record<string, Limits> };
  for (const id of new Set([...Object.keys(before.groupLimits), ...Object.keys(after.groupLimits)])) {
    const was = before.groupLimits[id] ?? {};
    const now = after.groupLimits[id] ?? {};
    if (sameLimits(was, now)) continue;
    const name = groupNames.get(id) ?? id;
    groups.from[name] = was;
    groups.to[name] = now;
  }
  if (Object.keys(groups.from).length > 0) changes.groupLimits = groups;
  const filter = filterChanges(before.filter, after.filter);
  if (filter) changes.filter = filter;
  return changes;
}

function sameLimits(a: Limits, b: Limits): boolean {
  return Object.keys(limitsSchema.shape).every((key) => a[key as keyof Limits] === b[key as keyof Limits]);
}

/** How the sensitive-word filter changed (undefined when it did not). */
function filterChanges(before: Settings["filter"], after: Settings["filter"]) {
  const entry: Record<string, unknown> = {};
  const words = wordChanges(before.words, after.words);
  if (words.added || words.removed)
    Object.assign(entry, { wordsAdded: words.added, wordsRemoved: words.removed, wordCount: words.count });
  const allowed = wordChanges(before.allowedWords, after.allowedWords);
  if (allowed.added || allowed.removed)
    Object.assign(entry, {
      allowedWordsAdded: allowed.added,
      allowedWordsRemoved: allowed.removed,
      allowedWordCount: allowed.count,
    });
  for (const flag of ["applyToInput", "applyToOutput"] as const)
    if (before[flag] !== after[flag]) entry[flag] = { from: before[flag], to: after[flag] };
  return Object.keys(entry).length > 0 ? entry : undefined;
}

/** How a word list changed, in counts: words added, words removed, words now. */
function wordChanges(before: readonly string[], after: readonly string[]) {
  const was = new Set(before);
  const now = new Set(after);
  return {
    added: [...now].filter((w) => !was.has(w)).length,
    removed: [...was].filter((w) => !now.has(w)).length,
    count: now.size,
  };
}
