import { checkPortConflicts, type HearthConfig, loadConfig, writeAfterLogs } from "@hearth/core";
import { Command } from "commander";
import { displayAddress } from "../banner.js";
import { createCliLogger, runUntilSignal } from "../lifecycle.js";
import { messages } from "../messages/index.js";
import { prepareStorage } from "../prepare-storage.js";
import {
  lockForServices,
  PORT_SETTINGS,
  type RunningService,
  SERVICE_NAMES,
  type ServiceName,
  startService,
} from "../services.js";

/** `hearth up`: all four services in one process, web last so the UI never waits on the others. */
export function upCommand(): Command {
  const m = messages();
  return new Command("up").description(m.upDescription).action(async () => {
    const config = loadConfig();
    checkPortConflicts(config, SERVICE_NAMES);
    const storageChanges = prepareStorage(config);
    lockForServices(config, SERVICE_NAMES, "hearth up");
    const logger = createCliLogger(config);
    for (const change of storageChanges) logger.info(change);
    const running = await startAll(config, logger, SERVICE_NAMES);
    const web = running.find((service) => service.name === "web")!;
    // After the services' own lines ("Server listening at ..."), which the logger may still hold.
    writeAfterLogs(
      logger,
      [
        ...running.map(
          (service) =>
            `hearth: ${service.name.padEnd(9)} ${displayAddress(service.url, PORT_SETTINGS[service.name].host(config))}`,
        ),
        m.upReady(web.url.replace("127.0.0.1", "localhost")),
      ].join("\n"),
    );
    await runUntilSignal(running);
  });
}

export async function startAll(
  config: HearthConfig,
  logger: ReturnType<typeof createCliLogger>,
  names: readonly ServiceName[],
): Promise<RunningService[]> {
  const running: RunningService[] = [];
  try {
    for (const name of names) running.push(await startService(name, config, logger));
  } catch (error) {
    // A failed start must not leave the services already started holding their ports.
    await Promise.allSettled(running.reverse().map((service) => service.close()));
    throw error;
  }
  return running;
}
