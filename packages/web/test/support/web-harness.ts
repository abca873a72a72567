import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type HearthConfig, loadConfig } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { createWebService } from "../../src/index.js";

export interface WebHarness {
  app: FastifyInstance;
  config: HearthConfig;
  dataDir: string;
  close(): Promise<void>;
}

/** A web service in process with a temp data dir, pointed at the given upstream URLs. */
export async function startWeb(
  services: { modelUrl: string; searchUrl?: string; knowledgeUrl?: string },
  web: Record<string, unknown> = {},
): Promise<WebHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-web-"));
  const config = loadConfig({
    env: {},
    cwd: dataDir,
    overrides: {
      dataDir,
      logLevel: "silent",
      web: { host: "127.0.0.1", port: 0, ...web },
      services: {
        modelUrl: services.modelUrl,
        searchUrl: services.searchUrl ?? "http://127.0.0.1:9",
        knowledgeUrl: services.knowledgeUrl ?? "http://127.0.0.1:9",
      },
    } as never,
  });
  const service = await createWebService(config, createLogger({ level: "silent" }));
  return {
    app: service.app,
    config,
    dataDir,
    async close() {
      await service.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
