import {
  type OllamaChatChunk,
  ollamaChatChunkSchema,
  ollamaTagsResponseSchema,
  ollamaVersionSchema,
} from "@hearth/contracts";
import { HearthError, redactSecrets, UpstreamCallError } from "@hearth/core";
import { z } from "zod";
import { cannotRerank } from "../cannot-rerank.js";
import {
  type CallSettings,
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
import { callUpstream, readJson, readLines, sentSecrets } from "./http-call.js";

export interface OllamaRuntimeOptions {
  baseUrl: string;
  /** How long listing may take before the upstream counts as absent. */
  listTimeoutMs?: number;
}

/**
 * The model families of Ollama's embedding models (nomic-embed-text is nomic-bert; mxbai-embed-large,
 * bge-m3, all-minilm and snowflake-arctic-embed are bert; multilingual-e5 xlm-roberta): encoders, which
 * embed and cannot chat. An embedding model of a decoder family (Qwen3-Embedding) is not told apart.
 */
const ENCODER_FAMILIES = new Set(["bert", "nomic-bert", "nomic-bert-moe", "xlm-roberta", "jina-bert-v2"]);

/** Names the credentials an Ollama refuses: its URL's user info, sent as Basic credentials. */
const CREDENTIALS_SETTING =
  "the user name and password in model.ollamaHost (OLLAMA_HOST: http://user:password@host)";

/** Fronts an Ollama server: lists its models and proxies chats, completions and embeddings. */
export class OllamaRuntime implements ModelRuntime {
  readonly specificationVersion = "hearth-1";
  readonly provider = "ollama";
  readonly defaultConcurrency = 4;
  readonly usesPublishedTemplate = true;
  readonly honoursToolChoice = false;
  readonly #baseUrl: string;
  readonly #listTimeoutMs: number;
  /** The URL's user info as Ollama may echo it: what errors leave out. */
  readonly #secrets: string[];

  constructor(options: OllamaRuntimeOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#listTimeoutMs = options.listTimeoutMs ?? 2000;
    this.#secrets = sentSecrets(this.#baseUrl);
  }

  async listModels(signal?: AbortSignal): Promise<ModelDescription[]> {
    const url = `${this.#baseUrl}/api/tags`;
    const response = await callUpstream({
      url,
      signal,
      timeoutMs: this.#listTimeoutMs,
      credentialsSetting: CREDENTIALS_SETTING,
    });
    const tags = await readJson(response, ollamaTagsResponseSchema, url, this.#secrets);
    return (tags.models ?? []).map((model) => {
      const details = (model.details ?? {}) as {
        family?: string;
        parameter_size?: string;
        quantization_level?: string;
      };
      return {
        id: model.model ?? model.name,
        sizeBytes: model.size ?? undefined,
        digest: model.digest ?? undefined,
        modifiedAt: model.modified_at ? new Date(model.modified_at) : undefined,
        family: details.family,
        parameterSize: details.parameter_size,
        quantization: details.quantization_level,
        ...(details.family && ENCODER_FAMILIES.has(details.family) ? { embedsOnly: true } : {}),
      };
    });
  }

  async version(signal?: AbortSignal): Promise<string> {
    const url = `${this.#baseUrl}/api/version`;
    const response = await callUpstream({
      url,
      signal,
      timeoutMs: this.#listTimeoutMs,
      credentialsSetting: CREDENTIALS_SETTING,
    });
    return (await readJson(response, ollamaVersionSchema, url, this.#secrets)).version;
  }

  /** The upstream's own /api/show answer. */
  async show(modelId: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const url = `${this.#baseUrl}/api/show`;
    const response = await callUpstream({
      url,
      body: { model: modelId },
      signal,
      model: modelId,
      timeoutMs: 10_000,
      credentialsSetting: CREDENTIALS_SETTING,
    });
    return readJson(response, z.looseObject({}), url, this.#secrets);
  }

  doGenerate(call: ModelCall): Promise<GenerateResult> {
    return collectStream(this.doStream(call));
  }

  async *doStream(call: ModelCall): AsyncGenerator<StreamPart> {
    // Ollama has no logit_bias: refused rather than answered as if it were not there.
    if (call.settings.logitBias)
      throw new HearthError(
        "PARAMETER_NOT_SUPPORTED",
        `logit_bias is not supported for "${call.modelId}": it is served by an upstream Ollama, which has no logit_bias; leave it out`,
        { details: { field: "logit_bias" } },
      );
    const chat = call.input.kind === "chat";
    const url = `${this.#baseUrl}${chat ? "/api/chat" : "/api/generate"}`;
    const body: Record<string, unknown> = {
      model: call.modelId,
      stream: true,
      options: toOptions(call.settings),
      ...(call.settings.keepAliveSeconds !== undefined ? { keep_alive: call.settings.keepAliveSeconds } : {}),
      ...(call.settings.think !== undefined ? { think: call.settings.think } : {}),
      ...(call.settings.format
        ? { format: call.settings.format.type === "json" ? "json" : call.settings.format.schema }
        : {}),
    };
    if (call.input.kind === "chat") {
      body.messages = call.input.messages.map((message) => ({
        role: message.role,
        content: message.content,
        ...(message.toolName ? { tool_name: message.toolName } : {}),
        ...(message.toolCalls
          ? { tool_calls: message.toolCalls.map((toolCall) => ({ function: toolCall })) }
          : {}),
      }));
      if (call.settings.tools?.length) {
        body.tools = call.settings.tools.map((tool) => ({ type: "function", function: tool }));
      }
    } else {
      body.prompt = call.input.prompt;
      body.raw = true;
      if (call.input.suffix) body.suffix = call.input.suffix;
    }
    const response = await callUpstream({
      url,
      body,
      signal: call.signal,
      model: call.modelId,
      credentialsSetting: CREDENTIALS_SETTING,
    });
    if (!response.body) throw new UpstreamCallError({ url, status: 502, message: "Ollama sent no body" });
    let finished = false;
    let sawToolCall = false;
    for await (const line of readLines(response.body)) {
      if (line.trim() === "") continue;
      const chunk = parseChunk(line, url, this.#secrets);
      if (chunk.error) {
        yield {
          type: "error",
          error: new UpstreamCallError({
            url,
            status: 502,
            body: line,
            secrets: this.#secrets,
            message: `Ollama: ${chunk.error}`,
          }),
        };
        return;
      }
      const thinking = chunk.message?.thinking ?? chunk.thinking;
      if (thinking) yield { type: "reasoning-delta", text: thinking };
      const text = chunk.message?.content ?? chunk.response;
      if (text) yield { type: "text-delta", text };
      for (const toolCall of chunk.message?.tool_calls ?? []) {
        sawToolCall = true;
        yield {
          type: "tool-call",
          toolCall: {
            name: toolCall.function.name,
            arguments: (toolCall.function.arguments ?? {}) as Record<string, unknown>,
          },
        };
      }
      if (chunk.done) {
        finished = true;
        yield {
          type: "finish",
          finishReason: mapDoneReason(chunk.done_reason, sawToolCall),
          usage: { promptTokens: chunk.prompt_eval_count ?? 0, completionTokens: chunk.eval_count ?? 0 },
        };
      }
    }
    if (!finished && !call.signal?.aborted) {
      yield {
        type: "error",
        error: new UpstreamCallError({ url, status: 502, message: "Ollama ended the stream early" }),
      };
    }
  }

  async embed(call: EmbedCall): Promise<{ embeddings: number[][]; promptTokens: number }> {
    const url = `${this.#baseUrl}/api/embed`;
    const response = await callUpstream({
      url,
      body: {
        model: call.modelId,
        input: call.inputs,
        ...(call.keepAliveSeconds !== undefined ? { keep_alive: call.keepAliveSeconds } : {}),
        ...(call.truncate !== undefined ? { truncate: call.truncate } : {}),
      },
      signal: call.signal,
      credentialsSetting: CREDENTIALS_SETTING,
    });
    const parsed = await readJson(
      response,
      z.looseObject({ embeddings: z.array(z.array(z.number())), prompt_eval_count: z.number().nullish() }),
      url,
      this.#secrets,
    );
    return { embeddings: parsed.embeddings, promptTokens: parsed.prompt_eval_count ?? 0 };
  }

  /** Ollama has no rerank API: its models are refused rather than scored some other way. */
  async rerank(call: RerankCall): Promise<RerankResult> {
    throw cannotRerank(
      call.modelId,
      "it is served by Ollama, which has no rerank API; put the reranker's GGUF in the models dir, or serve it from an OpenAI-compatible server (vLLM, llama.cpp's server with --reranking)",
    );
  }

  async close(): Promise<void> {}
}

function parseChunk(line: string, url: string, secrets: string[]): OllamaChatChunk {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new UpstreamCallError({
      url,
      status: 502,
      body: redactSecrets(line, secrets).slice(0, 200),
      message: "Ollama sent a line that is not JSON",
    });
  }
  const parsed = ollamaChatChunkSchema.safeParse(value);
  if (!parsed.success) throw new HearthError("UPSTREAM_ERROR", "Ollama sent an unexpected stream chunk");
  return parsed.data;
}

function toOptions(settings: CallSettings): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  if (settings.temperature !== undefined) options.temperature = settings.temperature;
  if (settings.topP !== undefined) options.top_p = settings.topP;
  if (settings.topK !== undefined) options.top_k = settings.topK;
  if (settings.minP !== undefined) options.min_p = settings.minP;
  if (settings.seed !== undefined) options.seed = settings.seed;
  if (settings.maxTokens !== undefined) options.num_predict = settings.maxTokens;
  if (settings.stop?.length) options.stop = settings.stop;
  if (settings.repeatPenalty !== undefined) options.repeat_penalty = settings.repeatPenalty;
  if (settings.presencePenalty !== undefined) options.presence_penalty = settings.presencePenalty;
  if (settings.frequencyPenalty !== undefined) options.frequency_penalty = settings.frequencyPenalty;
  return options;
}

function mapDoneReason(reason: string | null | undefined, toolCalls: boolean): FinishReason {
  if (toolCalls) return "tool-calls";
  if (reason === "length") return "length";
  return "stop";
}
