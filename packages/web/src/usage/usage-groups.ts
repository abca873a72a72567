/** A group as a usage record keeps it: its id, and its name at the time of the request. */
export interface UsageGroup {
  id: string;
  name: string;
}

/**
 * The `usage.user_groups` column for a request by a user in `groups`: JSON sorted by name (then
 * id), so that records of the same memberships hold the same text and the report sums them together.
 */
export function userGroupsColumn(groups: UsageGroup[]): string {
  // Compared by code point, not by locale: every worker writes the same text.
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...groups].sort((a, b) => compare(a.name, b.name) || compare(a.id, b.id));
  return JSON.stringify(sorted.map(({ id, name }) => ({ id, name })));
}

/** The groups a usage record keeps; null for a record written before groups were recorded. */
export function userGroupsOf(column: string | null): UsageGroup[] | null {
  return column === null ? null : (JSON.parse(column) as UsageGroup[]);
}
