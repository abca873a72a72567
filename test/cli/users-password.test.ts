import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hearthBin } from "../support/hearth-process.js";

/** Runs `hearth <args>` on a pseudo-terminal (util-linux `script`), typing `keys` once `prompt` shows. */
function onTerminal(args: string[], env: Record<string, string>, prompt: string, keys: string) {
  const command = [process.execPath, hearthBin, ...args].map((part) => `'${part}'`).join(" ");
  const child = spawn("script", ["-qec", command, "/dev/null"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  let typed = false;
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    if (!typed && output.includes(prompt)) {
      typed = true;
      child.stdin.write(keys);
    }
  });
  return new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once("exit", (code) => resolve({ code, output })),
  );
}

describe("hearth users create-admin on a terminal", () => {
  it("hides the password as it is typed and ends the prompt with a newline", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-tty-"));
    try {
      const run = await onTerminal(
        ["users", "create-admin", "-u", "ttyuser"],
        { HEARTH_DATA_DIR: dataDir },
        "Password: ",
        "SecretPw9\x7f99\r",
      );
      expect(run.output).not.toContain("SecretPw");
      expect(run.output).toMatch(/Password: \r?\n/);
      expect(run.output).toContain("created administrator ttyuser");
      expect(run.code).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("stops with exit code 130 on Ctrl-C, creating nobody", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-tty-"));
    try {
      const run = await onTerminal(
        ["users", "create-admin", "-u", "ttyuser"],
        { HEARTH_DATA_DIR: dataDir },
        "Password: ",
        "Sec\x03",
      );
      expect(run.code).toBe(130);
      expect(run.output).not.toContain("Sec");
      expect(run.output).not.toContain("created administrator");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
