import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { createServer } from "node:net";

/** Ports each test worker hands out, from its own block. */
const BLOCK_SIZE = 1000;
const FIRST_BLOCK = 10_000;
let blockStart: number | undefined;
let handedOut = 0;

/** Where the kernel starts picking ports for `listen(0)` and for outgoing connections. */
function ephemeralRangeStart(): number {
  try {
    const [start] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
    return Number(start) || 32_768;
  } catch {
    return 32_768;
  }
}

/** The first port of this test worker's block. */
function workerBlockStart(): number {
  const worker = Math.max(1, Number(process.env.VITEST_POOL_ID) || 1);
  const blocks = Math.max(1, Math.floor((ephemeralRangeStart() - FIRST_BLOCK) / BLOCK_SIZE));
  return FIRST_BLOCK + ((worker - 1) % blocks) * BLOCK_SIZE;
}

function canListen(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port on 127.0.0.1 for a service a test starts in another process, which must be told its
 * port before it binds. A port from `listen(0)` is ephemeral: between its release and the service's
 * bind, any connection's local port or another test's `listen(0)` could take it (it happened in
 * CI). So ports come from below the ephemeral range, from a block of this test worker's own
 * (VITEST_POOL_ID), never the same one twice in a test file, and only once a bind shows it free.
 */
export async function freePort(): Promise<number> {
  blockStart ??= workerBlockStart();
  const first = blockStart;
  while (handedOut < BLOCK_SIZE) {
    const port = first + handedOut;
    handedOut += 1;
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port left in ${first}-${first + BLOCK_SIZE - 1}`);
}

/** Environment that puts all four services on free loopback ports. */
export async function serviceEnvironment(dataDir: string): Promise<Record<string, string>> {
  return {
    HEARTH_DATA_DIR: dataDir,
    HEARTH_HOST: "127.0.0.1",
    HEARTH_PORT: String(await freePort()),
    HEARTH_MODEL_PORT: String(await freePort()),
    HEARTH_SEARCH_PORT: String(await freePort()),
    HEARTH_KNOWLEDGE_PORT: String(await freePort()),
    HEARTH_OLLAMA_AUTODETECT: "false",
    HEARTH_THREADS: "1",
    HEARTH_LOG_LEVEL: "warn",
  };
}

/** Starts a test server on a free loopback port; `close` also drops its kept-alive connections. */
export async function listenOnLoopback(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
