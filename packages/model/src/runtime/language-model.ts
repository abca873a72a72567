/**
 * The one contract every model runtime implements (embedded llama.cpp, upstream Ollama, upstream
 * OpenAI-compatible), after the AI SDK's language model spec: a provider, model ids, and two calls,
 * `doGenerate` and `doStream`. Routes speak Ollama or OpenAI on top of this and never see a runtime's
 * wire format.
 */

/** A chat turn as runtimes receive it: plain text content, reasoning already separated. */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  /** A tool call the assistant made in an earlier turn. */
  toolCalls?: ToolCall[];
  /** For role "tool": the tool whose result this is. */
  toolName?: string;
  /** For role "tool": the id of the call it answers (OpenAI's `tool_call_id`), when the client gave one. */
  toolCallId?: string;
}

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON schema of the arguments. */
  parameters?: Record<string, unknown>;
}

/**
 * That the answer must call a tool (OpenAI's `tool_choice`): "required" one of the tools offered,
 * `{ name }` that one. Undefined ("auto") lets the model choose; "none" never reaches a runtime: the
 * tools are not offered.
 */
export type ToolChoice = "required" | { name: string };

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
  /** The call's id in an earlier turn (OpenAI's), which the tool's result refers to. */
  id?: string;
}

/** Output constraints: any JSON value, or JSON that matches a schema. */
export type OutputFormat = { type: "json" } | { type: "json-schema"; schema: Record<string, unknown> };

export interface CallSettings {
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  seed?: number;
  maxTokens?: number;
  /**
   * A `maxTokens` beyond the room the context has left after the prompt is capped to that room (the
   * answer ends with finish reason "length"), as Ollama treats `num_predict`; unset, one at or beyond
   * the whole context is refused (400 CONTEXT_OVERFLOW), as vLLM treats OpenAI's `max_tokens`.
   */
  capMaxTokens?: boolean;
  stop?: string[];
  repeatPenalty?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /**
   * OpenAI's `logit_bias`: token id (of the model's own vocabulary) to a bias from -100 (never) to
   * 100 (as good as forced). A runtime that cannot apply it refuses the call (PARAMETER_NOT_SUPPORTED).
   */
  logitBias?: Record<string, number>;
  format?: OutputFormat;
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  /** Ask a reasoning model to think (Ollama `think`); undefined leaves the model's default. */
  think?: boolean;
  /** Seconds the model stays loaded after this call (Ollama keep_alive); -1 forever, 0 unload now. */
  keepAliveSeconds?: number;
}

/** A chat (messages rendered by the model's chat template) or a raw completion (prompt as is). */
export type ModelCallInput =
  | { kind: "chat"; messages: ChatMessage[] }
  | { kind: "completion"; prompt: string; suffix?: string };

/**
 * The request fields that carried settings a runtime may refuse, named as the client sent them, so
 * that a refusal names the field sent: in its message and as `details.field` (OpenAI's `param`).
 */
export interface RequestFields {
  /** Where `maxTokens` came from: `max_tokens` unless said (OpenAI's `max_completion_tokens`). */
  maxTokens?: string;
  /** Where `format` came from: `format` (Ollama's) unless said (OpenAI's `response_format`). */
  format?: string;
}

export interface ModelCall {
  /** The model id inside the runtime (without any routing prefix). */
  modelId: string;
  input: ModelCallInput;
  settings: CallSettings;
  /** The request's names for its settings, for refusals; Hearth's defaults when absent. */
  fields?: RequestFields;
  /** Aborting stops generation at once (client gone, service stopping). */
  signal?: AbortSignal;
}

export type FinishReason = "stop" | "length" | "tool-calls" | "abort";

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

/**
 * One part of a streamed answer, a discriminated union named noun-verb. A runtime may open with
 * `stream-start` once it has accepted the call (model loaded, request checked, generation begun),
 * as the AI SDK's model spec does: the service then sends its response headers while the first
 * token is computed, and any later failure arrives as an `error` part.
 */
export type StreamPart =
  /** `loadMs`: how long this call waited for the model to load (0 when it was loaded). */
  | { type: "stream-start"; loadMs?: number }
  | { type: "text-delta"; text: string }
  | { type: "reasoning-delta"; text: string }
  | { type: "tool-call"; toolCall: ToolCall }
  | { type: "finish"; finishReason: FinishReason; usage: Usage }
  | { type: "error"; error: Error };

export interface GenerateResult {
  text: string;
  reasoning: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: Usage;
}

