import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "vitest";

const API_KEY = "sk-UPSTREAMSECRET-123456789";
const PASSWORD = "pa55:w/rd-SECRET";
const BASIC = Buffer.from(`hearth:${PASSWORD}`).toString("base64");
/** Every form the secrets were sent in; "SECRET" catches the raw and the URL-encoded ones. */
const LEAKS = [/SECRET/i, new RegExp(BASIC.replace(/[+/=]/g, "\\$&"))];

/**
 * An upstream that echoes what it was sent. Behaviour by the model named: `echo` answers 500 with
 * the Authorization header (and, for Basic, the credentials decoded) in its body; `refuse` answers
 * 401 naming the key, as OpenAI's API does; `echo-stream` starts an answer and sends the header in
 * an error event; `echo-json` answers 200 with a body that is not JSON and holds the header.
 */
export function startEchoUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const read = async (request: IncomingMessage) => {
    let text = "";
    for await (const chunk of request) text += String(chunk);
    return text ? (JSON.parse(text) as { model?: string }) : {};
  };
  const server: Server = createServer(async (request, response) => {
    const authorization = request.headers.authorization ?? "";
    const decoded = authorization.startsWith("Basic ")
      ? ` (${Buffer.from(authorization.slice(6), "base64").toString()}, encoded ${encodeURIComponent(PASSWORD)})`
      : "";
    const echo = `you sent Authorization: ${authorization}${decoded}`;
    if (request.url === "/api/tags") {
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ models: ["echo", "refuse"].map((name) => ({ name, model: name })) }));
      return;
    }
    const model = ((await read(request)).model ?? "").replace(/:latest$/, "");
    const ollama = request.url?.startsWith("/api/") ?? false;
    const error = (message: string) =>
      JSON.stringify(ollama ? { error: message } : { error: { message, type: "invalid_request_error" } });
    if (model === "refuse") {
      response.writeHead(401, { "content-type": "application/json" });
      response.end(error(`Incorrect API key provided: ${authorization.replace(/^\w+ /, "")}`));
    } else if (model === "echo-stream") {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(`data: ${error(`stream exploded; ${echo}`)}\n\n`);
    } else if (model === "echo-json") {
      response.writeHead(200, { "content-type": "text/plain" });
      response.end(`not JSON; ${echo}`);
    } else {
      response.writeHead(500, { "content-type": "text/plain" });
      response.end(`upstream exploded; ${echo}`);
    }
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `127.0.0.1:${port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

/**
 * Model service settings for the echo upstream at `hostPort`: an OpenAI-compatible upstream "cloud"
 * with the key, serving its models by name, and the Ollama upstream with user info in its URL.
 */
export function echoUpstreamSettings(hostPort: string) {
  return {
    ollamaHost: `http://hearth:${encodeURIComponent(PASSWORD)}@${hostPort}`,
    upstreams: [
      {
        name: "cloud",
        baseUrl: `http://${hostPort}/v1`,
        apiKey: API_KEY,
        models: ["echo", "refuse", "echo-stream", "echo-json"],
      },
    ],
  };
}

/** Fails when a text holds any form of the secrets the echo upstream is sent. */
export const expectNoSecret = (text: string) => {
  for (const leak of LEAKS) expect(text).not.toMatch(leak);
};
