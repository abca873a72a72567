import { configSchema } from "./config-schema.js";
import { ENVIRONMENT } from "./environment.js";

const DERIVED_DEFAULTS: Record<string, string> = {
  "model.modelsDir": "<dataDir>/models",
  "model.threads": "cores - 1 (1 on 2 cores)",
  "model.ollamaHost": "unset (tries 127.0.0.1:11434)",
  "services.modelUrl": "http://127.0.0.1:<model.port>",
  "services.searchUrl": "http://127.0.0.1:<search.port>",
  "services.knowledgeUrl": "http://127.0.0.1:<knowledge.port>",
};

/** The configuration reference as a Markdown table: key, environment variable, default, meaning. */
export function configReferenceMarkdown(): string {
  const defaults = configSchema.parse({});
  const rows = ENVIRONMENT.map((binding) => {
    let value: unknown = defaults;
    for (const part of binding.key.split(".")) value = (value as Record<string, unknown> | undefined)?.[part];
    const shown = DERIVED_DEFAULTS[binding.key] ?? (value === undefined ? "unset" : String(value));
    return `| \`${binding.key}\` | \`${binding.env}\` | \`${shown}\` | ${binding.description} |`;
  });
  return ["| key | environment variable | default | meaning |", "|---|---|---|---|", ...rows].join("\n");
}
