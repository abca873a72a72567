import { normalizeModelName, upstreamModelOf } from "@hearth/contracts";
import { HearthError } from "@hearth/core";
import type { CurrentUser } from "../accounts/account-store.js";
import type { AuthCache } from "../auth/auth-cache.js";
import type { WebDatabase } from "../storage/open-database.js";

/**
 * Which groups may use which models. A model without rules is open to every signed-in user; a
 * model with rules only to members of the listed groups (and to admins); a model set admin-only, or
 * whose allowed groups were all deleted, is kept for admins only (an empty rule, from
 * `model_admin_only`), never opened to everyone by the delete. Rules are kept and matched
 * under the model service's spelling of a name (see `key`), so `stories260K` and
 * `stories260K:latest`, one model to the model service, are one model here too.
 */
export class ModelAccess {
  readonly #upstreams: ReadonlySet<string>;

  constructor(
    readonly db: WebDatabase,
    readonly cache?: AuthCache,
    /** The names of the OpenAI-compatible upstreams (`model.upstreams`), whose models are `<name>/<id>`. */
    upstreams: readonly string[] = [],
  ) {
    this.#upstreams = new Set(upstreams);
  }

  /**
   * A model's name as the model service resolves it (the rule its catalog follows): `<upstream>/<id>`
   * of a configured upstream as it is (upstreamModelOf), any other name without a tag as
   * `name:latest` (Ollama's rule, which the model service follows).
   */
  key(model: string): string {
    return upstreamModelOf(model, this.#upstreams) ? model : normalizeModelName(model);
  }

  /** The rules by model key; rows stored under another spelling (before keys) are merged in. */
  async rules(): Promise<Map<string, string[]>> {
    return this.cache ? this.cache.get("model-rules", () => this.#load()) : this.#load();
  }

  async #load(): Promise<Map<string, string[]>> {
    const rows = await this.db.selectFrom("model_access").selectAll().execute();
    const map = new Map<string, string[]>();
    for (const row of await this.db.selectFrom("model_admin_only").selectAll().execute())
      map.set(this.key(row.model), []);
    for (const row of rows) {
      const key = this.key(row.model);
      map.set(key, [...new Set([...(map.get(key) ?? []), row.group_id])]);
    }
    return map;
  }

  /** The groups a model is limited to; none when it is open to everyone (or admin-only). */
  groupIdsOf(rules: Map<string, string[]>, model: string): string[] {
    return rules.get(this.key(model)) ?? [];
  }

  /** Whether a model is limited to administrators: it has a rule that admits no group. */
  adminOnlyOf(rules: Map<string, string[]>, model: string): boolean {
    return rules.get(this.key(model))?.length === 0;
  }

  allowedWith(rules: Map<string, string[]>, user: CurrentUser, model: string): boolean {
    if (user.role === "admin") return true;
    // An `<upstream>/<id>` the upstream does not offer falls through, in the model service, to the
    // tagged name: the rules of both spellings must let the user in.
    const keys = new Set([this.key(model), normalizeModelName(model)]);
    return [...keys].every((key) => {
      const groups = rules.get(key);
      return !groups || groups.some((group) => user.groupIds.includes(group));
    });
  }

  async assertAllowed(user: CurrentUser, model: string): Promise<void> {
    if (!this.allowedWith(await this.rules(), user, model))
      throw new HearthError("MODEL_NOT_ALLOWED", `Your groups may not use the model "${model}"`);
  }

  async filter<T extends { id: string }>(user: CurrentUser, models: T[]): Promise<T[]> {
    const rules = await this.rules();
    return models.filter((model) => this.allowedWith(rules, user, model.id));
  }
}
