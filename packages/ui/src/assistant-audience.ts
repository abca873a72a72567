import { fill, type Messages } from "./i18n.js";

/** Who may use a model, as Admin → Models sets it (GET /api/admin/models): none set, everyone. */
export interface ModelAccessRule {
  id: string;
  groupIds: string[];
  adminOnly?: boolean;
}

/** A model id as the access rules key it: `name` and `name:latest` are one model. */
const modelKey = (id: string) => (id.slice(id.lastIndexOf("/") + 1).includes(":") ? id : `${id}:latest`);

/**
 * What an administrator is told when an assistant they share (with groups, or publicly) is on a
 * base model some of that audience may not use: those users do not get it in their model picker.
 * Nothing for a private assistant, a model open to everyone, or groups all allowed the model.
 * "May": a user of a shared group who is also in an allowed group may use it.
 */
export function audienceWarning(
  t: Messages,
  sharing: { model: string; visibility: "private" | "shared" | "public"; groupIds: string[] },
  rules: ModelAccessRule[],
  groups: ReadonlyArray<{ id: string; name: string }>,
): string | undefined {
  if (sharing.visibility === "private") return undefined;
  const rule = rules.find((entry) => modelKey(entry.id) === modelKey(sharing.model));
  if (!rule) return undefined;
  if (rule.adminOnly) return fill(t.assistantAudienceAdminOnly, { model: sharing.model });
  if (rule.groupIds.length === 0) return undefined;
  if (sharing.visibility === "shared" && sharing.groupIds.every((id) => rule.groupIds.includes(id)))
    return undefined;
  const names = rule.groupIds
    .map((id) => groups.find((group) => group.id === id)?.name ?? id)
    .join(t.errorDetails.separator);
  return fill(t.assistantAudienceGroups, { model: sharing.model, groups: names });
}
