import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./shared-data.js";

/** The built CLI (npm's pretest step builds it). */
export const hearthBin = join(repoRoot, "packages/cli/dist/main.js");

export interface HearthProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr, or rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signals the process (SIGKILL unless told; nothing if it has exited) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function startHearth(args: string[], env: Record<string, string>): HearthProcess {
  const child = spawn(process.execPath, [hearthBin, ...args], {
    cwd: env.HEARTH_DATA_DIR ?? repoRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      for (const listener of listeners) listener();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    exited,
    output: () => output,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output}`));
        }, timeoutMs);
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve(match);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(
              new Error(
                `hearth exited (${child.exitCode ?? child.signalCode}) before ${pattern}; output:\n${output}`,
              ),
            );
          }
        };
        listeners.add(check);
        check();
      });
    },
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      child.kill(signal);
      await exited;
    },
  };
}
