import { describe, expect, it } from "vitest";
import { auditDetailsLines } from "./display-text.js";
import { MESSAGES } from "./i18n.js";

describe("a model pull in the audit log", () => {
  it("reads as failed when it failed, with its error code or that it was stopped, in both languages", () => {
    const en = MESSAGES.en;
    const zh = MESSAGES["zh-CN"];
    expect(en.auditActions["model.pull-failed"]).toBe("Tried to pull a model (failed)");
    expect(zh.auditActions["model.pull-failed"]).toBe("拉取模型（失败）");
    expect(auditDetailsLines(en, "model.pull-failed", { code: "MODEL_PULL_FAILED" })).toEqual([
      "Error code: MODEL_PULL_FAILED",
    ]);
    expect(auditDetailsLines(zh, "model.pull-failed", { cancelled: true })).toEqual([
      "因管理员取消或离开页面而中止：是",
    ]);
  });
});
