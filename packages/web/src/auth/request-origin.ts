import type { FastifyRequest } from "fastify";

/**
 * The origin the client reached the web service on: the links and redirects it gives out (a share's
 * link, an export's document links, the sign-in callback) are built on it. Behind a trusted proxy
 * (web.trustProxy) Fastify reads the scheme and host from the proxy's X-Forwarded-Proto and
 * X-Forwarded-Host.
 */
export function requestOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}
