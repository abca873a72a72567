import { randomUUID } from "node:crypto";
import {
  COMPLETION_DEFAULT_MAX_TOKENS,
  type OpenAiChatRequest,
  type OpenAiMessage,
  openAiChatRequestSchema,
  openAiCompletionRequestSchema,
  openAiEmbeddingRequestSchema,
  openAiMessageText,
  USAGE_COMMENT_HEADER,
} from "@hearth/contracts";
import { HearthError, openAiErrorBody, refuseMediaParts, refuseTokenIds } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import type {
  CallSettings,
  ChatMessage,
  FinishReason,
  ModelDescription,
  ModelRuntime,
  OutputFormat,
} from "../runtime/language-model.js";
import { refuseEmptyInputs, refuseOtherDimensions } from "./embedding-input.js";
import { modelCapability } from "./model-capability.js";
import { collectAnswer, inferenceRequestContext, requestSignal, streamAnswer } from "./request-context.js";
import type { ModelServiceContext } from "./service-context.js";
import { unitLength } from "./unit-length.js";

function finishReason(reason: FinishReason): string {
  if (reason === "length") return "length";
  if (reason === "tool-calls") return "tool_calls";
  return "stop";
}

function toMessages(messages: OpenAiMessage[]): ChatMessage[] {
  // A tool's result names the call it answers by id; runtimes that know tools by name get the name.
  const toolNames = new Map<string, string>();
  for (const message of messages)
    for (const call of message.tool_calls ?? []) if (call.id) toolNames.set(call.id, call.function.name);
  return messages.map((message, m) => {
    // As OpenAI: a user message says something, if only "" (an assistant's may be null beside its tool calls).
    if (message.role === "user" && (message.content === null || message.content === undefined))
      throw new HearthError(
        "INVALID_REQUEST",
        `messages[${m}].content: a user message needs content, a string or a list of parts ("" for an empty one)`,
        { details: { field: `messages.${m}.content` } },
      );
    return {
      role: message.role === "developer" ? "system" : message.role,
      content: openAiMessageText(message.content),
      toolName:
        message.role === "tool"
          ? (message.name ?? toolNames.get(message.tool_call_id ?? "") ?? message.tool_call_id ?? undefined)
          : undefined,
      toolCallId: message.role === "tool" ? (message.tool_call_id ?? undefined) : undefined,
      toolCalls: message.tool_calls?.map((call, c) => {
        let args: Record<string, unknown> = {};
        try {
          args = JSON.parse(call.function.arguments || "{}") as Record<string, unknown>;
        } catch {
          throw new HearthError(
            "INVALID_REQUEST",
            `messages: the arguments of tool call ${call.function.name} are not JSON`,
            { details: { field: `messages.${m}.tool_calls.${c}.function.arguments` } },
          );
        }
        return { name: call.function.name, arguments: args, ...(call.id ? { id: call.id } : {}) };
      }),
    };
  });
}

function responseFormat(format: OpenAiChatRequest["response_format"]): OutputFormat | undefined {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "json" };
  const schema = (format as { json_schema: { schema?: Record<string, unknown> | null } }).json_schema.schema;
  return schema ? { type: "json-schema", schema } : { type: "json" };
}

function settingsOf(body: {
  temperature?: number | null;
  top_p?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  max_tokens?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  top_k?: number | null;
  min_p?: number | null;
  repeat_penalty?: number | null;
  logit_bias?: Record<string, number> | null;
}): CallSettings {
  const logitBias = body.logit_bias && Object.keys(body.logit_bias).length > 0 ? body.logit_bias : undefined;
  return {
    temperature: body.temperature ?? undefined,
    topP: body.top_p ?? undefined,
    seed: body.seed ?? undefined,
    stop:
      body.stop === null || body.stop === undefined
        ? undefined
        : Array.isArray(body.stop)
          ? body.stop
          : [body.stop],
    maxTokens: body.max_tokens ?? undefined,
    presencePenalty: body.presence_penalty ?? undefined,
    frequencyPenalty: body.frequency_penalty ?? undefined,
    // Extensions (llama.cpp's server, vLLM), taken as Ollama's options of the same names are.
    topK: body.top_k ?? undefined,
    minP: body.min_p ?? undefined,
    repeatPenalty: body.repeat_penalty ?? undefined,
    ...(logitBias ? { logitBias } : {}),
  };
}

