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
      console.log(JSON.stringify(loadConfig(), hideSecrets, 2));
    });
}

const SECRET_KEY = /(token|secret|password|apikey)$/i;
/** The user-info part of a URL (`scheme://user:password@`). */
const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i;

/** Secrets never reach the terminal: keys that hold one, and passwords inside URLs. */
function hideSecrets(key: string, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (SECRET_KEY.test(key)) return "[set]";
  return typeof value === "string" ? value.replace(URL_CREDENTIALS, "$1[credentials]@") : value;
}
