import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A host name no DNS resolves: `.invalid` is reserved for that (RFC 6761). */
export const UNRESOLVABLE_HOST = "hearth-test.invalid";

/** A loopback port bound and closed again: nothing listens there, a connection to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether the openssl command is there to make a certificate (CI installs it). */
export function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A key and a self-signed certificate for 127.0.0.1 (valid a day), made by openssl: no client trusts it. */
export function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "hearth-tls-"));
  try {
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
        .concat(["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        .concat(["-keyout", "server.key", "-out", "server.crt"]),
      { cwd: dir, stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "server.key")), cert: readFileSync(join(dir, "server.crt")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An https server on 127.0.0.1 with a self-signed certificate, answering 200 "ok" to whoever trusts it. */
export async function selfSignedHttpsServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createHttpsServer(selfSignedCertificate(), (request, response) => {
    request.resume();
    response.end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
