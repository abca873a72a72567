// Preload (NODE_OPTIONS="--import <this file>") that records every outbound connection attempt of
// the process — TCP and TLS sockets (which carry fetch/undici, http, https and database clients),
// UDP sends and DNS lookups — as JSON lines in the file named by HEARTH_CONNECTION_LOG.
// It only observes: every call goes on unchanged.
import dgram from "node:dgram";
import dns from "node:dns";
import { appendFileSync } from "node:fs";
import net from "node:net";

const logFile = process.env.HEARTH_CONNECTION_LOG;

function record(entry) {
  if (!logFile) return;
  try {
    appendFileSync(logFile, `${JSON.stringify({ ...entry, pid: process.pid })}\n`);
  } catch {
    // Recording must never change what the process does.
  }
}

/** net.Socket#connect is called as (options[, cb]), (port[, host][, cb]), (path[, cb]), or internally with [options, cb]. */
function destination(args) {
  let first = args[0];
  if (Array.isArray(first)) first = first[0];
  if (first && typeof first === "object") {
    if (first.path) return { path: String(first.path) };
    return { host: first.host ?? "localhost", port: Number(first.port) };
  }
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    return { host: typeof args[1] === "string" ? args[1] : "localhost", port: Number(first) };
  }
  if (typeof first === "string") return { path: first };
  return { host: "unknown", port: 0 };
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function recordedConnect(...args) {
  const target = destination(args);
  if (!target.path) record({ kind: "tcp", ...target });
  return connect.apply(this, args);
};

const send = dgram.Socket.prototype.send;
dgram.Socket.prototype.send = function recordedSend(...args) {
  const port = args.find(
    (value, index) =>
      index > 0 &&
      typeof value === "number" &&
      value > 0 &&
      value < 65536 &&
      typeof args[index + 1] === "string",
  );
  const host = port === undefined ? undefined : args[args.indexOf(port) + 1];
  record({ kind: "udp", host: host ?? "connected-socket", port: port ?? 0 });
  return send.apply(this, args);
};

const lookup = dns.lookup;
dns.lookup = function recordedLookup(hostname, ...rest) {
  record({ kind: "dns", host: String(hostname) });
  return lookup.call(this, hostname, ...rest);
};
const promisesLookup = dns.promises.lookup;
dns.promises.lookup = function recordedPromisesLookup(hostname, ...rest) {
  record({ kind: "dns", host: String(hostname) });
  return promisesLookup.call(this, hostname, ...rest);
};
for (const name of ["resolve", "resolve4", "resolve6", "resolveAny"]) {
  const original = dns[name];
  dns[name] = function recordedResolve(hostname, ...rest) {
    record({ kind: "dns", host: String(hostname) });
    return original.call(this, hostname, ...rest);
  };
}
