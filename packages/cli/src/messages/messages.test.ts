import { describe, expect, it } from "vitest";
import { en } from "./en.js";
import { cliLocale, MESSAGES, messages } from "./index.js";
import { zhCN } from "./zh-CN.js";

describe("the language of the hearth command", () => {
  it("is HEARTH_LANG's when it names one, whatever the locale", () => {
    expect(cliLocale({ HEARTH_LANG: "en", LANG: "zh_CN.UTF-8", LC_ALL: "zh_CN.UTF-8" })).toBe("en");
    expect(cliLocale({ HEARTH_LANG: "zh-CN", LANG: "en_US.UTF-8" })).toBe("zh-CN");
    expect(cliLocale({ HEARTH_LANG: "zh-CN" })).toBe("zh-CN");
    expect(messages({ HEARTH_LANG: "zh-CN" })).toBe(zhCN);
  });

  it("is otherwise the POSIX locale's: LC_ALL, then LC_MESSAGES, then LANG; zh… is Chinese", () => {
    expect(cliLocale({ LANG: "zh_CN.UTF-8" })).toBe("zh-CN");
    expect(cliLocale({ LANG: "zh_TW.UTF-8" })).toBe("zh-CN");
    expect(cliLocale({ LC_MESSAGES: "zh_CN.UTF-8", LANG: "en_US.UTF-8" })).toBe("zh-CN");
    expect(cliLocale({ LC_ALL: "C", LC_MESSAGES: "zh_CN.UTF-8", LANG: "zh_CN.UTF-8" })).toBe("en");
    expect(cliLocale({ LC_ALL: "zh_CN.GB18030", LANG: "C.UTF-8" })).toBe("zh-CN");
    // Set but empty is unset, as POSIX has it.
    expect(cliLocale({ LC_ALL: "", LC_MESSAGES: "", LANG: "zh_CN.UTF-8" })).toBe("zh-CN");
    // A HEARTH_LANG of no language Hearth speaks leaves the choice to the locale.
    expect(cliLocale({ HEARTH_LANG: "fr", LANG: "zh_CN.UTF-8" })).toBe("zh-CN");
  });

  it("is English with no locale, or one of another language", () => {
    expect(cliLocale({})).toBe("en");
    expect(cliLocale({ LANG: "C.UTF-8" })).toBe("en");
    expect(cliLocale({ LANG: "de_DE.UTF-8" })).toBe("en");
    expect(messages({})).toBe(en);
  });
});

describe("the message catalogs", () => {
  it("have the same keys, each of the same kind (text, or a function of as many values)", () => {
    for (const [locale, catalog] of Object.entries(MESSAGES)) {
      expect(Object.keys(catalog).sort(), locale).toEqual(Object.keys(en).sort());
      for (const [key, value] of Object.entries(en)) {
        const translated = (catalog as Record<string, unknown>)[key];
        expect(typeof translated, `${locale}.${key}`).toBe(typeof value);
        if (typeof value === "function")
          expect((translated as (...args: unknown[]) => string).length, `${locale}.${key}`).toBe(
            value.length,
          );
      }
    }
  });

  it("have Chinese for what a person reads", () => {
    // Texts the same in both languages: names, commands, and what passes a line through unchanged;
    // Chinese punctuation counts (a `subject：detail` line).
    const same = new Set(["subjectOllama", "modelsDirFix", "configNote"]);
    // Each value a one-item list: it reads as text, and a list of names joins.
    const sample = (value: unknown) =>
      typeof value === "function"
        ? String(
            (value as (...args: unknown[]) => string)(...Array.from({ length: value.length }, () => ["x"])),
          )
        : String(value);
    for (const [key, value] of Object.entries(zhCN)) {
      if (
        same.has(key) ||
        ["helpTitle", "helpExtras", "commanderError", "pullStatus", "ingestProgressLine"].includes(key)
      )
        continue;
      expect(sample(value), key).toMatch(/[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/);
    }
    expect(zhCN.pullStatus("pulling manifest")).toBe("正在拉取清单");
    expect(zhCN.helpTitle("Options:")).toBe("选项：");
    expect(zhCN.ingestProgressLine(1, 2, "indexed", "a.txt")).toBe("[1/2] 已索引 a.txt");
  });
});
