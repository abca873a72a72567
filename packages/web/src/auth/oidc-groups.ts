import { foldName } from "@hearth/contracts";
import type { FastifyBaseLogger } from "fastify";
import { activeAdminCount, changingAdmins } from "../accounts/account-store.js";
import { audit } from "../audit/audit-log.js";
import type { WebDatabase } from "../storage/open-database.js";

/**
 * Groups and the admin role from the identity provider (web.oidc.groupsClaim, syncGroups,
 * adminGroups): read from the ID token's claim at each SSO sign-in and applied to the account.
 */

/**
 * The strings of the ID token's groups claim, or undefined when the token has no such claim (or
 * one that is neither a string nor a list). The claim is looked up by its whole name first (a
 * namespaced claim such as `https://example.cn/groups` holds dots), then as a dotted path into
 * nested objects (`realm_access.roles`).
 */
export function claimValues(payload: Record<string, unknown>, claim: string): string[] | undefined {
  let value: unknown = Object.hasOwn(payload, claim) ? payload[claim] : undefined;
  if (value === undefined && claim.includes(".")) {
    value = payload;
    for (const part of claim.split(".")) {
      if (!value || typeof value !== "object" || Array.isArray(value) || !Object.hasOwn(value, part)) {
        value = undefined;
        break;
      }
      value = (value as Record<string, unknown>)[part];
    }
  }
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === "string");
  return undefined;
}

/**
 * The folded names a claim's value matches: the value itself; a Keycloak group path (`/HR/Leave`)
 * by its path without the leading slash (`HR/Leave`) and by its last segment (`Leave`).
 */
function namesOfClaimValue(value: string): string[] {
  const trimmed = value.trim();
  if (!trimmed) return [];
  if (!trimmed.startsWith("/")) return [foldName(trimmed)];
  const path = trimmed.replace(/^\/+/, "");
  const last = path.split("/").filter(Boolean).at(-1);
  return [...new Set([path, last].filter((name): name is string => !!name).map(foldName))];
}

/** Every folded name the claim's values match. */
function claimNames(values: readonly string[]): Set<string> {
  return new Set(values.flatMap(namesOfClaimValue));
}

/**
 * Whether the claim names one of web.oidc.adminGroups: a configured path (`/Hearth/Admins`) only
 * by that whole path, a configured name (`hearth-admin`) as Hearth groups are matched (a value, or
 * a path's last segment), without regard to case or width.
 */
function isAdminClaim(values: readonly string[], adminGroups: readonly string[]): boolean {
  const names = claimNames(values);
  const paths = new Set(values.map((value) => foldName(value.trim().replace(/^\/+/, ""))));
  return adminGroups.some((group) => {
    const trimmed = group.trim();
    return trimmed.startsWith("/")
      ? paths.has(foldName(trimmed.replace(/^\/+/, "")))
      : names.has(foldName(trimmed));
  });
}

export interface SsoAccessOptions {
  syncGroups: boolean;
  /** Claim values that make an administrator; empty: roles are not managed. */
  adminGroups: readonly string[];
}

/** What a sign-in changed: whether anything did (the auth cache is cleared then). */
export interface SsoAccessOutcome {
  changed: boolean;
  groupsAdded: string[];
  groupsRemoved: string[];
  role?: { from: "admin" | "user"; to: "admin" | "user" };
  /** The claim would have made the account a user, but it is the last active administrator. */
  keptLastAdmin?: boolean;
}

/**
 * Applies the claim to the account at an SSO sign-in: with `syncGroups`, its memberships become
 * exactly the existing Hearth groups the claim names (each group whose members change is audited
 * as an administrator's change is, `group.members-change`, with `via: "sso"`); with `adminGroups`,
 * its role becomes admin when the claim names one of them, else user (`user.role-change`), except
 * that the last active administrator stays one (logged, and said in the sign-in's audit entry).
 * The account's status is never changed. `values` undefined (the token lacks the claim) counts as
 * no groups.
 */
export async function applySsoAccess(
  db: WebDatabase,
  input: {
    userId: string;
    issuer: string;
    values: readonly string[] | undefined;
    options: SsoAccessOptions;
    log: FastifyBaseLogger;
  },
): Promise<SsoAccessOutcome> {
  const { userId, options, log } = input;
  const outcome: SsoAccessOutcome = { changed: false, groupsAdded: [], groupsRemoved: [] };
  const manageRoles = options.adminGroups.length > 0;
  if (!options.syncGroups && !manageRoles) return outcome;
  if (input.values === undefined)
    log.warn(
      { event: "sso_groups_claim_missing", userId },
      "the ID token has no groups claim (web.oidc.groupsClaim): the account counts as in no group",
    );
  const names = claimNames(input.values ?? []);
  // A sign-in that manages roles may take an administrator's: under the administrators' lock.
  const transaction = <T>(work: (trx: WebDatabase) => Promise<T>) =>
    manageRoles ? changingAdmins(db, work) : db.transaction().execute(work);
  await transaction(async (trx) => {
    const user = await trx
      .selectFrom("users")
      .select(["username", "role", "status"])
      .where("id", "=", userId)
      .executeTakeFirstOrThrow();
    if (options.syncGroups) {
      const groups = await trx
        .selectFrom("groups")
        .select(["id", "name", "name_folded"])
        .orderBy("created_at")
        .orderBy("id")
        .execute();
      const current = new Set(
        (
          await trx.selectFrom("group_members").select("group_id").where("user_id", "=", userId).execute()
        ).map((row) => row.group_id),
      );
      for (const group of groups) {
        const wanted = names.has(group.name_folded ?? foldName(group.name));
        const member = current.has(group.id);
        if (wanted === member) continue;
        if (wanted) {
          await trx.insertInto("group_members").values({ group_id: group.id, user_id: userId }).execute();
          outcome.groupsAdded.push(group.name);
        } else {
          await trx
            .deleteFrom("group_members")
            .where("group_id", "=", group.id)
            .where("user_id", "=", userId)
            .execute();
          outcome.groupsRemoved.push(group.name);
        }
        await audit(trx, {
          actorId: userId,
          action: "group.members-change",
          target: group.id,
          details: {
            via: "sso",
            issuer: input.issuer,
            [wanted ? "membersAdded" : "membersRemoved"]: [user.username],
          },
        });
      }
    }
    if (manageRoles) {
      const admin = isAdminClaim(input.values ?? [], options.adminGroups);
      const role = admin ? "admin" : "user";
      if (role !== user.role) {
        let lastAdmin = false;
        if (role === "user" && user.status === "active") {
          lastAdmin = (await activeAdminCount(trx)) <= 1;
        }
        if (lastAdmin) {
          outcome.keptLastAdmin = true;
          log.warn(
            { event: "sso_last_admin_kept", userId },
            "the groups claim names none of web.oidc.adminGroups, but this account is the last active administrator: it stays one",
          );
        } else {
          await trx.updateTable("users").set({ role }).where("id", "=", userId).execute();
          outcome.role = { from: user.role, to: role };
          await audit(trx, {
            actorId: userId,
            action: "user.role-change",
            target: userId,
            details: { from: user.role, to: role, via: "sso", issuer: input.issuer },
          });
        }
      }
    }
  });
  outcome.changed = outcome.groupsAdded.length > 0 || outcome.groupsRemoved.length > 0 || !!outcome.role;
  return outcome;
}
