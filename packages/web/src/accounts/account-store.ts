import { createHash, randomBytes, randomUUID } from "node:crypto";
import { foldName, USERNAME_RULE, USERNAME_SCRIPTS_RULE, usernameProblem } from "@hearth/contracts";
import { PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, passwordProblem } from "@hearth/contracts/password";
import { HearthError } from "@hearth/core";
import { audit } from "../audit/audit-log.js";
import { lockedTransaction } from "../storage/locked-transaction.js";
import type { WebDatabase } from "../storage/open-database.js";
import { isUniqueViolation } from "../storage/unique-violation.js";
import { hashPassword } from "./password-hash.js";

export type Role = "admin" | "user";

/** The signed-in user as routes see them. */
export interface CurrentUser {
  id: string;
  username: string;
  role: Role;
  groupIds: string[];
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * A field's rule broken: INVALID_REQUEST naming the field as a request's schema does (`details.issues`),
 * so a form marks the field and shows the rule beside it.
 */
function invalidField(path: string, rule: string, code?: string): HearthError {
  return new HearthError("INVALID_REQUEST", `${path}: ${rule}`, {
    details: { issues: [{ path, message: rule, ...(code ? { code } : {}) }] },
  });
}

/**
 * A new account's name and password held to their rules (sign-up, an administrator's new account,
 * the CLI's). Existing accounts are not: a name taken before a rule was is kept as it is.
 */
export function checkCredentialsShape(username: string, password: string): void {
  checkUsername(username);
  checkPassword(password);
}

/** A new account's name held to the rule (an SSO account's too, which has no password). */
function checkUsername(username: string): void {
  const problem = usernameProblem(username);
  if (problem === "shape") throw invalidField("username", USERNAME_RULE);
  if (problem === "mixed-scripts") throw invalidField("username", USERNAME_SCRIPTS_RULE, "mixed_scripts");
}

/**
 * The one rule for a new password (passwordProblem, shared with the web UI), wherever it is set
 * (sign-up, a password change, an administrator's new account or reset, the CLI's create,
 * create-admin and reset-password): 8 to 1024 characters, not all white space.
 */
export function checkPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem === "too-short")
    throw new HearthError(
      "WEAK_PASSWORD",
      `The password must have at least ${PASSWORD_MIN_CHARS} characters`,
    );
  if (problem === "too-long") throw invalidField("password", `at most ${PASSWORD_MAX_CHARS} characters`);
  if (problem === "blank")
    throw new HearthError("WEAK_PASSWORD", "The password must not be only spaces or other white space");
}

type Reader = Pick<WebDatabase, "selectFrom">;

/**
 * How many active administrators there are: a change that would take the last one's role or
 * status is refused (an administrator's change, LAST_ADMIN) or left undone (an SSO sign-in's).
 * Counted inside changingAdmins, so that the change it allows is made before another is counted.
 */
export async function activeAdminCount(db: Reader): Promise<number> {
  const admins = await db
    .selectFrom("users")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .where("role", "=", "admin")
    .where("status", "=", "active")
    .executeTakeFirstOrThrow();
  return Number(admins.count);
}

/** Taken by every change that may take an active administrator's role, status or account. */
const ADMINS_LOCK = { namespace: 0x48_41, key: "administrators" }; // "HA"

/**
 * Runs `work`, a change that may take an active administrator's role, status or account, checked
 * against activeAdminCount inside it, in one transaction under the administrators' lock (see
 * lockedTransaction). Two such changes at once (two administrators demoting, disabling or deleting
 * each other) then run one after the other, and the second counts after the first's change,
 * instead of each counting the other still there and both leaving no administrator.
 */
export function changingAdmins<T>(db: WebDatabase, work: (trx: WebDatabase) => Promise<T>): Promise<T> {
  return lockedTransaction(db, ADMINS_LOCK, work);
}

