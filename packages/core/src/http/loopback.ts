import { isIPv4 } from "node:net";

/** Whether a host name (as a URL's `hostname` writes it: IPv6 in brackets) is this machine's loopback. */
export function isLoopbackHostname(hostname: string): boolean {
  const name = hostname.toLowerCase();
  return name === "localhost" || name === "[::1]" || (isIPv4(name) && name.startsWith("127."));
}

/** Whether a listening address (`127.0.0.1`, `::1`, `localhost`) takes connections from this machine only. */
export function isLoopbackListenAddress(host: string): boolean {
  return isLoopbackHostname(host.includes(":") && !host.startsWith("[") ? `[${host}]` : host);
}

/** Whether a `Host` header (`name`, `name:port`, `[::1]:port`) names this machine's loopback. */
export function isLoopbackHostHeader(host: string): boolean {
  const hostname = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d*$/, "");
  return isLoopbackHostname(hostname);
}

/** Whether an `Origin` header is a page served from this machine's loopback (`null` and other schemes are not). */
export function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && isLoopbackHostname(url.hostname);
  } catch {
    return false;
  }
}
