import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { configReferenceMarkdown } from "@hearth/core";
import { describe, expect, it } from "vitest";
import { hearthBin } from "../support/hearth-process.js";
import { repoRoot } from "../support/shared-data.js";

const readme = readFileSync(join(repoRoot, "README.md"), "utf8");

describe("README", () => {
  it("has a Quick start of exactly the two documented commands", () => {
    const quickStart = readme.split("## Quick start")[1]!.split("##")[0]!;
    const commands = quickStart
      .match(/```sh\n([\s\S]*?)```/)![1]!
      .trim()
      .split("\n");
    expect(commands).toEqual(["npm install && npm start", "npm test"]);
  });

  it("carries the configuration reference as the code defines it (regenerate with `hearth config --reference`)", () => {
    const between = readme
      .split("<!-- config-reference:start -->\n")[1]!
      .split("\n<!-- config-reference:end -->")[0];
    expect(between).toBe(configReferenceMarkdown());
  });

  it("shows `hearth --help` as the command prints it (in English, whatever this machine's locale)", () => {
    const help = execFileSync(process.execPath, [hearthBin, "--help"], {
      encoding: "utf8",
      env: { ...process.env, HEARTH_LANG: "en" },
    }).trim();
    expect(readme).toContain(help);
  });

  it("has a Chinese section", () => {
    expect(readme).toContain("## 中文说明");
    expect(readme).toContain("快速开始");
  });
});
