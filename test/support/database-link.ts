import { connect, createServer, type Socket } from "node:net";

/**
 * A TCP link to a database server that a test breaks, as a failover, a network fault or a silent
 * middlebox does, and restores. Point the client at `port`.
 */
export interface DatabaseLink {
  port: number;
  /** The database's connection URL with its port changed to the link's. */
  url: string;
  /** Every open connection reset, new ones refused at once (a failover, a restart). */
  cut(): void;
  /**
   * Silence without a word (a NAT or load balancer that forgot the connections, a black hole):
   * open connections stop carrying anything and are never closed, new ones are accepted and never
   * reach the server. What was frozen stays so; restore() lets new connections through.
   */
  freeze(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function openDatabaseLink(databaseUrl: string): Promise<DatabaseLink> {
  const target = new URL(databaseUrl);
  /** Each connection through the link: its client's socket, the server's, and whether it went silent. */
  const open = new Set<{ client: Socket; upstream?: Socket; frozen: boolean }>();
  let mode: "open" | "cut" | "frozen" = "open";
  const server = createServer((client) => {
    if (mode === "cut") {
      client.destroy();
      return;
    }
    const connection: { client: Socket; upstream?: Socket; frozen: boolean } = {
      client,
      frozen: mode === "frozen",
    };
    open.add(connection);
    client.on("error", () => {});
    if (connection.frozen) return;
    const upstream = connect(Number(target.port || 5432), target.hostname);
    connection.upstream = upstream;
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      from.on("data", (data) => {
        if (!connection.frozen) to.write(data);
      });
      from.on("error", () => {
        if (!connection.frozen) to.destroy();
      });
      from.on("close", () => {
        if (connection.frozen) return;
        open.delete(connection);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  const destroyAll = () => {
    for (const connection of open) {
      connection.frozen = false;
      connection.client.destroy();
      connection.upstream?.destroy();
    }
    open.clear();
  };
  return {
    port,
    url: url.href,
    cut() {
      mode = "cut";
      destroyAll();
    },
    freeze() {
      mode = "frozen";
      for (const connection of open) connection.frozen = true;
    },
    restore() {
      mode = "open";
    },
    close() {
      destroyAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
