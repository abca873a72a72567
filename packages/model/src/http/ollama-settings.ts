import type { OllamaChatRequest, OllamaMessage, OllamaOptions } from "@hearth/contracts";
import { HearthError, mediaInputError } from "@hearth/core";
import type { CallSettings, ChatMessage, OutputFormat, ToolDefinition } from "../runtime/language-model.js";

/** Ollama's keep_alive: "5m", "1h30m", "30s", "0", "-1", or a number of seconds. */
export function parseKeepAlive(value: string | number | null | undefined): number | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  if (typeof value === "number") return value < 0 ? -1 : Math.round(value);
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text) < 0 ? -1 : Math.round(Number(text));
  if (text.startsWith("-")) return -1;
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  let seconds = 0;
  let rest = text;
  const part = /^(\d+(?:\.\d+)?)(ms|s|m|h)/;
  while (rest.length > 0) {
    const match = part.exec(rest);
    if (!match)
      throw new HearthError(
        "INVALID_REQUEST",
        `keep_alive: "${value}" is not a duration such as "5m" or "1h"`,
      );
    seconds += Number(match[1]) * units[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return Math.round(seconds);
}

export function ollamaFormat(format: OllamaChatRequest["format"]): OutputFormat | undefined {
  if (format === undefined || format === null || format === "") return undefined;
  if (format === "json") return { type: "json" };
  return { type: "json-schema", schema: format };
}

export function ollamaSettings(
  options: OllamaOptions | null | undefined,
  extra: {
    format?: OllamaChatRequest["format"];
    keepAlive?: string | number | null;
    think?: unknown;
    tools?: OllamaChatRequest["tools"];
  },
): CallSettings {
  const stop = options?.stop;
  const numPredict = options?.num_predict ?? undefined;
  const tools: ToolDefinition[] | undefined = extra.tools?.map((tool) => ({
    name: tool.function.name,
    description: tool.function.description ?? undefined,
    parameters: tool.function.parameters ?? undefined,
  }));
  return {
    temperature: options?.temperature ?? undefined,
    topP: options?.top_p ?? undefined,
    topK: options?.top_k ?? undefined,
    minP: options?.min_p ?? undefined,
    seed: options?.seed ?? undefined,
    // -1: until the model stops; -2: until the context is full (both: no explicit limit).
    maxTokens: numPredict === undefined || numPredict < 0 ? undefined : numPredict === 0 ? 1 : numPredict,
    // As Ollama: num_predict generates until the context is full at most (done_reason "length").
    capMaxTokens: true,
    stop: stop === null || stop === undefined ? undefined : Array.isArray(stop) ? stop : [stop],
    repeatPenalty: options?.repeat_penalty ?? undefined,
    presencePenalty: options?.presence_penalty ?? undefined,
    frequencyPenalty: options?.frequency_penalty ?? undefined,
    format: ollamaFormat(extra.format),
    keepAliveSeconds: parseKeepAlive(extra.keepAlive),
    think: extra.think === undefined || extra.think === null ? undefined : extra.think !== false,
    tools: tools && tools.length > 0 ? tools : undefined,
  };
}

export function ollamaMessages(messages: OllamaMessage[]): ChatMessage[] {
  return messages.map((message, index) => {
    if (message.images?.length) throw mediaInputError(`messages[${index}].images`, "images");
    return {
      role: message.role,
      content: message.content ?? "",
      toolName: message.tool_name ?? undefined,
      toolCalls: message.tool_calls?.map((call) => ({
        name: call.function.name,
        arguments: (call.function.arguments ?? {}) as Record<string, unknown>,
      })),
    };
  });
}
