import { configReferenceMarkdown, loadConfig } from "@hearth/core";
import { Command } from "commander";

/** `hearth config`: the effective configuration (secrets hidden), or the reference table. */
export function configCommand(): Command {
  return new Command("config")
    .description("print the effective configuration, or --reference for every key and variable")
    .option("--reference", "print the configuration reference (Markdown)")
    .action((options: { reference?: boolean }) => {
      if (options.reference) {
        console.log(configReferenceMarkdown());
        return;
      }
      const config = loadConfig();
      const shown = JSON.stringify(config, (key, value) => (key === "token" && value ? "[set]" : value), 2);
      console.log(shown);
    });
}
