import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { HearthError } from "../errors/hearth-error.js";
import { type ConfigInput, configSchema, type HearthConfig } from "./config-schema.js";
import { ENVIRONMENT, type EnvironmentBinding } from "./environment.js";

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Values that win over the file and the environment (tests, `hearth serve --port`). */
  overrides?: ConfigInput;
  /** Where a warning about the configuration goes (default: stderr, `hearth: warning: ...`). */
  onWarning?: (message: string) => void;
}

type Tree = Record<string, unknown>;

/**
 * Reads defaults, then the YAML file (`HEARTH_CONFIG`, else ./hearth.yaml when present), then the
 * environment, validates the result once and freezes it. A bad value throws CONFIG_INVALID naming
 * the key (and its environment variable) and what is allowed.
 */
export function loadConfig(options: LoadConfigOptions = {}): HearthConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const configFile = findConfigFile(env, cwd);
  const tree: Tree = configFile ? expandVariables(readConfigFile(configFile), env, configFile) : {};
  const warn = options.onWarning ?? ((message: string) => console.warn(`hearth: warning: ${message}`));
  const fromEnvironment = new Map<string, EnvironmentBinding>();
  for (const binding of ENVIRONMENT) {
    const raw = env[binding.env];
    if (raw !== undefined && binding.guard) checkGuardedSecret(binding, binding.guard, raw);
    if (raw === undefined || raw === "") continue;
    setPath(tree, binding.key, coerce(binding, raw));
    fromEnvironment.set(binding.key, binding);
  }
  dropWebhookWithoutUrl(tree, fromEnvironment, warn);
  if (options.overrides) mergeInto(tree, options.overrides as Tree);

  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) throw describeIssue(parsed.error, fromEnvironment, configFile);
  return deepFreeze(resolveDerived(parsed.data, cwd, configFile));
}

function findConfigFile(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const named = env.HEARTH_CONFIG;
  if (named) {
    const path = resolve(cwd, named);
    if (!existsSync(path)) {
      throw new HearthError("CONFIG_FILE_UNREADABLE", `HEARTH_CONFIG names ${path}, which does not exist`);
    }
    return path;
  }
  const implicit = join(cwd, "hearth.yaml");
  return existsSync(implicit) ? implicit : undefined;
}

/**
 * An empty variable otherwise counts as unset, but an empty guarded secret (HEARTH_SERVICE_TOKEN) is
 * almost always one that did not arrive (an example file copied unedited, a missing Secret key):
 * treating it as unset would silently switch its protection off. Never echoes the value.
 */
function checkGuardedSecret(
  binding: EnvironmentBinding,
  guard: NonNullable<EnvironmentBinding["guard"]>,
  raw: string,
): void {
  const name = `${binding.env} (${binding.key})`;
  const details = { details: { key: binding.key, env: binding.env } };
  if (raw.trim() === "")
    throw new HearthError(
      "CONFIG_INVALID",
      `${name} is set but empty, which would switch ${guard.protects} off: ${guard.fix}`,
      details,
    );
  if (/CHANGE-?ME/i.test(raw))
    throw new HearthError(
      "CONFIG_INVALID",
      `${name} still holds the example file's placeholder: ${guard.fix}`,
      details,
    );
}

/**
 * HEARTH_ALERT_WEBHOOK_KIND (or _SECRET) without HEARTH_ALERT_WEBHOOK_URL means "no webhook
 * configured" (a compose file passing its default kind through): drop it with a warning instead of
 * refusing to start. A webhook written in the configuration file without a URL is still an error.
 */
function dropWebhookWithoutUrl(
  tree: Tree,
  fromEnvironment: Map<string, EnvironmentBinding>,
  warn: (message: string) => void,
): void {
  const alerts = tree.alerts;
  if (!isPlainObject(alerts) || !isPlainObject(alerts.webhook)) return;
  const webhook = alerts.webhook;
  if (webhook.url !== undefined) return;
  const fields = Object.keys(webhook);
  if (!fields.every((field) => fromEnvironment.has(`alerts.webhook.${field}`))) return;
  const names = fields.map((field) => fromEnvironment.get(`alerts.webhook.${field}`)!.env);
  for (const field of fields) fromEnvironment.delete(`alerts.webhook.${field}`);
  delete alerts.webhook;
  warn(
    `${names.join(" and ")} ${names.length > 1 ? "are" : "is"} set but HEARTH_ALERT_WEBHOOK_URL is not: no alert webhook is configured`,
  );
}

function readConfigFile(path: string): Tree {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(path, "utf8"));
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new HearthError("CONFIG_FILE_UNREADABLE", `${path}: ${reason}`, { cause: error });
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== "object" || Array.isArray(document)) {
    throw new HearthError("CONFIG_FILE_UNREADABLE", `${path}: the top level must be a mapping of keys`);
  }
  return document as Tree;
}

