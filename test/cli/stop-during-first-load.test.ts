import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { hearthBin } from "../support/hearth-process.js";
import { serviceEnvironment } from "../support/ports.js";
import { writeTinyGguf } from "../support/tiny-gguf.js";

/**
 * Ctrl-C in a terminal signals the whole process group: during the first model load that includes
 * node-llama-cpp's child testing its prebuilt llama.cpp binary. The child dying was taken for a
 * broken binary and answered with a llama.cpp build from source, which Hearth waited for instead of
 * stopping. Here the test child itself sends the group SIGINT, as the terminal would, at the moment
 * it starts: Hearth stops (exit 0), builds nothing, and says why the load failed.
 */

let child: ChildProcess | undefined;

afterEach(() => {
  // Whatever is left of the group (a compile a regression would start) goes with it.
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }
});

it("stops on a process-group SIGINT during the first model load, building nothing", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-first-load-"));
  await writeTinyGguf(join(dataDir, "models", "tiny.gguf"));
  // Loaded into every node process started with this environment; acts only in node-llama-cpp's test child.
  const preload = join(dataDir, "ctrl-c-during-binary-test.cjs");
  writeFileSync(preload, 'if (process.env.TEST_BINDING_CP === "true") process.kill(0, "SIGINT");\n');
  const env: Record<string, string> = {
    ...(await serviceEnvironment(dataDir)),
    NODE_OPTIONS: `--require ${preload}`,
    // Should a regression fall back to building, it says so and stops short of compiling for minutes.
    NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true",
  };
  const started = spawn(process.execPath, [hearthBin, "serve", "model"], {
    cwd: dataDir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, as a shell's foreground job.
    detached: true,
  });
  child = started;
  let output = "";
  started.stdout!.on("data", (chunk: Buffer) => (output += chunk));
  started.stderr!.on("data", (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => started.once("exit", (code) => resolve(code)));
  await expect.poll(() => output, { timeout: 30_000 }).toContain("model service ready at");

  // As curl sends it: one connection, closed after the answer.
  const answer = await post(`http://127.0.0.1:${env.HEARTH_MODEL_PORT}/v1/chat/completions`, {
    model: "tiny",
    max_tokens: 5,
    messages: [{ role: "user", content: "Hi" }],
  });

  expect(await exited).toBe(0);
  expect(output).toContain("SIGINT received, stopping");
  expect(output).toContain("hearth: stopped");
  expect(output).not.toMatch(/building from source|Cloning|cmake/i);
  // The request was answered before the service closed, with why it could not be: the service
  // shutting down, or llama.cpp's binary unavailable (whichever came first).
  if (answer)
    expect(["SERVICE_NOT_READY", "LLAMA_BINARY_UNAVAILABLE"]).toContain(JSON.parse(answer).error.code);
});

/** The body of the answer to a JSON POST, or undefined when the connection ends without one. */
function post(url: string, body: unknown): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sent = request(url, {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json" },
    });
    sent.on("response", (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve(text));
      response.on("error", () => resolve(undefined));
    });
    sent.on("error", () => resolve(undefined));
    sent.end(JSON.stringify(body));
  });
}
