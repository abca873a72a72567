import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HearthError } from "../errors/hearth-error.js";
import type { ConfigInput } from "./config-schema.js";
import { loadConfig } from "./load-config.js";

const emptyDir = () => mkdtempSync(join(tmpdir(), "hearth-config-"));

function configError(run: () => unknown): HearthError {
  try {
    run();
  } catch (error) {
    if (error instanceof HearthError) return error;
    throw error;
  }
  throw new Error("expected a configuration error");
}

describe("loadConfig", () => {
  it("gives the documented defaults with no file and no environment", () => {
    const cwd = emptyDir();
    const config = loadConfig({ env: {}, cwd });
    expect(config.web).toMatchObject({ host: "0.0.0.0", port: 8080 });
    expect(config.model).toMatchObject({ host: "127.0.0.1", port: 8081 });
    expect(config.search.port).toBe(8082);
    expect(config.knowledge.port).toBe(8083);
    expect(config.dataDir).toBe(join(cwd, "data"));
    expect(config.model.modelsDir).toBe(join(cwd, "data", "models"));
    expect(config.services.modelUrl).toBe("http://127.0.0.1:8081");
    expect(config.model.threads).toBeGreaterThanOrEqual(1);
  });

  it("reads one sensitive-word list shape under search.filter and web.filter, refusing duplicate list ids", () => {
    const cwd = emptyDir();
    const lists = "    lists:\n      - { id: abuse, action: mask, file: /etc/hearth/abuse.txt }\n";
    writeFileSync(join(cwd, "hearth.yaml"), `search:\n  filter:\n${lists}web:\n  filter:\n${lists}`);
    const config = loadConfig({ env: {}, cwd });
    expect(config.web.filter).toEqual(config.search.filter);
    expect(config.web.filter).toEqual({
      lists: [{ id: "abuse", action: "mask", file: "/etc/hearth/abuse.txt" }],
      reloadIntervalMs: 2000,
    });
    writeFileSync(
      join(cwd, "hearth.yaml"),
      `web:\n  filter:\n${lists}      - { id: abuse, action: block, file: /etc/hearth/other.txt }\n`,
    );
    expect(configError(() => loadConfig({ env: {}, cwd })).message).toMatch(/web\.filter\.lists\.1\.id/);
  });

  it("reads ./hearth.yaml, and the environment wins over it", () => {
    const cwd = emptyDir();
    writeFileSync(join(cwd, "hearth.yaml"), "web:\n  port: 9000\nmodel:\n  port: 9001\n  threads: 3\n");
    const config = loadConfig({ env: { HEARTH_MODEL_PORT: "9101" }, cwd });
    expect(config.web.port).toBe(9000);
    expect(config.model.port).toBe(9101);
    expect(config.model.threads).toBe(3);
    expect(config.services.modelUrl).toBe("http://127.0.0.1:9101");
    expect(config.configFile).toBe(join(cwd, "hearth.yaml"));
  });

  it("reads a list from a comma-separated environment variable", () => {
    const config = loadConfig({
      env: { HEARTH_MODEL_ORIGINS: " https://chat.example.com, https://*.corp.example ,," },
      cwd: emptyDir(),
    });
    expect(config.model.allowedOrigins).toEqual(["https://chat.example.com", "https://*.corp.example"]);
  });

  it("reads SSO's groups settings from the environment, and leaves groups and roles alone by default", () => {
    const defaults = loadConfig({ env: {}, cwd: emptyDir() }).web.oidc;
    expect([defaults.groupsClaim, defaults.syncGroups, defaults.adminGroups]).toEqual(["groups", false, []]);
    const config = loadConfig({
      env: {
        HEARTH_OIDC_GROUPS_CLAIM: "realm_access.roles",
        HEARTH_OIDC_SYNC_GROUPS: "true",
        HEARTH_OIDC_ADMIN_GROUPS: "hearth-admin, /IT/Hearth Admins",
      },
      cwd: emptyDir(),
    }).web.oidc;
    expect([config.groupsClaim, config.syncGroups, config.adminGroups]).toEqual([
      "realm_access.roles",
      true,
      ["hearth-admin", "/IT/Hearth Admins"],
    ]);
  });

  it("reads the file named by HEARTH_CONFIG and fails clearly when it is missing", () => {
    const cwd = emptyDir();
    writeFileSync(join(cwd, "other.yaml"), "dataDir: /var/lib/hearth\n");
    expect(loadConfig({ env: { HEARTH_CONFIG: "other.yaml" }, cwd }).dataDir).toBe("/var/lib/hearth");
    const error = configError(() => loadConfig({ env: { HEARTH_CONFIG: "nope.yaml" }, cwd }));
    expect(error.code).toBe("CONFIG_FILE_UNREADABLE");
    expect(error.message).toContain("nope.yaml");
  });

  it("names the environment variable and what is allowed for a bad value", () => {
    const cwd = emptyDir();
    const notNumber = configError(() => loadConfig({ env: { HEARTH_PORT: "eighty" }, cwd }));
    expect(notNumber.code).toBe("CONFIG_INVALID");
    expect(notNumber.toLine()).toMatch(
      /^CONFIG_INVALID: HEARTH_PORT \(web\.port\) must be an integer; got "eighty"$/,
    );

    const tooBig = configError(() => loadConfig({ env: { HEARTH_MODEL_PORT: "70000" }, cwd }));
    expect(tooBig.message).toMatch(/^model\.port \(from HEARTH_MODEL_PORT\): .*65535/);

    const level = configError(() => loadConfig({ env: { HEARTH_LOG_LEVEL: "loud" }, cwd }));
    expect(level.message).toContain('must be one of "fatal"');
  });

  it("takes CIDR ranges or single addresses in search's and knowledge's allowPrivateRanges, and names a bad one", () => {
    const cwd = emptyDir();
    const ranges = ["10.20.0.0/16", "fd12::/16", "192.168.1.5", "::1"];
    const config = loadConfig({
      env: {},
      cwd,
      overrides: {
        search: { fetch: { allowPrivateRanges: ranges } },
        knowledge: { allowPrivateRanges: ranges },
      },
    });
    expect(config.search.fetch.allowPrivateRanges).toEqual(ranges);
    expect(config.knowledge.allowPrivateRanges).toEqual(ranges);
    const cases: Array<[string, ConfigInput]> = [
      ["knowledge.allowPrivateRanges.1", { knowledge: { allowPrivateRanges: ["10.0.0.0/8", "intranet"] } }],
      ["search.fetch.allowPrivateRanges.0", { search: { fetch: { allowPrivateRanges: ["10.0.0.0/33"] } } }],
      ["knowledge.allowPrivateRanges.0", { knowledge: { allowPrivateRanges: ["1.2.3/24"] } }],
    ];
    for (const [key, overrides] of cases) {
      const error = configError(() => loadConfig({ env: {}, cwd, overrides }));
      expect(error.code).toBe("CONFIG_INVALID");
      expect(error.message).toMatch(new RegExp(`^${key.replaceAll(".", "\\.")}: "`));
    }
  });

  it("rejects unknown keys and invalid YAML in the file, naming the file", () => {
    const cwd = emptyDir();
    writeFileSync(join(cwd, "hearth.yaml"), "web:\n  prot: 1\n");
    const unknown = configError(() => loadConfig({ env: {}, cwd }));
    expect(unknown.message).toContain("web");
    expect(unknown.message).toContain("unknown key prot");
    expect(unknown.message).toContain("hearth.yaml");

    writeFileSync(join(cwd, "hearth.yaml"), "web: [unclosed\n");
    expect(configError(() => loadConfig({ env: {}, cwd })).code).toBe("CONFIG_FILE_UNREADABLE");
  });

  it("accepts OLLAMA_HOST without a scheme, as Ollama itself does", () => {
    const config = loadConfig({ env: { OLLAMA_HOST: "127.0.0.1:11434" }, cwd: emptyDir() });
    expect(config.model.ollamaHost).toBe("http://127.0.0.1:11434");
  });

  it("treats an alert webhook kind without a URL as no webhook, with a warning, instead of refusing to start", () => {
    const warnings: string[] = [];
    const config = loadConfig({
      env: {
        HEARTH_ALERT_WEBHOOK_KIND: "generic",
        HEARTH_ALERT_WEBHOOK_URL: "",
        HEARTH_ALERT_WEBHOOK_SECRET: "",
      },
      cwd: emptyDir(),
      onWarning: (message) => warnings.push(message),
    });
    expect(config.alerts.webhook).toBeUndefined();
    expect(warnings).toEqual([
      "HEARTH_ALERT_WEBHOOK_KIND is set but HEARTH_ALERT_WEBHOOK_URL is not: no alert webhook is configured",
    ]);
    // With the URL the webhook is configured as before; a file's webhook without a URL stays an error.
    const withUrl = loadConfig({
      env: {
        HEARTH_ALERT_WEBHOOK_KIND: "dingtalk",
        HEARTH_ALERT_WEBHOOK_URL: "https://oapi.example.com/robot",
      },
      cwd: emptyDir(),
    });
    expect(withUrl.alerts.webhook).toMatchObject({ kind: "dingtalk", url: "https://oapi.example.com/robot" });
    const cwd = emptyDir();
    writeFileSync(join(cwd, "hearth.yaml"), "alerts:\n  webhook:\n    kind: feishu\n");
    expect(configError(() => loadConfig({ env: {}, cwd })).message).toMatch(/^alerts\.webhook\.url/);
  });

  it("refuses an explicitly empty or placeholder HEARTH_SERVICE_TOKEN instead of switching service auth off", () => {
    for (const token of ["", "  ", "CHANGE-ME", "CHANGE-ME-0123456789abcdef"]) {
      const error = configError(() => loadConfig({ env: { HEARTH_SERVICE_TOKEN: token }, cwd: emptyDir() }));
      expect(error.code, JSON.stringify(token)).toBe("CONFIG_INVALID");
      expect(error.message).toMatch(/^HEARTH_SERVICE_TOKEN \(services\.token\) .*openssl rand -hex 24/);
      if (token.trim()) expect(error.message).not.toContain(token);
    }
    // Unset (`npm start`: loopback services) still means no token; a real token is taken.
    expect(loadConfig({ env: {}, cwd: emptyDir() }).services.token).toBeUndefined();
    const token = "0123456789abcdef0123456789abcdef";
    expect(loadConfig({ env: { HEARTH_SERVICE_TOKEN: token }, cwd: emptyDir() }).services.token).toBe(token);
  });

  it("fills environment variables into the file's strings (API keys from a Secret), naming a missing variable", () => {
    const cwd = emptyDir();
    writeFileSync(
      join(cwd, "hearth.yaml"),
      [
        "search:",
        "  providers:",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the file's ${NAME} syntax
        '    - { id: bing, type: bing, apiKey: "${BING_API_KEY}" }',
        "    - id: custom",
        "      type: custom",
        "      url: https://search.example.com/?q={query}",
        '      headers: { x-note: "$${literal}" }',
        "      response: { results: items, title: t, url: u }",
        "",
      ].join("\n"),
    );
    const config = loadConfig({ env: { BING_API_KEY: "k-123" }, cwd });
    expect(config.search.providers[0]).toMatchObject({ type: "bing", apiKey: "k-123" });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ kept by $${
    expect(config.search.providers[1]).toMatchObject({ headers: { "x-note": "${literal}" } });
    const missing = configError(() => loadConfig({ env: {}, cwd }));
    expect(missing.code).toBe("CONFIG_INVALID");
    expect(missing.message).toMatch(
      /^search\.providers\.0\.apiKey \(in .*hearth\.yaml\) uses \$\{BING_API_KEY\}, but the environment variable BING_API_KEY is not set$/,
    );
  });

  it("is frozen: nothing can change the configuration after start-up", () => {
    const config = loadConfig({ env: {}, cwd: emptyDir() });
    expect(() => {
      (config.web as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});
