import {
  CHAT_CONTROL_NAMES,
  CHAT_CONTROL_WIRE_NAMES,
  type ChatControlName,
  ollamaErrorSchema,
  shouldRetryOf,
  USER_HEADER,
} from "@hearth/contracts";
import { ERROR_CODES, type ErrorCode, HearthError, isErrorCode, UpstreamCallError } from "@hearth/core";
import { z } from "zod";
import { ContextWindows, contextFromShow } from "./context-window.js";
import { readSse } from "./sse-lines.js";
import { UpstreamEndpoint, type UpstreamResponse } from "./upstream-request.js";

/** One chat message as the OpenAI API takes it. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/**
 * A chat's model parameters (a conversation's Chat controls, or the service's own, such as the search
 * decision's temperature 0), each sent by its CHAT_CONTROL_WIRE_NAMES name; those left out are the
 * model's own.
 */
export interface ChatOptions extends Partial<Record<ChatControlName, number>> {
  model: string;
  /** Who asks (a user id): the model service's queue takes turns across users, not requests. */
  user: string;
  messages: ChatMessage[];
  /** Ask the model anew even when the inference cache holds this answer (Regenerate). */
  bypassCache?: boolean;
  signal?: AbortSignal;
}

/** The parts of a streamed answer, as the web service hands them on (see docs/web.md). */
export type ChatStreamPart =
  | { type: "queue-position"; position: number }
  | { type: "text-delta"; text: string }
  | { type: "reasoning-delta"; text: string }
  | {
      type: "finish";
      finishReason: string;
      cached: boolean;
      usage?: { promptTokens: number; completionTokens: number };
    };

export interface ModelInfo {
  id: string;
  ownedBy: string;
  /** When the model was made or last changed (Unix seconds), as the model service lists it. */
  created: number;
  /**
   * What a model that does not chat is for, as the model service lists its capabilities: an
   * embedding model (["embedding"]) or a reranker (["rerank"]), for a knowledge base's settings;
   * absent for a model that chats (["completion", …]).
   */
  purpose?: ModelPurpose;
}

export type ModelPurpose = "embedding" | "rerank";

/** What Admin → Models shows of a model: null where the model service does not say. */
export interface ModelDetails {
  model: string;
  /** Its file's size in bytes. */
  size: number | null;
  /** As the model service words it ("7.6B", "260K"). */
  parameterSize: string | null;
  quantization: string | null;
  family: string | null;
  /** The context it is served with, in tokens (the configured size, at most the trained one). */
  contextLength: number | null;
}

const showDetails = z.object({
  details: z
    .object({
      family: z.string().nullish(),
      parameter_size: z.string().nullish(),
      quantization_level: z.string().nullish(),
    })
    .nullish(),
});
const tagList = z.object({
  models: z.array(z.object({ name: z.string(), size: z.number().nullish() })),
});

/** A model's purpose from its listed capabilities: none for one that completes, or lists none. */
function purposeOf(capabilities: readonly string[] | null | undefined): { purpose?: ModelPurpose } {
  if (!capabilities || capabilities.includes("completion")) return {};
  if (capabilities.includes("rerank")) return { purpose: "rerank" };
  if (capabilities.includes("embedding")) return { purpose: "embedding" };
  return {};
}

const modelList = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      owned_by: z.string().nullish(),
      created: z.number().nullish(),
      capabilities: z.array(z.string()).nullish(),
    }),
  ),
});

/** The model service's error (in OpenAI's shape, with Hearth's `details` when there are any). */
const modelError = z
  .object({
    message: z.string().nullish(),
    code: z.string().nullish(),
    details: z.record(z.string(), z.unknown()).nullish(),
  })
  .nullish();

const chunkSchema = z.object({
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish(), reasoning_content: z.string().nullish() }).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).nullish(),
  error: modelError,
});

const PASSED_ON = new Set(["CONTEXT_OVERFLOW", "INVALID_REQUEST", "PAYLOAD_TOO_LARGE", "RATE_LIMITED"]);

/**
 * The model service's stable code (its OpenAI errors carry it in `code`) when it names the model's
 * own condition (queue full or timed out, a prompt that does not fit, not enough memory) or a bad
 * request; anything else (the service token refused, a missing route) is the upstream's failure.
 */
function modelCode(code: string | null | undefined): ErrorCode | undefined {
  if (!isErrorCode(code)) return undefined;
  return code.startsWith("MODEL_") || PASSED_ON.has(code) ? code : undefined;
}

/**
 * The status the web service answers a model service's refusal with: the code's own status when
 * the refusal carries one of the model service's codes (a model that does not fit in memory is 507
 * MODEL_MEMORY_INSUFFICIENT, a queue timeout 503, as docs/errors.md lists them), so that the status
 * and the code a client reads agree; any other 5xx (a failure of the model service or of its
 * upstream) is 502, the web service's upstream having failed; a 4xx is passed on.
 */
