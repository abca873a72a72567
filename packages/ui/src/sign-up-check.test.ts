import { describe, expect, it } from "vitest";
import { MESSAGES } from "./i18n.js";
import { signUpProblems } from "./sign-up-check.js";

const en = MESSAGES.en;
const zh = MESSAGES["zh-CN"];

describe("a new account's fields", () => {
  it("says every field's error at once, in the form's order, in English and Chinese", () => {
    const fields = { username: "a b", password: "short", confirmation: "other" };
    expect(signUpProblems(en, fields)).toEqual([
      { field: "username", text: en.fieldRules.username },
      { field: "password", text: en.errorCodes.WEAK_PASSWORD },
      { field: "confirmation", text: en.passwordMismatch },
    ]);
    expect(signUpProblems(zh, fields).map((problem) => problem.text)).toEqual([
      zh.fieldRules.username,
      zh.errorCodes.WEAK_PASSWORD,
      zh.passwordMismatch,
    ]);
  });

  it("holds a password to the service's rule: 8 characters, not only white space", () => {
    const check = (password: string) =>
      signUpProblems(en, { username: "alice", password, confirmation: password }).map((p) => p.field);
    expect(check("correct horse")).toEqual([]);
    expect(check("1234567")).toEqual(["password"]);
    expect(check("        ")).toEqual(["password"]);
  });
});