function usageOf(usage: { promptTokens: number; completionTokens: number }) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

/** The last chunk of a stream asked for with `stream_options.include_usage`: no choices, the usage. */
function usageChunk(
  object: "chat.completion.chunk" | "text_completion",
  id: string,
  created: number,
  model: string,
  usage: { promptTokens: number; completionTokens: number },
) {
  return { id, object, created, model, choices: [], usage: usageOf(usage) };
}

/**
 * A function's parameters as OpenAI takes them: an object schema; none, or `{}`, is a function that
 * takes no arguments.
 */
function parametersSchema(
  name: string,
  parameters: Record<string, unknown> | null | undefined,
  field: string,
) {
  if (!parameters || Object.keys(parameters).length === 0) return { type: "object", properties: {} };
  if (parameters.type === undefined && parameters.properties !== undefined)
    return { type: "object", ...parameters };
  if (parameters.type !== "object")
    throw new HearthError(
      "INVALID_REQUEST",
      `the parameters of tool "${name}" must be a JSON schema of type "object", not ${JSON.stringify(parameters.type ?? null)}`,
      { details: { field } },
    );
  return parameters;
}

/** The tools offered and whether one must be called (`tool_choice`), checked as OpenAI checks them. */
function toolSettings(
  tools: OpenAiChatRequest["tools"],
  choice: OpenAiChatRequest["tool_choice"],
): Pick<CallSettings, "tools" | "toolChoice"> {
  if (choice === "none" || !tools?.length) {
    if (choice && choice !== "none" && choice !== "auto")
      throw new HearthError("INVALID_REQUEST", "tool_choice asks for a tool call, but no tools were given", {
        details: { field: "tool_choice" },
      });
    return {};
  }
  const named = typeof choice === "object" && choice ? choice.function.name : undefined;
  if (named !== undefined && !tools.some((tool) => tool.function.name === named))
    throw new HearthError("INVALID_REQUEST", `tool_choice names "${named}", which is not among the tools`, {
      details: { field: "tool_choice" },
    });
  return {
    tools: tools.map((tool, index) => ({
      name: tool.function.name,
      description: tool.function.description ?? undefined,
      parameters: parametersSchema(
        tool.function.name,
        tool.function.parameters,
        `tools.${index}.function.parameters`,
      ),
    })),
    toolChoice: named !== undefined ? { name: named } : choice === "required" ? "required" : undefined,
  };
}

/**
 * A model as /v1/models lists it and /v1/models/{id} answers it: OpenAI's fields and, beside them,
 * what it does as Ollama's /api/show says it (`capabilities`: "embedding", "completion" or "rerank"),
 * so that a client offers embedding models for search, rerankers for reranking and the rest for
 * chat without asking each one.
 */
function openAiModel(model: { name: string; description: ModelDescription; runtime: ModelRuntime }) {
  return {
    id: model.name,
    object: "model",
    created: Math.floor((model.description.modifiedAt?.getTime() ?? 0) / 1000),
    owned_by: model.runtime.provider === "embedded" ? "hearth" : model.runtime.provider,
    capabilities: [modelCapability(model.description)],
  };
}

