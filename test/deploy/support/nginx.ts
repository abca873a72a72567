import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../support/ports.js";
import { repoRoot } from "../../support/shared-data.js";

/**
 * deploy/nginx/hearth.conf in the real nginx from Debian, with a generated certificate, in front
 * of an upstream on 127.0.0.1 (the stand-in of nginx.test.ts, or `hearth up` in
 * nginx-hearth-up.test.ts).
 */

/** Whether `command` is on the PATH. */
export const available = (command: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

export const nginxBinary = ["/usr/sbin/nginx", "nginx"].find(available);
export const canRunNginx = nginxBinary !== undefined && available("openssl") && available("curl");

export interface CurlResult {
  /** curl's exit status (0: the transfer worked, whatever the HTTP status). */
  status: number;
  stdout: string;
  stderr: string;
}

/** curl, asynchronously: an upstream in this process must keep answering while it runs. */
export function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(
      "curl",
      ["-sS", ...args],
      { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Response headers as printed by `curl -D -`, names lower-cased. */
export function headers(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^([^:\s]+):\s*(.*)$/.exec(line);
    if (match) result[match[1]!.toLowerCase()] = match[2]!;
  }
  return result;
}

export interface HearthNginx {
  /** https://127.0.0.1:<port> */
  base: string;
  /** http://127.0.0.1:<port>: the plain-HTTP listener (port 80 in compose). */
  plainBase: string;
  /** The temporary prefix: certificate, rendered config, logs. */
  directory: string;
  /** The generated self-signed certificate (for 127.0.0.1 and localhost): curl's --cacert. */
  certificate: string;
  /** curl that trusts the generated certificate. */
  curl(args: string[]): Promise<CurlResult>;
  /** Stops nginx gracefully and removes the prefix. */
  stop(): Promise<void>;
}

function openssl(directory: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: directory, stdio: "ignore" });
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A self-signed EC certificate valid two days, `<name>.key` and `<name>.crt` in `directory` (a CA or a server). */
export function selfSignedCertificate(
  directory: string,
  name: string,
  subject: string,
  extraArgs: string[] = [],
): void {
  openssl(directory, [
    "req",
    "-x509",
    ...EC_KEY,
    "-days",
    "2",
    "-subj",
    subject,
    ...extraArgs,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
  ]);
}

/** `<name>.key` and `<name>.crt` signed by the CA `<ca>.crt` in `directory`, with the given X.509 extensions. */
export function issueCertificate(
  directory: string,
  name: string,
  ca: string,
  subject: string,
  extensions: string,
): void {
  openssl(directory, ["req", ...EC_KEY, "-subj", subject, "-keyout", `${name}.key`, "-out", `${name}.csr`]);
  writeFileSync(join(directory, `${name}.ext`), extensions);
  openssl(directory, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.crt`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.crt`,
  ]);
}

export interface RunningNginx {
  /** Stops nginx gracefully (SIGQUIT) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Runs nginx in the foreground with `directory` as its prefix: a main nginx.conf that includes the
 * given site files (already written to `directory`), checked with `nginx -t` first; resolves once
 * `ready` is true, and throws with nginx's error log when it never is.
 */
export async function runNginx(
  directory: string,
  sites: string[],
  ready: () => Promise<boolean>,
): Promise<RunningNginx> {
  if (!nginxBinary) throw new Error("nginx is not installed");
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
${sites.map((site) => `  include ${join(directory, site)};\n`).join("")}}
`,
  );
  const args = ["-p", directory, "-e", join(directory, "error.log"), "-c", join(directory, "nginx.conf")];
  execFileSync(nginxBinary, ["-t", ...args], { stdio: "pipe" });
  const nginx: ChildProcess = spawn(nginxBinary, args, { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => nginx.once("exit", () => resolve()));
  let answered = false;
  for (let attempt = 0; attempt < 100 && !answered; attempt++) {
    answered = await ready();
    if (!answered) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!answered) {
    nginx.kill("SIGKILL");
    throw new Error(`nginx did not answer:\n${readFileSync(join(directory, "error.log"), "utf8")}`);
  }
  return {
    async stop() {
      if (nginx.exitCode === null && nginx.signalCode === null) {
        nginx.kill("SIGQUIT");
        await exited;
      }
    },
  };
}

export interface StartNginxOptions {
  /**
   * Replaces the default `proxy_read_timeout` of snippets/hearth-proxy.conf (120s), so that a test
   * can tell in seconds which locations keep the default and which have their own long one.
   */
  defaultReadTimeout?: string;
}

/** deploy/nginx/hearth.conf with the upstream, listen address, certificate and snippet paths of this run. */
function renderSite(
  directory: string,
  upstreamPort: number,
  ports: { https: number; http: number },
  options: StartNginxOptions,
): string {
  let snippets = join(repoRoot, "deploy/nginx/snippets");
  if (options.defaultReadTimeout) {
    snippets = join(directory, "snippets");
    mkdirSync(snippets);
    for (const name of readdirSync(join(repoRoot, "deploy/nginx/snippets"))) {
      const text = readFileSync(join(repoRoot, "deploy/nginx/snippets", name), "utf8");
      const changed = text.replace(
        /^proxy_read_timeout 120s;$/m,
        `proxy_read_timeout ${options.defaultReadTimeout};`,
      );
      if (name === "hearth-proxy.conf" && changed === text)
        throw new Error("snippets/hearth-proxy.conf no longer sets proxy_read_timeout 120s");
      writeFileSync(join(snippets, name), changed);
    }
  }
  return readFileSync(join(repoRoot, "deploy/nginx/hearth.conf"), "utf8")
    .replace("server web:8080;", `server 127.0.0.1:${upstreamPort};`)
    .replace("listen 8443 ssl http2;", `listen 127.0.0.1:${ports.https} ssl http2;`)
    .replace("listen 8000;", `listen 127.0.0.1:${ports.http};`)
    .replaceAll("/etc/nginx/tls/", `${directory}/`)
    .replaceAll("/etc/nginx/snippets/", `${snippets}/`);
}

/** Starts nginx (foreground, temporary prefix) in front of 127.0.0.1:`upstreamPort`; resolves once it answers. */
export async function startNginx(
  upstreamPort: number,
  options: StartNginxOptions = {},
): Promise<HearthNginx> {
  const directory = mkdtempSync(join(tmpdir(), "hearth-nginx-"));
  selfSignedCertificate(directory, "tls", "/CN=localhost", [
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ]);
  const ports = { https: await freePort(), http: await freePort() };
  writeFileSync(join(directory, "hearth.conf"), renderSite(directory, upstreamPort, ports, options));
  const certificate = join(directory, "tls.crt");
  const base = `https://127.0.0.1:${ports.https}`;
  const trusted = (curlArgs: string[]) => curl(["--cacert", certificate, ...curlArgs]);
  let nginx: RunningNginx;
  try {
    nginx = await runNginx(
      directory,
      ["hearth.conf"],
      async () => (await trusted(["-o", "/dev/null", `${base}/healthz`])).status === 0,
    );
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw new Error(`nginx on ${base}: ${(error as Error).message}`);
  }
  return {
    base,
    plainBase: `http://127.0.0.1:${ports.http}`,
    directory,
    certificate,
    curl: trusted,
    async stop() {
      await nginx.stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
