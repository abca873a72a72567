/**
 * The one rule for a user name, shared by the web service (which refuses others at sign-up) and the
 * web UI (which says so before sending): 2 to 64 letters of any script, digits, or _ . @ -; no spaces.
 * Free of other imports, so the UI bundles it alone (`@hearth/contracts/username`).
 */
const USERNAME = /^[\p{L}\p{N}_.@-]{2,64}$/u;

/** The rule as the web service's INVALID_REQUEST message states it (after `username: `). */
export const USERNAME_RULE = "2 to 64 letters, digits or _ . @ -";

export function isValidUsername(username: string): boolean {
  return USERNAME.test(username);
}
