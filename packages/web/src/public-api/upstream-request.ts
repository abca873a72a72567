import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { UpstreamCallError } from "@hearth/core";

// Keep-alive pools to the model service: a stream's first token should not wait for a new TCP
// (or TLS) connection. node:http hands us Buffers straight from the socket, with none of the
// WHATWG-stream machinery of fetch on the hot path.
const httpAgent = new HttpAgent({
  keepAlive: true,
  maxSockets: Number.POSITIVE_INFINITY,
  maxFreeSockets: 256,
});
const httpsAgent = new HttpsAgent({
  keepAlive: true,
  maxSockets: Number.POSITIVE_INFINITY,
  maxFreeSockets: 256,
});

/** POSTs a JSON body upstream and resolves with the response as soon as its headers arrive. */
export function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const target = new URL(url);
  const secure = target.protocol === "https:";
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(
      target,
      {
        method: "POST",
        agent: secure ? httpsAgent : httpAgent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          ...headers,
        },
        signal,
      },
      resolve,
    );
    req.on("error", (error) =>
      reject(
        signal.aborted
          ? error
          : new UpstreamCallError({ url, message: "the model service did not answer", cause: error }),
      ),
    );
    req.end(body);
  });
}

export async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
