import { createServer, type Server } from "node:http";
import { BlockList } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchDocument, isPrivateAddress } from "./url-fetch.js";

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, host, () => resolve((server.address() as { port: number }).port)),
  );
}

describe("fetchDocument address checks", () => {
  let hits = 0;
  let port = 0;
  const internal = createServer((_request, response) => {
    hits++;
    response.setHeader("content-type", "text/plain");
    response.end("internal secret");
  });
  // Stands in for a public server: it is reached on 127.0.0.1, which the tests' ranges allow.
  let publicPort = 0;
  const publicServer = createServer((request, response) => {
    const target = new URL(request.url ?? "/", "http://x").searchParams.get("to") ?? "/";
    response.statusCode = 302;
    response.setHeader("location", target);
    response.end();
  });
  beforeAll(async () => {
    port = await listen(internal, "0.0.0.0");
    publicPort = await listen(publicServer, "127.0.0.1");
  });
  afterAll(() => {
    internal.close();
    publicServer.close();
  });
  const options = { maxBytes: 1024, allowPrivateNetwork: false };

  it.each([
    ["127.0.0.1"],
    ["[::ffff:127.0.0.1]"],
    ["[::ffff:7f00:1]"],
    ["[::ffff:0:7f00:1]"],
    ["[::1]"],
    ["[::]"],
    ["0.0.0.0"],
    ["0x7f000001"],
    ["2130706433"],
    ["[64:ff9b::7f00:1]"],
    ["[2002:7f00:1::]"],
    ["[2002:a9fe:a9fe::1]"],
    ["[fd00::1]"],
    ["[fe80::1]"],
  ])("refuses http://%s before connecting", async (host) => {
    const before = hits;
    await expect(fetchDocument(`http://${host}:${port}/healthz`, options)).rejects.toMatchObject({
      code: "URL_FETCH_FAILED",
      message: expect.stringContaining("private or loopback"),
    });
    expect(hits).toBe(before);
  });

  it("classifies the ranges, including IPv4 embedded in IPv6", () => {
    for (const address of [
      "10.1.2.3",
      "100.64.0.1",
      "169.254.169.254",
      "172.31.0.1",
      "192.168.1.1",
      "224.0.0.1",
      "255.255.255.255",
      "::ffff:a9fe:a9fe",
      "::ffff:10.0.0.1",
      "fc00::1",
      "ff02::1",
    ])
      expect(isPrivateAddress(address), address).toBe(true);
    for (const address of [
      "93.184.216.34",
      "2606:4700::1111",
      "::ffff:5db8:d822",
      "2002:5db8:d822::1",
      "64:ff9b::5db8:d822",
    ])
      expect(isPrivateAddress(address), address).toBe(false);
  });

  it("refuses a name that resolves to a private address, at connect time", async () => {
    const lookup = ((_host: string, _options: unknown, callback: (e: null, all: object[]) => void) =>
      callback(null, [{ address: "127.0.0.1", family: 4 }])) as never;
    await expect(
      fetchDocument(`http://intranet.example:${port}/`, { ...options, lookup }),
    ).rejects.toMatchObject({ code: "URL_FETCH_FAILED", message: expect.stringContaining("private") });
  });

  describe("redirects", () => {
    // 127.0.0.2 plays the private network; 127.0.0.1 (the "public" server) is allowed.
    const privateRanges = new BlockList();
    privateRanges.addAddress("127.0.0.2");
    const seam = { ...options, privateRanges };

    it("follows a redirect to an allowed address", async () => {
      const fetched = await fetchDocument(
        `http://127.0.0.1:${publicPort}/start?to=${encodeURIComponent(`http://127.0.0.1:${port}/doc`)}`,
        seam,
      );
      expect(Buffer.from(fetched.bytes).toString()).toBe("internal secret");
    });

    it("re-checks each hop: a redirect to a private address is refused", async () => {
      const before = hits;
      await expect(
        fetchDocument(
          `http://127.0.0.1:${publicPort}/?to=${encodeURIComponent(`http://127.0.0.2:${port}/`)}`,
          seam,
        ),
      ).rejects.toMatchObject({ code: "URL_FETCH_FAILED", message: expect.stringContaining("private") });
      const lookup = ((_host: string, _options: unknown, callback: (e: null, all: object[]) => void) =>
        callback(null, [{ address: "127.0.0.2", family: 4 }])) as never;
      await expect(
        fetchDocument(
          `http://127.0.0.1:${publicPort}/?to=${encodeURIComponent(`http://internal.example:${port}/`)}`,
          {
            ...seam,
            lookup,
          },
        ),
      ).rejects.toMatchObject({ code: "URL_FETCH_FAILED", message: expect.stringContaining("private") });
      expect(hits).toBe(before);
    });

    it("refuses a redirect to another scheme and stops after five hops", async () => {
      await expect(
        fetchDocument(`http://127.0.0.1:${publicPort}/?to=${encodeURIComponent("file:///etc/passwd")}`, seam),
      ).rejects.toMatchObject({ code: "URL_FETCH_FAILED" });
      let loop = `http://127.0.0.1:${publicPort}/`;
      for (let i = 0; i < 6; i++) loop = `http://127.0.0.1:${publicPort}/?to=${encodeURIComponent(loop)}`;
      await expect(fetchDocument(loop, seam)).rejects.toMatchObject({
        code: "URL_FETCH_FAILED",
        message: expect.stringContaining("more than 5"),
      });
    });
  });
});
