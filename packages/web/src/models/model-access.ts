import { HearthError } from "@hearth/core";
import type { CurrentUser } from "../accounts/account-store.js";
import type { AuthCache } from "../auth/auth-cache.js";
import type { WebDatabase } from "../storage/open-database.js";

/**
 * Which groups may use which models. A model without rules is open to every signed-in user; a
 * model with rules only to members of the listed groups (and to admins).
 */
export class ModelAccess {
  constructor(
    readonly db: WebDatabase,
    readonly cache?: AuthCache,
  ) {}

  async rules(): Promise<Map<string, string[]>> {
    return this.cache ? this.cache.get("model-rules", () => this.#load()) : this.#load();
  }

  async #load(): Promise<Map<string, string[]>> {
    const rows = await this.db.selectFrom("model_access").selectAll().execute();
    const map = new Map<string, string[]>();
    for (const row of rows) map.set(row.model, [...(map.get(row.model) ?? []), row.group_id]);
    return map;
  }

  allowedWith(rules: Map<string, string[]>, user: CurrentUser, model: string): boolean {
    if (user.role === "admin") return true;
    const groups = rules.get(model);
    return !groups || groups.some((group) => user.groupIds.includes(group));
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
