import { createServer } from "node:http";
import { networkInterfaces, tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config/load-config.js";
import { OwnServices } from "./own-services.js";
import { type Resolver, SafeFetchError, SafeFetcher } from "./safe-fetch.js";

const noDns: Resolver = async (hostname) => {
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
};
const at = (services: OwnServices, url: string, addresses: string[], resolve: Resolver = noDns) =>
  services.serviceAt(new URL(url), addresses, resolve);

/** An address of this machine other than loopback, when it has one. */
const interfaceAddress = Object.values(networkInterfaces())
  .flat()
  .find((entry) => entry && !entry.internal && entry.family === "IPv4")?.address;

describe("Hearth's own services", () => {
  const single = OwnServices.fromConfig(loadConfig({ env: {}, cwd: tmpdir() }));

  it("are every configured port on this machine: loopback, unspecified and IPv4-mapped forms", async () => {
    expect(await at(single, "http://127.0.0.1:8083/v1/knowledge-bases", ["127.0.0.1"])).toBe("knowledge");
    expect(await at(single, "http://127.0.0.2:8081/", ["127.0.0.2"])).toBe("model");
    expect(await at(single, "http://[::1]:8082/", ["::1"])).toBe("search");
    expect(await at(single, "http://[::ffff:7f00:1]:8080/", ["::ffff:7f00:1"])).toBe("web");
    expect(await at(single, "http://0.0.0.0:8083/", ["0.0.0.0"])).toBe("knowledge");
    expect(await at(single, "http://localhost:8083/", ["127.0.0.1"])).toBe("knowledge");
    expect(await at(single, "http://127.0.0.1:8084/", ["127.0.0.1"])).toBeUndefined();
    expect(await at(single, "http://10.1.2.3:8083/", ["10.1.2.3"])).toBeUndefined();
  });

  it.skipIf(!interfaceAddress)("include this machine's interface addresses", async () => {
    expect(await at(single, `http://${interfaceAddress}:8083/`, [interfaceAddress!])).toBe("knowledge");
  });

  it("are the configured service URLs, by host name and by the addresses it resolves to", async () => {
    const split = OwnServices.fromConfig(
      loadConfig({
        env: {},
        cwd: tmpdir(),
        overrides: {
          services: { knowledgeUrl: "http://Knowledge.Internal:9000", modelUrl: "https://model.internal" },
        },
      }),
    );
    const dns: Resolver = async (hostname) => {
      if (hostname === "knowledge.internal") return [{ address: "10.0.0.7", family: 4 }];
      return noDns(hostname);
    };
    expect(await at(split, "http://knowledge.internal.:9000/", ["10.0.0.7"], dns)).toBe("knowledge");
    expect(await at(split, "http://10.0.0.7:9000/", ["10.0.0.7"], dns)).toBe("knowledge");
    expect(await at(split, "http://alias.internal:9000/", ["10.0.0.7"], dns)).toBe("knowledge");
    expect(await at(split, "http://10.0.0.8:9000/", ["10.0.0.8"], dns)).toBeUndefined();
    expect(await at(split, "http://10.0.0.7:9001/", ["10.0.0.7"], dns)).toBeUndefined();
    expect(await at(split, "https://model.internal/v1/models", ["10.0.0.9"], dns)).toBe("model");
    expect(await at(split, "http://model.internal/v1/models", ["10.0.0.9"], dns)).toBeUndefined();
  });
});

describe("SafeFetcher and Hearth's own services", () => {
  const listen = async (handler: Parameters<typeof createServer>[1]) => {
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { server, port: (server.address() as { port: number }).port };
  };
  let serviceRequests = 0;
  let service: Awaited<ReturnType<typeof listen>>;
  let intranet: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    // Plays the knowledge service's port on this machine.
    service = await listen((_request, response) => {
      serviceRequests++;
      response.end("private passages");
    });
    // An intranet server: redirects wherever ?to= says.
    intranet = await listen((request, response) => {
      const to = new URL(request.url ?? "/", "http://x").searchParams.get("to") ?? "/";
      response.writeHead(302, { location: to }).end();
    });
  });
  afterAll(() => {
    service.server.close();
    intranet.server.close();
  });

  it("refuses a service's port on every hop, whatever ranges are allowed, without sending it a request", async () => {
    const fetcher = new SafeFetcher({
      maxBytes: 1000,
      timeoutMs: 2000,
      maxRedirects: 2,
      allowPrivateRanges: ["127.0.0.0/8"],
      ownServices: new OwnServices([{ service: "knowledge", port: service.port }]),
      resolver: async () => [{ address: "127.0.0.1", family: 4 }],
    });
    const passages = `http://127.0.0.1:${service.port}/v1/knowledge-bases`;
    for (const url of [
      passages,
      `http://127.0.0.3:${service.port}/v1/knowledge-bases`,
      `http://hearth.test:${service.port}/v1/knowledge-bases`,
      `http://127.0.0.1:${intranet.port}/?to=${encodeURIComponent(passages)}`,
    ]) {
      const failure = await fetcher.fetch(url).then(
        () => undefined,
        (error: unknown) => (error instanceof SafeFetchError ? error.failure : error),
      );
      expect(failure, url).toMatchObject({ kind: "own-service", service: "knowledge" });
    }
    expect(serviceRequests).toBe(0);
  });
});
