import { type HearthConfig, type Logger, listenService } from "@hearth/core";
import { createKnowledgeService, type KnowledgeServiceOptions } from "./create-knowledge-service.js";

/** Builds the knowledge service and listens on knowledge.host:knowledge.port. */
export async function serveKnowledge(
  config: HearthConfig,
  logger: Logger,
  options: KnowledgeServiceOptions = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const service = await createKnowledgeService(config, logger, options);
  try {
    const url = await listenService(service.app, {
      host: config.knowledge.host,
      port: config.knowledge.port,
      description: "knowledge service (HEARTH_KNOWLEDGE_PORT)",
      hostSetting: "HEARTH_KNOWLEDGE_HOST",
    });
    return { url, close: () => service.close() };
  } catch (error) {
    await service.close();
    throw error;
  }
}
