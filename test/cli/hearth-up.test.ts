import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startHearth } from "../support/hearth-process.js";
import { serviceEnvironment } from "../support/ports.js";
import { writeTinyGguf } from "../support/tiny-gguf.js";

const newDataDir = () => mkdtempSync(join(tmpdir(), "hearth-up-"));

describe("hearth up", () => {
  it("brings all four services to ready, serves the UI and a model, and stops cleanly on SIGINT", async () => {
    const dataDir = newDataDir();
    await writeTinyGguf(join(dataDir, "models", "tiny.gguf"));
    const env = await serviceEnvironment(dataDir);
    const hearth = startHearth(["up"], env);
    try {
      await hearth.waitFor(/Hearth is ready: open http:\/\/localhost:\d+/, 60_000);
      for (const port of [
        env.HEARTH_PORT,
        env.HEARTH_MODEL_PORT,
        env.HEARTH_SEARCH_PORT,
        env.HEARTH_KNOWLEDGE_PORT,
      ]) {
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
        expect(ready.status, `readyz on ${port}`).toBe(200);
        const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
        expect(await metrics.text()).toContain("hearth_http_requests_total");
      }
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
