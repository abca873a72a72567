import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/shared-data.js";
import { canRunNginx, type HearthNginx, headers, startNginx } from "./support/nginx.js";

/**
 * Every route of the web service that streams its answer (SSE or NDJSON) must pass through
 * deploy/nginx/hearth.conf unbuffered and with the long read timeout: a pause longer than the
 * default `proxy_read_timeout` (a reasoning model thinking, a model download, an ingestion job)
 * otherwise cuts the answer off. The routes are found in packages/web/src, so that a new streaming
 * route fails this test until nginx covers it.
 */

const webSource = join(repoRoot, "packages/web/src");

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** `METHOD /path` of each route whose handler streams: ReplyStream, an SSE or NDJSON body, a hijacked reply. */
function streamingRoutes(): string[] {
  const routes: string[] = [];
  for (const file of sourceFiles(webSource)) {
    const text = readFileSync(file, "utf8");
    // Local helpers, and among them those that stream for a route (conversation-routes' `answer`).
    const definitions = [
      ...text.matchAll(/const (\w+) = (?:async )?\([^)]*\)[^=]*=>\s*\{([\s\S]*?)\n\s*\};/g),
    ];
    const helpers = definitions
      .filter((match) => /new ReplyStream\(/.test(match[2]!))
      .map((match) => match[1]!);
    // No helper's own body is a route's handler, wherever it is defined between the routes.
    const routesText = definitions.reduce((rest, match) => rest.replace(match[0], ""), text);
    const marker = new RegExp(
      [
        "new ReplyStream\\(",
        "[\"']text/event-stream",
        "application/x-ndjson",
        "reply\\.hijack\\(",
        ...helpers.map((name) => `\\b${name}\\(`),
      ].join("|"),
    );
    const registrations = [...routesText.matchAll(/app\.(get|post|put|patch|delete)\(\s*"([^"]+)"/g)];
    registrations.forEach((registration, index) => {
      const end = registrations[index + 1]?.index ?? routesText.length;
      const handler = routesText.slice(registration.index, end);
      // `accept: "text/event-stream"` asks the upstream for a stream; it is not a stream by itself.
      const streams = marker.test(handler.replace(/accept: "text\/event-stream"/g, ""));
      if (streams) routes.push(`${registration[1]!.toUpperCase()} ${registration[2]!}`);
    });
    if (/new ReplyStream\(|text\/event-stream|x-ndjson/.test(text) && registrations.length > 0)
      expect(routes.length, relative(repoRoot, file)).toBeGreaterThan(0);
  }
  return routes.sort();
}

/** A concrete request path for a route pattern (`:id` filled in). */
const concrete = (route: string) => route.split(" ")[1]!.replace(/:\w+/g, "c0ffee");

const PAUSE_MS = 3000;

/** Answers every path with a stream that pauses PAUSE_MS between its two events. */
function pausingUpstream(): Server {
  return createServer(async (request, response) => {
    for await (const _chunk of request) {
      // drain the body
    }
    if ((request.url ?? "/").startsWith("/healthz")) return response.end('{"status":"ok"}');
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
    });
    response.write("data: first\n\n");
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    response.end("data: second\n\n");
  });
}

describe("the web service's streaming routes", () => {
  it("are found in packages/web/src (the chat, conversation, model pull and job event streams)", () => {
    expect(streamingRoutes()).toEqual(
      expect.arrayContaining([
        "POST /v1/chat/completions",
        "POST /api/chat",
        "POST /api/conversations/:id/messages",
        "POST /api/conversations/:id/regenerate",
        "POST /api/conversations/:id/continue",
        "POST /api/admin/models/pull",
        "GET /api/jobs/:jobId/events",
      ]),
    );
  });
});

describe.skipIf(!canRunNginx)("deploy/nginx/hearth.conf and every streaming route (real nginx)", () => {
  let upstream: Server;
  let nginx: HearthNginx;

  beforeAll(async () => {
    upstream = pausingUpstream();
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    // The default read timeout shortened to 1 s: a location that keeps it cuts the 3 s pause.
    nginx = await startNginx((upstream.address() as AddressInfo).port, { defaultReadTimeout: "1s" });
  });

  afterAll(async () => {
    await nginx?.stop();
    upstream?.close();
  });

  /** curl through nginx; when the first event and the end arrived, and the response headers. */
  const streamThrough = (method: string, path: string) =>
    new Promise<{ output: string; firstAt?: number; endedAt: number; status: number | null }>((resolve) => {
      const started = performance.now();
      let firstAt: number | undefined;
      let output = "";
      const child = spawn("curl", [
        "-sS",
        "-N",
        "--http2",
        "--cacert",
        nginx.certificate,
        "-H",
        "accept-encoding: gzip",
        "-D",
        "-",
        "-X",
        method,
        ...(method === "GET" ? [] : ["-H", "content-type: application/json", "--data", "{}"]),
        `${nginx.base}${path}`,
      ]);
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (firstAt === undefined && output.includes("data: first")) firstAt = performance.now() - started;
      });
      child.on("close", (status) =>
        resolve({ output, firstAt, endedAt: performance.now() - started, status }),
      );
    });

  it("keeps the default short read timeout elsewhere (the control: a plain API route is cut)", async () => {
    const plain = await streamThrough("GET", "/api/conversations/c0ffee");
    expect(plain.output).toContain("data: first");
    expect(plain.output).not.toContain("data: second");
  });

  it("streams each of them unbuffered and uncompressed through a pause longer than the default timeout", async () => {
    const routes = streamingRoutes();
    const results = await Promise.all(
      routes.map(async (route) => ({
        route,
        ...(await streamThrough(route.split(" ")[0]!, concrete(route))),
      })),
    );
    for (const { route, output, status, firstAt, endedAt } of results) {
      expect(status, route).toBe(0);
      expect(output, route).toContain("data: first");
      // Not cut at the default read timeout.
      expect(output, route).toContain("data: second");
      // Not held back: the first event reached the client long before the stream ended.
      expect(endedAt - firstAt!, route).toBeGreaterThan(PAUSE_MS - 500);
      expect(headers(output)["content-encoding"], route).toBeUndefined();
    }
  });
});