export interface ModelDescription {
  /** The id inside the runtime. */
  id: string;
  sizeBytes?: number;
  digest?: string;
  /**
   * Changes whenever the bytes served under the id may have (the embedded runtime's file: its inode,
   * size and mtime), even while the digest read with them is not yet up to date: keyed into the
   * inference cache beside the digest.
   */
  revision?: string;
  modifiedAt?: Date;
  family?: string;
  parameterSize?: string;
  quantization?: string;
  contextLength?: number;
  /** Whether the model has its own chat template (else a generic one, or the prompt as is). */
  hasChatTemplate?: boolean;
  /**
   * An embedding model (a GGUF that names a pooling type, as Ollama tells them; an upstream Ollama's
   * model of an encoder family): it embeds text and is not one to chat with (the embedded runtime
   * loads it without a chat context and refuses a chat with MODEL_CANNOT_CHAT). Absent: a model that
   * completes (which may be asked for embeddings all the same).
   */
  embedsOnly?: boolean;
  /**
   * A reranking model (a cross-encoder: a GGUF with the classification head llama.cpp ranks with,
   * `cls.output.weight` or `cls.weight`): it scores documents against a query (`rerank`), and is
   * neither one to chat with (refused as an embedding model's chat is) nor one to embed with.
   */
  reranksOnly?: boolean;
}

export interface EmbedCall {
  modelId: string;
  inputs: string[];
  signal?: AbortSignal;
  keepAliveSeconds?: number;
  /** Cut an input longer than the embedding context to fit (Ollama's `truncate`), instead of refusing it. */
  truncate?: boolean;
}

export interface RerankCall {
  modelId: string;
  query: string;
  documents: string[];
  signal?: AbortSignal;
}

export interface RerankResult {
  /** Each document's relevance to the query, from 0 to 1 (higher is more relevant), in the call's order. */
  scores: number[];
  promptTokens: number;
}

export interface ModelRuntime {
  readonly specificationVersion: "hearth-1";
  /** "embedded", "ollama" or "openai-compatible:<name>". */
  readonly provider: string;
  /**
   * Whether chat prompts go through the model's published chat template, which for DeepSeek-R1's
   * distills ends by opening `<think>` (a preset's impliedThinkOpen). The embedded runtime renders
   * them with node-llama-cpp's own wrappers, which leave the tag to the model and split reasoning out
   * themselves.
   */
  readonly usesPublishedTemplate: boolean;
  /**
   * Honours `settings.toolChoice` itself (an OpenAI-compatible server). For the others the service
   * makes a forced call out of an answer held to a JSON schema (serving/forced-tool-call.ts).
   */
  readonly honoursToolChoice: boolean;
  /** Concurrent generations a model of this runtime can run (the admission queue's default limit). */
  readonly defaultConcurrency: number;
  /**
   * Whether a model can think: its chat template writes `<think>`, the rule Ollama applies. Absent
   * where the runtime cannot tell (an upstream Ollama answers a `think` it cannot honour itself).
   */
  thinks?(modelId: string): boolean;
  listModels(signal?: AbortSignal): Promise<ModelDescription[]>;
  doGenerate(call: ModelCall): Promise<GenerateResult>;
  /**
   * Starts generating. Errors before the first part (unknown model, invalid file, prompt too long)
   * reject or throw from the iterator's first `next()`; later ones arrive as an `error` part.
   * Breaking out of the iteration stops generation.
   */
  doStream(call: ModelCall): AsyncIterable<StreamPart>;
  embed?(call: EmbedCall): Promise<{ embeddings: number[][]; promptTokens: number }>;
  /**
   * Scores each document against the query with a reranking model (a cross-encoder). A model or
   * runtime that cannot rerank refuses with MODEL_CANNOT_RERANK, saying why.
   */
  rerank(call: RerankCall): Promise<RerankResult>;
  /**
   * Keeps a loaded model for `seconds` from now, as a call would (a cached answer's `keep_alive`);
   * 0 unloads it. A model not loaded stays unloaded.
   */
  keepAlive?(modelId: string, seconds: number): void;
  /** Models loaded in memory now (Ollama `/api/ps`). */
  loadedModels?(): Array<{
    id: string;
    sizeBytes: number;
    expiresAt: Date | undefined;
    contextLength: number;
  }>;
  close(): Promise<void>;
}

/** Collects a stream into one result: how runtimes without a separate non-streaming call implement doGenerate. */
export async function collectStream(parts: AsyncIterable<StreamPart>): Promise<GenerateResult> {
  const result: GenerateResult = {
    text: "",
    reasoning: "",
    toolCalls: [],
    finishReason: "stop",
    usage: { promptTokens: 0, completionTokens: 0 },
  };
  for await (const part of parts) {
    switch (part.type) {
      case "text-delta":
        result.text += part.text;
        break;
      case "reasoning-delta":
        result.reasoning += part.text;
        break;
      case "tool-call":
        result.toolCalls.push(part.toolCall);
        break;
      case "finish":
        result.finishReason = part.finishReason;
        result.usage = part.usage;
        break;
      case "error":
        throw part.error;
    }
  }
  return result;
}
