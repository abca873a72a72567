#!/usr/bin/env node
import { isHearthError } from "@hearth/core";
import { Command } from "commander";
import { backupCommand, restoreCommand } from "./commands/backup.js";
import { configCommand } from "./commands/config.js";
import { doctorCommand } from "./commands/doctor.js";
import { serveCommand } from "./commands/serve.js";
import { upCommand } from "./commands/up.js";

const program = new Command("hearth")
  .description(
    "Hearth: a private ChatGPT for your team — chat UI, models, web search and a knowledge base, on your machines.",
  )
  .version("0.1.0")
  .showHelpAfterError()
  .addCommand(upCommand())
  .addCommand(serveCommand())
  .addCommand(doctorCommand())
  .addCommand(configCommand())
  .addCommand(backupCommand())
  .addCommand(restoreCommand());

try {
  await program.parseAsync(process.argv);
  process.exit(process.exitCode ?? 0);
} catch (error) {
  // Start-up failures are one line, `CODE: message`, and a non-zero exit (docs/errors.md).
  console.error(isHearthError(error) ? error.toLine() : `INTERNAL_ERROR: ${(error as Error).stack ?? error}`);
  process.exit(1);
}
