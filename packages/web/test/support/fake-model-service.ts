import { createServer, type IncomingMessage, type Server } from "node:http";
import { type ModelSkippedFile, USAGE_COMMENT_HEADER } from "@hearth/contracts";
import { listenOnLoopback } from "../../../../test/support/ports.js";

/**
 * A small stand-in for the model service's OpenAI API, speaking the recorded shapes: `/v1/models`,
 * the registry's `/api/hearth/models/skipped`, `/v1/embeddings`, `/v1/completions`, and `/v1/chat/completions` streaming SSE chunks (with `: queue position N` comments first,
 * `reasoning_content` deltas for R1-style models and `x-hearth-cache: hit` on cached answers). An
 * answer stops at its request's max_tokens, a word a token, with finish_reason "length".
 */
export interface FakeModelOptions {
  models?: string[];
  /** Embedding models, listed after the others with the model service's `capabilities: ["embedding"]`. */
  embeddingModels?: string[];
  /** Rerankers, listed last with the model service's `capabilities: ["rerank"]`. */
  rerankModels?: string[];
  /** Words of each answer; the answer echoes the last user message after them. */
  words?: string[];
  /**
   * The words of an answer continued: a chat whose last message is the assistant's goes on with it,
   * as the model service continues one, with these words alone (no echo).
   */
  continuation?: string[];
  delayMs?: number;
  queuePositions?: number;
  reasoning?: string[];
  cached?: boolean;
  /** Cut the connection after this many words (a model that fails mid-answer). */
  failAfterWords?: number;
  /** Why a streamed chat answer ends (its last chunk's finish_reason): "stop" unless set ("length": cut off). */
  finishReason?: string;
  /**
   * Down: every connection is dropped as it comes, unanswered (a model service that stopped),
   * until this is set back.
   */
  unreachable?: boolean;
  /** Files of the models dir skipped for their names, as GET /api/hearth/models/skipped lists them. */
  skippedFiles?: ModelSkippedFile[];
  /**
   * A context of `tokens` (said by /api/show as `num_ctx`), with the model's own count of a message's
   * tokens: a chat whose messages count more than the context leaves room for, or whose max_tokens
   * is at or past the whole context, is refused as the model service refuses it (400
   * CONTEXT_OVERFLOW with the prompt's tokens in its details).
   */
  context?: { tokens: number; count: (text: string) => number };
  /** Answer every chat, completion and embedding 429 with this Retry-After, as the model service passes on an upstream's rate limit. */
  rateLimitedFor?: string;
  /** The models `/api/ps` says are loaded (Ollama's shape); without it, `/api/ps` is not found. */
  loaded?: Array<{ name: string; model: string; size: number; expires_at: string; context_length: number }>;
  /**
   * Refuse every chat, completion and embedding with this status and error (in OpenAI's shape,
   * `param` naming the field refused, or null).
   */
  refusal?: {
    status: number;
    code: string;
    message: string;
    param?: string;
    details?: Record<string, unknown>;
  };
}

export interface FakeModelService {
  url: string;
  requests: Array<{
    model: string;
    messages: Array<{ role: string; content: string }>;
    stream: boolean;
    stream_options?: { include_usage?: boolean };
    /** The sampling parameters a request gave (a conversation's Chat controls). */
    temperature?: number;
    top_p?: number;
    max_tokens?: number;
    seed?: number;
    frequency_penalty?: number;
    presence_penalty?: number;
    top_k?: number;
    min_p?: number;
    repeat_penalty?: number;
  }>;
  /** The text completion and embedding requests it was sent. */
  completions: Array<{ model: string; prompt: string | string[]; stream?: boolean }>;
  embeddings: Array<{ model: string; input: string | string[] }>;
  /** Streams the client abandoned before they ended. */
  abandoned: number;
  options: FakeModelOptions;
  close(): Promise<void>;
}

/** When every model of the stand-in was made (Unix seconds), as /v1/models lists it. */
export const MODEL_CREATED = 1_714_000_000;

/**
 * An answer's words as a model given `maxTokens` gives them (a word a token here): cut there, ending
 * with "length", else all of them, ending with "stop".
 */