/** The OpenAI API (https://platform.openai.com/docs/api-reference), as the official client uses it. */
export function registerOpenAiRoutes(app: FastifyInstance, service: ModelServiceContext): void {
  const { inference, catalog, shutdownSignal } = service;

  app.get("/v1/models", async () => {
    const models = await catalog.list();
    return { object: "list", data: models.map(openAiModel) };
  });

  // One model, the same object as its item in the list (OpenAI's `models.retrieve`).
  app.get<{ Params: { "*": string } }>("/v1/models/*", async (request) =>
    openAiModel(await catalog.resolve(request.params["*"])),
  );

  app.post("/v1/chat/completions", async (request, reply) => {
    const body = openAiChatRequestSchema.parse(request.body);
    refuseMediaParts(body.messages);
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const settings: CallSettings = {
      ...settingsOf({ ...body, max_tokens: body.max_completion_tokens ?? body.max_tokens }),
      format: responseFormat(body.response_format),
      ...toolSettings(body.tools, body.tool_choice),
    };
    const call = {
      model: body.model,
      input: { kind: "chat" as const, messages: toMessages(body.messages) },
      settings,
      // A refusal names the field sent: max_completion_tokens where the client sent it.
      fields: {
        maxTokens: body.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens",
        format: "response_format.json_schema.schema",
      },
      ...inferenceRequestContext(request, reply, shutdownSignal, body.user),
    };
    if (!body.stream) {
      const answer = await collectAnswer(reply, inference, call);
      return {
        id,
        object: "chat.completion",
        created,
        model: answer.started.model.name,
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              // As OpenAI: no content beside tool calls is null, not "".
              content: answer.text || answer.toolCalls.length === 0 ? answer.text : null,
              ...(answer.reasoning ? { reasoning_content: answer.reasoning } : {}),
              ...(answer.toolCalls.length
                ? {
                    tool_calls: answer.toolCalls.map((toolCall, index) => ({
                      id: `call_${index}_${randomUUID().slice(0, 8)}`,
                      type: "function",
                      function: { name: toolCall.name, arguments: JSON.stringify(toolCall.arguments) },
                    })),
                  }
                : {}),
            },
            logprobs: null,
            finish_reason: finishReason(answer.finish.finishReason),
          },
        ],
        usage: usageOf(answer.finish.usage),
      };
    }
    let toolIndex = 0;
    // Every chunk shares its head, serialised once with the first (the role chunk, once the model's
    // name is known), so a token costs one JSON string escape.
    let head: string | undefined;
    // With include_usage, every chunk but the last carries `"usage": null` (OpenAI's API reference).
    const tail = body.stream_options?.include_usage ? ',"usage":null}' : "}";
    // Without it, a caller that meters usage for its own client can have it as an SSE comment.
    const usageComment = request.headers[USAGE_COMMENT_HEADER] === "1";
    const chunk = (delta: string, finish: string | null = null) =>
      `${head}${delta},"logprobs":null,"finish_reason":${JSON.stringify(finish)}}]${tail}`;
    const textChunk = (key: "content" | "reasoning_content", text: string) =>
      chunk(`{"${key}":${JSON.stringify(text)}}`);
    await streamAnswer({
      request,
      reply,
      framing: "sse",
      inference,
      call,
      writePart: async (stream, part, started) => {
        if (head === undefined) {
          head = `{"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(started.model.name)},"choices":[{"index":0,"delta":`;
          await stream.send(chunk('{"role":"assistant","content":""}'));
        }
        if (part.type === "text-delta") await stream.send(textChunk("content", part.text));
        else if (part.type === "reasoning-delta")
          await stream.send(textChunk("reasoning_content", part.text));
        else if (part.type === "tool-call") {
          await stream.send(
            chunk(
              JSON.stringify({
                tool_calls: [
                  {
                    index: toolIndex++,
                    id: `call_${randomUUID().slice(0, 8)}`,
                    type: "function",
                    function: {
                      name: part.toolCall.name,
                      arguments: JSON.stringify(part.toolCall.arguments),
                    },
                  },
                ],
              }),
            ),
          );
        } else if (part.type === "finish") {
          await stream.send(chunk("{}", finishReason(part.finishReason)));
          if (body.stream_options?.include_usage)
            await stream.send(
              usageChunk("chat.completion.chunk", id, created, started.model.name, part.usage),
            );
          else if (usageComment) await stream.comment(`usage ${JSON.stringify(usageOf(part.usage))}`);
        }
      },
      writeError: (stream, error) => stream.send(openAiErrorBody(error)),
      writeEnd: (stream) => stream.send("[DONE]"),
    });
  });

  app.post("/v1/completions", async (request, reply) => {
    refuseTokenIds("prompt", (request.body as { prompt?: unknown } | undefined)?.prompt);
    const body = openAiCompletionRequestSchema.parse(request.body);
    const id = `cmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const prompts = (Array.isArray(body.prompt) ? body.prompt : [body.prompt]) as string[];
    // As for chats: a caller that meters usage (the web service's public API) can have it as a comment.
    const usageComment = request.headers[USAGE_COMMENT_HEADER] === "1";
    const context = inferenceRequestContext(request, reply, shutdownSignal, body.user);
    const callFor = (prompt: string) => ({
      model: body.model,
      input: { kind: "completion" as const, prompt, suffix: body.suffix ?? undefined },
      settings: { ...settingsOf(body), maxTokens: body.max_tokens ?? COMPLETION_DEFAULT_MAX_TOKENS },
      ...context,
    });
    if (!body.stream) {
      // A list of prompts: one choice per prompt, in order (as OpenAI), answered one after another.
      const choices = [];
      const usage = { promptTokens: 0, completionTokens: 0 };
      let model = body.model;
      for (const [index, prompt] of prompts.entries()) {
        const answer = await collectAnswer(reply, inference, callFor(prompt));
        model = answer.started.model.name;
        usage.promptTokens += answer.finish.usage.promptTokens;
        usage.completionTokens += answer.finish.usage.completionTokens;
        choices.push({
          index,
          text: (body.echo ? prompt : "") + answer.text,
          logprobs: null,
          finish_reason: finishReason(answer.finish.finishReason),
        });
      }
      return { id, object: "text_completion", created, model, choices, usage: usageOf(usage) };
    }
    if (prompts.length > 1)
      throw new HearthError(
        "INVALID_REQUEST",
        "prompt: a list of prompts is answered without streaming only; stream one prompt at a time, or send stream: false",
        { details: { field: "prompt" } },
      );
    const prompt = prompts[0]!;
    const call = callFor(prompt);
    let echo = Boolean(body.echo) && prompt !== "";
    await streamAnswer({
      request,
      reply,
      framing: "sse",
      inference,
      call,
      writePart: async (stream, part, started) => {
        const chunk = (text: string, finish: string | null = null) => ({
          id,
          object: "text_completion",
          created,
          model: started.model.name,
          choices: [{ index: 0, text, logprobs: null, finish_reason: finish }],
          ...(body.stream_options?.include_usage ? { usage: null } : {}),
        });
        // `echo`: as OpenAI streams it, the prompt is the first chunk's text.
        if (echo) {
          echo = false;
          await stream.send(chunk(prompt));
        }
        if (part.type === "text-delta") await stream.send(chunk(part.text));
        else if (part.type === "finish") {
          await stream.send(chunk("", finishReason(part.finishReason)));
          if (body.stream_options?.include_usage)
            await stream.send(usageChunk("text_completion", id, created, started.model.name, part.usage));
          else if (usageComment) await stream.comment(`usage ${JSON.stringify(usageOf(part.usage))}`);
        }
      },
      writeError: (stream, error) => stream.send(openAiErrorBody(error)),
      writeEnd: (stream) => stream.send("[DONE]"),
    });
  });

  app.post("/v1/embeddings", async (request, reply) => {
    refuseTokenIds("input", (request.body as { input?: unknown } | undefined)?.input);
    const body = openAiEmbeddingRequestSchema.parse(request.body);
    const inputs = (Array.isArray(body.input) ? body.input : [body.input]) as string[];
    refuseEmptyInputs(inputs);
    const model = await catalog.resolve(body.model);
    if (!model.runtime.embed)
      throw new HearthError("INVALID_REQUEST", `"${model.name}" does not offer embeddings`);
    const result = await model.runtime.embed({
      modelId: model.modelId,
      inputs,
      signal: requestSignal(reply, shutdownSignal),
    });
    refuseOtherDimensions(model.name, result.embeddings, body.dimensions);
    return {
      object: "list",
      model: model.name,
      data: result.embeddings.map(unitLength).map((embedding, index) => ({
        object: "embedding",
        index,
        embedding:
          body.encoding_format === "base64"
            ? Buffer.from(new Float32Array(embedding).buffer).toString("base64")
            : embedding,
      })),
      usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
    };
  });
}
