import { USER_HEADER } from "@hearth/contracts";
import { abortOnShutdown, HearthError, ReplyStream, toHearthError } from "@hearth/core";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { StreamPart } from "../runtime/language-model.js";
import type { InferenceRequest, InferenceService, StartedInference } from "../serving/inference-service.js";

/** Aborted when the client goes away before the reply is complete, or the service shuts down. */
export function requestSignal(reply: FastifyReply, shutdown: AbortSignal): AbortSignal {
  const controller = new AbortController();
  const forget = abortOnShutdown(shutdown, controller);
  reply.raw.once("close", () => {
    forget();
    if (!reply.raw.writableFinished) controller.abort(new Error("client disconnected"));
  });
  return controller.signal;
}

/** Who is asking, for queue fairness: the web service passes its user; else the client address. */
function requestUser(request: FastifyRequest, bodyUser?: string | null): string {
  const header = request.headers[USER_HEADER];
  if (typeof header === "string" && header) return header.slice(0, 256);
  return bodyUser || request.ip;
}

function cacheBypass(request: FastifyRequest): boolean {
  const header = request.headers["x-hearth-cache"];
  const control = request.headers["cache-control"];
  return header === "bypass" || (typeof control === "string" && /no-cache|no-store/.test(control));
}

/** What every inference route passes on about its request: who asks, its stop signal, cache bypass. */
export function inferenceRequestContext(
  request: FastifyRequest,
  reply: FastifyReply,
  shutdown: AbortSignal,
  bodyUser?: string | null,
): Pick<InferenceRequest, "user" | "signal" | "cacheBypass"> {
  return {
    user: requestUser(request, bodyUser),
    signal: requestSignal(reply, shutdown),
    cacheBypass: cacheBypass(request),
  };
}

/**
 * `x-hearth-model`: the model's name as the answer's chunks give it (`stories260K:latest` for a
 * request of `stories260K`), for a relay that writes chunks of its own beside them (the web service's
 * sources chunk). Left out for a name a header cannot carry as it is.
 */
function modelHeader(name: string): Record<string, string> {
  return /^[\x21-\x7e]{1,512}$/.test(name) ? { "x-hearth-model": name } : {};
}

function answerHeaders(started: StartedInference): Record<string, string> {
  return {
    "x-hearth-cache": started.cache,
    ...modelHeader(started.model.name),
    ...(started.queuePosition > 0 ? { "x-hearth-queue-position": String(started.queuePosition) } : {}),
  };
}

/**
 * Runs one streamed answer: headers go out once the runtime has accepted the call (so an early error
 * is a plain HTTP error, and the headers travel while the first token is computed), or as soon as the
 * request has to wait in the queue (so the client sees its place). After headers, errors are written
 * in-band by `writeError`.
 */
export async function streamAnswer(options: {
  request: FastifyRequest;
  reply: FastifyReply;
  framing: "sse" | "ndjson";
  inference: InferenceService;
  call: Omit<InferenceRequest, "onQueued">;
  writePart: (stream: ReplyStream, part: StreamPart, started: StartedInference) => Promise<void>;
  writeError: (stream: ReplyStream, error: ReturnType<typeof toHearthError>) => Promise<void>;
  writeEnd?: (stream: ReplyStream) => Promise<void>;
}): Promise<void> {
  let stream: ReplyStream | undefined;
  let started: StartedInference;
  try {
    started = await options.inference.start({
      ...options.call,
      onQueued: (position, cache, model) => {
        if (!stream)
          stream = new ReplyStream(options.reply, options.framing, {
            "x-hearth-cache": cache,
            "x-hearth-queue-position": String(position),
            ...modelHeader(model),
          });
        if (options.framing === "sse") void stream.comment(`queue position ${position}`);
      },
    });
  } catch (error) {
    if (!stream) throw error;
    await options.writeError(stream, toHearthError(error));
    stream.end();
    return;
  }
  stream ??= new ReplyStream(options.reply, options.framing, answerHeaders(started));
  try {
    for await (const part of started.parts) {
      // A client gone (its Stop) stopped the answer through the request's signal: its last parts are
      // read, not written, so that the finish that ends it records its time and tokens, as a
      // non-streamed answer's does.
      if (stream.ended) continue;
      if (part.type === "error") {
        options.request.log.warn({ err: part.error }, "generation failed mid-stream");
        await options.writeError(stream, toHearthError(part.error));
        break;
      }
      if (part.type === "finish" && part.finishReason === "abort") {
        await options.writeError(stream, cutShort());
        break;
      }
      await options.writePart(stream, part, started);
    }
    if (options.writeEnd) await options.writeEnd(stream);
  } catch (error) {
    await options.writeError(stream, toHearthError(error));
  } finally {
    stream.end();
  }
}

/**
 * An answer stopped while its client still waits for it: the service is shutting down (a client that
 * went away stops its answer too, but is not there to be told). Said as an error, not as a finish, so
 * that a client does not keep the part it got as the whole answer.
 */
function cutShort(): HearthError {
  return new HearthError("SERVICE_NOT_READY", "the model service is shutting down; the answer was cut short");
}

/** Whether a part is generated output: the first one ends the prompt's evaluation. */
export const isOutputPart = (part: StreamPart) =>
  part.type === "text-delta" || part.type === "reasoning-delta" || part.type === "tool-call";

/** Runs one non-streamed answer; the cache and queue headers are set on the reply. */
export async function collectAnswer(
  reply: FastifyReply,
  inference: InferenceService,
  call: Omit<InferenceRequest, "onQueued">,
): Promise<{
  started: StartedInference;
  text: string;
  reasoning: string;
  toolCalls: Array<{ name: string; arguments: Record<string, unknown> }>;
  finish: Extract<StreamPart, { type: "finish" }>;
  /** When the first generated part (text, reasoning or a tool call) arrived; undefined if none did. */
  firstOutputAt: number | undefined;
}> {
  const started = await inference.start(call);
  for (const [name, value] of Object.entries(answerHeaders(started))) reply.header(name, value);
  let text = "";
  let reasoning = "";
  const toolCalls: Array<{ name: string; arguments: Record<string, unknown> }> = [];
  let finish: Extract<StreamPart, { type: "finish" }> = {
    type: "finish",
    finishReason: "abort",
    usage: { promptTokens: 0, completionTokens: 0 },
  };
  let firstOutputAt: number | undefined;
  for await (const part of started.parts) {
    if (firstOutputAt === undefined && isOutputPart(part)) firstOutputAt = performance.now();
    if (part.type === "text-delta") text += part.text;
    else if (part.type === "reasoning-delta") reasoning += part.text;
    else if (part.type === "tool-call") toolCalls.push(part.toolCall);
    else if (part.type === "finish") {
      if (part.finishReason === "abort") throw cutShort();
      finish = part;
    } else if (part.type === "error") throw part.error;
  }
  return { started, text, reasoning, toolCalls, finish, firstOutputAt };
}
