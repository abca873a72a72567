import { HearthError } from "@hearth/core";
import type { FastifyInstance } from "fastify";

/**
 * Origins allowed without configuration, as Ollama's: pages served from this machine, and desktop
 * and editor apps (Electron, Tauri, VS Code webviews), whatever the port.
 */
const BUILT_IN_ORIGINS = [
  ...["localhost", "127.0.0.1", "0.0.0.0", "[::1]"].flatMap((host) => [
    `http://${host}`,
    `https://${host}`,
    `http://${host}:*`,
    `https://${host}:*`,
  ]),
  "app://*",
  "file://*",
  "tauri://*",
  "vscode-webview://*",
  "vscode-file://*",
];

/** Whether an `Origin` header value is allowed: built-in origins, then the configured patterns (`*` wildcards). */
export function originAllowed(configured: readonly string[]): (origin: string) => boolean {
  if (configured.includes("*")) return () => true;
  const patterns = [...BUILT_IN_ORIGINS, ...configured].map(
    (pattern) =>
      // A wildcard stands for part of a host or port, never for a path: origins have none.
      new RegExp(`^${pattern.split("*").map(escapeRegExp).join("[^/]*")}$`, "i"),
  );
  return (origin) => patterns.some((pattern) => pattern.test(origin));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Browser access to the model service, as Ollama's OLLAMA_ORIGINS: a request carrying an `Origin`
 * (a web page's `fetch`) is refused with 403 ORIGIN_NOT_ALLOWED unless the origin is allowed, so a
 * page on another site cannot pull or delete models through the user's browser; the service reads
 * any body as JSON (Ollama's `curl -d`), so the content type cannot stand in for this check.
 * Allowed pages get CORS headers and their preflights answered, so browser-based clients work.
 * Requests without an `Origin` (curl, SDKs, the other services) are not affected.
 */
export function registerOriginPolicy(app: FastifyInstance, configured: readonly string[]): void {
  const allowed = originAllowed(configured);
  app.addHook("onRequest", async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined) return;
    if (!allowed(origin))
      throw new HearthError(
        "ORIGIN_NOT_ALLOWED",
        `Requests from web pages at ${origin} are not allowed; add the origin to HEARTH_MODEL_ORIGINS (model.allowedOrigins) to allow them`,
      );
    // On the raw response, so that streamed replies (written past Fastify) carry them too.
    const raw = reply.raw;
    raw.setHeader("access-control-allow-origin", origin);
    raw.setHeader("vary", "Origin");
    raw.setHeader(
      "access-control-expose-headers",
      "x-hearth-cache, x-hearth-model, x-hearth-queue-position, x-hearth-version, retry-after",
    );
    if (request.method === "OPTIONS" && request.headers["access-control-request-method"] !== undefined) {
      raw.setHeader("access-control-allow-methods", "GET, POST, PUT, DELETE, HEAD, OPTIONS");
      raw.setHeader(
        "access-control-allow-headers",
        request.headers["access-control-request-headers"] ?? "authorization, content-type",
      );
      raw.setHeader("access-control-max-age", "600");
      return reply.code(204).send();
    }
  });
}
