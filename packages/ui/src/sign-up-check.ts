import { passwordProblem } from "@hearth/contracts/password";
import { usernameProblem } from "@hearth/contracts/username";
import type { Messages } from "./i18n.js";

export type SignUpField = "username" | "password" | "confirmation";

/**
 * What is wrong with a new account's fields, each field's own error in the form's order (user
 * name, password, its confirmation), so that all are said at once: the user name against the
 * service's rule, the password against its rule (passwordProblem, the web service's too: at least
 * 8 characters, not only white space; one too long the service refuses), the confirmation against
 * the password. Empty: none.
 */
export function signUpProblems(
  t: Messages,
  fields: { username: string; password: string; confirmation: string },
): Array<{ field: SignUpField; text: string }> {
  const problems: Array<{ field: SignUpField; text: string }> = [];
  const name = usernameProblem(fields.username.trim());
  if (name)
    problems.push({
      field: "username",
      text: t.fieldRules[name === "shape" ? "username" : "username:mixed_scripts"] ?? t.usernameRule,
    });
  const weak = passwordProblem(fields.password);
  if (weak === "too-short" || weak === "blank")
    problems.push({ field: "password", text: t.errorCodes.WEAK_PASSWORD ?? t.passwordRule });
  if (fields.password !== fields.confirmation)
    problems.push({ field: "confirmation", text: t.passwordMismatch });
  return problems;
}
