import { type HearthConfig, isInside, type Logger, lockDataDir, webDatabaseFile } from "@hearth/core";

export const SERVICE_NAMES = ["model", "search", "knowledge", "web"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface RunningService {
  name: ServiceName;
  url: string;
  close(): Promise<void>;
}

/** The settings that move each service's port, named in messages. */
export const PORT_SETTINGS: Record<
  ServiceName,
  { env: string; port: (config: HearthConfig) => number; host: (config: HearthConfig) => string }
> = {
  model: { env: "HEARTH_MODEL_PORT", port: (c) => c.model.port, host: (c) => c.model.host },
  search: { env: "HEARTH_SEARCH_PORT", port: (c) => c.search.port, host: (c) => c.search.host },
  knowledge: { env: "HEARTH_KNOWLEDGE_PORT", port: (c) => c.knowledge.port, host: (c) => c.knowledge.host },
  web: { env: "HEARTH_PORT", port: (c) => c.web.port, host: (c) => c.web.host },
};

/**
 * Starts one service from its own package. Packages load on demand, so `hearth --help` and
 * `hearth serve web` never load the llama.cpp runtime.
 */
export async function startService(
  name: ServiceName,
  config: HearthConfig,
  logger: Logger,
): Promise<RunningService> {
  const child = logger.child({ service: name });
  const started = await (async () => {
    switch (name) {
      case "model":
        return (await import("@hearth/model")).serveModel(config, child);
      case "search":
        return (await import("@hearth/search")).serveSearch(config, child);
      case "knowledge":
        return (await import("@hearth/knowledge")).serveKnowledge(config, child);
      case "web":
        return (await import("@hearth/web")).serveWeb(config, child);
    }
  })();
  return { name, url: started.url, close: started.close };
}

/**
 * The services of these that write the data directory: web on SQLite (web.sqlite), knowledge
 * (knowledge.db, its index and files) and model when its models dir lies inside the data dir
 * (pulls, the registry). Search keeps nothing there; web on PostgreSQL and a model service with its
 * own models dir (replicas sharing one volume) may run beside another.
 */
export function dataDirWriters(config: HearthConfig, names: readonly ServiceName[]): ServiceName[] {
  return names.filter((name) => {
    if (name === "web") return webDatabaseFile(config) !== undefined;
    if (name === "knowledge") return true;
    if (name === "model") return isInside(config.model.modelsDir, config.dataDir);
    return false;
  });
}

/** Takes the data dir for the services of this start that write it (DATA_DIR_IN_USE when another Hearth has it). */
export function lockForServices(config: HearthConfig, names: readonly ServiceName[], command: string): void {
  const writers = dataDirWriters(config, names);
  if (writers.length > 0) lockDataDir(config.dataDir, writers, command);
}
