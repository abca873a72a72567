import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/**
 * CORS for browser clients of the public API (Chatbox's web version, the openai SDK with
 * `dangerouslyAllowBrowser`): every /v1/ answer may be read by any page, and preflights are
 * answered; so may the answer to an API key's request on a browser route that takes keys
 * (`config.apiKey`: the knowledge-base list, a citation's document file, a retrieval test). Never
 * with credentials: these are for bearer keys, and a wildcard origin is one browsers will not send
 * a user's cookies to (nor let a page read an answer to a request that carried them).
 */
const CORS_MAX_AGE_SECONDS = 86_400;
const CORS_EXPOSED = "retry-after, x-should-retry, x-request-id, x-hearth-cache";
const HEADER_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;
const BEARER = /^Bearer\s/i;

export function registerPublicCors(app: FastifyInstance) {
  app.addHook("onRequest", async (request, reply) => {
    const keyRequest =
      request.routeOptions.config?.apiKey === true && BEARER.test(request.headers.authorization ?? "");
    if (request.url.startsWith("/v1/") || keyRequest) readableAnywhere(request, reply);
  });
  // A browser's preflight: no credentials come with it, and it opens nothing by itself.
  app.options("/v1/*", { config: { access: "public" } }, preflight("GET, POST, OPTIONS"));
}

/**
 * Readable by any page, with the request's id (the one its log lines carry) as OpenAI sends it, for
 * a client to quote. On the Node response, so that it goes out with every answer: streams written
 * by the relay, errors, and a /v1/ path that does not exist.
 */
function readableAnywhere(request: FastifyRequest, reply: FastifyReply) {
  reply.raw.setHeader("access-control-allow-origin", "*");
  reply.raw.setHeader("access-control-expose-headers", CORS_EXPOSED);
  reply.raw.setHeader("x-request-id", request.id);
}

/** Answers a browser's preflight for a route that takes `methods`, with the headers it asked for. */
export function preflight(methods: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    readableAnywhere(request, reply);
    const asked = request.headers["access-control-request-headers"];
    const headers = typeof asked === "string" && HEADER_LIST.test(asked.trim()) ? asked.trim() : undefined;
    reply
      .code(204)
      .header("access-control-allow-methods", methods)
      .header("access-control-allow-headers", headers ?? "authorization, content-type")
      .header("access-control-max-age", String(CORS_MAX_AGE_SECONDS))
      .header("vary", "access-control-request-headers");
    return reply.send();
  };
}
