import type { HearthConfig } from "@hearth/core";
import { z } from "zod";
import { SensitiveWordFilter } from "../filter/sensitive-word-filter.js";
import type { WebDatabase } from "../storage/open-database.js";

/** Limits per minute and per day; unset means unlimited. */
export const limitsSchema = z.strictObject({
  requestsPerMinute: z.number().int().min(1).optional(),
  requestsPerDay: z.number().int().min(1).optional(),
  tokensPerMinute: z.number().int().min(1).optional(),
  tokensPerDay: z.number().int().min(1).optional(),
});
export type Limits = z.infer<typeof limitsSchema>;

/** Settings administrators change at run time (stored, audited); config gives the defaults. */
export const settingsSchema = z.strictObject({
  signup: z.enum(["open", "approval", "closed"]),
  /** Limits for every user, and per group id (a user gets the most generous group limit, else the user one). */
  userLimits: limitsSchema,
  groupLimits: z.record(z.string(), limitsSchema),
  /** Sensitive words (one per entry) and where the filter applies. */
  filter: z.strictObject({
    words: z.array(z.string().min(1).max(100)).max(100_000),
    applyToInput: z.boolean(),
    applyToOutput: z.boolean(),
  }),
});
export type Settings = z.infer<typeof settingsSchema>;

/** The sensitive-word filters the settings call for (empty where a side is switched off). */
export interface WordFilters {
  input: SensitiveWordFilter;
  output: SensitiveWordFilter;
}

export class SettingsStore {
  readonly #db: WebDatabase;
  readonly #defaults: Settings;
  #cache: Settings | undefined;
  // Built once per settings value: normalising and sorting a long word list on every chat
  // request would cost more than the request.
  #filters: { settings: Settings; filters: WordFilters } | undefined;

  constructor(db: WebDatabase, config: HearthConfig) {
    this.#db = db;
    this.#defaults = {
      signup: config.web.signup,
      userLimits: {},
      groupLimits: {},
      filter: { words: [], applyToInput: true, applyToOutput: true },
    };
  }

  async get(): Promise<Settings> {
    if (this.#cache) return this.#cache;
    const rows = await this.#db.selectFrom("settings").selectAll().execute();
    const stored: Record<string, unknown> = {};
    for (const row of rows) stored[row.key] = JSON.parse(row.value);
    const merged = settingsSchema.safeParse({ ...this.#defaults, ...stored });
    this.#cache = merged.success ? merged.data : this.#defaults;
    return this.#cache;
  }

  async filters(): Promise<WordFilters> {
    const settings = await this.get();
    if (this.#filters?.settings !== settings) {
      const { words, applyToInput, applyToOutput } = settings.filter;
      this.#filters = {
        settings,
        filters: {
          input: new SensitiveWordFilter(applyToInput ? words : []),
          output: new SensitiveWordFilter(applyToOutput ? words : []),
        },
      };
    }
    return this.#filters.filters;
  }

  /** Forgets the cached settings (another worker may have changed them). */
  invalidate(): void {
    this.#cache = undefined;
  }

  async signupMode(): Promise<Settings["signup"]> {
    return (await this.get()).signup;
  }

  /** Validates and stores a partial change; returns the new settings. */
  async update(change: Partial<Settings>): Promise<Settings> {
    const next = settingsSchema.parse({ ...(await this.get()), ...change });
    await this.#db.transaction().execute(async (trx) => {
      for (const [key, value] of Object.entries(change)) {
        const json = JSON.stringify((next as Record<string, unknown>)[key]);
        await trx.deleteFrom("settings").where("key", "=", key).execute();
        await trx.insertInto("settings").values({ key, value: json }).execute();
        void value;
      }
    });
    this.#cache = next;
    return next;
  }
}
