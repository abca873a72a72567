import { spawn } from "node:child_process";
import { rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canRunNginx, type HearthNginx, headers, startNginx } from "./support/nginx.js";

/**
 * deploy/nginx/hearth.conf in the real nginx from Debian, with a generated certificate, in front of
 * a stand-in upstream: an SSE chat that pauses between tokens, a hashed asset, an upload sink. It
 * checks what `hearth up` cannot show on demand (a pause mid-stream, caching, gzip, body limits);
 * nginx-hearth-up.test.ts runs the same config in front of the real `hearth up`.
 */

/** The size of the stand-in document download: more than nginx's buffers and the socket's hold. */
const DOCUMENT_BYTES = 24 * 1024 * 1024;

/** The fixture upstream: an SSE chat that pauses between tokens, hashed assets, an upload sink, a large document. */
function fixtureUpstream(): Server {
  return createServer(async (request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path === "/api/knowledge-bases/kb1/documents/doc1/file") {
      response.writeHead(200, { "content-type": "application/pdf", "content-length": DOCUMENT_BYTES });
      const chunk = Buffer.alloc(1024 * 1024, 37);
      for (let sent = 0; sent < DOCUMENT_BYTES; sent += chunk.length) {
        if (!response.write(chunk)) await new Promise((resolve) => response.once("drain", resolve));
      }
      return response.end();
    }
    if (path === "/healthz") {
      response.setHeader("content-type", "application/json");
      return response.end(JSON.stringify({ status: "ok", service: "web" }));
    }
    if (
      path === "/v1/chat/completions" ||
      path === "/api/knowledge-bases/kb1/documents" ||
      path === "/api/conversations/import"
    ) {
      let bytes = 0;
      for await (const chunk of request) bytes += (chunk as Buffer).length;
      if (path !== "/v1/chat/completions") {
        response.setHeader("content-type", "application/json");
        return response.end(JSON.stringify({ received: bytes }));
      }
      // Like ReplyStream: no X-Accel-Buffering here, so nginx's own config must keep it unbuffered.
      response.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
      });
      response.write(`data: ${JSON.stringify({ choices: [{ delta: { content: "你好" } }] })}\n\n`);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      response.write(`data: ${JSON.stringify({ choices: [{ delta: { content: "，世界" } }] })}\n\n`);
      return response.end("data: [DONE]\n\n");
    }
    if (path === "/assets/index-3f9a1c2b.js") {
      // As packages/web/src/ui/serve-ui.ts does for the hashed assets it has.
      response.setHeader("cache-control", "public, max-age=31536000, immutable");
      response.setHeader("content-type", "application/javascript");
      return response.end(`export const greeting = ${JSON.stringify("hello ".repeat(2000))};\n`);
    }
    if (path === "/metrics") return response.end("hearth_up 1\n");
    if (path?.startsWith("/assets/")) {
      response.writeHead(404, { "content-type": "application/json" });
      return response.end('{"error":{"code":"NOT_FOUND"}}');
    }
    response.setHeader("content-type", "text/html; charset=utf-8");
    response.end("<!doctype html><title>Hearth</title>");
  });
}

