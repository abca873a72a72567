import { HearthError } from "../errors/hearth-error.js";
import type { HearthConfig } from "./config-schema.js";

export type HearthServiceName = "model" | "search" | "knowledge" | "web";

interface PortSetting {
  key: string;
  env: string;
  port: (config: HearthConfig) => number;
  host: (config: HearthConfig) => string;
  /** How the other services reach it (`services.*Url`); the web service is reached by people, not by URL. */
  url?: { key: string; env: string; value: (config: HearthConfig) => string };
}

/**
 * Where a service's port is set, derived from its name as the configuration names it: `<name>.port`
 * (`HEARTH_<NAME>_PORT`, the web service's `HEARTH_PORT`) and `services.<name>Url`
 * (`HEARTH_<NAME>_URL`).
 */
function portSetting(name: HearthServiceName): PortSetting {
  const section = {
    key: `${name}.port`,
    port: (c: HearthConfig) => c[name].port,
    host: (c: HearthConfig) => c[name].host,
  };
  if (name === "web") return { ...section, env: "HEARTH_PORT" };
  const upper = name.toUpperCase();
  const urlKey = `${name}Url` as const;
  return {
    ...section,
    env: `HEARTH_${upper}_PORT`,
    url: { key: `services.${urlKey}`, env: `HEARTH_${upper}_URL`, value: (c) => c.services[urlKey] },
  };
}

const SETTINGS: Record<HearthServiceName, PortSetting> = {
  model: portSetting("model"),
  search: portSetting("search"),
  knowledge: portSetting("knowledge"),
  web: portSetting("web"),
};

const WILDCARD = new Set(["0.0.0.0", "::", ""]);
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

/** Whether two listeners on these hosts would fight over one port. */
function overlap(a: string, b: string): boolean {
  if (WILDCARD.has(a) || WILDCARD.has(b)) return true;
  const norm = (host: string) => (LOOPBACK.has(host) ? "loopback" : host.toLowerCase());
  return norm(a) === norm(b);
}

const named = (setting: PortSetting) => `${setting.env} (${setting.key})`;

/**
 * Refuses, before anything starts, a configuration whose services would take one port on this
 * host: two services started together (`hearth up`: all four) with the same port, or a service
 * started here whose port is the one another service is reached at on this machine (its URL left
 * at the default, http://127.0.0.1:<its port>), so it would answer the other's calls itself. A
 * service that runs elsewhere (its URL set, as in containers) does not count. Port 0 (any free
 * port) never conflicts. Throws CONFIG_INVALID naming both settings.
 */
export function checkPortConflicts(config: HearthConfig, started: readonly HearthServiceName[]): void {
  for (const [i, a] of started.entries()) {
    for (const b of started.slice(i + 1)) {
      const first = SETTINGS[a];
      const second = SETTINGS[b];
      const port = first.port(config);
      if (port === 0 || port !== second.port(config) || !overlap(first.host(config), second.host(config)))
        continue;
      throw new HearthError(
        "CONFIG_INVALID",
        `${named(first)} and ${named(second)} are both ${port}, and the ${a} and ${b} services start together on this host; give each service its own port`,
        { details: { key: first.key, env: first.env, otherKey: second.key, otherEnv: second.env } },
      );
    }
  }
  for (const a of started) {
    const own = SETTINGS[a];
    const port = own.port(config);
    if (port === 0 || !(WILDCARD.has(own.host(config)) || LOOPBACK.has(own.host(config)))) continue;
    for (const b of Object.keys(SETTINGS) as HearthServiceName[]) {
      const other = SETTINGS[b];
      if (started.includes(b) || !other.url || other.port(config) !== port) continue;
      if (other.url.value(config) !== `http://127.0.0.1:${port}`) continue;
      throw new HearthError(
        "CONFIG_INVALID",
        `${named(other)} is ${port}, the port of the ${a} service started here (${own.env}), and with ${other.url.env} unset the ${b} service is reached at http://127.0.0.1:${port}, so the ${a} service would answer its calls; give each service its own port, or set ${other.url.env} to where the ${b} service runs`,
        { details: { key: other.key, env: other.env, otherKey: own.key, otherEnv: own.env } },
      );
    }
  }
}
