#!/usr/bin/env node
import { isHearthError } from "@hearth/core";
import { Command } from "commander";
import { backupCommand, restoreCommand } from "./commands/backup.js";
import { configCommand } from "./commands/config.js";
import { doctorCommand } from "./commands/doctor.js";
import { ingestCommand } from "./commands/ingest.js";
import { modelsCommand } from "./commands/models.js";
import { serveCommand } from "./commands/serve.js";
import { upCommand } from "./commands/up.js";
import { usersCommand } from "./commands/users.js";
import { localizeCommands } from "./help-language.js";
import { cliLocale, messages } from "./messages/index.js";

const m = messages();

const program = new Command("hearth")
  .description(m.programDescription)
  .version("0.1.0", undefined, m.versionOptionDescription)
  .showHelpAfterError()
  .addCommand(upCommand())
  .addCommand(serveCommand())
  .addCommand(doctorCommand())
  .addCommand(modelsCommand())
  .addCommand(ingestCommand())
  .addCommand(usersCommand())
  .addCommand(configCommand())
  .addCommand(backupCommand())
  .addCommand(restoreCommand());
if (cliLocale() !== "en") localizeCommands(program, m);

try {
  await program.parseAsync(process.argv);
  process.exit(process.exitCode ?? 0);
} catch (error) {
  // Start-up failures are one line, `CODE: message`, and a non-zero exit (docs/errors.md).
  // In another language than English, the line names where its code is explained (docs/zh/errors.md).
  console.error(
    m.errorLine(isHearthError(error) ? error.toLine() : `INTERNAL_ERROR: ${(error as Error).stack ?? error}`),
  );
  process.exit(1);
}
