import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HearthProcess, hearthBin, startHearth } from "../support/hearth-process.js";
import { serviceEnvironment } from "../support/ports.js";
import { writeTinyGguf } from "../support/tiny-gguf.js";
import { canRunNginx, type HearthNginx, headers, startNginx } from "./support/nginx.js";

/**
 * Issue 7 point 3: the real nginx from Debian, deploy/nginx/hearth.conf and a generated
 * certificate in front of `hearth up` (all four services, a tiny GGUF model). The first account
 * and its API key are made through the web service's API; a chat streams through nginx with
 * `curl --http2`; TLS 1.2 is refused. Skips without nginx or the built CLI (npm's pretest builds it).
 */

/** The first account (it becomes admin) through POST /api/auth/signup: session cookie and CSRF token. */
async function signUp(web: string, username: string): Promise<Record<string, string>> {
  const response = await fetch(`${web}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: "correct horse battery" }),
  });
  if (response.status !== 201) throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
  const cookies = response.headers.getSetCookie().map((cookie) => cookie.split(";")[0]!);
  const csrf = cookies.find((cookie) => cookie.startsWith("hearth_csrf="))?.slice("hearth_csrf=".length);
  if (!csrf) throw new Error(`sign-up set no CSRF cookie: ${cookies.join(", ")}`);
  return { cookie: cookies.join("; "), "x-csrf-token": decodeURIComponent(csrf) };
}

/** An API key for the signed-in account through POST /api/account/api-keys (shown once). */
async function createApiKey(web: string, session: Record<string, string>): Promise<string> {
  const response = await fetch(`${web}/api/account/api-keys`, {
    method: "POST",
    headers: { ...session, "content-type": "application/json" },
    body: JSON.stringify({ name: "nginx-test" }),
  });
  if (!response.ok)
    throw new Error(`creating an API key failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { key: string }).key;
}

describe.skipIf(!canRunNginx || !existsSync(hearthBin))(
  "nginx in front of hearth up (real nginx, generated certificate)",
  () => {
    let dataDir: string;
    let hearth: HearthProcess;
    let nginx: HearthNginx;
    let apiKey: string;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "hearth-nginx-up-"));
      await writeTinyGguf(join(dataDir, "models", "tiny.gguf"));
      const env = await serviceEnvironment(dataDir);
      hearth = startHearth(["up"], env);
      await hearth.waitFor(/Hearth is ready/, 60_000);
      const web = `http://127.0.0.1:${env.HEARTH_PORT}`;
      apiKey = await createApiKey(web, await signUp(web, "admin"));
      nginx = await startNginx(Number(env.HEARTH_PORT));
    });

    afterAll(async () => {
      await nginx?.stop();
      await hearth?.kill();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it("streams a chat through nginx over HTTP/2, event by event, to data: [DONE]", async () => {
      const answer = await nginx.curl([
        "--http2",
        "-sN",
        "-D",
        "-",
        "-w",
        "\nHTTP/%{http_version} %{http_code}\n",
        "-H",
        `authorization: Bearer ${apiKey}`,
        "-H",
        "content-type: application/json",
        "--data",
        JSON.stringify({
          model: "tiny:latest",
          stream: true,
          messages: [{ role: "user", content: "hello" }],
          max_tokens: 8,
          temperature: 0,
        }),
        `${nginx.base}/v1/chat/completions`,
      ]);
      expect(answer.status, answer.stderr).toBe(0);
      expect(answer.stdout).toMatch(/^HTTP\/2 200\r?$/m);
      expect(answer.stdout).toMatch(/\nHTTP\/2 200\n$/);
      // The header block (curl -D -) ends at the first blank line; the events follow.
      const response = headers(answer.stdout.split(/\r?\n\r?\n/)[0]!);
      expect(response["content-type"]).toContain("text/event-stream");
      // Streams are never compressed: gzip would hold tokens back.
      expect(response["content-encoding"]).toBeUndefined();
      expect(response["strict-transport-security"]).toMatch(/max-age=\d{8}/);
      expect(response["content-security-policy"]).toContain("default-src 'self'");
      expect(response["x-content-type-options"]).toBe("nosniff");
      expect(response["referrer-policy"]).toBe("no-referrer");

      const events = answer.stdout
        .split(/\r?\n/)
        .filter((line) => line.startsWith("data: "))
        .map((line) => line.slice("data: ".length));
      expect(events.at(-1)).toBe("[DONE]");
      const chunks = events.slice(0, -1).map(
        (event) =>
          JSON.parse(event) as {
            object: string;
            choices: Array<{ delta: { content?: string }; finish_reason: string | null }>;
          },
      );
      expect(chunks.every((chunk) => chunk.object === "chat.completion.chunk")).toBe(true);
      const deltas = chunks.map((chunk) => chunk.choices[0]?.delta.content).filter((text) => text);
      expect(deltas.length, answer.stdout).toBeGreaterThan(1);
      expect(deltas.join("").trim()).not.toBe("");
      const finishReasons = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.finish_reason));
      // max_tokens 8: the tiny model runs out of tokens (or stops) exactly once, before [DONE].
      expect(finishReasons.filter(Boolean)).toEqual([expect.stringMatching(/^(length|stop)$/)]);
    });

    it("refuses TLS 1.2 and speaks TLS 1.3", async () => {
      const refused = await nginx.curl([
        "--tlsv1.2",
        "--tls-max",
        "1.2",
        "-o",
        "/dev/null",
        `${nginx.base}/healthz`,
      ]);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/SSL|TLS|alert|protocol/i);
      const accepted = await nginx.curl([
        "--tlsv1.3",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        `${nginx.base}/healthz`,
      ]);
      expect(accepted).toMatchObject({ status: 0, stdout: "200" });
    });

    it("puts the security headers on Hearth's own pages", async () => {
      const answer = await nginx.curl(["--http2", "-D", "-", "-o", "/dev/null", `${nginx.base}/`]);
      const response = headers(answer.stdout);
      expect(answer.stdout).toMatch(/^HTTP\/2 200/);
      expect(response["strict-transport-security"]).toMatch(/max-age=\d{8}/);
      expect(response["content-security-policy"]).toContain("frame-ancestors 'none'");
      expect(response["x-content-type-options"]).toBe("nosniff");
      expect(response["referrer-policy"]).toBe("no-referrer");
      // The web service sends its own on the UI; nginx hides them, so each comes once, nginx's.
      for (const name of [
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
      ])
        expect(
          answer.stdout.split(/\r?\n/).filter((line) => line.toLowerCase().startsWith(`${name}:`)),
          name,
        ).toHaveLength(1);
    });

    it("stops hearth up cleanly on Ctrl-C", async () => {
      hearth.child.kill("SIGINT");
      expect(await hearth.exited).toEqual({ code: 0, signal: null });
    });
  },
);
