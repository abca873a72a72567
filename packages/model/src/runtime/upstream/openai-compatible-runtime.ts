import { type OpenAiChatChunk, openAiChatChunkSchema, openAiModelListSchema } from "@hearth/contracts";
import { redactSecrets, UpstreamCallError, withoutUrlSecrets } from "@hearth/core";
import { z } from "zod";
import { cannotRerank } from "../cannot-rerank.js";
import {
  type ChatMessage,
  collectStream,
  type EmbedCall,
  type FinishReason,
  type GenerateResult,
  type ModelCall,
  type ModelDescription,
  type ModelRuntime,
  type RerankCall,
  type RerankResult,
  type StreamPart,
} from "../language-model.js";
import { callUpstream, readJson, readServerSentEvents, sentSecrets } from "./http-call.js";

export interface OpenAiCompatibleRuntimeOptions {
  /** Names the upstream in model ids (`<name>/<model>`) and logs. */
  name: string;
  /** The API root including `/v1`, e.g. http://127.0.0.1:8000/v1. */
  baseUrl: string;
  /** Sent as a bearer token; never logged. */
  apiKey?: string;
  /** Models to offer instead of asking the server. */
  models?: string[];
  listTimeoutMs?: number;
}

/** Fronts an OpenAI-compatible server (vLLM, llama.cpp server, LM Studio, a hosted API). */
export class OpenAiCompatibleRuntime implements ModelRuntime {
  readonly specificationVersion = "hearth-1";
  readonly provider: string;
  readonly defaultConcurrency = 8;
  readonly usesPublishedTemplate = true;
  readonly honoursToolChoice = true;
  readonly #options: OpenAiCompatibleRuntimeOptions;
  readonly #baseUrl: string;
  readonly #headers: Record<string, string>;
  /** The key and URL user info as the upstream may echo them: what errors leave out. */
  readonly #secrets: string[];
  readonly #credentialsSetting: string;

  constructor(options: OpenAiCompatibleRuntimeOptions) {
    this.#options = options;
    this.provider = `openai-compatible:${options.name}`;
    const base = options.baseUrl.replace(/\/+$/, "");
    this.#baseUrl = /\/v\d+$/.test(base) ? base : `${base}/v1`;
    this.#headers = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
    this.#secrets = sentSecrets(this.#baseUrl, this.#headers);
    this.#credentialsSetting = `model.upstreams[].apiKey of "${options.name}"`;
  }

