import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, loadConfig } from "@hearth/core";
import { createWebService } from "@hearth/web";
import { afterEach, describe, expect, it, vi } from "vitest";
import { signUp } from "../../../web/test/support/web-client.js";
import { configCommand, withSecretsHidden } from "./config.js";

describe("hearth config", () => {
  it("shows the configuration with every secret hidden and the rest as set", () => {
    const shown = JSON.stringify(
      withSecretsHidden({
        services: { modelUrl: "http://127.0.0.1:8081", token: "SERVICE-TOKEN-1" },
        storage: { databaseUrl: "postgres://hearth:DBPASS@db:5432/hearth" },
        alerts: {
          webhook: { kind: "wecom", url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=WECOMKEY" },
          webhooks: [
            { kind: "slack", url: "https://hooks.slack.com/services/T0/B0/SLACKPATHSECRET" },
            {
              kind: "dingtalk",
              url: "https://oapi.dingtalk.com/robot/send?access_token=DINGTOKEN",
              secret: "SEC1",
            },
          ],
        },
        search: {
          providers: [
            {
              id: "custom",
              url: "https://search.example.com/api?q={query}&k=RAWKEY",
              headers: { Authorization: "Bearer HDRSECRET", "x-trace": "on" },
              apiKey: "APIKEY-1",
            },
          ],
        },
      }),
    );
    for (const secret of [
      "SERVICE-TOKEN-1",
      "DBPASS",
      "WECOMKEY",
      "SLACKPATHSECRET",
      "DINGTOKEN",
      "SEC1",
      "RAWKEY",
      "HDRSECRET",
      "APIKEY-1",
    ])
      expect(shown).not.toContain(secret);
    // What is not secret stays readable.
    expect(shown).toContain('"modelUrl":"http://127.0.0.1:8081"');
    expect(shown).toContain("postgres://[credentials]@db:5432/hearth");
    expect(shown).toContain("https://search.example.com/api?q=[hidden]&k=[hidden]");
    expect(shown).toContain('"kind":"dingtalk"');
    expect(shown).toContain('"Authorization":"[set]"');
  });
});

describe("hearth config and the settings administrators change at run time", () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** `hearth config` over `dataDir`: what it prints on stdout (parsed) and on stderr. */
  async function run(dataDir: string, env: Record<string, string> = {}) {
    vi.stubEnv("HEARTH_DATA_DIR", dataDir);
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const out = vi.spyOn(console, "log").mockImplementation(() => {});
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    await configCommand().parseAsync(["node", "config"]);
    const shown = JSON.parse(String(out.mock.calls.at(-1)?.[0])) as { web: Record<string, unknown> };
    const notes = err.mock.calls.map((call) => String(call[0]));
    vi.restoreAllMocks();
    return { shown, notes };
  }

  it("prints sign-up as an administrator set it in Admin → Settings, and says so", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-config-"));
    dirs.push(dataDir);
    // Before anyone saved the settings: the configuration's value, nothing to say.
    const before = await run(dataDir);
    expect(before.shown.web.signup).toBe("open");
    expect(before.notes).toEqual([]);

    const config = loadConfig({ env: { HEARTH_DATA_DIR: dataDir }, overrides: { logLevel: "silent" } });
    const web = await createWebService(config, createLogger({ level: "silent" }));
    try {
      const admin = await signUp(web.app, "root");
      const saved = await web.app.inject({
        method: "PATCH",
        url: "/api/admin/settings",
        headers: admin.headers,
        payload: { signup: "approval" },
      });
      expect(saved.statusCode).toBe(200);
      // Printed while the web service runs (it holds the database open).
      const after = await run(dataDir);
      expect(after.shown.web.signup).toBe("approval");
      expect(after.shown.web.shareLinks).toBe("signed-in");
      expect(after.notes).toEqual([
        "hearth config: web.signup is approval, set in Admin → Settings (the configuration says open)",
      ]);
    } finally {
      await web.close();
    }
  });

  it("hides the OIDC client secret given by HEARTH_OIDC_CLIENT_SECRET and shows the rest of web.oidc", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-config-"));
    dirs.push(dataDir);
    const { shown } = await run(dataDir, {
      HEARTH_OIDC_ISSUER: "https://sso.example.cn/realms/team",
      HEARTH_OIDC_CLIENT_ID: "hearth",
      HEARTH_OIDC_CLIENT_SECRET: "OIDC-CLIENT-SECRET-1",
      HEARTH_OIDC_ADMIN_GROUPS: "hearth-admin",
    });
    expect(JSON.stringify(shown)).not.toContain("OIDC-CLIENT-SECRET-1");
    expect(shown.web.oidc).toEqual({
      issuer: "https://sso.example.cn/realms/team",
      clientId: "hearth",
      clientSecret: "[set]",
      scopes: "openid email profile",
      passwordLogin: true,
      mergeByEmail: false,
      groupsClaim: "groups",
      syncGroups: false,
      adminGroups: ["hearth-admin"],
    });
  });

  it("names the keys Admin → Settings overrides when it cannot read them (PostgreSQL)", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-config-"));
    dirs.push(dataDir);
    const { shown, notes } = await run(dataDir, {
      HEARTH_DATABASE_URL: "postgres://hearth:secret@127.0.0.1:9/hearth",
    });
    expect(shown.web.signup).toBe("open");
    expect(notes).toEqual([
      "hearth config: web.signup and web.shareLinks are the defaults: a value saved in Admin → Settings overrides them, and it was not read (the web database is on PostgreSQL, which hearth config does not connect to)",
    ]);
  });
});
