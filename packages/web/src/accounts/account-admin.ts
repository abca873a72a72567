import { type HearthConfig, HearthError } from "@hearth/core";
import { audit } from "../audit/audit-log.js";
import { openDatabase } from "../storage/open-database.js";
import { checkPassword, createUser, findUserByName, type Role, setPassword } from "./account-store.js";
import { hashPassword } from "./password-hash.js";

/**
 * Account operations for the `hearth users` command, run against the web service's database
 * directly (the service need not be running). An existing user name is promoted and its password
 * reset, so a locked-out operator can always get back in.
 */
export async function createAdminAccount(
  config: HearthConfig,
  input: { username: string; password: string },
) {
  const db = await openDatabase(config);
  try {
    // The name as sign-in finds it: "Admin" promotes and resets the account "admin".
    const existing = await findUserByName(db, input.username);
    if (existing) {
      checkPassword(input.password);
      await db
        .updateTable("users")
        .set({ role: "admin", status: "active", password_hash: await hashPassword(input.password) })
        .where("id", "=", existing.id)
        .execute();
      await db.deleteFrom("sessions").where("user_id", "=", existing.id).execute();
      await audit(db, {
        actorId: null,
        action: "user.create-admin",
        target: existing.id,
        details: { promoted: true, via: "cli" },
      });
      return { id: existing.id, username: existing.username, created: false };
    }
    const user = await createUser(db, {
      ...input,
      signup: "closed",
      role: "admin",
      actorId: null,
      action: "user.create-admin",
    });
    return { id: user.id, username: user.username, created: true };
  } finally {
    await db.destroy();
  }
}

/**
 * `hearth users create`: a new active account with the given role, whatever the sign-up mode, by
 * the rules of sign-up (USERNAME_TAKEN for a name taken in any case). The first account of a
 * deployment is an administrator whatever the role asked (the returned role says which).
 */
export async function createAccount(
  config: HearthConfig,
  input: { username: string; password: string; role: Role },
) {
  const db = await openDatabase(config);
  try {
    const user = await createUser(db, {
      ...input,
      signup: "closed",
      actorId: null,
      details: { via: "cli" },
    });
    return { id: user.id, username: user.username, role: user.role };
  } finally {
    await db.destroy();
  }
}

/**
 * `hearth users reset-password`: sets the password of the account the name means (as sign-in finds
 * it) and ends its sessions; its role, status and API keys stay as they are.
 */
export async function resetAccountPassword(
  config: HearthConfig,
  input: { username: string; password: string },
) {
  const db = await openDatabase(config);
  try {
    const user = await findUserByName(db, input.username);
    if (!user) throw new HearthError("USER_NOT_FOUND", `No user named ${input.username}`);
    await setPassword(db, {
      userId: user.id,
      password: input.password,
      audit: { actorId: null, action: "user.password-reset", details: { via: "cli" } },
    });
    return { id: user.id, username: user.username };
  } finally {
    await db.destroy();
  }
}

export async function listAccounts(config: HearthConfig) {
  const db = await openDatabase(config);
  try {
    return await db
      .selectFrom("users")
      .select(["username", "role", "status", "created_at"])
      .orderBy("created_at")
      .execute();
  } finally {
    await db.destroy();
  }
}
