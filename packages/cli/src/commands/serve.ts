import { checkPortConflicts, loadConfig } from "@hearth/core";
import { Argument, Command } from "commander";
import { createCliLogger, runUntilSignal } from "../lifecycle.js";
import { prepareStorage } from "../prepare-storage.js";
import { lockForServices, SERVICE_NAMES, type ServiceName, startService } from "../services.js";

/** `hearth serve <service>`: one service in this process (the container entry point). */
export function serveCommand(): Command {
  return new Command("serve")
    .description("run one service (the entry point of its container)")
    .addArgument(new Argument("<service>", "the service to run").choices(SERVICE_NAMES))
    .action(async (name: ServiceName) => {
      const config = loadConfig();
      checkPortConflicts(config, [name]);
      const storageChanges = prepareStorage(config);
      lockForServices(config, [name], `hearth serve ${name}`);
      const logger = createCliLogger(config);
      for (const change of storageChanges) logger.info(change);
      const service = await startService(name, config, logger);
      console.log(`hearth: ${name} service ready at ${service.url}`);
      await runUntilSignal([service]);
    });
}
