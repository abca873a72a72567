import { join } from "node:path";
import { type ConfigInput, createLogger, type Logger, loadConfig } from "@hearth/core";
import { expect, vi } from "vitest";
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

/**
 * Waits until the models the service at `url` lists are registered (their files hashed): a registry
 * write may otherwise be under way when a test removes the models dir.
 */
export async function waitForRegistration(url: string): Promise<void> {
  await vi.waitFor(
    async () => {
      const listed = (await (await fetch(`${url}/api/hearth/models`)).json()) as {
        models: { registering?: unknown }[];
      };
      expect(listed.models).not.toEqual([]);
      expect(listed.models.filter((model) => model.registering)).toEqual([]);
    },
    { timeout: 10_000, interval: 50 },
  );
}
