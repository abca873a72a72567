import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/** Where the built UI lives: packages/ui/dist, found through the @hearth/ui package. */
export function uiDistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("@hearth/ui/package.json")), "dist");
}

/**
 * What the UI's pages and files are sent with, whether or not a reverse proxy stands in front (`npm
 * start` on 0.0.0.0 has none): not framed by other sites (clickjacking), scripts only from this
 * origin, no sniffing of types, no full URLs in Referer. The CSP is deploy/nginx's (which hides these
 * headers from the service's answers and sends its own, so they never come twice); inline styles
 * are allowed for React's style attributes.
 */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

/** Paths that belong to the APIs and never fall back to the UI's index.html. */
const API_PREFIXES = ["/api/", "/v1/", "/healthz", "/readyz", "/metrics"];

/**
 * Serves the built React UI: hashed files under /assets/ are cached for a year, index.html is
 * revalidated every time, and any other GET that is not an API path gets index.html (SPA routes).
 */
export async function registerUi(app: FastifyInstance, root = uiDistDir()): Promise<void> {
  const indexPath = join(root, "index.html");
  if (!existsSync(indexPath)) {
    app.log.warn({ root }, "the UI is not built; run `npm run build -w @hearth/ui`");
    app.get("/", async (_request, reply) =>
      reply
        .headers(UI_SECURITY_HEADERS)
        .type("text/html; charset=utf-8")
        .send(
          "<!doctype html><title>Hearth</title><p>The Hearth UI is not built yet. Run <code>npm run build -w @hearth/ui</code> and restart.</p>",
        ),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root,
    wildcard: false,
    index: false,
    cacheControl: false,
    setHeaders(response, path) {
      for (const [name, value] of Object.entries(UI_SECURITY_HEADERS)) response.setHeader(name, value);
      if (path.includes(`${join(root, "assets")}`))
        response.setHeader("cache-control", "public, max-age=31536000, immutable");
      else response.setHeader("cache-control", "no-cache");
    },
  });
  const sendIndex = async (_request: unknown, reply: import("fastify").FastifyReply) =>
    reply
      .headers(UI_SECURITY_HEADERS)
      .type("text/html; charset=utf-8")
      .header("cache-control", "no-cache")
      .send(await readFile(indexPath));
  app.get("/", sendIndex);
  app.get("/*", async (request, reply) => {
    const path = request.url.split("?")[0] ?? "/";
    // Unknown API paths and missing files with an extension are 404s, not the UI.
    if (API_PREFIXES.some((prefix) => path.startsWith(prefix)) || /\.[a-z0-9]+$/i.test(path)) {
      return reply.callNotFound();
    }
    return sendIndex(request, reply);
  });
}
