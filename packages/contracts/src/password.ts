/**
 * The one rule for a new password, shared by the web service (which refuses others wherever a
 * password is set) and the web UI (which says so before sending): 8 to 1024 characters, not all
 * white space. Free of other imports, so the UI bundles it alone (`@hearth/contracts/password`).
 */
export type PasswordProblem = "too-short" | "too-long" | "blank";

export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_CHARS = 1024;

/** What is wrong with a new password, or undefined when nothing is. */
export function passwordProblem(password: string): PasswordProblem | undefined {
  if (password.length < PASSWORD_MIN_CHARS) return "too-short";
  if (password.length > PASSWORD_MAX_CHARS) return "too-long";
  if (/^\s*$/u.test(password)) return "blank";
  return undefined;
}