/**
 * `${NAME}` in a string of the configuration file is replaced by the environment variable NAME, so
 * that secrets (search providers' API keys, webhook URLs) come from the environment or a Kubernetes
 * Secret while the file itself can live in a ConfigMap or a read-only mount. `$${` is a literal `${`.
 * An unset or empty variable is CONFIG_INVALID naming the key and the variable (never a value).
 */
function expandVariables(tree: Tree, env: NodeJS.ProcessEnv, configFile: string): Tree {
  const expand = (value: unknown, path: string[]): unknown => {
    if (typeof value === "string") {
      return value.replace(/\$(\$?)\{([^}]*)\}/g, (whole, escaped: string, name: string) => {
        if (escaped) return whole.slice(1);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          throw new HearthError(
            "CONFIG_INVALID",
            `${path.join(".")} (in ${configFile}): "\${${name}}" is not a variable name (write $\${ for a literal \${)`,
            { details: { key: path.join(".") } },
          );
        }
        const variable = env[name];
        if (variable === undefined || variable === "") {
          throw new HearthError(
            "CONFIG_INVALID",
            `${path.join(".")} (in ${configFile}) uses \${${name}}, but the environment variable ${name} is not set`,
            { details: { key: path.join("."), env: name } },
          );
        }
        return variable;
      });
    }
    if (Array.isArray(value)) return value.map((item, index) => expand(item, [...path, String(index)]));
    if (isPlainObject(value))
      return Object.fromEntries(
        Object.entries(value).map(([key, child]) => [key, expand(child, [...path, key])]),
      );
    return value;
  };
  return expand(tree, []) as Tree;
}

function coerce(binding: EnvironmentBinding, raw: string): unknown {
  const value = raw.trim();
  switch (binding.type) {
    case "integer":
      if (!/^-?\d+$/.test(value)) {
        throw new HearthError(
          "CONFIG_INVALID",
          `${binding.env} (${binding.key}) must be an integer; got "${value}"`,
        );
      }
      return Number(value);
    case "boolean":
      if (/^(1|true|yes|on)$/i.test(value)) return true;
      if (/^(0|false|no|off)$/i.test(value)) return false;
      throw new HearthError(
        "CONFIG_INVALID",
        `${binding.env} (${binding.key}) must be true or false; got "${value}"`,
      );
    case "list":
      return value
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean);
    case "url":
      // Ollama's own convention allows OLLAMA_HOST without a scheme ("127.0.0.1:11434").
      return /^[a-z]+:\/\//i.test(value) ? value : `http://${value}`;
    default:
      return value;
  }
}

function setPath(tree: Tree, dotted: string, value: unknown): void {
  const parts = dotted.split(".");
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts.at(-1)!] = value;
}

function mergeInto(target: Tree, source: Tree): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isPlainObject(value) && isPlainObject(existing)) mergeInto(existing, value);
    else target[key] = value;
  }
}

function isPlainObject(value: unknown): value is Tree {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeIssue(
  error: z.ZodError,
  fromEnvironment: Map<string, EnvironmentBinding>,
  configFile: string | undefined,
): HearthError {
  const issue = error.issues[0]!;
  const key = issue.path.join(".");
  const binding = fromEnvironment.get(key);
  const source = binding ? ` (from ${binding.env})` : configFile ? ` (in ${configFile})` : "";
  let allowed = issue.message;
  if (issue.code === "unrecognized_keys")
    allowed = `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`;
  if (issue.code === "invalid_value")
    allowed = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  return new HearthError("CONFIG_INVALID", `${key || "(top level)"}${source}: ${allowed}`, {
    details: { key, env: binding?.env },
  });
}

function resolveDerived(
  parsed: z.output<typeof configSchema>,
  cwd: string,
  configFile: string | undefined,
): HearthConfig {
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(cwd, path));
  const dataDir = absolute(parsed.dataDir);
  const loopback = (port: number) => `http://127.0.0.1:${port}`;
  return {
    ...parsed,
    configFile,
    dataDir,
    model: {
      ...parsed.model,
      modelsDir: parsed.model.modelsDir ? absolute(parsed.model.modelsDir) : join(dataDir, "models"),
    },
    services: {
      modelUrl: parsed.services.modelUrl ?? loopback(parsed.model.port),
      searchUrl: parsed.services.searchUrl ?? loopback(parsed.search.port),
      knowledgeUrl: parsed.services.knowledgeUrl ?? loopback(parsed.knowledge.port),
      token: parsed.services.token,
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
