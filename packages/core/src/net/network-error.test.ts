import { createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import {
  closedPort,
  hasOpenssl,
  selfSignedHttpsServer,
  UNRESOLVABLE_HOST,
} from "../../../../test/support/unreachable-endpoints.js";
import { HearthError } from "../errors/hearth-error.js";
import { describeNetworkError } from "./network-error.js";

/** What fetch threw for `url`. */
async function fetchFailure(url: string, init?: RequestInit): Promise<unknown> {
  try {
    await fetch(url, init);
  } catch (error) {
    return error;
  }
  throw new Error(`${url} answered`);
}

/** A TCP server on 127.0.0.1 that does `onConnection` with each connection; `close` cuts them all. */
async function rawServer(
  onConnection: (socket: Socket) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("describeNetworkError", () => {
  it("says what fetch's bare 'fetch failed' hides: a refused connection, a name that does not resolve", async () => {
    const refused = await fetchFailure(`http://127.0.0.1:${await closedPort()}/x`);
    expect((refused as Error).message).toBe("fetch failed");
    expect(describeNetworkError(refused)).toBe("connection refused (ECONNREFUSED)");
    // A sandbox without DNS may say it cannot ask (EAI_AGAIN) rather than that the name is unknown.
    expect(describeNetworkError(await fetchFailure(`http://${UNRESOLVABLE_HOST}/x`))).toMatch(
      new RegExp(
        `^(${UNRESOLVABLE_HOST} does not resolve \\(ENOTFOUND\\)|DNS did not answer \\(EAI_AGAIN\\))$`,
      ),
    );
  });

  it.skipIf(!hasOpenssl())(
    "names a certificate the client refuses, and TLS spoken to a plain port",
    async () => {
      const server = await selfSignedHttpsServer();
      try {
        expect(describeNetworkError(await fetchFailure(server.url))).toBe(
          "the TLS certificate was refused: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)",
        );
      } finally {
        await server.close();
      }
      const plain = await rawServer((socket) => socket.end("HTTP/1.1 200 OK\r\n\r\n"));
      try {
        expect(describeNetworkError(await fetchFailure(`https://127.0.0.1:${plain.port}/`))).toBe(
          "the TLS handshake failed: the server does not speak TLS there (an http URL?) (ERR_SSL_WRONG_VERSION_NUMBER)",
        );
      } finally {
        await plain.close();
      }
    },
  );

  it("says a timeout, a reset and a server that hung up in words", async () => {
    const silent = await rawServer(() => {});
    const reset = await rawServer((socket) => socket.once("data", () => socket.resetAndDestroy()));
    const hungUp = await rawServer((socket) => socket.once("data", () => socket.end()));
    const url = (server: { port: number }) => `http://127.0.0.1:${server.port}/`;
    try {
      expect(
        describeNetworkError(await fetchFailure(url(silent), { signal: AbortSignal.timeout(100) })),
      ).toBe("no answer in time");
      expect(describeNetworkError(await fetchFailure(url(reset)))).toBe(
        "the connection was reset (ECONNRESET)",
      );
      expect(describeNetworkError(await fetchFailure(url(hungUp)))).toBe(
        "the server closed the connection (UND_ERR_SOCKET)",
      );
    } finally {
      await Promise.all([silent, reset, hungUp].map((server) => server.close()));
    }
  });

  it("keeps a message that says it already, and never a URL's credentials", () => {
    expect(
      describeNetworkError(new HearthError("UPSTREAM_UNAVAILABLE", "the knowledge service did not answer")),
    ).toBe("the knowledge service did not answer");
    expect(describeNetworkError(new Error("no answer within 30000 ms"))).toBe("no answer within 30000 ms");
    const invalid = Object.assign(new TypeError("Failed to parse URL"), {
      cause: Object.assign(new TypeError("Invalid URL: https://bob:hunter2@host/x?token=T0KEN"), {
        code: "ERR_INVALID_URL",
      }),
    });
    expect(describeNetworkError(invalid)).toBe(
      "Invalid URL: https://[redacted]@host/x?[redacted] (ERR_INVALID_URL)",
    );
  });
});