  async listModels(signal?: AbortSignal): Promise<ModelDescription[]> {
    if (this.#options.models) return this.#options.models.map((id) => ({ id }));
    const url = `${this.#baseUrl}/models`;
    const response = await callUpstream({
      url,
      headers: this.#headers,
      credentialsSetting: this.#credentialsSetting,
      signal,
      timeoutMs: this.#options.listTimeoutMs ?? 3000,
    });
    const list = await readJson(response, openAiModelListSchema, url, this.#secrets);
    return list.data.map((model) => ({
      id: model.id,
      modifiedAt: model.created ? new Date(model.created * 1000) : undefined,
    }));
  }

  doGenerate(call: ModelCall): Promise<GenerateResult> {
    return collectStream(this.doStream(call));
  }

  async *doStream(call: ModelCall): AsyncGenerator<StreamPart> {
    const chat = call.input.kind === "chat";
    const url = `${this.#baseUrl}${chat ? "/chat/completions" : "/completions"}`;
    const { settings } = call;
    const body: Record<string, unknown> = {
      model: call.modelId,
      stream: true,
      stream_options: { include_usage: true },
      ...(settings.temperature !== undefined ? { temperature: settings.temperature } : {}),
      ...(settings.topP !== undefined ? { top_p: settings.topP } : {}),
      ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
      ...(settings.maxTokens !== undefined ? { max_tokens: settings.maxTokens } : {}),
      ...(settings.stop?.length ? { stop: settings.stop } : {}),
      ...(settings.presencePenalty !== undefined ? { presence_penalty: settings.presencePenalty } : {}),
      ...(settings.frequencyPenalty !== undefined ? { frequency_penalty: settings.frequencyPenalty } : {}),
      // Not OpenAI's: the extensions llama.cpp's server, vLLM and LM Studio take, sent only when asked
      // for (OpenAI itself refuses them). The multiplicative repeat penalty goes by both its names:
      // llama.cpp's server and LM Studio read repeat_penalty, vLLM and SGLang repetition_penalty.
      ...(settings.topK !== undefined ? { top_k: settings.topK } : {}),
      ...(settings.minP !== undefined ? { min_p: settings.minP } : {}),
      ...(settings.repeatPenalty !== undefined
        ? { repeat_penalty: settings.repeatPenalty, repetition_penalty: settings.repeatPenalty }
        : {}),
      // Token ids of the upstream's own model, as the client sent them.
      ...(settings.logitBias ? { logit_bias: settings.logitBias } : {}),
    };
    if (call.input.kind === "chat") {
      body.messages = openAiMessages(call.input.messages);
      if (settings.format) {
        body.response_format =
          settings.format.type === "json"
            ? { type: "json_object" }
            : { type: "json_schema", json_schema: { name: "output", schema: settings.format.schema } };
      }
      if (settings.tools?.length) {
        body.tools = settings.tools.map((tool) => ({ type: "function", function: tool }));
        const choice = settings.toolChoice;
        if (choice) {
          body.tool_choice =
            typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
        }
      }
    } else {
      body.prompt = call.input.prompt;
      if (call.input.suffix) body.suffix = call.input.suffix;
    }
    const response = await callUpstream({
      url,
      body,
      headers: this.#headers,
      credentialsSetting: this.#credentialsSetting,
      signal: call.signal,
      model: call.modelId,
    });
    if (!response.body)
      throw new UpstreamCallError({ url, status: 502, message: "the upstream sent no body" });
    let finishReason: FinishReason | undefined;
    let usage = { promptTokens: 0, completionTokens: 0 };
    const toolCalls = new Map<number, { name: string; arguments: string }>();
    for await (const data of readServerSentEvents(response.body)) {
      if (data === "[DONE]") break;
      const chunk = parseChunk(data, url, this.#secrets);
      if ("error" in chunk && chunk.error) {
        const message =
          typeof chunk.error === "object" && chunk.error !== null
            ? (chunk.error as { message?: string }).message
            : String(chunk.error);
        yield {
          type: "error",
          error: new UpstreamCallError({
            url,
            status: 502,
            body: data,
            secrets: this.#secrets,
            message: `upstream error: ${message}`,
          }),
        };
        return;
      }
      for (const choice of chunk.choices ?? []) {
        const reasoning = choice.delta?.reasoning_content ?? choice.delta?.reasoning;
        if (reasoning) yield { type: "reasoning-delta", text: reasoning };
        const text = choice.delta?.content ?? choice.text;
        if (text) yield { type: "text-delta", text };
        for (const raw of choice.delta?.tool_calls ?? []) {
          const delta = raw as { index?: number; function?: { name?: string; arguments?: string } };
          const slot = toolCalls.get(delta.index ?? 0) ?? { name: "", arguments: "" };
          slot.name += delta.function?.name ?? "";
          slot.arguments += delta.function?.arguments ?? "";
          toolCalls.set(delta.index ?? 0, slot);
        }
        if (choice.finish_reason) finishReason = mapFinish(choice.finish_reason);
      }
      if (chunk.usage) {
        usage = {
          promptTokens: chunk.usage.prompt_tokens ?? 0,
          completionTokens: chunk.usage.completion_tokens ?? 0,
        };
      }
    }
    for (const toolCall of toolCalls.values()) {
      let args: Record<string, unknown> = {};
      try {
        args = JSON.parse(toolCall.arguments || "{}") as Record<string, unknown>;
      } catch {
        args = { _raw: toolCall.arguments };
      }
      yield { type: "tool-call", toolCall: { name: toolCall.name, arguments: args } };
    }
    if (finishReason === undefined && call.signal?.aborted) return;
    yield { type: "finish", finishReason: finishReason ?? "stop", usage };
  }

  async embed(call: EmbedCall): Promise<{ embeddings: number[][]; promptTokens: number }> {
    const url = `${this.#baseUrl}/embeddings`;
    const response = await callUpstream({
      url,
      body: { model: call.modelId, input: call.inputs },
      headers: this.#headers,
      credentialsSetting: this.#credentialsSetting,
      signal: call.signal,
    });
    const parsed = await readJson(
      response,
      z.looseObject({
        data: z.array(z.looseObject({ embedding: z.array(z.number()), index: z.number().nullish() })),
        usage: z.looseObject({ prompt_tokens: z.number().nullish() }).nullish(),
      }),
      url,
      this.#secrets,
    );
    const ordered = [...parsed.data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    return {
      embeddings: ordered.map((item) => item.embedding),
      promptTokens: parsed.usage?.prompt_tokens ?? 0,
    };
  }

  /**
   * Forwards to the upstream's `/v1/rerank` (llama.cpp's server, vLLM, Xinference), asking for every
   * document's score: the service sorts and cuts them itself, whatever `top_n` the upstream honours.
   */
  async rerank(call: RerankCall): Promise<RerankResult> {
    const url = `${this.#baseUrl}/rerank`;
    let response: Response;
    try {
      response = await callUpstream({
        url,
        body: { model: call.modelId, query: call.query, documents: call.documents },
        headers: this.#headers,
        credentialsSetting: this.#credentialsSetting,
        signal: call.signal,
      });
    } catch (error) {
      // vLLM serves /v1/rerank only for a model that reranks (404 for the rest); llama.cpp's server
      // answers 501 unless started with --reranking.
      if (
        error instanceof UpstreamCallError &&
        (error.upstreamStatus === 404 || error.upstreamStatus === 501)
      )
        throw cannotRerank(
          `${this.#options.name}/${call.modelId}`,
          `upstream "${this.#options.name}" does not rerank with it (${error.message})`,
        );
      throw error;
    }
    const parsed = await readJson(response, upstreamRerankSchema, url, this.#secrets);
    const raw: Array<number | undefined> = call.documents.map(() => undefined);
    for (const result of parsed.results) {
      if (result.index < call.documents.length) raw[result.index] = result.relevance_score;
    }
    const missing = raw.indexOf(undefined);
    if (missing >= 0)
      throw new UpstreamCallError({
        url: withoutUrlSecrets(url),
        status: 502,
        message: `upstream "${this.#options.name}" answered the rerank with no score for document ${missing} of ${call.documents.length}`,
      });
    const scores = raw as number[];
    // llama.cpp's server answers the classification head's raw output, a logit for bge-reranker
    // (vLLM and node-llama-cpp answer its sigmoid): an answer with a score outside 0..1 is of logits,
    // mapped through the same sigmoid so that every runtime's scores read alike (the order stays).
    const logits = scores.some((score) => score < 0 || score > 1);
    return {
      scores: logits ? scores.map((logit) => 1 / (1 + Math.exp(-logit))) : scores,
      promptTokens: parsed.usage?.prompt_tokens ?? parsed.usage?.total_tokens ?? 0,
    };
  }

  async close(): Promise<void> {}
}

/**
 * A rerank answer as llama.cpp's server, vLLM and Xinference give it: results of `index` and
 * `relevance_score` (in any order, with or without the document), usage with `prompt_tokens` or
 * only `total_tokens` (vLLM), or none.
 */
const upstreamRerankSchema = z.looseObject({
  results: z.array(z.looseObject({ index: z.number().int().min(0), relevance_score: z.number() })),
  usage: z.looseObject({ prompt_tokens: z.number().nullish(), total_tokens: z.number().nullish() }).nullish(),
});

function parseChunk(data: string, url: string, secrets: string[]): OpenAiChatChunk & { error?: unknown } {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new UpstreamCallError({
      url,
      status: 502,
      body: redactSecrets(data, secrets).slice(0, 200),
      message: "the upstream sent an event that is not JSON",
    });
  }
  if (typeof value === "object" && value !== null && "error" in value) return value as { error: unknown };
  const parsed = openAiChatChunkSchema.safeParse(value);
  if (!parsed.success)
    throw new UpstreamCallError({
      url,
      status: 502,
      body: redactSecrets(data, secrets).slice(0, 200),
      message: "the upstream sent an unexpected chunk",
    });
  return parsed.data;
}

function mapFinish(reason: string): FinishReason {
  if (reason === "length") return "length";
  if (reason === "tool_calls" || reason === "function_call") return "tool-calls";
  return "stop";
}

/**
 * A chat history in OpenAI's shape, tool turns included: an assistant's calls with their ids, and
 * each tool result with the id of the call it answers (OpenAI-compatible servers refuse a tool
 * message without one). Calls that came without ids (an Ollama client's history) get ids here, and
 * each result answers the earliest unanswered call of its tool.
 */
function openAiMessages(messages: ChatMessage[]): Array<Record<string, unknown>> {
  const unanswered: Array<{ id: string; name: string }> = [];
  let made = 0;
  return messages.map((message) => {
    if (message.role === "assistant" && message.toolCalls?.length) {
      const toolCalls = message.toolCalls.map((toolCall) => {
        const id = toolCall.id ?? `call_${made++}`;
        unanswered.push({ id, name: toolCall.name });
        const call = { name: toolCall.name, arguments: JSON.stringify(toolCall.arguments) };
        return { id, type: "function", function: call };
      });
      return { role: "assistant", content: message.content || null, tool_calls: toolCalls };
    }
    if (message.role === "tool") {
      const answered = message.toolCallId
        ? unanswered.findIndex((call) => call.id === message.toolCallId)
        : unanswered.findIndex((call) => call.name === message.toolName);
      const id = message.toolCallId ?? unanswered[answered]?.id;
      if (answered !== -1) unanswered.splice(answered, 1);
      return { role: "tool", content: message.content, ...(id ? { tool_call_id: id } : {}) };
    }
    return { role: message.role, content: message.content };
  });
}
