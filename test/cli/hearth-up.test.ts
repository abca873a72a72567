import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startHearth } from "../support/hearth-process.js";
import { serviceEnvironment } from "../support/ports.js";
import { writeTinyGguf } from "../support/tiny-gguf.js";

const newDataDir = () => mkdtempSync(join(tmpdir(), "hearth-up-"));

/** An account through POST /api/auth/signup: its session cookie and CSRF token, as headers. */
async function signUp(web: string, username: string): Promise<Record<string, string>> {
  const response = await fetch(`${web}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: "correct horse battery" }),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  const cookies = response.headers.getSetCookie().map((cookie) => cookie.split(";")[0]!);
  const csrf = cookies.find((cookie) => cookie.startsWith("hearth_csrf="))!.slice("hearth_csrf=".length);
  return { cookie: cookies.join("; "), "x-csrf-token": decodeURIComponent(csrf) };
}

describe("hearth up", () => {
  it("brings all four services to ready, serves the UI and a model, and stops cleanly on SIGINT", async () => {
    const dataDir = newDataDir();
    await writeTinyGguf(join(dataDir, "models", "tiny.gguf"));
    const env = await serviceEnvironment(dataDir);
    const hearth = startHearth(["up"], env);
    try {
      await hearth.waitFor(/Hearth is ready: open http:\/\/localhost:\d+/, 60_000);
      // No token configured: the one made for the run (the model service asks none).
      const token = readFileSync(join(dataDir, "run", "service-token"), "utf8").trim();
      for (const port of [
        env.HEARTH_PORT,
        env.HEARTH_MODEL_PORT,
        env.HEARTH_SEARCH_PORT,
        env.HEARTH_KNOWLEDGE_PORT,
      ]) {
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
        expect(ready.status, `readyz on ${port}`).toBe(200);
        const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, {
          headers: { "x-hearth-service-token": token },
        });
        expect(await metrics.text()).toContain("hearth_http_requests_total");
      }
      expect(await (await fetch(`http://127.0.0.1:${env.HEARTH_MODEL_PORT}/metrics`)).text()).toContain(
        "hearth_http_requests_total",
      );
      const page = await fetch(`http://127.0.0.1:${env.HEARTH_PORT}/`);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(await page.text()).toContain('<div id="root">');
      const tags = (await (await fetch(`http://127.0.0.1:${env.HEARTH_MODEL_PORT}/api/tags`)).json()) as {
        models: { name: string }[];
      };
      expect(tags.models.map((model) => model.name)).toContain("tiny:latest");
    } finally {
      hearth.child.kill("SIGINT");
    }
    const { code } = await hearth.exited;
    expect(code).toBe(0);
    expect(hearth.output()).toContain("hearth: stopped");
    const after = await fetch(`http://127.0.0.1:${env.HEARTH_PORT}/healthz`).catch(() => "refused");
    expect(after).toBe("refused");
  });

  it("without a configured service token, makes one for the run: knowledge and search answer no local process without it, the web and the model service work as before, and `hearth ingest` uses it", async () => {
    const dataDir = newDataDir();
    await writeTinyGguf(join(dataDir, "models", "tiny.gguf"));
    const env = await serviceEnvironment(dataDir);
    const tokenFile = join(dataDir, "run", "service-token");
    const hearth = startHearth(["up"], env);
    try {
      await hearth.waitFor(/Hearth is ready/, 60_000);
      // Readable by this user only, as the data dir's other files.
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const token = readFileSync(tokenFile, "utf8").trim();
      expect(token.length).toBeGreaterThanOrEqual(32);
      const knowledge = `http://127.0.0.1:${env.HEARTH_KNOWLEDGE_PORT}`;
      const search = `http://127.0.0.1:${env.HEARTH_SEARCH_PORT}`;
      // Any other local process: refused, the knowledge bases unread.
      const anyone = await fetch(`${knowledge}/v1/knowledge-bases`);
      expect([anyone.status, ((await anyone.json()) as { error: { code: string } }).error.code]).toEqual([
        401,
        "UNAUTHORIZED",
      ]);
      expect((await fetch(`${search}/v1/providers`)).status).toBe(401);
      expect((await fetch(`${knowledge}/metrics`)).status).toBe(401);
      const withToken = await fetch(`${knowledge}/v1/knowledge-bases`, {
        headers: { "x-hearth-service-token": token },
      });
      expect(withToken.status).toBe(200);
      // The model service stays a drop-in for Ollama and the OpenAI API on loopback: no token.
      expect((await fetch(`http://127.0.0.1:${env.HEARTH_MODEL_PORT}/api/tags`)).status).toBe(200);

      // The web service end to end: a base uploaded with `hearth ingest` (no token given: it reads
      // the run's), then a chat grounded in it.
      const web = `http://127.0.0.1:${env.HEARTH_PORT}`;
      const session = await signUp(web, "ada");
      const folder = mkdtempSync(join(dataDir, "upload-"));
      writeFileSync(join(folder, "vacation.md"), "# Leave\n\nEmployees get 25 vacation days per year.\n");
      const ingest = startHearth(
        ["ingest", "handbook", join(folder, "vacation.md"), "--create", "--owner", "ada"],
        env,
      );
      expect((await ingest.exited).code, ingest.output()).toBe(0);
      const bases = (await (await fetch(`${web}/api/knowledge-bases`, { headers: session })).json()) as {
        knowledgeBases: Array<{ id: string; name: string; documentCount: number }>;
      };
      const handbook = bases.knowledgeBases.find((base) => base.name === "handbook");
      expect(handbook).toMatchObject({ documentCount: 1 });
      const keyAnswer = await fetch(`${web}/api/account/api-keys`, {
        method: "POST",
        headers: { ...session, "content-type": "application/json" },
        body: JSON.stringify({ name: "up" }),
      });
      const { key } = (await keyAnswer.json()) as { key: string };
      const chat = await fetch(`${web}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "tiny:latest",
          messages: [{ role: "user", content: "How many vacation days do employees get?" }],
          knowledge_base_ids: [handbook!.id],
          max_tokens: 8,
          temperature: 0,
        }),
      });
      const answer = (await chat.json()) as { hearth?: { citations: Array<{ title: string }> } };
      expect(chat.status, JSON.stringify(answer)).toBe(200);
      expect(answer.hearth?.citations.map((citation) => citation.title)).toEqual(["vacation.md"]);
    } finally {
      hearth.child.kill("SIGINT");
    }
    expect((await hearth.exited).code).toBe(0);
    // Gone with the run.
    expect(existsSync(tokenFile)).toBe(false);
  });

  it("prints where to open each service once they listen: localhost, for all interfaces, for the web", async () => {
    const dataDir = newDataDir();
    // As the defaults: the web service on every interface; its "listening" lines logged (info).
    const env: Record<string, string> = {
      ...(await serviceEnvironment(dataDir)),
      HEARTH_HOST: "0.0.0.0",
      HEARTH_LOG_LEVEL: "info",
    };
    const hearth = startHearth(["up"], env);
    try {
      await hearth.waitFor(/Hearth is ready/, 60_000);
    } finally {
      hearth.child.kill("SIGTERM");
    }
    expect((await hearth.exited).code).toBe(0);
    const lines = hearth.output().split("\n");
    const banner = lines.findIndex((line) => line.startsWith("hearth: model "));
    const web = lines.find((line) => line.startsWith("hearth: web "));
    expect(web).toMatch(
      new RegExp(`^hearth: web +http://localhost:${env.HEARTH_PORT} \\(all interfaces[;)]`),
    );
    expect(lines.find((line) => line.startsWith("hearth: model "))).toBe(
      `hearth: model     http://127.0.0.1:${env.HEARTH_MODEL_PORT}`,
    );
    // Every "listening" line of the services comes before the banner, none after it.
    const listening = lines.flatMap((line, index) => (line.includes("Server listening at") ? [index] : []));
    expect(listening.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...listening)).toBeLessThan(banner);
  });

  it("starts with no model at all and says what to do", async () => {
    const dataDir = newDataDir();
    const env = await serviceEnvironment(dataDir);
    const hearth = startHearth(["up"], env);
    try {
      await hearth.waitFor(/Hearth is ready/, 60_000);
      const tags = (await (await fetch(`http://127.0.0.1:${env.HEARTH_MODEL_PORT}/api/tags`)).json()) as {
        models: unknown[];
      };
      expect(tags.models).toEqual([]);
    } finally {
      hearth.child.kill("SIGTERM");
    }
    expect((await hearth.exited).code).toBe(0);
    const doctor = startHearth(["doctor"], env);
    await doctor.exited;
    expect(doctor.output()).toMatch(/no model yet/);
    expect(doctor.output()).toContain(`drop a .gguf file into ${join(dataDir, "models")}`);
    expect(doctor.output()).toContain("OLLAMA_HOST");
  });
});

