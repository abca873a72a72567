import { describe, expect, it } from "vitest";
import { audienceWarning } from "./assistant-audience.js";
import { MESSAGES } from "./i18n.js";

const en = MESSAGES.en;
const zh = MESSAGES["zh-CN"];
const groups = [
  { id: "g1", name: "Writers" },
  { id: "g2", name: "Editors" },
];
const rules = [
  { id: "stories:latest", groupIds: [], adminOnly: true },
  { id: "tiny:latest", groupIds: ["g1"] },
  { id: "open:latest", groupIds: [] },
];

describe("the warning on sharing an assistant whose base model some of its audience may not use", () => {
  it("warns of an admin-only model shared publicly or with groups, in both languages", () => {
    const publicOne = { model: "stories:latest", visibility: "public" as const, groupIds: [] };
    expect(audienceWarning(en, publicOne, rules, groups)).toBe(
      "stories:latest is for administrators only: the others this assistant is shared with will not see it in their model picker.",
    );
    expect(audienceWarning(zh, publicOne, rules, groups)).toBe(
      "stories:latest 仅限管理员使用：共享对象中的其他人不会在模型选择器中看到这个助手。",
    );
    // `stories` is the access rule's `stories:latest`.
    expect(
      audienceWarning(en, { model: "stories", visibility: "shared", groupIds: ["g1"] }, rules, groups),
    ).toMatch(/^stories is for administrators only/);
  });

  it("warns of a model limited to groups shared publicly, or with a group not among them", () => {
    expect(
      audienceWarning(en, { model: "tiny:latest", visibility: "public", groupIds: [] }, rules, groups),
    ).toBe(
      "tiny:latest is limited to the groups Writers: users outside them will not see this assistant in their model picker.",
    );
    expect(
      audienceWarning(
        zh,
        { model: "tiny:latest", visibility: "shared", groupIds: ["g1", "g2"] },
        rules,
        groups,
      ),
    ).toBe("tiny:latest 仅限 Writers 组使用：这些组以外的用户不会在模型选择器中看到这个助手。");
  });

  it("says nothing of a private assistant, a model open to all, or groups all allowed it", () => {
    expect(
      audienceWarning(en, { model: "stories:latest", visibility: "private", groupIds: [] }, rules, groups),
    ).toBe(undefined);
    expect(
      audienceWarning(en, { model: "open:latest", visibility: "public", groupIds: [] }, rules, groups),
    ).toBe(undefined);
    expect(audienceWarning(en, { model: "unknown", visibility: "public", groupIds: [] }, rules, groups)).toBe(
      undefined,
    );
    expect(
      audienceWarning(en, { model: "tiny:latest", visibility: "shared", groupIds: ["g1"] }, rules, groups),
    ).toBe(undefined);
  });
});