/**
 * The account a typed user name means: the one spelled exactly so, else the one whose folded
 * name matches (see foldName). The exact match first keeps accounts reachable that an older
 * release let differ from another only in case (migration 0005 left those without a folded name).
 */
export async function findUserByName(db: Reader, username: string) {
  const exact = await db.selectFrom("users").selectAll().where("username", "=", username).executeTakeFirst();
  if (exact) return exact;
  return db
    .selectFrom("users")
    .selectAll()
    .where("username_folded", "=", foldName(username))
    .executeTakeFirst();
}

/** Whether a new account may take this name: no account's name folds to the same. */
async function usernameTaken(db: Reader, username: string): Promise<boolean> {
  if (await findUserByName(db, username)) return true;
  // Accounts from before folding whose name collided with an older one keep no folded name
  // (a unique index allows several NULLs); they are few, so they are folded here.
  const unfolded = await db
    .selectFrom("users")
    .select("username")
    .where("username_folded", "is", null)
    .execute();
  const folded = foldName(username);
  return unfolded.some((row) => foldName(row.username) === folded);
}

/** Taken by every account creation, so that whether it is the first is decided one at a time. */
const ACCOUNTS_LOCK = { namespace: 0x48_41, key: "accounts" }; // "HA"

/**
 * Creates an account. The first account of a deployment becomes an active admin, whatever the
 * sign-up mode; later ones follow `signup` (open: active, approval: pending, closed: refused),
 * unless an administrator or the `hearth` command creates them (`role` given): then they are
 * active with that role in any mode. Everything runs in one transaction under the accounts' lock
 * (see lockedTransaction), so two racing first sign-ups, to one worker or to replicas sharing the
 * database, cannot both become admin, and an account is never left without the groups it was given.
 */
export async function createUser(
  db: WebDatabase,
  input: {
    username: string;
    /** Unset for an account made by single sign-on: it has no password (password_hash ""). */
    password?: string;
    signup: "open" | "approval" | "closed";
    /** The SSO identity the account is made for, stored with it in the same transaction. */
    externalIdentity?: { issuer: string; subject: string; email: string | null };
    /** Given by an administrator or the `hearth` command (see above). */
    role?: Role;
    /** Groups the new account joins (GROUP_NOT_FOUND for one that does not exist). */
    groupIds?: string[];
    /** Who created it, for the audit log: an administrator, or null for the `hearth` command (default: the account itself). */
    actorId?: string | null;
    /** How a creation with a role is audited (default `user.create`; a sign-up is `user.signup`). */
    action?: "user.create" | "user.create-admin";
    /** More for the audit entry (where it came from). */
    details?: Record<string, unknown>;
  },
) {
  if (input.password === undefined) checkUsername(input.username);
  else checkCredentialsShape(input.username, input.password);
  const passwordHash = input.password === undefined ? "" : await hashPassword(input.password);
  return lockedTransaction(db, ACCOUNTS_LOCK, async (trx) => {
    const existing = await trx
      .selectFrom("users")
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .executeTakeFirstOrThrow();
    const first = Number(existing.count) === 0;
    if (!first && !input.role && input.signup === "closed")
      throw new HearthError("SIGNUP_CLOSED", "Creating accounts is closed here; ask an administrator");
    if (await usernameTaken(trx, input.username))
      throw new HearthError("USERNAME_TAKEN", "That user name is taken (user names ignore case)");
    const groupIds = [...new Set(input.groupIds ?? [])];
    const groups = groupIds.length
      ? await trx.selectFrom("groups").select(["id", "name"]).where("id", "in", groupIds).execute()
      : [];
    const missing = groupIds.find((id) => !groups.some((g) => g.id === id));
    if (missing) throw new HearthError("GROUP_NOT_FOUND", `No group ${missing}`);
    const user = {
      id: randomUUID(),
      username: input.username,
      username_folded: foldName(input.username),
      password_hash: passwordHash,
      role: first ? ("admin" as const) : (input.role ?? ("user" as const)),
      status: first || input.role || input.signup === "open" ? ("active" as const) : ("pending" as const),
      created_at: new Date().toISOString(),
    };
    try {
      await trx.insertInto("users").values(user).execute();
    } catch (error) {
      if (isUniqueViolation(error))
        throw new HearthError("USERNAME_TAKEN", "That user name is taken (user names ignore case)");
      throw error;
    }
    for (const groupId of groupIds)
      await trx.insertInto("group_members").values({ group_id: groupId, user_id: user.id }).execute();
    if (input.externalIdentity)
      await trx
        .insertInto("external_identities")
        .values({
          ...input.externalIdentity,
          user_id: user.id,
          created_at: user.created_at,
          last_sign_in_at: user.created_at,
        })
        .execute();
    await audit(trx, {
      actorId: input.actorId === undefined ? user.id : input.actorId,
      action: input.role ? (input.action ?? "user.create") : "user.signup",
      target: user.id,
      details: {
        role: user.role,
        status: user.status,
        // Named as well as listed, so the entry names them after they are deleted.
        ...(groupIds.length
          ? { groupIds, groups: groupIds.map((id) => groups.find((g) => g.id === id)?.name ?? null) }
          : {}),
        ...input.details,
      },
    });
    return {
      id: user.id,
      username: user.username,
      role: user.role,
      status: user.status,
      groupIds,
      first,
    };
  });
}