describe.skipIf(!canRunNginx)(
  "nginx in front of a stand-in upstream (real nginx, generated certificate)",
  () => {
    let upstream: Server;
    let nginx: HearthNginx;
    let base: string;
    const curl = (args: string[]) => nginx.curl(args);

    beforeAll(async () => {
      upstream = fixtureUpstream();
      await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
      nginx = await startNginx((upstream.address() as AddressInfo).port);
      base = nginx.base;
    });

    afterAll(async () => {
      await nginx?.stop();
      upstream?.close();
    });

    it("streams a chat over HTTP/2 token by token, unbuffered", async () => {
      const body = JSON.stringify({
        model: "stand-in",
        stream: true,
        messages: [{ role: "user", content: "你好" }],
      });
      const args = [
        "-sS",
        "--cacert",
        nginx.certificate,
        "--http2",
        "-N",
        "--compressed",
        "-X",
        "POST",
        "-H",
        "content-type: application/json",
        "--data",
        body,
        "-w",
        "\nHTTP/%{http_version}\n",
        `${base}/v1/chat/completions`,
      ];
      const started = performance.now();
      const child = spawn("curl", args);
      let output = "";
      let firstEventAt: number | undefined;
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (firstEventAt === undefined && output.includes("data:"))
          firstEventAt = performance.now() - started;
      });
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      const finishedAt = performance.now() - started;
      expect(code).toBe(0);
      expect(output).toContain("HTTP/2");
      expect(output).toContain("data: [DONE]");
      expect(output).toContain("你好");
      // The first token reached the client long before the answer ended: nothing held it back.
      expect(finishedAt - firstEventAt!).toBeGreaterThan(900);
    });

    it("sends plain HTTP on to HTTPS, path and query kept", async () => {
      const answer = await curl([
        "-D",
        "-",
        "-o",
        "/dev/null",
        "-H",
        "host: chat.example.com",
        `${nginx.plainBase}/c/abc?draft=1`,
      ]);
      expect(answer.stdout).toMatch(/^HTTP\/1\.1 301/);
      expect(headers(answer.stdout).location).toBe("https://chat.example.com/c/abc?draft=1");
    });

    it("refuses TLS 1.2 and speaks TLS 1.3", async () => {
      const refused = await curl(["--tlsv1.2", "--tls-max", "1.2", "-o", "/dev/null", `${base}/healthz`]);
      expect(refused.status).not.toBe(0);
      const accepted = await curl(["--tlsv1.3", "-o", "/dev/null", "-w", "%{http_code}", `${base}/healthz`]);
      expect(accepted).toMatchObject({ status: 0, stdout: "200" });
    });

    it("sends the security headers, on errors too", async () => {
      for (const path of ["/", "/metrics"]) {
        const answer = headers(
          (await curl(["--http2", "-D", "-", "-o", "/dev/null", `${base}${path}`])).stdout,
        );
        expect(answer["strict-transport-security"]).toMatch(/max-age=\d{8}/);
        expect(answer["content-security-policy"]).toContain("default-src 'self'");
        expect(answer["content-security-policy"]).toContain("frame-ancestors 'none'");
        expect(answer["x-content-type-options"]).toBe("nosniff");
        expect(answer["referrer-policy"]).toBe("no-referrer");
        expect(answer.server).toBe("nginx");
      }
      // Prometheus scrapes the services inside; /metrics is not reachable from outside.
      expect((await curl(["-o", "/dev/null", "-w", "%{http_code}", `${base}/metrics`])).stdout).toBe("404");
    });

    it("gzips hashed assets and lets browsers cache them for a year, with the security headers kept", async () => {
      const raw = (
        await curl([
          "--http2",
          "-H",
          "accept-encoding: gzip",
          "-D",
          "-",
          "-o",
          "/dev/null",
          `${base}/assets/index-3f9a1c2b.js`,
        ])
      ).stdout;
      const answer = headers(raw);
      expect(answer["content-encoding"]).toBe("gzip");
      // One Cache-Control, the web service's: nginx adds no second one.
      expect(raw.match(/^cache-control:/gim)).toHaveLength(1);
      expect(answer["cache-control"]).toBe("public, max-age=31536000, immutable");
      expect(answer["x-content-type-options"]).toBe("nosniff");
      expect(answer["strict-transport-security"]).toBeDefined();
    });

    it("never lets a missing asset be cached for a year", async () => {
      const raw = (await curl(["--http2", "-D", "-", "-o", "/dev/null", `${base}/assets/index-00000000.js`]))
        .stdout;
      expect(raw).toMatch(/^HTTP\/2 404/m);
      expect(raw).not.toMatch(/immutable|max-age=31536000, /i);
      expect(headers(raw)["x-content-type-options"]).toBe("nosniff");
    });

    it("sends a large document whole to a slow client, even when nginx's temporary storage is full", async () => {
      // In compose, nginx's proxy_temp lies on a 64 MB tmpfs: a document larger than that, read
      // slowly, used to be spooled there until the tmpfs was full, then cut off after a 200. Here no
      // temporary file can be written at all (a file where nginx's proxy_temp directory should be).
      const temporary = join(nginx.directory, "proxy");
      rmSync(temporary, { recursive: true, force: true });
      writeFileSync(temporary, "");
      const saved = join(nginx.directory, "document.pdf");
      const download = await curl([
        "--limit-rate",
        "8M",
        "-o",
        saved,
        "-w",
        "%{http_code}",
        `${base}/api/knowledge-bases/kb1/documents/doc1/file`,
      ]);
      expect(download).toMatchObject({ status: 0, stdout: "200" });
      expect(statSync(saved).size).toBe(DOCUMENT_BYTES);
    });

    it("limits request bodies, 10 MB for chat, 50 MB for conversation imports and 200 MB for document uploads, with Hearth's JSON error", async () => {
      const big = join(nginx.directory, "twelve-megabytes.bin");
      writeFileSync(big, Buffer.alloc(12 * 1024 * 1024, 97));
      const upload = await curl([
        "-H",
        "content-type: multipart/form-data; boundary=x",
        "--data-binary",
        `@${big}`,
        `${base}/api/knowledge-bases/kb1/documents`,
      ]);
      expect(JSON.parse(upload.stdout)).toEqual({ received: 12 * 1024 * 1024 });
      // A history exported from elsewhere is larger than a chat: up to web.importLimitBytes (50 MiB).
      const imported = await curl([
        "-H",
        "content-type: application/json",
        "--data-binary",
        `@${big}`,
        `${base}/api/conversations/import`,
      ]);
      expect(JSON.parse(imported.stdout)).toEqual({ received: 12 * 1024 * 1024 });
      // Over the limit: the code the web service itself answers with, never nginx's HTML page.
      const refusals = [
        ["--data-binary", `@${big}`, `${base}/v1/chat/completions`],
        [
          "--http1.1",
          "-H",
          `content-length: ${51 * 1024 * 1024}`,
          "--data-binary",
          "x",
          `${base}/api/conversations/import`,
        ],
        // Announced over 200 MB: refused before any of it is sent.
        [
          "--http1.1",
          "-H",
          `content-length: ${201 * 1024 * 1024}`,
          "--data-binary",
          "x",
          `${base}/api/knowledge-bases/kb1/documents`,
        ],
      ];
      for (const args of refusals) {
        const refused = await curl(["-D", "-", ...args]);
        const [head, body] = refused.stdout.split(/\r?\n\r?\n/, 2);
        expect(head, args.at(-1)).toMatch(/^HTTP\/[\d.]+ 413/);
        expect(headers(head!)["content-type"]).toBe("application/json");
        expect(JSON.parse(body!)).toEqual({
          error: { code: "PAYLOAD_TOO_LARGE", message: expect.any(String) },
        });
      }
    });
  },
);
