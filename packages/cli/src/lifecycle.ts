import { createLogger, type HearthConfig, type Logger } from "@hearth/core";
import type { RunningService } from "./services.js";

export function createCliLogger(config: HearthConfig): Logger {
  return createLogger({ level: config.logLevel });
}

/**
 * Waits for SIGINT or SIGTERM, then closes the services in reverse order of start: open streams
 * are ended (each service aborts them on close) and models unloaded. A second signal exits at once.
 */
export async function runUntilSignal(services: RunningService[]): Promise<void> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  const forceExit = () => {
    console.error("hearth: second signal, exiting without waiting");
    process.exit(130);
  };
  process.once("SIGINT", forceExit);
  process.once("SIGTERM", forceExit);
  console.log(`hearth: ${signal} received, stopping`);
  for (const service of [...services].reverse()) {
    try {
      await service.close();
    } catch (error) {
      console.error(`hearth: ${service.name} did not stop cleanly: ${(error as Error).message}`);
      process.exitCode = 1;
    }
  }
  console.log("hearth: stopped");
}
