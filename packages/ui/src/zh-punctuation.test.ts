import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { labelWithName, MESSAGES } from "./i18n.js";

const zh = MESSAGES["zh-CN"];

/** Every string of a catalog, with its path. */
function strings(value: unknown, path: string): Array<[string, string]> {
  if (typeof value === "string") return [[path, value]];
  if (value && typeof value === "object")
    return Object.entries(value).flatMap(([key, inner]) => strings(inner, `${path}.${key}`));
  return [];
}

describe("Chinese punctuation", () => {
  it("joins a control's name and what it acts on with a full-width colon in Chinese, an ASCII one in English", () => {
    expect(labelWithName(zh, zh.delete, "zh-说明.md")).toBe("删除：zh-说明.md");
    expect(labelWithName(MESSAGES.en, MESSAGES.en.delete, "a.md")).toBe("Delete: a.md");
  });

  it("writes no ASCII colon in the Chinese catalog's text, only in code it quotes (URLs, model tags, settings)", () => {
    const code = /https?:\/\/|\b[A-Z]:\\|[\w.-]+:[\w.-]+|\w+: (false|true)|用户名:密码|\/\/…/gu;
    const offending = strings(zh, "zh")
      .filter(([, text]) => /\p{Script=Han}/u.test(text))
      .filter(([, text]) => text.replace(code, "").includes(":"));
    expect(offending).toEqual([]);
  });

  it("builds no accessible name as a template of label, ASCII colon and name in the UI's code, which would put an ASCII colon in Chinese", () => {
    const dir = new URL(".", import.meta.url).pathname;
    const found = readdirSync(dir)
      .filter((file) => /\.tsx?$/.test(file) && !file.endsWith(".test.ts"))
      .flatMap((file) =>
        readFileSync(join(dir, file), "utf8")
          .split("\n")
          .map((line, index) => [`${file}:${index + 1}`, line] as const)
          .filter(([, line]) => /`\$\{[^}`]+\}: \$\{[^`]+\}`/.test(line)),
      );
    expect(found).toEqual([]);
  });
});