describe("hearth start-up errors: one line and a non-zero exit", () => {
  it("refuses a taken port, naming the variable that moves it", async () => {
    const dataDir = newDataDir();
    const env = await serviceEnvironment(dataDir);
    const blocker = createServer();
    await new Promise<void>((resolve) =>
      blocker.listen(Number(env.HEARTH_SEARCH_PORT), "127.0.0.1", resolve),
    );
    const hearth = startHearth(["up"], env);
    const { code } = await hearth.exited;
    blocker.close();
    expect(code).toBe(1);
    expect(hearth.output().trim().split("\n").at(-1)).toMatch(
      /^PORT_IN_USE: 127\.0\.0\.1:\d+ is already in use; .*HEARTH_SEARCH_PORT/,
    );
  });

  it("refuses a bad configuration value, naming the key", async () => {
    const dataDir = newDataDir();
    const hearth = startHearth(["up"], { ...(await serviceEnvironment(dataDir)), HEARTH_THREADS: "many" });
    expect((await hearth.exited).code).toBe(1);
    expect(hearth.output().trim()).toBe(
      'CONFIG_INVALID: HEARTH_THREADS (model.threads) must be an integer; got "many"',
    );
  });

  it("refuses a models dir that does not exist", async () => {
    const dataDir = newDataDir();
    const missing = join(dataDir, "no-such-dir");
    const hearth = startHearth(["serve", "model"], {
      ...(await serviceEnvironment(dataDir)),
      HEARTH_MODELS_DIR: missing,
    });
    expect((await hearth.exited).code).toBe(1);
    expect(hearth.output().trim()).toBe(
      `MODELS_DIR_MISSING: the models dir ${missing} (HEARTH_MODELS_DIR) does not exist; create it or fix the path`,
    );
  });

  it("refuses an unreadable config file", async () => {
    const dataDir = newDataDir();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "hearth.yaml"), "web: [oops\n");
    const hearth = startHearth(["up"], await serviceEnvironment(dataDir));
    expect((await hearth.exited).code).toBe(1);
    expect(hearth.output().trim()).toMatch(/^CONFIG_FILE_UNREADABLE: .*hearth\.yaml: /);
  });
});