function upTo(maxTokens: number | undefined, words: string[]): { words: string[]; finish: string } {
  return maxTokens !== undefined && maxTokens < words.length
    ? { words: words.slice(0, maxTokens), finish: "length" }
    : { words, finish: "stop" };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeModelService(options: FakeModelOptions = {}): Promise<FakeModelService> {
  const state: FakeModelService = {
    url: "",
    requests: [],
    completions: [],
    embeddings: [],
    abandoned: 0,
    options,
    close: async () => {},
  };
  const server: Server = createServer(async (request, response) => {
    if (state.options.unreachable) {
      request.socket.destroy();
      return;
    }
    const models = state.options.models ?? ["tiny-story"];
    if (request.method === "GET" && request.url === "/v1/models") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          object: "list",
          data: [
            ...models.map((id) => ({ id, object: "model", created: MODEL_CREATED, owned_by: "hearth" })),
            ...(state.options.embeddingModels ?? []).map((id) => ({
              id,
              object: "model",
              created: MODEL_CREATED,
              owned_by: "hearth",
              capabilities: ["embedding"],
            })),
            ...(state.options.rerankModels ?? []).map((id) => ({
              id,
              object: "model",
              created: MODEL_CREATED,
              owned_by: "hearth",
              capabilities: ["rerank"],
            })),
          ],
        }),
      );
      return;
    }
    if (request.method === "GET" && request.url === "/api/hearth/models/skipped") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ skipped: state.options.skippedFiles ?? [] }));
      return;
    }
    if (request.method === "POST" && request.url === "/api/show" && state.options.context) {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ parameters: `num_ctx ${state.options.context.tokens}` }));
      return;
    }
    if (request.method === "GET" && request.url === "/api/ps" && state.options.loaded) {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ models: state.options.loaded }));
      return;
    }
    const refusal = state.options.refusal;
    if (request.method === "POST" && refusal && request.url?.startsWith("/v1/")) {
      await readBody(request);
      response.writeHead(refusal.status, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          error: {
            message: refusal.message,
            type: refusal.status >= 500 ? "server_error" : "invalid_request_error",
            param: refusal.param ?? null,
            code: refusal.code,
            ...(refusal.details ? { details: refusal.details } : {}),
          },
        }),
      );
      return;
    }
    if (request.method === "POST" && state.options.rateLimitedFor && request.url?.startsWith("/v1/")) {
      await readBody(request);
      response.writeHead(429, {
        "content-type": "application/json",
        "retry-after": state.options.rateLimitedFor,
        // As the model service's errors say of a Retry-After past a minute (HearthError.shouldRetry).
        ...(Number(state.options.rateLimitedFor) > 60 ? { "x-should-retry": "false" } : {}),
      });
      response.end(
        JSON.stringify({
          error: {
            message: "upstream answered 429: Rate limit reached",
            type: "invalid_request_error",
            code: "UPSTREAM_ERROR",
          },
        }),
      );
      return;
    }
    if (request.method === "POST" && request.url === "/v1/embeddings") {
      const body = JSON.parse(await readBody(request)) as { model: string; input: string | string[] };
      state.embeddings.push(body);
      const inputs = [body.input].flat();
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          object: "list",
          model: body.model,
          data: inputs.map((_, index) => ({ object: "embedding", index, embedding: [0.6, 0.8] })),
          usage: { prompt_tokens: 3 * inputs.length, total_tokens: 3 * inputs.length },
        }),
      );
      return;
    }
    if (request.method === "POST" && request.url === "/v1/completions") {
      // A text completion: the prompt echoed after the words, streamed as OpenAI's text_completion chunks.
      const body = JSON.parse(await readBody(request)) as {
        model: string;
        prompt: string | string[];
        stream?: boolean;
        stream_options?: { include_usage?: boolean };
        max_tokens?: number;
      };
      state.completions.push(body);
      const prompt = [body.prompt].flat()[0] ?? "";
      const { words, finish: stop } = upTo(body.max_tokens, [
        ...(state.options.words ?? ["Hello", " from", " the", " model."]),
        ` You wrote: ${prompt}`,
      ]);
      const id = `cmpl-${Date.now()}`;
      const usage = { prompt_tokens: 5, completion_tokens: words.length, total_tokens: 5 + words.length };
      const choice = (text: string, finish: string | null = null) => ({
        index: 0,
        text,
        logprobs: null,
        finish_reason: finish,
      });
      if (!body.stream) {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(
          JSON.stringify({
            id,
            object: "text_completion",
            created: 0,
            model: body.model,
            choices: [choice(words.join(""), stop)],
            usage,
          }),
        );
        return;
      }
      response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const chunk = (text: string, finish: string | null = null) =>
        `data: ${JSON.stringify({ id, object: "text_completion", created: 0, model: body.model, choices: [choice(text, finish)] })}\n\n`;
      for (const word of words) {
        response.write(chunk(word));
        await new Promise((resolve) => setTimeout(resolve, state.options.delayMs ?? 5));
      }
      response.write(chunk("", stop));
      if (body.stream_options?.include_usage)
        response.write(
          `data: ${JSON.stringify({ id, object: "text_completion", created: 0, model: body.model, choices: [], usage })}\n\n`,
        );
      else if (request.headers[USAGE_COMMENT_HEADER] === "1")
        response.write(`: usage ${JSON.stringify(usage)}\n\n`);
      response.end("data: [DONE]\n\n");
      return;
    }
    if (request.method === "POST" && request.url === "/v1/chat/completions") {
      const body = JSON.parse(await readBody(request)) as FakeModelService["requests"][number];
      state.requests.push(body);
      if (!models.includes(body.model)) {
        response.writeHead(404, { "content-type": "application/json" });
        response.end(
          JSON.stringify({
            error: {
              // The model service's own wording, its hint naming its own route.
              message: `model "${body.model}" not found; GET /api/tags lists the models available`,
              type: "invalid_request_error",
              code: "MODEL_NOT_FOUND",
            },
          }),
        );
        return;
      }
      const context = state.options.context;
      const promptTokens = context
        ? body.messages.reduce((sum, message) => sum + context.count(message.content), 0)
        : 0;
      // As the model service's embedded runtime: a max_tokens at or past the whole context is refused.
      if (context && body.max_tokens !== undefined && body.max_tokens >= context.tokens) {
        response.writeHead(400, { "content-type": "application/json" });
        response.end(
          JSON.stringify({
            error: {
              message: `max_tokens ${body.max_tokens} does not fit the ${context.tokens}-token context of "${body.model}"`,
              type: "invalid_request_error",
              param: "max_tokens",
              code: "CONTEXT_OVERFLOW",
              details: { contextSize: context.tokens, field: "max_tokens" },
            },
          }),
        );
        return;
      }
      if (context && promptTokens > context.tokens - 2) {
        response.writeHead(400, { "content-type": "application/json" });
        response.end(
          JSON.stringify({
            error: {
              message: `the prompt has ${promptTokens} tokens, more than the ${context.tokens}-token context of "${body.model}" leaves room for`,
              type: "invalid_request_error",
              param: null,
              code: "CONTEXT_OVERFLOW",
              details: { promptTokens, contextSize: context.tokens },
            },
          }),
        );
        return;
      }
      const lastUser = [...body.messages].reverse().find((message) => message.role === "user")?.content ?? "";
      const continuing = body.messages.at(-1)?.role === "assistant";
      const { words, finish: stop } = upTo(
        body.max_tokens,
        continuing
          ? (state.options.continuation ?? [" and", " so", " on."])
          : [
              ...(state.options.words ?? ["Hello", " from", " the", " model."]),
              ` You said: ${lastUser.slice(0, 40)}`,
              // Like a real model given numbered sources, it cites the first one.
              ...(body.messages.some((m) => m.role === "system" && m.content.includes('<source id="1"'))
                ? [" (see [1])"]
                : []),
            ],
      );
      const id = `chatcmpl-${Date.now()}`;
      const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
        `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created: 0, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      if (!body.stream) {
        const answer = JSON.stringify({
          id,
          object: "chat.completion",
          created: 0,
          model: body.model,
          choices: [
            { index: 0, message: { role: "assistant", content: words.join("") }, finish_reason: stop },
          ],
          usage: { prompt_tokens: 7, completion_tokens: words.length, total_tokens: 7 + words.length },
        });
        response.writeHead(200, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(answer),
          ...(state.options.cached ? { "x-hearth-cache": "hit" } : {}),
        });
        if (state.options.failAfterWords !== undefined) {
          // The head and part of the body, then the connection is cut.
          response.write(answer.slice(0, 20), () => response.destroy());
          return;
        }
        response.end(answer);
        return;
      }
      response.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        ...(state.options.cached ? { "x-hearth-cache": "hit" } : {}),
      });
      let finished = false;
      response.on("close", () => {
        if (!finished) state.abandoned += 1;
      });
      const delay = state.options.delayMs ?? 5;
      const sleep = () => new Promise((resolve) => setTimeout(resolve, delay));
      for (let position = state.options.queuePositions ?? 0; position > 0; position -= 1) {
        response.write(`: queue position ${position}\n\n`);
        await sleep();
      }
      response.write(chunk({ role: "assistant", content: "" }));
      for (const thought of state.options.reasoning ?? []) {
        if (response.destroyed) return;
        response.write(chunk({ reasoning_content: thought }));
        await sleep();
      }
      for (const [index, word] of words.entries()) {
        if (response.destroyed) return;
        if (state.options.failAfterWords !== undefined && index >= state.options.failAfterWords) {
          response.destroy();
          return;
        }
        response.write(chunk({ content: word }));
        await sleep();
      }
      response.write(chunk({}, state.options.finishReason ?? stop));
      // As the model service: the usage as a last chunk when asked for, else as a comment on request.
      const usage = { prompt_tokens: 7, completion_tokens: words.length, total_tokens: 7 + words.length };
      if (body.stream_options?.include_usage)
        response.write(
          `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created: 0, model: body.model, choices: [], usage })}\n\n`,
        );
      else if (request.headers[USAGE_COMMENT_HEADER] === "1")
        response.write(`: usage ${JSON.stringify(usage)}\n\n`);
      response.write("data: [DONE]\n\n");
      finished = true;
      response.end();
      return;
    }
    response.writeHead(404, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: { message: "not found" } }));
  });
  Object.assign(state, await listenOnLoopback(server));
  return state;
}
