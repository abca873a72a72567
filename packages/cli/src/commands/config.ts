import { configReferenceMarkdown, loadConfig } from "@hearth/core";
import { Command } from "commander";
import { messages } from "../messages/index.js";

/** `hearth config`: the effective configuration (secrets hidden), or the reference table. */
export function configCommand(): Command {
  const m = messages();
  return new Command("config")
    .description(m.configDescription)
    .option("--reference", m.configReferenceOption)
    .action(async (options: { reference?: boolean }) => {
      if (options.reference) {
        console.log(configReferenceMarkdown());
        return;
      }
      const config = loadConfig();
      const { readStoredOverrides, ADMIN_SETTING_KEYS } = await import("@hearth/web");
      const stored = readStoredOverrides(config);
      const shown = withSecretsHidden(config) as { web: Record<string, unknown> };
      const notes: string[] = [];
      if (stored.read) {
        for (const [key, value] of Object.entries(stored.values)) {
          const name = key.slice("web.".length);
          if (shown.web[name] !== value)
            notes.push(m.configSetInAdmin(key, String(value), String(shown.web[name])));
          shown.web[name] = value;
        }
      } else {
        notes.push(m.configDefaultsNotRead(Object.values(ADMIN_SETTING_KEYS), String(stored.reason)));
      }
      console.log(JSON.stringify(shown, null, 2));
      // On stderr: stdout stays JSON a program can read.
      for (const note of notes) console.error(m.configNote(note));
    });
}

const SECRET_KEY = /(token|secret|password|apikey)$/i;
/** The user-info part of a URL (`scheme://user:password@`). */
const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i;
/** A query parameter's value in a URL (access tokens and keys travel there). */
const QUERY_VALUE = /([?&][^=&#\s]+)=[^&#\s]*/g;

/**
 * The configuration as the terminal may show it: secrets never reach it. Hidden are keys that hold
 * a secret, request headers (an Authorization header, a provider's key), webhook URLs (a robot's
 * token is in its path or query), passwords inside URLs and the values of every URL's query.
 */
export function withSecretsHidden(value: unknown, key = "", parentKey = ""): unknown {
  if (value === undefined || value === null) return value;
  if (SECRET_KEY.test(key) || parentKey === "headers") return "[set]";
  if (key === "url" && /webhook/i.test(parentKey)) return "[set]";
  if (typeof value === "string") {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
    return value.replace(URL_CREDENTIALS, "$1[credentials]@").replace(QUERY_VALUE, "$1=[hidden]");
  }
  // An array's items stand under its key: the webhooks in `webhooks`.
  if (Array.isArray(value)) return value.map((item) => withSecretsHidden(item, key, parentKey));
  if (typeof value === "object")
    return Object.fromEntries(
      Object.entries(value).map(([name, child]) => [name, withSecretsHidden(child, name, key)]),
    );
  return value;
}
