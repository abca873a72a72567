import { join } from "node:path";
import { type ConfigInput, createLogger, type Logger, loadConfig } from "@hearth/core";
import { serveModel } from "../src/index.js";
import type { ModelServiceOptions } from "../src/model-service.js";

/** Starts the model service on a free port over `modelsDir`, one thread, no Ollama autodetection; silent unless given a logger. */
export async function startModelService(
  modelsDir: string,
  overrides: ConfigInput["model"] = {},
  logger: Logger = createLogger({ level: "silent" }),
  options: ModelServiceOptions = {},
) {
  const config = loadConfig({
    env: {},
    cwd: modelsDir,
    overrides: {
      dataDir: join(modelsDir, "data"),
      logLevel: "silent",
      model: {
        modelsDir,
        host: "127.0.0.1",
        port: 0,
        threads: 1,
        contextSize: 256,
        ollamaAutodetect: false,
        ...overrides,
      },
    },
  });
  return serveModel(config, logger, options);
}

/** POSTs `body` as JSON to `url` (a service's URL and a route), optionally abortable. */
export function postJson(
  url: string,
  body: unknown,
  options: { signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: options.signal,
  });
}
