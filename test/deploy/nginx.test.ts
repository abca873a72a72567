import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/shared-data.js";

/**
 * Runs deploy/nginx/hearth.conf in the real nginx from Debian, with a generated certificate, in
 * front of an upstream that streams SSE. HEARTH_NGINX_UPSTREAM_COMMAND runs another upstream
 * instead (e.g. `node packages/cli/dist/main.js up`; it gets HEARTH_PORT), with
 * HEARTH_NGINX_CHAT_MODEL and HEARTH_NGINX_API_KEY for the chat request.
 */
const available = (command: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const nginxBinary = ["/usr/sbin/nginx", "nginx"].find((candidate) =>
  candidate.startsWith("/") ? available(candidate) : available(candidate),
);
const canRun = nginxBinary !== undefined && available("openssl") && available("curl");
const upstreamCommand = process.env.HEARTH_NGINX_UPSTREAM_COMMAND;

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The fixture upstream: an SSE chat that pauses between tokens, hashed assets, an upload sink. */
function fixtureUpstream(): Server {
  return createServer(async (request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      response.setHeader("content-type", "application/json");
      return response.end(JSON.stringify({ status: "ok", service: "web" }));
    }
    if (path === "/v1/chat/completions" || path === "/api/knowledge/upload") {
      let bytes = 0;
      for await (const chunk of request) bytes += (chunk as Buffer).length;
      if (path === "/api/knowledge/upload") {
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
      response.setHeader("content-type", "application/javascript");
      return response.end(`export const greeting = ${JSON.stringify("hello ".repeat(2000))};\n`);
    }
    if (path === "/metrics") return response.end("hearth_up 1\n");
    response.setHeader("content-type", "text/html; charset=utf-8");
    response.end("<!doctype html><title>Hearth</title>");
  });
}

/** curl, asynchronously: the fixture upstream runs in this process and must keep answering. */
function curl(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "curl",
      ["-sS", "-k", ...args],
      { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

function headers(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^([^:\s]+):\s*(.*)$/.exec(line);
    if (match) result[match[1]!.toLowerCase()] = match[2]!;
  }
  return result;
}

describe.skipIf(!canRun)("nginx in front of Hearth (real nginx, generated certificate)", () => {
  let directory: string;
  let nginx: ChildProcess;
  let upstream: Server | undefined;
  let upstreamProcess: ChildProcess | undefined;
  let base: string;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "hearth-nginx-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout",
        join(directory, "tls.key"),
        "-out",
        join(directory, "tls.crt"),
      ],
      { stdio: "ignore" },
    );

    let upstreamPort: number;
    if (upstreamCommand) {
      upstreamPort = await freePort();
      upstreamProcess = spawn("sh", ["-c", upstreamCommand], {
        cwd: repoRoot,
        env: { ...process.env, HEARTH_PORT: String(upstreamPort) },
        stdio: "ignore",
      });
      for (let attempt = 0; attempt < 240; attempt++) {
        const ready = await fetch(`http://127.0.0.1:${upstreamPort}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ready) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } else {
      upstream = fixtureUpstream();
      await new Promise<void>((resolve) => upstream!.listen(0, "127.0.0.1", resolve));
      upstreamPort = (upstream.address() as AddressInfo).port;
    }

    const port = await freePort();
    const site = readFileSync(join(repoRoot, "deploy/nginx/hearth.conf"), "utf8")
      .replace("server web:8080;", `server 127.0.0.1:${upstreamPort};`)
      .replace("listen 8443 ssl http2;", `listen 127.0.0.1:${port} ssl http2;`)
      .replaceAll("/etc/nginx/tls/", `${directory}/`)
      .replaceAll("/etc/nginx/snippets/", `${join(repoRoot, "deploy/nginx/snippets")}/`);
    writeFileSync(join(directory, "hearth.conf"), site);
    writeFileSync(
      join(directory, "nginx.conf"),
      `daemon off;
worker_processes 1;
pid ${directory}/nginx.pid;
error_log ${directory}/error.log warn;
events { worker_connections 64; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path ${directory}/body;
  proxy_temp_path ${directory}/proxy;
  fastcgi_temp_path ${directory}/fastcgi;
  uwsgi_temp_path ${directory}/uwsgi;
  scgi_temp_path ${directory}/scgi;
  include ${directory}/hearth.conf;
}
`,
    );
    execFileSync(
      nginxBinary!,
      ["-t", "-p", directory, "-e", join(directory, "error.log"), "-c", join(directory, "nginx.conf")],
      { stdio: "pipe" },
    );
    nginx = spawn(
      nginxBinary!,
      ["-p", directory, "-e", join(directory, "error.log"), "-c", join(directory, "nginx.conf")],
      { stdio: "ignore" },
    );
    base = `https://127.0.0.1:${port}`;
    for (let attempt = 0; attempt < 100; attempt++) {
      if ((await curl(["-o", "/dev/null", `${base}/healthz`])).status === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  afterAll(async () => {
    nginx?.kill("SIGQUIT");
    upstreamProcess?.kill("SIGTERM");
    upstream?.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    rmSync(directory, { recursive: true, force: true });
  });

  it("streams a chat over HTTP/2 token by token, unbuffered", async () => {
    const body = JSON.stringify({
      model: process.env.HEARTH_NGINX_CHAT_MODEL ?? "deepseek-r1:1.5b",
      stream: true,
      messages: [{ role: "user", content: "你好" }],
    });
    const args = [
      "-sS",
      "-k",
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
    if (process.env.HEARTH_NGINX_API_KEY)
      args.push("-H", `authorization: Bearer ${process.env.HEARTH_NGINX_API_KEY}`);
    const started = performance.now();
    const child = spawn("curl", args);
    let output = "";
    let firstEventAt: number | undefined;
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (firstEventAt === undefined && output.includes("data:")) firstEventAt = performance.now() - started;
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const finishedAt = performance.now() - started;
    expect(code).toBe(0);
    expect(output).toContain("HTTP/2");
    expect(output).toContain("data: [DONE]");
    if (!upstreamCommand) {
      expect(output).toContain("你好");
      // The first token reached the client long before the answer ended: nothing held it back.
      expect(finishedAt - firstEventAt!).toBeGreaterThan(900);
    }
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

  it.skipIf(Boolean(upstreamCommand))(
    "gzips hashed assets and lets browsers cache them for a year, with the security headers kept",
    async () => {
      const answer = headers(
        (
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
        ).stdout,
      );
      expect(answer["content-encoding"]).toBe("gzip");
      expect(answer["cache-control"]).toBe("public, max-age=31536000, immutable");
      expect(answer["x-content-type-options"]).toBe("nosniff");
      expect(answer["strict-transport-security"]).toBeDefined();
    },
  );

  it.skipIf(Boolean(upstreamCommand))(
    "limits request bodies: 10 MB for chat, 200 MB for document uploads",
    async () => {
      const big = join(directory, "twelve-megabytes.bin");
      writeFileSync(big, Buffer.alloc(12 * 1024 * 1024, 97));
      const chat = await curl([
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        "content-type: application/json",
        "--data-binary",
        `@${big}`,
        `${base}/v1/chat/completions`,
      ]);
      expect(chat.stdout).toBe("413");
      const upload = await curl([
        "-H",
        "content-type: application/octet-stream",
        "--data-binary",
        `@${big}`,
        `${base}/api/knowledge/upload`,
      ]);
      expect(JSON.parse(upload.stdout)).toEqual({ received: 12 * 1024 * 1024 });
    },
  );
});
