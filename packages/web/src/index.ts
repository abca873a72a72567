import { createServiceApp, type HearthConfig, type Logger, listenService } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { registerChatRoutes } from "./chat/chat-routes.js";
import { ModelClient } from "./model/model-client.js";
import { registerUi } from "./ui/serve-ui.js";

/** Builds the web service (UI, browser API, public API) without listening. */
export async function createWebService(
  config: HearthConfig,
  logger: Logger,
): Promise<{ app: FastifyInstance; close(): Promise<void> }> {
  const { app, shutdownSignal } = createServiceApp({
    service: "web",
    logger,
    bodyLimitBytes: config.web.bodyLimitBytes,
  });
  const models = new ModelClient(config.services.modelUrl, config.services.token);
  registerChatRoutes(app, { config, models, shutdownSignal });
  await registerUi(app);
  await app.ready();
  return { app, close: () => app.close() };
}

/** Starts the web service on web.host:web.port (HEARTH_HOST, HEARTH_PORT). */
export async function serveWeb(
  config: HearthConfig,
  logger: Logger,
): Promise<{ url: string; close(): Promise<void> }> {
  const service = await createWebService(config, logger);
  const url = await listenService(service.app, {
    host: config.web.host,
    port: config.web.port,
    description: "web service (HEARTH_PORT)",
  });
  return { url, close: service.close };
}
