import { createLogger, type HearthConfig, type Logger } from "@hearth/core";
import { messages } from "./messages/index.js";
import type { RunningService } from "./services.js";

export function createCliLogger(config: HearthConfig): Logger {
  return createLogger({ level: config.logLevel });
}

/**
 * Waits for SIGINT or SIGTERM, then closes the services in reverse order of start: open streams
 * are ended (each service aborts them on close) and models unloaded. A second signal exits at once.
 */
export async function runUntilSignal(services: RunningService[]): Promise<void> {
  const m = messages();
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  const forceExit = () => {
    console.error(m.secondSignal);
    process.exit(130);
  };
  process.once("SIGINT", forceExit);
  process.once("SIGTERM", forceExit);
  console.log(m.signalReceived(signal));
  for (const service of [...services].reverse()) {
    try {
      await service.close();
    } catch (error) {
      console.error(m.serviceDidNotStop(service.name, (error as Error).message));
      process.exitCode = 1;
    }
  }
  console.log(m.stopped);
}
