import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceProxy } from "./service-proxy.js";

const DOCUMENT_BYTES = 4 * 1024 * 1024;

/** A knowledge service stand-in: a document download, and a route that never answers. */
function standIn(): Server {
  return createServer(async (request, response) => {
    if (request.url === "/silent") return;
    response.writeHead(200, { "content-type": "application/pdf", "content-length": DOCUMENT_BYTES });
    response.end(Buffer.alloc(DOCUMENT_BYTES, 37));
  });
}

describe("ServiceProxy", () => {
  let server: Server;
  let proxy: ServiceProxy;

  beforeAll(async () => {
    server = standIn();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new ServiceProxy(
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      undefined,
      "knowledge",
    );
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it("lets a download that a slow client reads for longer than the timeout arrive whole", async () => {
    // A timeout a loaded machine still answers within; the client then pauses past it mid-download.
    const response = await proxy.request("GET", "/document", { timeoutMs: 1000 });
    const reader = response.body!.getReader();
    let received = (await reader.read()).value!.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      received += chunk.value.length;
    expect(received).toBe(DOCUMENT_BYTES);
  });

  it("still gives up on a service that does not answer within the timeout, naming it", async () => {
    await expect(proxy.request("GET", "/silent", { timeoutMs: 300 })).rejects.toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      details: { service: "knowledge" },
    });
  });
});
