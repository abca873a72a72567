import type { OutgoingHttpHeaders } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { FastifyReply } from "fastify";

/**
 * Sends another service's answer body on to the client as it arrives: a document's file, a job's
 * progress events, a model pull's NDJSON. The one way a body is relayed, so that the three things
 * that end a relay early never take the process down with an unhandled stream error:
 *
 * - the client goes away (a closed tab, a killed curl, a proxy's timeout): the upstream body is
 *   cancelled, which closes its connection, and the relay resolves;
 * - the upstream breaks off (its service stopped mid-answer): the client's connection is cut rather
 *   than the answer ended, so that it reads as incomplete (a chunked body lacks its last chunk), and
 *   the break is logged;
 * - the client reads slower than the upstream sends: the upstream is read only as fast as the
 *   client's socket drains.
 *
 * The reply is written directly (hijacked), with its status and the headers set on it so far plus
 * `headers`; the head goes out at once, before the first byte of the body (a stream of events is
 * seen to have started). Resolves when the relay is over, however it ended; never rejects.
 */
export async function relayBody(
  reply: FastifyReply,
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | null,
  headers: OutgoingHttpHeaders = {},
): Promise<void> {
  const raw = reply.raw;
  reply.hijack();
  if (!raw.destroyed) {
    // The headers set on the reply so far are Fastify's until it sends them; hijacked, they are ours.
    for (const [name, value] of Object.entries({ ...reply.getHeaders(), ...headers }))
      if (value !== undefined) raw.setHeader(name, value);
    raw.writeHead(reply.statusCode);
    raw.flushHeaders();
  }
  if (!body) {
    raw.end();
    return;
  }
  const source = body instanceof ReadableStream ? Readable.fromWeb(body as never) : Readable.from(body);
  try {
    // Ends the client's answer with the body; either side failing destroys both (a client gone
    // before the relay began too: the body is cancelled at once).
    await pipeline(source, raw);
  } catch (error) {
    // The client went away (the response closed unfinished, not destroyed with an error): nothing
    // to tell anyone. Otherwise the upstream's error destroyed the response.
    if (!raw.errored) return;
    reply.log.warn(
      { err: error },
      "an upstream answer broke off while it was relayed; the client's answer was cut short",
    );
  }
}