export function refusalStatus(status: number, text: string): number {
  const code = modelCode(modelErrorIn(text)?.code);
  if (code && ERROR_CODES[code].status === status) return status;
  return status >= 500 ? 502 : status;
}

const errorBody = z.object({
  error: modelError,
});

/** The error in a model service's error answer (OpenAI's shape), or undefined when it has none. */
export function modelErrorIn(text: string): z.infer<typeof modelError> {
  const parsed = errorBody.safeParse(safeJson(text));
  return parsed.success ? parsed.data.error : undefined;
}

/**
 * Talks to the model service's OpenAI API over HTTP: chats through the keep-alive connections
 * the public API uses (fetch's WHATWG streams cost more per request than the rest of a turn), the
 * model list through fetch.
 */
export class ModelClient {
  readonly #baseUrl: string;
  readonly #token: string | undefined;
  readonly #chat: UpstreamEndpoint;
  /** Each model's context window (from /api/show, cached) and token-estimate scale, for sizing prompts. */
  readonly windows = new ContextWindows((model) => this.#showModel(model));

  constructor(baseUrl: string, token?: string) {
    this.#baseUrl = baseUrl.replace(/\/$/, "");
    this.#token = token;
    this.#chat = new UpstreamEndpoint(
      `${this.#baseUrl}/v1/chat/completions`,
      this.#headers({ accept: "text/event-stream" }),
    );
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.#token ? { "x-hearth-service-token": this.#token } : {}), ...extra };
  }

  async listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
    const url = `${this.#baseUrl}/v1/models`;
    const response = await this.#fetch(url, {
      headers: this.#headers(),
      signal: signal ?? AbortSignal.timeout(5000),
    });
    const text = await response.text();
    if (!response.ok)
      throw new UpstreamCallError({
        url,
        status: response.status,
        body: text,
        message: `model service answered ${response.status}`,
      });
    const parsed = modelList.safeParse(safeJson(text));
    if (!parsed.success)
      throw new UpstreamCallError({
        url,
        status: 502,
        body: text,
        message: "model service sent an unexpected model list",
      });
    return parsed.data.data.map((model) => ({
      id: model.id,
      ownedBy: model.owned_by ?? "hearth",
      created: model.created ?? 0,
      ...purposeOf(model.capabilities),
    }));
  }

  /**
   * A model's size, parameters, quantization, family and context (the model service's /api/show,
   * and /api/tags for its size). Throws as /api/show does for a model it has not.
   */
  async modelDetails(model: string): Promise<ModelDetails> {
    const [show, tags] = await Promise.all([this.#showModel(model), this.#tags().catch(() => undefined)]);
    const details = showDetails.safeParse(show).data?.details;
    const named = (name: string) => name === model || name === `${model}:latest`;
    const size = tags?.models.find((entry) => named(entry.name))?.size;
    const text = (value: string | null | undefined) => (value ? value : null);
    return {
      model,
      size: size ? size : null,
      parameterSize: text(details?.parameter_size),
      quantization: text(details?.quantization_level),
      family: text(details?.family),
      contextLength: contextFromShow(show) ?? null,
    };
  }

  /** The model service's /api/tags: its models with their sizes. */
  async #tags(): Promise<z.infer<typeof tagList>> {
    const response = await this.#fetch(`${this.#baseUrl}/api/tags`, {
      headers: this.#headers(),
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) throw new Error(`model service answered ${response.status}`);
    return tagList.parse(await response.json());
  }

  /** The model service's /api/show answer for a model (throws when it has none). */
  async #showModel(model: string): Promise<unknown> {
    const url = `${this.#baseUrl}/api/show`;
    const response = await this.#fetch(url, {
      method: "POST",
      headers: this.#headers({ "content-type": "application/json" }),
      body: JSON.stringify({ model }),
      signal: AbortSignal.timeout(5000),
    });
    const text = await response.text();
    if (!response.ok)
      throw new UpstreamCallError({ url, status: response.status, body: text, message: "no model details" });
    return safeJson(text);
  }

  /**
   * Streams one chat. Errors before the first part are thrown (with the upstream's status for
   * 4xx: an unknown model stays a 404); later ones are thrown from the iterator.
   */
  async streamChat(options: ChatOptions): Promise<AsyncGenerator<ChatStreamPart>> {
    const call = this.#chat.post(
      JSON.stringify({
        model: options.model,
        messages: options.messages,
        stream: true,
        stream_options: { include_usage: true },
        ...Object.fromEntries(
          CHAT_CONTROL_NAMES.filter((name) => options[name] !== undefined).map((name) => [
            CHAT_CONTROL_WIRE_NAMES[name],
            options[name],
          ]),
        ),
      }),
      {
        [USER_HEADER]: options.user,
        ...(options.bypassCache ? { "x-hearth-cache": "bypass" } : {}),
      },
    );
    const signal = options.signal;
    const abort = () => call.abort();
    if (signal?.aborted) abort();
    signal?.addEventListener("abort", abort, { once: true });
    let response: UpstreamResponse;
    try {
      response = await call.response;
    } catch (error) {
      signal?.removeEventListener("abort", abort);
      throw error;
    }
    const status = response.status;
    if (status >= 300) {
      signal?.removeEventListener("abort", abort);
      const text = await response.text().catch(() => "");
      const error = modelErrorIn(text);
      const message = error?.message || `model service answered ${status}`;
      const retry = Number(response.headers["retry-after"]);
      // Kept for the client: a full queue (429) or a queue timeout (503) says when to try again; and
      // the details (a prompt too long for the context says by how many tokens).
      const shouldRetry = shouldRetryOf(response.headers["x-should-retry"]);
      const kept = {
        ...(Number.isFinite(retry) && retry > 0 ? { retryAfterSeconds: retry } : {}),
        ...(shouldRetry !== undefined ? { shouldRetry } : {}),
        ...(error?.details ? { details: error.details } : {}),
      };
      const code = modelCode(error?.code);
      // The model service's hint names its own routes (GET /api/tags), not the web service's.
      if (code === "MODEL_NOT_FOUND") throw new HearthError(code, `model "${options.model}" not found`, kept);
      if (code) throw new HearthError(code, message, kept);
      if (status === 404) throw new HearthError("MODEL_NOT_FOUND", message);
      if (status === 429) throw new HearthError("RATE_LIMITED", message, kept);
      throw new UpstreamCallError({ url: this.#chat.url, status, body: text, message });
    }
    const cached = response.headers["x-hearth-cache"] === "hit";
    return parseChatStream(response, cached, signal, () => signal?.removeEventListener("abort", abort));
  }

  /** A non-streamed chat answer's text (used for the search decision in auto mode). */
  async complete(options: ChatOptions): Promise<string> {
    let text = "";
    for await (const part of await this.streamChat(options))
      if (part.type === "text-delta") text += part.text;
    return text;
  }

  async #fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (error) {
      if (init.signal?.aborted && (init.signal.reason as Error | undefined)?.name !== "TimeoutError")
        throw error;
      throw UpstreamCallError.noAnswer({ url, service: "model", cause: error });
    }
  }
}

