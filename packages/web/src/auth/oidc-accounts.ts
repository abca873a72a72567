import { createHash } from "node:crypto";
import { foldName, usernameProblem } from "@hearth/contracts";
import { HearthError } from "@hearth/core";
import { createUser, findUserByName } from "../accounts/account-store.js";
import { audit } from "../audit/audit-log.js";
import type { WebDatabase } from "../storage/open-database.js";
import { isUniqueViolation } from "../storage/unique-violation.js";
import type { IdentityClaims } from "./oidc-provider.js";

/** The account an SSO sign-in ends in, and how it came to it. */
export interface SsoAccount {
  userId: string;
  status: "active" | "pending" | "disabled";
  /** "existing": signed in before; "linked": tied to a local account by email; "created": new. */
  outcome: "existing" | "linked" | "created";
}

/**
 * The user names an SSO account may take, best first: the provider's preferred_username, its
 * name (white space as "_"), the email address, the address's local part, each cut to 64
 * characters and kept only when it fits the user-name rule; last, one made of the subject.
 */
function usernameCandidates(claims: IdentityClaims): string[] {
  const raw = [
    claims.preferredUsername,
    claims.name?.trim().replace(/\s+/gu, "_"),
    claims.email,
    claims.email?.split("@")[0],
  ];
  const fitting = raw
    .map((name) => name?.trim().slice(0, 64))
    .filter((name): name is string => !!name && usernameProblem(name) === undefined);
  const fallback = `sso-${createHash("sha256").update(`${claims.issuer} ${claims.subject}`).digest("hex").slice(0, 10)}`;
  return [...new Set([...fitting, fallback])];
}

/** The candidates, then each one's numbered variants (`alice-2` … `alice-9`, within 64 characters). */
function* numbered(candidates: string[]): Generator<string> {
  yield* candidates;
  for (const candidate of candidates) for (let n = 2; n <= 9; n++) yield `${candidate.slice(0, 62)}-${n}`;
}

/**
 * The account of an identity the provider vouched for: the one it signed in to before; else, with
 * `mergeByEmail` and an address the provider says it verified, the local account whose user name
 * is that address (linked from now on); else a new account without a password, made as a sign-up
 * is (web.signup: open, approval or closed; the first account of an empty Hearth is an admin).
 * A local account of the same name is never taken over: the new one gets a numbered name.
 */
export async function accountForIdentity(
  db: WebDatabase,
  claims: IdentityClaims,
  options: { signup: "open" | "approval" | "closed"; mergeByEmail: boolean },
  /** Looked up again once after the same identity's first sign-in raced this one. */
  again = false,
): Promise<SsoAccount> {
  const now = new Date().toISOString();
  const email = claims.email ?? null;
  const known = await db
    .selectFrom("external_identities")
    .innerJoin("users", "users.id", "external_identities.user_id")
    .select(["users.id", "users.status"])
    .where("external_identities.issuer", "=", claims.issuer)
    .where("external_identities.subject", "=", claims.subject)
    .executeTakeFirst();
  if (known) {
    await db
      .updateTable("external_identities")
      .set({ email, last_sign_in_at: now })
      .where("issuer", "=", claims.issuer)
      .where("subject", "=", claims.subject)
      .execute();
    return { userId: known.id, status: known.status, outcome: "existing" };
  }
  if (options.mergeByEmail && email && claims.emailVerified) {
    const local = await findUserByName(db, email);
    // An account that has an identity of this provider already keeps it alone: an address the
    // provider gave to another of its users later does not open the account to them too.
    const linkedHere =
      local &&
      (await db
        .selectFrom("external_identities")
        .select("subject")
        .where("user_id", "=", local.id)
        .where("issuer", "=", claims.issuer)
        .executeTakeFirst());
    if (local && local.username_folded === foldName(email) && !linkedHere) {
      try {
        await db
          .insertInto("external_identities")
          .values({
            issuer: claims.issuer,
            subject: claims.subject,
            user_id: local.id,
            email,
            created_at: now,
            last_sign_in_at: now,
          })
          .execute();
      } catch (error) {
        // The same identity's first sign-in, twice at once: the other one linked it.
        if (!isUniqueViolation(error)) throw error;
      }
      await audit(db, {
        actorId: local.id,
        action: "user.sso-link",
        target: local.id,
        details: { issuer: claims.issuer, email },
      });
      return { userId: local.id, status: local.status, outcome: "linked" };
    }
  }
  for (const username of numbered(usernameCandidates(claims))) {
    try {
      const created = await createUser(db, {
        username,
        signup: options.signup,
        externalIdentity: { issuer: claims.issuer, subject: claims.subject, email },
        details: { via: "sso", issuer: claims.issuer },
      });
      return { userId: created.id, status: created.status, outcome: "created" };
    } catch (error) {
      if (error instanceof HearthError && error.code === "USERNAME_TAKEN") continue;
      // The same identity's first sign-in, twice at once: the other one made the account.
      if (isUniqueViolation(error) && !again) return accountForIdentity(db, claims, options, true);
      throw error;
    }
  }
  throw new HearthError("USERNAME_TAKEN", "Every user name this sign-in could take is taken");
}

/** Which of these accounts sign in with SSO (an identity tied to them). */
export async function ssoAccounts(db: WebDatabase, userIds?: string[]): Promise<Set<string>> {
  if (userIds && userIds.length === 0) return new Set();
  let query = db.selectFrom("external_identities").select("user_id").distinct();
  if (userIds) query = query.where("user_id", "in", userIds);
  return new Set((await query.execute()).map((row) => row.user_id));
}
