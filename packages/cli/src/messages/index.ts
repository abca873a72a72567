import { isHearthError } from "@hearth/core";
import { en, type Messages } from "./en.js";
import { zhCN } from "./zh-CN.js";

export type { Messages } from "./en.js";

/** The languages the `hearth` command speaks (the web UI's, packages/ui/src/i18n.ts). */
export type Locale = "en" | "zh-CN";

export const MESSAGES: Record<Locale, Messages> = { en, "zh-CN": zhCN };

/**
 * The language the command speaks: HEARTH_LANG when it is `en` or `zh-CN`, else the POSIX locale
 * (the first of LC_ALL, LC_MESSAGES and LANG that is set; one starting with `zh` is Chinese), else
 * English.
 */
export function cliLocale(env: NodeJS.ProcessEnv = process.env): Locale {
  const chosen = env.HEARTH_LANG?.trim().toLowerCase();
  if (chosen === "en") return "en";
  if (chosen === "zh-cn") return "zh-CN";
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || "";
  return locale.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

/** What the command says, in the language of the environment it runs in (read at each call). */
export function messages(env: NodeJS.ProcessEnv = process.env): Messages {
  return MESSAGES[cliLocale(env)];
}

/** An error as its one line: `CODE: message` (in Chinese followed by where the code is explained). */
export function errorLine(error: unknown, m: Messages = messages()): string {
  return isHearthError(error) ? m.errorLine(error.toLine()) : m.plainError((error as Error).message);
}
