import { HearthError } from "@hearth/core";
import { grammarProblems } from "../runtime/embedded/grammar-schema.js";
import type {
  CallSettings,
  ChatMessage,
  StreamPart,
  ToolCall,
  ToolDefinition,
} from "../runtime/language-model.js";

/**
 * A forced tool call (OpenAI's `tool_choice: "required"` or a named function) for a runtime that cannot
 * be told to call a tool but can hold its answer to a JSON schema (llama.cpp's grammar, Ollama's
 * `format`), as vLLM does with guided decoding: the tools are described to the model in a system
 * message, the answer is held to `{"name": <a tool offered>, "arguments": <its parameters>}`, and
 * toolCallFromAnswer turns that JSON back into the call. Undefined when the model may choose.
 */
export function forceToolCall(
  messages: ChatMessage[],
  settings: CallSettings,
): { messages: ChatMessage[]; settings: CallSettings; tools: ToolDefinition[] } | undefined {
  const choice = settings.toolChoice;
  if (!choice || !settings.tools?.length) return undefined;
  const tools =
    choice === "required" ? settings.tools : settings.tools.filter((tool) => tool.name === choice.name);
  const calls = tools.map((tool) => ({
    type: "object",
    properties: { name: { const: tool.name }, arguments: argumentsSchema(tool) },
    required: ["name", "arguments"],
    additionalProperties: false,
  }));
  const instruction = [
    tools.length === 1
      ? `Answer by calling the tool "${tools[0]!.name}".`
      : "Answer by calling one of these tools.",
    'Reply with only a JSON object {"name": <the tool\'s name>, "arguments": <its arguments>}, the arguments following the tool\'s parameters.',
    `Tools: ${JSON.stringify(tools.map(({ name, description, parameters }) => ({ name, description, parameters })))}`,
  ].join("\n");
  const [first, ...rest] = messages;
  return {
    messages:
      first?.role === "system"
        ? [{ ...first, content: `${first.content}\n\n${instruction}` }, ...rest]
        : [{ role: "system", content: instruction }, ...messages],
    settings: {
      ...settings,
      tools: undefined,
      toolChoice: undefined,
      // Stop sequences are for text: one inside the call's JSON would cut it short.
      stop: undefined,
      format: { type: "json-schema", schema: calls.length === 1 ? calls[0]! : { oneOf: calls } },
    },
    tools,
  };
}

/** A tool's parameters, which the grammar is to hold the call's arguments to, checked that it can. */
function argumentsSchema(tool: ToolDefinition): Record<string, unknown> {
  const parameters = tool.parameters ?? { type: "object" };
  const problems = grammarProblems(parameters);
  if (problems.length > 0)
    throw new HearthError(
      "INVALID_REQUEST",
      `tool_choice forces a call of "${tool.name}", whose parameters the model's grammar cannot enforce: ${problems.slice(0, 5).join("; ")} (with tool_choice "auto" they need not be)`,
      { details: { field: "tool_choice" } },
    );
  return parameters;
}

/**
 * The answer of a forced call as a `tool-call` part (finish reason "tool-calls"). An answer that is
 * not a complete call of an offered tool (max_tokens cut it) passes on as text, with its finish reason.
 */
export async function* toolCallFromAnswer(
  parts: AsyncIterable<StreamPart>,
  tools: ToolDefinition[],
): AsyncGenerator<StreamPart> {
  let text = "";
  for await (const part of parts) {
    if (part.type === "text-delta") {
      text += part.text;
      continue;
    }
    if (part.type === "finish" && part.finishReason !== "abort") {
      const call = parseCall(text, tools);
      if (call) {
        yield { type: "tool-call", toolCall: call };
        yield { ...part, finishReason: "tool-calls" };
        return;
      }
    }
    if ((part.type === "finish" || part.type === "error") && text) {
      yield { type: "text-delta", text };
      text = "";
    }
    yield part;
  }
}

function parseCall(text: string, tools: ToolDefinition[]): ToolCall | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { name, arguments: args } = value as { name?: unknown; arguments?: unknown };
  if (typeof name !== "string" || !tools.some((tool) => tool.name === name)) return undefined;
  if (typeof args !== "object" || args === null || Array.isArray(args)) return undefined;
  return { name, arguments: args as Record<string, unknown> };
}
