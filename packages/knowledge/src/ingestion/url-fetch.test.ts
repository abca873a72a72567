import { createServer, type Server } from "node:http";
import { OwnServices, type Resolver } from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closedPort,
  hasOpenssl,
  selfSignedHttpsServer,
  UNRESOLVABLE_HOST,
} from "../../../../test/support/unreachable-endpoints.js";
import { fetchDocument } from "./url-fetch.js";

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
  const options = {
    maxBytes: 1024,
    allowPrivateNetworks: false,
    allowPrivateRanges: [],
    ownServices: new OwnServices([]),
  };

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

  it("refuses a name that resolves to a private address, at connect time", async () => {
    const resolver: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];
    await expect(
      fetchDocument(`http://intranet.example:${port}/`, { ...options, resolver }),
    ).rejects.toMatchObject({ code: "URL_FETCH_FAILED", message: expect.stringContaining("private") });
  });

  it("names an internationalised host in its own letters, not as punycode", async () => {
    const resolver: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];
    await expect(fetchDocument(`http://例子.测试:${port}/`, { ...options, resolver })).rejects.toMatchObject({
      code: "URL_FETCH_FAILED",
      message:
        "例子.测试 is a private or loopback address (list it in knowledge.allowPrivateRanges to allow it)",
    });
  });

  describe("redirects", () => {
    // 127.0.0.2 plays the private network; 127.0.0.1 (the "public" server) is allowed.
    const seam = { ...options, allowPrivateRanges: ["127.0.0.1/32"] };

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
      const resolver: Resolver = async () => [{ address: "127.0.0.2", family: 4 }];
      await expect(
        fetchDocument(
          `http://127.0.0.1:${publicPort}/?to=${encodeURIComponent(`http://internal.example:${port}/`)}`,
          {
            ...seam,
            resolver,
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
  describe("knowledge.allowPrivateUrls and allowPrivateRanges", () => {
    it.each([
      ["127.0.0.1"],
      ["[::1]"],
      ["169.254.169.254"],
      ["[fe80::1]"],
      ["0.0.0.0"],
      ["100.100.100.200"],
      ["[fd00:ec2::254]"],
    ])("allowPrivateUrls opens the private networks, not http://%s", async (host) => {
      const before = hits;
      const seam = { ...options, allowPrivateNetworks: true };
      await expect(fetchDocument(`http://${host}:${port}/`, seam)).rejects.toMatchObject({
        code: "URL_FETCH_FAILED",
        message: expect.stringContaining("private or loopback"),
      });
      expect(hits).toBe(before);
    });

    it("fetches a page at an address listed in allowPrivateRanges", async () => {
      const seam = { ...options, allowPrivateNetworks: true, allowPrivateRanges: ["127.0.0.1/32"] };
      const fetched = await fetchDocument(`http://127.0.0.1:${port}/handbook`, seam);
      expect(Buffer.from(fetched.bytes).toString()).toBe("internal secret");
    });

    it("never fetches Hearth's own services, even at an allowed address or after a redirect", async () => {
      const seam = {
        ...options,
        allowPrivateRanges: ["127.0.0.0/8"],
        ownServices: new OwnServices([{ service: "knowledge", port }]),
      };
      const before = hits;
      for (const url of [
        `http://127.0.0.1:${port}/v1/knowledge-bases`,
        `http://127.0.0.1:${publicPort}/?to=${encodeURIComponent(`http://127.0.0.1:${port}/v1/knowledge-bases`)}`,
      ]) {
        await expect(fetchDocument(url, seam), url).rejects.toMatchObject({
          code: "URL_FETCH_FAILED",
          message: `127.0.0.1:${port} is one of Hearth's own services (the knowledge service), which URL ingestion never fetches`,
        });
      }
      expect(hits).toBe(before);
    });
  });

  describe("what search's address check refused and knowledge's did not", () => {
    it.each([
      ["192.88.99.1"], // 6to4 relay anycast (reserved)
      ["192.52.193.1"], // AMT
      ["192.175.48.1"], // AS112
      ["[2001:2::1]"], // benchmarking
      ["[2001:100::1]"], // IETF protocol assignments 2001::/23
      ["[5f00::1]"], // segment routing
      ["[3fff::1]"], // documentation (RFC 9637)
      ["[64:ff9b::c058:6301]"], // NAT64 of 192.88.99.1
    ])("refuses http://%s before connecting", async (host) => {
      await expect(fetchDocument(`http://${host}:${port}/`, options)).rejects.toMatchObject({
        code: "URL_FETCH_FAILED",
        message: expect.stringContaining("private or loopback"),
      });
    });

    it("resolves and checks a name again on every fetch: no pooled connection skips the check", async () => {
      let answer = "127.0.0.1";
      const resolver: Resolver = async () => [{ address: answer, family: 4 }];
      const seam = { ...options, allowPrivateRanges: ["127.0.0.1/32"], resolver };
      const fetched = await fetchDocument(`http://rebind.example:${port}/doc`, seam);
      expect(Buffer.from(fetched.bytes).toString()).toBe("internal secret");
      answer = "127.0.0.2";
      const before = hits;
      await expect(fetchDocument(`http://rebind.example:${port}/doc`, seam)).rejects.toMatchObject({
        code: "URL_FETCH_FAILED",
        message: expect.stringContaining("private"),
      });
      expect(hits).toBe(before);
    });
  });
});

describe("fetchDocument failures", () => {
  const loopbackAllowed = {
    maxBytes: 1024,
    allowPrivateNetworks: false,
    allowPrivateRanges: ["127.0.0.1/32"],
    ownServices: new OwnServices([]),
  };

  it("says why an address could not be reached: a refused connection, a name that does not resolve", async () => {
    const port = await closedPort();
    await expect(fetchDocument(`http://127.0.0.1:${port}/doc`, loopbackAllowed)).rejects.toMatchObject({
      code: "URL_FETCH_FAILED",
      message: `http://127.0.0.1:${port} did not answer: connection refused (ECONNREFUSED)`,
    });
    // A sandbox without DNS says it cannot ask rather than that the name is unknown.
    await expect(fetchDocument(`http://${UNRESOLVABLE_HOST}/doc`, loopbackAllowed)).rejects.toMatchObject({
      code: "URL_FETCH_FAILED",
      message: expect.stringMatching(
        /^http:\/\/hearth-test\.invalid did not answer: (hearth-test\.invalid does not resolve \(ENOTFOUND\)|DNS did not answer \(EAI_AGAIN\))$/,
      ),
    });
  });

  it("names the reason in details, for a page to say in its reader's language", async () => {
    const failure = (error: unknown) => ({
      code: (error as { code: string }).code,
      details: (error as { details: unknown }).details,
    });
    const refusedAddress = await fetchDocument("http://127.0.0.1:9/doc", {
      ...loopbackAllowed,
      allowPrivateRanges: [],
    }).catch(failure);
    expect(refusedAddress).toEqual({
      code: "URL_FETCH_FAILED",
      details: { reason: "private-address", host: "127.0.0.1" },
    });
    const lookupFailing = (code: string): Resolver => {
      return async () => {
        throw Object.assign(new Error(`getaddrinfo ${code}`), { code });
      };
    };
    const unknownName = await fetchDocument("http://例子.example/doc", {
      ...loopbackAllowed,
      resolver: lookupFailing("ENOTFOUND"),
    }).catch(failure);
    expect(unknownName).toEqual({
      code: "URL_FETCH_FAILED",
      details: { reason: "unresolved", host: "例子.example" },
    });
    // DNS that does not answer says nothing of the name: no reason the page words for it.
    const silentDns = await fetchDocument("http://docs.example/doc", {
      ...loopbackAllowed,
      resolver: lookupFailing("EAI_AGAIN"),
    }).catch(failure);
    expect(silentDns).toEqual({
      code: "URL_FETCH_FAILED",
      details: { reason: "no-answer", host: "docs.example" },
    });
    const missing = createServer((_request, response) => {
      response.statusCode = 404;
      response.end("gone");
    });
    const port = await listen(missing, "127.0.0.1");
    try {
      const gone = await fetchDocument(`http://127.0.0.1:${port}/gone`, loopbackAllowed).catch(failure);
      expect(gone).toEqual({ code: "URL_FETCH_FAILED", details: { reason: "status", status: 404 } });
    } finally {
      missing.close();
    }
  });

  it.skipIf(!hasOpenssl())("says that a site's TLS certificate was refused", async () => {
    const untrusted = await selfSignedHttpsServer();
    try {
      await expect(fetchDocument(`${untrusted.url}/doc`, loopbackAllowed)).rejects.toMatchObject({
        code: "URL_FETCH_FAILED",
        message: `${untrusted.url} did not answer: the TLS certificate was refused: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)`,
      });
    } finally {
      await untrusted.close();
    }
  });
});
