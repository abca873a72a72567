import { checkPortConflicts, loadConfig, writeAfterLogs } from "@hearth/core";
import { Argument, Command } from "commander";
import { displayAddress } from "../banner.js";
import { createCliLogger, runUntilSignal } from "../lifecycle.js";
import { messages } from "../messages/index.js";
import { prepareStorage } from "../prepare-storage.js";
import {
  lockForServices,
  PORT_SETTINGS,
  SERVICE_NAMES,
  type ServiceName,
  startService,
} from "../services.js";

/** `hearth serve <service>`: one service in this process (the container entry point). */
export function serveCommand(): Command {
  const m = messages();
  return new Command("serve")
    .description(m.serveDescription)
    .addArgument(new Argument("<service>", m.serveServiceArgument).choices(SERVICE_NAMES))
    .action(async (name: ServiceName) => {
      const config = loadConfig();
      checkPortConflicts(config, [name]);
      const storageChanges = prepareStorage(config);
      lockForServices(config, [name], `hearth serve ${name}`);
      const logger = createCliLogger(config);
      for (const change of storageChanges) logger.info(change);
      const service = await startService(name, config, logger);
      writeAfterLogs(
        logger,
        m.serveReady(name, displayAddress(service.url, PORT_SETTINGS[name].host(config))),
      );
      await runUntilSignal([service]);
    });
}
