import type { WebDatabase } from "../storage/open-database.js";
import { userGroupsOf } from "./usage-groups.js";

interface Counts {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUnits: number;
}

const NO_COUNTS: Counts = { requests: 0, promptTokens: 0, completionTokens: 0, costUnits: 0 };

function added(a: Counts, b: Counts): Counts {
  return {
    requests: a.requests + b.requests,
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    costUnits: a.costUnits + b.costUnits,
  };
}

/** One row of the usage report: a user's usage of a model through one key, in one set of groups. */
export interface UsageReportRow extends Counts {
  userId: string;
  /**
   * The user's name, kept when the account is deleted (null: an account deleted before Hearth kept
   * names, and never named in the audit log).
   */
  username: string | null;
  /** The account has been deleted since (its usage stays, under the name it had). */
  userDeleted: boolean;
  /** The groups' names as recorded with the requests (null: recorded before groups were). */
  groups: string[] | null;
  groupIds: string[] | null;
  model: string;
  apiKeyId: string | null;
  /**
   * The key's name, kept when its account is deleted (null: the UI, no key; or a key of an account
   * deleted before Hearth kept names, with its id still given).
   */
  apiKeyName: string | null;
}

/** A group's usage: every request made by a member while in it (a user in two groups counts in each). */
export interface GroupUsage extends Counts {
  groupId: string;
  /** The name recorded with the group's latest request (the group may since be renamed or deleted). */
  group: string;
}

/**
 * The usage recorded since `since`, summed per user, groups at the time of the request, model and
 * API key; and per group.
 */
export async function readUsageReport(
  db: WebDatabase,
  since: string,
): Promise<{ usage: UsageReportRow[]; groupTotals: GroupUsage[] }> {
  const rows = await db
    .selectFrom("usage")
    .leftJoin("users", "users.id", "usage.user_id")
    .leftJoin("deleted_users", "deleted_users.id", "usage.user_id")
    .leftJoin("api_keys", "api_keys.id", "usage.api_key_id")
    .leftJoin("deleted_api_keys", "deleted_api_keys.id", "usage.api_key_id")
    .select((eb) => [
      "usage.user_id as userId",
      "users.username as username",
      "deleted_users.username as deletedUsername",
      "usage.user_groups as userGroups",
      "usage.model as model",
      "usage.api_key_id as apiKeyId",
      "api_keys.name as apiKeyName",
      "deleted_api_keys.name as deletedApiKeyName",
      eb.fn.sum<number>("usage.requests").as("requests"),
      eb.fn.sum<number>("usage.prompt_tokens").as("promptTokens"),
      eb.fn.sum<number>("usage.completion_tokens").as("completionTokens"),
      eb.fn.sum<number>("usage.cost_units").as("costUnits"),
      eb.fn.max("usage.created_at").as("lastAt"),
    ])
    .where("usage.created_at", ">", since)
    .groupBy([
      "usage.user_id",
      "users.username",
      "deleted_users.username",
      "usage.user_groups",
      "usage.model",
      "usage.api_key_id",
      "api_keys.name",
      "deleted_api_keys.name",
    ])
    .orderBy("lastAt")
    .execute();
  const groupTotals = new Map<string, GroupUsage>();
  const usage = rows.map((r): UsageReportRow => {
    const groups = userGroupsOf(r.userGroups);
    const counts: Counts = {
      requests: Number(r.requests),
      promptTokens: Number(r.promptTokens),
      completionTokens: Number(r.completionTokens),
      costUnits: Number(r.costUnits),
    };
    // Oldest first: the name kept is the one recorded last.
    for (const { id, name } of groups ?? []) {
      const total = groupTotals.get(id) ?? { groupId: id, group: name, ...NO_COUNTS };
      groupTotals.set(id, { ...total, group: name, ...added(total, counts) });
    }
    return {
      userId: r.userId,
      username: r.username ?? r.deletedUsername ?? null,
      userDeleted: r.username === null,
      groups: groups?.map((g) => g.name) ?? null,
      groupIds: groups?.map((g) => g.id) ?? null,
      model: r.model,
      apiKeyId: r.apiKeyId,
      apiKeyName: r.apiKeyName ?? r.deletedApiKeyName ?? null,
      ...counts,
    };
  });
  return {
    usage,
    groupTotals: [...groupTotals.values()].sort((a, b) => a.group.localeCompare(b.group)),
  };
}

/**
 * Keeps an account's name and its API keys' names for its usage records, which stay when it is
 * deleted: called in the deletion's transaction, before the account's rows go.
 */
export async function keepNamesForUsage(db: WebDatabase, user: { id: string; username: string }) {
  await db
    .insertInto("deleted_users")
    .values({ id: user.id, username: user.username, deleted_at: new Date().toISOString() })
    .execute();
  const keys = await db
    .selectFrom("api_keys")
    .select(["id", "user_id", "name"])
    .where("user_id", "=", user.id)
    .execute();
  if (keys.length > 0) await db.insertInto("deleted_api_keys").values(keys).execute();
}
