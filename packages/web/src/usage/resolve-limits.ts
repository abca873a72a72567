import type { Limits, Settings } from "../settings/settings-store.js";

const LIMIT_KEYS = ["requestsPerMinute", "requestsPerDay", "tokensPerMinute", "tokensPerDay"] as const;

/**
 * The limits that apply to a member of `groupIds`, key by key: the most generous value among their
 * groups that set that key, else the user-wide value (a key neither sets: no limit). A group that
 * sets a key decides it for its members, tighter than the user-wide value or looser; a key it
 * leaves empty is the user-wide one.
 */
export function resolveLimits(
  settings: Pick<Settings, "userLimits" | "groupLimits">,
  groupIds: readonly string[],
): Limits {
  const groups = groupIds.map((id) => settings.groupLimits[id]).filter((l): l is Limits => l !== undefined);
  const limits: Limits = {};
  for (const key of LIMIT_KEYS) {
    const set = groups.map((l) => l[key]).filter((v): v is number => v !== undefined);
    const value = set.length > 0 ? Math.max(...set) : settings.userLimits[key];
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}