/**
 * Sets an account's password (checkPassword's rule) and ends its sessions, all of them but
 * `keepSessionToken`'s (the one that changed its own password stays signed in). API keys are kept:
 * they are credentials of their own, revoked one by one. USER_NOT_FOUND when there is no such
 * account. The caller says how it is audited; the password is never in the entry.
 */
export async function setPassword(
  db: WebDatabase,
  input: {
    userId: string;
    password: string;
    keepSessionToken?: string;
    audit: {
      actorId: string | null;
      action: "user.password-change" | "user.password-reset";
      details?: Record<string, unknown>;
    };
  },
): Promise<void> {
  checkPassword(input.password);
  const passwordHash = await hashPassword(input.password);
  const keep = input.keepSessionToken ? sha256(input.keepSessionToken) : "";
  await db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable("users")
      .set({ password_hash: passwordHash })
      .where("id", "=", input.userId)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) throw new HearthError("USER_NOT_FOUND", "No such user");
    await trx.deleteFrom("sessions").where("user_id", "=", input.userId).where("id", "!=", keep).execute();
    await audit(trx, { ...input.audit, target: input.userId });
  });
}

export async function loadCurrentUser(db: WebDatabase, userId: string): Promise<CurrentUser | undefined> {
  const user = await db
    .selectFrom("users")
    .select(["id", "username", "role", "status"])
    .where("id", "=", userId)
    .executeTakeFirst();
  if (user?.status !== "active") return undefined;
  const groups = await db
    .selectFrom("group_members")
    .select("group_id")
    .where("user_id", "=", userId)
    .execute();
  return { id: user.id, username: user.username, role: user.role, groupIds: groups.map((g) => g.group_id) };
}

/**
 * Starts a session; the cookie carries the token, the database only its hash (and, for a single
 * sign-on, the provider's ID token, sent back to it on sign-out).
 */
export async function createSession(db: WebDatabase, userId: string, hours: number, idToken?: string) {
  const token = randomBytes(32).toString("base64url");
  const csrfToken = randomBytes(24).toString("base64url");
  const now = new Date();
  const expires = new Date(now.getTime() + hours * 3600_000);
  await db
    .insertInto("sessions")
    .values({
      id: sha256(token),
      user_id: userId,
      csrf_token: csrfToken,
      created_at: now.toISOString(),
      expires_at: expires.toISOString(),
      id_token: idToken ?? null,
    })
    .execute();
  return { token, csrfToken, expiresAt: expires };
}

