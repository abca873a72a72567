import { networkInterfaces } from "node:os";
import { type Messages, messages } from "./messages/index.js";

/** Hosts that mean every interface of this machine. */
const ALL_INTERFACES = new Set(["0.0.0.0", "::"]);

/** This machine's first IPv4 address on a network (not loopback), if it has one. */
export function lanAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces()))
    for (const address of addresses ?? [])
      if (address.family === "IPv4" && !address.internal) return address.address;
  return undefined;
}

/**
 * Where a user opens a service that listens on `host`: its URL, or, bound to every interface,
 * localhost with "(all interfaces)" and the address other machines of the network use.
 */
export function displayAddress(
  url: string,
  host: string,
  lan = lanAddress(),
  m: Messages = messages(),
): string {
  if (!ALL_INTERFACES.has(host)) return url;
  const { port } = new URL(url);
  return m.allInterfaces(port, lan);
}
