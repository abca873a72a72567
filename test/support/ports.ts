import type { Server } from "node:http";
import { createServer } from "node:net";

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
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