async function* parseChatStream(
  body: UpstreamResponse,
  cached: boolean,
  signal: AbortSignal | undefined,
  done: () => void,
): AsyncGenerator<ChatStreamPart> {
  let finishReason = "stop";
  let usage: { promptTokens: number; completionTokens: number } | undefined;
  let finished = false;
  try {
    for await (const item of readSse(body, signal)) {
      // After [DONE], read on to the end of a response that has fully arrived (it usually comes in
      // the same packet): leaving early would destroy the connection instead of returning it to
      // the keep-alive pool. One that has not is left, so a stream kept open cannot hold the turn.
      if (finished) continue;
      if ("comment" in item) {
        const match = /^queue position (\d+)/.exec(item.comment);
        if (match) yield { type: "queue-position", position: Number(match[1]) };
        continue;
      }
      if (item.data === "[DONE]") {
        if (!body.complete) break;
        finished = true;
        continue;
      }
      const parsed = chunkSchema.safeParse(safeJson(item.data));
      if (!parsed.success) continue;
      const chunk = parsed.data;
      if (chunk.error)
        throw new HearthError(
          modelCode(chunk.error.code) ?? "UPSTREAM_ERROR",
          chunk.error.message ?? "the model failed while answering",
          chunk.error.details ? { details: chunk.error.details } : {},
        );
      if (chunk.usage)
        usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
      for (const choice of chunk.choices ?? []) {
        if (choice.delta?.reasoning_content)
          yield { type: "reasoning-delta", text: choice.delta.reasoning_content };
        if (choice.delta?.content) yield { type: "text-delta", text: choice.delta.content };
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
    }
  } finally {
    done();
  }
  if (signal?.aborted) return;
  yield { type: "finish", finishReason, cached, ...(usage ? { usage } : {}) };
}

/**
 * An error the model service's Ollama API answered (`{"error": "...", "code"}`) as the web service's
 * own (`{"error": {code, message}}`), keeping its message: an unknown model is MODEL_NOT_FOUND, and a
 * refusal that carries one of Hearth's codes beside the message (a pull of a name that is no model
 * reference) keeps it, so that the page says it in its reader's language.
 */
export async function modelServiceError(url: string, response: Response): Promise<HearthError> {
  const body = await response.text();
  const parsed = ollamaErrorSchema.safeParse(safeJson(body));
  const message = parsed.success ? parsed.data.error : `the model service answered ${response.status}`;
  if (response.status === 404) return new HearthError("MODEL_NOT_FOUND", message);
  const code = parsed.success ? parsed.data.code : undefined;
  if (response.status < 500 && typeof code === "string" && isErrorCode(code))
    return new HearthError(code, message);
  return new UpstreamCallError({ url, status: response.status, body, message });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