export async function findSession(db: WebDatabase, token: string) {
  const session = await db
    .selectFrom("sessions")
    .selectAll()
    .where("id", "=", sha256(token))
    .executeTakeFirst();
  if (!session) return undefined;
  if (new Date(session.expires_at).getTime() <= Date.now()) {
    await db.deleteFrom("sessions").where("id", "=", session.id).execute();
    return { expired: true as const };
  }
  return {
    expired: false as const,
    userId: session.user_id,
    csrfToken: session.csrf_token,
    id: session.id,
    expiresAt: new Date(session.expires_at).getTime(),
  };
}

/** Ends a session; the single sign-on's ID token it kept, if any (for signing out at the provider). */
export async function endSession(db: WebDatabase, token: string): Promise<{ idToken: string | null }> {
  const session = await db
    .deleteFrom("sessions")
    .where("id", "=", sha256(token))
    .returning("id_token")
    .executeTakeFirst();
  return { idToken: session?.id_token ?? null };
}

const KEY_PREFIX = "hk-";

/** A new API key: shown once to its owner, stored as a SHA-256 hash (keys are 256-bit random). */
export async function createApiKey(db: WebDatabase, userId: string, name: string) {
  const key = `${KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  const row = {
    id: randomUUID(),
    user_id: userId,
    name,
    prefix: key.slice(0, 10),
    key_hash: sha256(key),
    created_at: new Date().toISOString(),
    revoked_at: null,
    last_used_at: null,
  };
  await db.insertInto("api_keys").values(row).execute();
  await audit(db, { actorId: userId, action: "api-key.create", target: row.id, details: { name } });
  return { id: row.id, name, prefix: row.prefix, createdAt: row.created_at, key };
}

/** A user's API keys, newest first (never the secret nor its hash). */
export async function listApiKeys(db: WebDatabase, userId: string) {
  const keys = await db
    .selectFrom("api_keys")
    .select(["id", "name", "prefix", "created_at", "revoked_at", "last_used_at"])
    .where("user_id", "=", userId)
    .orderBy("created_at", "desc")
    .execute();
  return keys.map((k) => ({
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    createdAt: k.created_at,
    revokedAt: k.revoked_at,
    lastUsedAt: k.last_used_at,
  }));
}

/**
 * Revokes one of a user's active API keys (refused from the next request on), by the user or an
 * administrator (`actorId`); API_KEY_NOT_FOUND when the user has no such active key. Audited as
 * `api-key.revoke` on the key's owner, with the key's id, name and prefix, in the same transaction.
 */
export async function revokeApiKey(
  db: WebDatabase,
  { userId, keyId, actorId }: { userId: string; keyId: string; actorId: string },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const key = await trx
      .updateTable("api_keys")
      .set({ revoked_at: new Date().toISOString() })
      .where("id", "=", keyId)
      .where("user_id", "=", userId)
      .where("revoked_at", "is", null)
      .returning(["name", "prefix"])
      .executeTakeFirst();
    if (!key) throw new HearthError("API_KEY_NOT_FOUND", "No such active API key");
    await audit(trx, {
      actorId,
      action: "api-key.revoke",
      target: userId,
      details: { keyId, name: key.name, prefix: key.prefix },
    });
  });
}

export async function findApiKey(db: WebDatabase, key: string) {
  if (!key.startsWith(KEY_PREFIX)) return undefined;
  const row = await db
    .selectFrom("api_keys")
    .select(["id", "user_id", "revoked_at", "last_used_at"])
    .where("key_hash", "=", sha256(key))
    .executeTakeFirst();
  if (!row || row.revoked_at) return undefined;
  // Recorded at most once a minute: a write per request would cost more than the request.
  const now = Date.now();
  if (!row.last_used_at || now - new Date(row.last_used_at).getTime() > 60_000) {
    await db
      .updateTable("api_keys")
      .set({ last_used_at: new Date(now).toISOString() })
      .where("id", "=", row.id)
      .execute();
  }
  return { id: row.id, userId: row.user_id };
}
