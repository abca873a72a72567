import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { columnsOf } from "../../packages/cli/src/text-width.js";
import { startHearth } from "../support/hearth-process.js";
import { serviceEnvironment } from "../support/ports.js";

const ZH = { LANG: "zh_CN.UTF-8" };

const dataDirs: string[] = [];
afterEach(() => {
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
async function environment(): Promise<Record<string, string>> {
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-language-"));
  dataDirs.push(dataDir);
  return serviceEnvironment(dataDir);
}

/** Runs the built `hearth` to its end: its exit code and what it wrote (stdout and stderr). */
async function hearth(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const run = startHearth(args, env);
  const { code } = await run.exited;
  return { code, output: run.output() };
}

describe("the hearth command in Chinese (LANG=zh_CN.UTF-8)", () => {
  it("prints its help in Chinese, wrapped to 80 terminal columns", async () => {
    const { code, output } = await hearth(["--help"], ZH);
    expect(code).toBe(0);
    expect(output).toMatch(/^用法：hearth \[options\] \[command\]\n/);
    expect(output).toContain("Hearth：为团队打造的私有化 ChatGPT");
    expect(output).toContain("\n命令：\n");
    expect(output).toMatch(/ up +在本进程中启动全部四个服务/);
    expect(output).toMatch(/ help \[command\] +显示命令的帮助/);
    for (const line of output.trimEnd().split("\n")) expect(columnsOf(line)).toBeLessThanOrEqual(80);
    const models = await hearth(["models", "--help"], ZH);
    expect(models.output).toMatch(/ pull \[options\] <reference> +从 Ollama 模型仓库/);
  });

  it("checks an empty data directory in Chinese, each problem with its fix", async () => {
    const env: Record<string, string> = { ...(await environment()), ...ZH };
    const { output } = await hearth(["doctor"], env);
    expect(output).toContain("[ok  ] 配置：默认值和环境变量（没有 hearth.yaml）");
    expect(output).toContain(`[ok  ] 数据目录：${env.HEARTH_DATA_DIR!} 可写`);
    expect(output).toContain(
      `[warn] 模型：还没有模型：${join(env.HEARTH_DATA_DIR!, "models")} 中没有 .gguf 文件`,
    );
    expect(output).toMatch(/\n {7}处理办法：把 \.gguf 文件放进 .*hearth models pull <name>\n/);
    expect(output).toMatch(/\[ok {2}\] web 端口：127\.0\.0\.1:\d+ 空闲/);
    expect(output).toMatch(/\n\d+ 个问题，\d+ 个警告\n$/);
    expect(output).not.toMatch(/no model yet|problem\(s\)|fix:/);
  });

  it("says there is no model in Chinese", async () => {
    const env: Record<string, string> = { ...(await environment()), ...ZH };
    const { code, output } = await hearth(["models", "list"], env);
    expect(code).toBe(0);
    expect(output).toBe(
      `${join(env.HEARTH_DATA_DIR!, "models")} 中没有模型。把 .gguf 文件放进该目录，运行 \`hearth models pull <name>\`，或把 OLLAMA_HOST 指向一个 Ollama。\n`,
    );
  });

  it("says a start-up failure in one line that keeps its code and points to docs/zh/errors.md", async () => {
    const { code, output } = await hearth(["up"], { ...ZH, HEARTH_PORT: "abc" });
    expect(code).toBe(1);
    expect(output.trim().split("\n")).toEqual([
      'CONFIG_INVALID: HEARTH_PORT (web.port) must be an integer; got "abc"（错误码说明见 docs/zh/errors.md）',
    ]);
  });

  it("says a refusal of its own in Chinese, behind the same code", async () => {
    const env: Record<string, string> = { ...(await environment()), ...ZH };
    const { code, output } = await hearth(["users", "list"], env);
    expect(code).toBe(1);
    expect(output.trim()).toMatch(
      /^DATABASE_UNAVAILABLE: .* 中没有 web 数据库（web\.sqlite）：.*docs\/zh\/errors\.md）$/,
    );
  });

  it("announces a service ready and stopped in Chinese", async () => {
    const env: Record<string, string> = { ...(await environment()), ...ZH };
    const run = startHearth(["serve", "search"], env);
    try {
      await run.waitFor(
        new RegExp(`hearth: search 服务已就绪：http://127\\.0\\.0\\.1:${env.HEARTH_SEARCH_PORT}`),
      );
    } finally {
      run.child.kill("SIGTERM");
    }
    expect((await run.exited).code).toBe(0);
    expect(run.output()).toContain("hearth: 收到 SIGTERM，正在停止");
    expect(run.output()).toContain("hearth: 已停止");
  });

  it("translates commander's own errors", async () => {
    const { code, output } = await hearth(["modles"], ZH);
    expect(code).toBe(1);
    expect(output).toMatch(/^错误：未知的命令 'modles'\n（你要输入的是不是 models？）\n+用法：hearth/);
  });
});

describe("HEARTH_LANG", () => {
  it("=en keeps the command English under a Chinese locale", async () => {
    const env: Record<string, string> = { ...(await environment()), ...ZH, HEARTH_LANG: "en" };
    const help = await hearth(["--help"], env);
    expect(help.output).toMatch(/^Usage: hearth \[options\] \[command\]\n/);
    expect(help.output).toContain("  -h, --help                        display help for command\n");
    expect(help.output).toBe((await hearth(["--help"], {})).output);
    const doctor = await hearth(["doctor"], env);
    expect(doctor.output).toMatch(/\[warn\] models: no model yet: /);
    expect(doctor.output).toMatch(/\n {7}fix: drop a \.gguf file into /);
    const failure = await hearth(["up"], { ...env, HEARTH_PORT: "abc" });
    expect(failure.output.trim()).toBe(
      'CONFIG_INVALID: HEARTH_PORT (web.port) must be an integer; got "abc"',
    );
  });

  it("=zh-CN makes it Chinese under an English or no locale", async () => {
    expect((await hearth(["--help"], { HEARTH_LANG: "zh-CN", LANG: "en_US.UTF-8" })).output).toMatch(
      /^用法：/,
    );
    expect((await hearth(["--help"], { HEARTH_LANG: "zh-CN" })).output).toMatch(/^用法：/);
  });
});
