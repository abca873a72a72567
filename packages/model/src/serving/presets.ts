import type { CallSettings, ChatMessage } from "../runtime/language-model.js";

export interface ModelPreset {
  match: string;
  temperature?: number;
  topP?: number;
  systemInUserTurn?: boolean;
  /**
   * The model's published chat template opens `<think>` itself, so the output of a runtime that uses
   * it starts inside the reasoning (ModelRuntime.usesPublishedTemplate).
   */
  impliedThinkOpen?: boolean;
}

/**
 * DeepSeek-R1's usage recommendations (model card): temperature 0.6 (0.5-0.7), top-p 0.95, no system
 * prompt (instructions go in the user turn); its distills' templates end the prompt with `<think>\n`.
 */
export const BUILT_IN_PRESETS: ModelPreset[] = [
  { match: "*deepseek-r1*", temperature: 0.6, topP: 0.95, systemInUserTurn: true, impliedThinkOpen: true },
];

/** Patterns compiled once: a preset is looked up on every request. */
const compiled = new Map<string, RegExp>();

function matches(pattern: string, name: string): boolean {
  let regex = compiled.get(pattern);
  if (!regex) {
    const source = pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*");
    regex = new RegExp(`^${source}$`, "i");
    compiled.set(pattern, regex);
  }
  return regex.test(name);
}

/** The first preset (operator's before built-in) whose pattern matches the model name. */
export function findPreset(name: string, configured: ModelPreset[]): ModelPreset | undefined {
  return [...configured, ...BUILT_IN_PRESETS].find((preset) => matches(preset.match, name));
}

/** Applies a preset's defaults where the request set nothing. */
export function applyPreset(
  preset: ModelPreset | undefined,
  settings: CallSettings,
  messages?: ChatMessage[],
) {
  if (!preset) return { settings, messages };
  const merged: CallSettings = {
    ...settings,
    temperature: settings.temperature ?? preset.temperature,
    topP: settings.topP ?? preset.topP,
  };
  if (!messages || !preset.systemInUserTurn) return { settings: merged, messages };
  const system = messages.filter((message) => message.role === "system").map((message) => message.content);
  if (system.length === 0) return { settings: merged, messages };
  const rest = messages.filter((message) => message.role !== "system");
  const firstUser = rest.findIndex((message) => message.role === "user");
  if (firstUser < 0) return { settings: merged, messages };
  const moved = rest.map((message, index) =>
    index === firstUser ? { ...message, content: `${system.join("\n\n")}\n\n${message.content}` } : message,
  );
  return { settings: merged, messages: moved };
}
