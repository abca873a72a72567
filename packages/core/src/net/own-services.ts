import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import ipaddr from "ipaddr.js";
import type { HearthConfig } from "../config/config-schema.js";
import type { HearthServiceName } from "../config/port-conflicts.js";
import type { Resolver } from "./safe-fetch.js";

/** Where a Hearth service answers: a port on this machine, or the host and port of its configured URL. */
export interface OwnServiceEndpoint {
  service: HearthServiceName;
  port: number;
  /** Host name or address of `services.<name>Url`; unset for the port on this machine. */
  host?: string;
}

const SERVICES: readonly HearthServiceName[] = ["web", "model", "search", "knowledge"];

/**
 * Hearth's own services, which a user-given URL must never reach, whatever private ranges the
 * operator allows: their APIs trust the caller (no service token on a single machine), so a fetch
 * of them would hand one user what the service holds for every other. A URL is refused when its
 * port is a service's and its host is either a service URL's host (or resolves to one of its
 * addresses), or an address of this machine (loopback, unspecified or any interface's address)
 * where that port is a service's configured port.
 */
export class OwnServices {
  readonly #endpoints: readonly OwnServiceEndpoint[];

  constructor(endpoints: readonly OwnServiceEndpoint[]) {
    this.#endpoints = endpoints.map((endpoint) =>
      endpoint.host === undefined ? endpoint : { ...endpoint, host: bareHost(endpoint.host) },
    );
  }

  /** Every service the configuration names: its port here (`<name>.port`) and its URL (`services.<name>Url`). */
  static fromConfig(config: HearthConfig): OwnServices {
    const endpoints: OwnServiceEndpoint[] = [];
    for (const service of SERVICES) {
      // Port 0 takes any free port: there is none to name in advance.
      if (config[service].port !== 0) endpoints.push({ service, port: config[service].port });
      if (service === "web") continue;
      const url = new URL(config.services[`${service}Url`]);
      endpoints.push({ service, host: url.hostname, port: portOf(url) });
    }
    return new OwnServices(endpoints);
  }

  /**
   * The service a URL would reach, given the addresses its host has (the literal itself, or what
   * DNS answered), or undefined. Service URLs named by a host name are resolved with `resolve`;
   * one that does not resolve counts by its name only.
   */
  async serviceAt(
    url: URL,
    addresses: readonly string[],
    resolve: Resolver,
  ): Promise<HearthServiceName | undefined> {
    const port = portOf(url);
    const endpoints = this.#endpoints.filter((endpoint) => endpoint.port === port);
    if (endpoints.length === 0) return undefined;
    const host = bareHost(url.hostname);
    const targets = addresses.map(normalizedAddress);
    const local = targets.some(isLocalAddress);
    for (const endpoint of endpoints) {
      if (endpoint.host === undefined) {
        if (local) return endpoint.service;
        continue;
      }
      if (endpoint.host === host) return endpoint.service;
      const reached = await addressesOf(endpoint.host, resolve);
      if (reached.some((address) => targets.includes(address) || (local && isLocalAddress(address))))
        return endpoint.service;
    }
    return undefined;
  }
}

function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

/** A URL's host as compared: no brackets, no trailing dot, an address literal normalized. */
function bareHost(hostname: string): string {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
  return isIP(host.replace(/%.*$/, "")) ? normalizedAddress(host) : host;
}

/** One spelling per address: no zone, IPv4-mapped IPv6 as the IPv4 address the socket reaches. */
function normalizedAddress(address: string): string {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  return isIP(bare) ? ipaddr.process(bare).toString() : bare;
}

/** Whether a connection to this address stays on this machine. */
function isLocalAddress(address: string): boolean {
  if (!isIP(address)) return false;
  const range = ipaddr.process(address).range();
  if (range === "loopback" || range === "unspecified") return true;
  return Object.values(networkInterfaces()).some((entries) =>
    (entries ?? []).some((entry) => normalizedAddress(entry.address) === address),
  );
}

async function addressesOf(host: string, resolve: Resolver): Promise<string[]> {
  if (isIP(host)) return [host];
  try {
    return (await resolve(host)).map((entry) => normalizedAddress(entry.address));
  } catch {
    return [];
  }
}
